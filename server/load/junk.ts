/**
 * Invalid WebSocket frames for the load harness, each with the error frame
 * the server must answer it with. The frames come from a seeded generator,
 * so a failing run can be repeated with the same `--seed`.
 */

/** A frame the server must refuse, and the exact error it must send back. */
export interface JunkFrame {
  kind: JunkKind;
  data: string | Uint8Array<ArrayBuffer>;
  error: string;
}

export type JunkKind =
  | "not_json"
  | "not_object"
  | "wrong_type"
  | "out_of_range"
  | "oversized"
  | "binary";

export const JUNK_KINDS: readonly JunkKind[] = [
  "not_json",
  "not_object",
  "wrong_type",
  "out_of_range",
  "oversized",
  "binary",
];

/** Server limits the generated frames cross, as the README states them. */
const MAX_FRAME_BYTES = 16 * 1024;
const VALID = { username: "junk", color: "#010203", msg: "never stored" };

/** A pseudo-random number generator (mulberry32): floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer from `min` to `max`, both included. */
export function randomInt(random: () => number, min: number, max: number) {
  return min + Math.floor(random() * (max - min + 1));
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[randomInt(random, 0, items.length - 1)];
}

/** Printable ASCII and a few multi-byte characters. */
function randomText(random: () => number, length: number): string {
  const alphabet = 'abcxyz 019:,{}[]"\\é€😀';
  const characters = [...alphabet];
  let text = "";
  for (let i = 0; i < length; i++) text += pick(random, characters);
  return text;
}

/** One invalid frame of a random kind. */
export function junkFrame(random: () => number): JunkFrame {
  const kind = pick(random, JUNK_KINDS);
  switch (kind) {
    case "not_json": {
      // A letter other than t, f or n never starts valid JSON, and an
      // unclosed object never ends it.
      const data = random() < 0.5
        ? "x" + randomText(random, randomInt(random, 0, 200))
        : JSON.stringify(VALID).slice(0, randomInt(random, 1, 40));
      return { kind, data, error: "Frame is not valid JSON" };
    }
    case "not_object": {
      const data = pick(random, [
        "[]",
        "[1,2]",
        "42",
        '"text"',
        "null",
        "true",
      ]);
      return { kind, data, error: "Frame must be a JSON object" };
    }
    case "wrong_type": {
      const [field, value, error] = pick(
        random,
        [
          ["username", 42, 'Field "username" must be a string'],
          ["username", undefined, 'Field "username" is missing'],
          ["color", 0x102030, 'Field "color" must be a string like "#1a2b3c"'],
          ["color", undefined, 'Field "color" is missing'],
          ["msg", { text: "hi" }, 'Field "msg" must be a string'],
          ["msg", ["hi"], 'Field "msg" must be a string'],
          ["msg", null, 'Field "msg" must be a string'],
        ] as const,
      );
      return { kind, data: withField(field, value), error };
    }
    case "out_of_range": {
      const [field, value, error] = pick(
        random,
        [
          ["username", "", 'Field "username" must be 1 to 32 characters'],
          [
            "username",
            "u".repeat(33),
            'Field "username" must be 1 to 32 characters',
          ],
          ["color", "red", 'Field "color" must be a string like "#1a2b3c"'],
          ["msg", "", 'Field "msg" must be 1 to 2000 characters'],
          ["msg", "m".repeat(2001), 'Field "msg" must be 1 to 2000 characters'],
          ["msg", "a\0b", 'Field "msg" must not contain NUL characters'],
        ] as const,
      );
      return { kind, data: withField(field, value), error };
    }
    case "oversized": {
      const size = randomInt(random, MAX_FRAME_BYTES + 1, 4 * MAX_FRAME_BYTES);
      // A valid message but for its size, which is exactly `size` bytes.
      const empty = JSON.stringify({ ...VALID, padding: "" }).length;
      return {
        kind,
        data: JSON.stringify({ ...VALID, padding: "p".repeat(size - empty) }),
        error: `Frame is larger than ${MAX_FRAME_BYTES} bytes`,
      };
    }
    case "binary": {
      const bytes = new Uint8Array(randomInt(random, 0, 512));
      for (let i = 0; i < bytes.length; i++) {
        bytes[i] = randomInt(random, 0, 255);
      }
      return { kind, data: bytes, error: "Binary frames are not accepted" };
    }
  }
}

/** The valid message with one field replaced, or removed when `value` is undefined. */
function withField(field: string, value: unknown): string {
  const fields: Record<string, unknown> = { ...VALID };
  if (value === undefined) delete fields[field];
  else fields[field] = value;
  return JSON.stringify(fields);
}

/** Size of a frame's payload in bytes. */
export function frameBytes(data: string | Uint8Array): number {
  return typeof data === "string"
    ? new TextEncoder().encode(data).length
    : data.length;
}
