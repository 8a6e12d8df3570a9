/** What a client sends over the WebSocket. */
export interface ChatInput {
  username: string;
  color: string;
  msg: string;
}

/** A stored message, as served by `GET /chat` and broadcast to sockets. */
export interface ChatMessage extends ChatInput {
  id: number;
  created_at: string;
}

/** Result of checking one WebSocket frame. */
export type FrameCheck =
  | { ok: true; input: ChatInput }
  | { ok: false; error: string };

export const MAX_FRAME_BYTES = 16 * 1024;
export const MAX_USERNAME_CHARACTERS = 32;
export const MAX_MSG_CHARACTERS = 2000;

const COLOR = /^#[0-9a-fA-F]{6}$/;
const encoder = new TextEncoder();

/** Checks one WebSocket frame and extracts the chat message it carries. */
export function parseChatFrame(data: unknown): FrameCheck {
  if (typeof data !== "string") {
    return fail("Binary frames are not accepted");
  }
  if (isFrameTooLarge(data)) {
    return fail(`Frame is larger than ${MAX_FRAME_BYTES} bytes`);
  }

  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return fail("Frame is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail("Frame must be a JSON object");
  }

  const fields = value as Record<string, unknown>;
  const username = checkText(
    fields,
    "username",
    MAX_USERNAME_CHARACTERS,
  );
  if (typeof username !== "string") return username;
  const color = fields.color;
  if (color === undefined) return fail('Field "color" is missing');
  if (typeof color !== "string" || !COLOR.test(color)) {
    return fail('Field "color" must be a string like "#1a2b3c"');
  }
  const msg = checkText(fields, "msg", MAX_MSG_CHARACTERS);
  if (typeof msg !== "string") return msg;

  return { ok: true, input: { username, color, msg } };
}

function checkText(
  fields: Record<string, unknown>,
  name: string,
  maxCharacters: number,
): string | FrameCheck {
  const value = fields[name];
  if (value === undefined) return fail(`Field "${name}" is missing`);
  if (typeof value !== "string") {
    return fail(`Field "${name}" must be a string`);
  }
  const characters = countCharacters(value);
  if (characters < 1 || characters > maxCharacters) {
    return fail(`Field "${name}" must be 1 to ${maxCharacters} characters`);
  }
  if (value.includes("\0")) {
    return fail(`Field "${name}" must not contain NUL characters`);
  }
  return value;
}

/** Counts Unicode code points, as PostgreSQL's `char_length` does. */
function countCharacters(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** UTF-8 takes one to three bytes per UTF-16 code unit, so most frames need no encoding. */
function isFrameTooLarge(text: string): boolean {
  if (text.length > MAX_FRAME_BYTES) return true;
  if (text.length * 3 <= MAX_FRAME_BYTES) return false;
  return encoder.encode(text).length > MAX_FRAME_BYTES;
}

function fail(error: string): FrameCheck {
  return { ok: false, error };
}
