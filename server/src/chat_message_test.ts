import assert from "node:assert/strict";
import { MAX_FRAME_BYTES, parseChatFrame } from "./chat_message.ts";

const VALID = { username: "ada", color: "#1a2B3c", msg: "hello" };

function frame(fields: Record<string, unknown>): string {
  return JSON.stringify(fields);
}

function errorOf(data: unknown): string | undefined {
  const result = parseChatFrame(data);
  return result.ok ? undefined : result.error;
}

Deno.test("parseChatFrame() accepts a valid message and drops extra fields", () => {
  assert.deepEqual(parseChatFrame(frame({ ...VALID, extra: 1 })), {
    ok: true,
    input: VALID,
  });
});

Deno.test("parseChatFrame() accepts the longest username and msg", () => {
  const longest = { ...VALID, username: "u".repeat(32), msg: "m".repeat(2000) };
  assert.equal(parseChatFrame(frame(longest)).ok, true);
});

Deno.test("parseChatFrame() counts characters, not UTF-16 units", () => {
  const emoji = "\u{1F600}";
  assert.equal(
    parseChatFrame(frame({ ...VALID, username: emoji.repeat(32) })).ok,
    true,
  );
  assert.equal(
    errorOf(frame({ ...VALID, username: emoji.repeat(33) })),
    'Field "username" must be 1 to 32 characters',
  );
});

Deno.test("parseChatFrame() rejects binary frames", () => {
  assert.equal(
    errorOf(new Uint8Array([123, 125]).buffer),
    "Binary frames are not accepted",
  );
  assert.equal(errorOf(new Blob(["{}"])), "Binary frames are not accepted");
});

Deno.test("parseChatFrame() rejects text that is not JSON", () => {
  assert.equal(errorOf("not json"), "Frame is not valid JSON");
  assert.equal(errorOf(""), "Frame is not valid JSON");
});

Deno.test("parseChatFrame() rejects JSON that is not an object", () => {
  for (const data of ["[]", "null", "42", '"text"']) {
    assert.equal(errorOf(data), "Frame must be a JSON object");
  }
});

Deno.test("parseChatFrame() rejects missing fields", () => {
  for (const name of ["username", "color", "msg"]) {
    const fields: Record<string, unknown> = { ...VALID };
    delete fields[name];
    assert.equal(errorOf(frame(fields)), `Field "${name}" is missing`);
  }
});

Deno.test("parseChatFrame() rejects fields of the wrong type", () => {
  assert.equal(
    errorOf(frame({ ...VALID, username: 7 })),
    'Field "username" must be a string',
  );
  assert.equal(
    errorOf(frame({ ...VALID, msg: ["hi"] })),
    'Field "msg" must be a string',
  );
  assert.equal(
    errorOf(frame({ ...VALID, color: null })),
    'Field "color" must be a string like "#1a2b3c"',
  );
});

Deno.test("parseChatFrame() rejects a username of 0 or 33 characters", () => {
  for (const username of ["", "u".repeat(33)]) {
    assert.equal(
      errorOf(frame({ ...VALID, username })),
      'Field "username" must be 1 to 32 characters',
    );
  }
});

Deno.test("parseChatFrame() rejects a color that is not #rrggbb", () => {
  for (const color of ["red", "#fff", "#12345g", "123456", "#1234567"]) {
    assert.equal(
      errorOf(frame({ ...VALID, color })),
      'Field "color" must be a string like "#1a2b3c"',
    );
  }
});

Deno.test("parseChatFrame() rejects a msg of 0 or 2001 characters", () => {
  for (const msg of ["", "m".repeat(2001)]) {
    assert.equal(
      errorOf(frame({ ...VALID, msg })),
      'Field "msg" must be 1 to 2000 characters',
    );
  }
});

Deno.test("parseChatFrame() rejects NUL characters, which PostgreSQL cannot store", () => {
  assert.equal(
    errorOf(frame({ ...VALID, msg: "a\u0000b" })),
    'Field "msg" must not contain NUL characters',
  );
});

Deno.test("parseChatFrame() rejects frames over 16 KiB, counted in UTF-8 bytes", () => {
  const padding = MAX_FRAME_BYTES - frame({ ...VALID, pad: "" }).length;
  assert.equal(
    parseChatFrame(frame({ ...VALID, pad: "p".repeat(padding) })).ok,
    true,
  );
  assert.equal(
    errorOf(frame({ ...VALID, pad: "p".repeat(padding + 1) })),
    "Frame is larger than 16384 bytes",
  );
  assert.equal(
    errorOf(frame({ ...VALID, pad: "\u00e9".repeat(MAX_FRAME_BYTES / 2) })),
    "Frame is larger than 16384 bytes",
  );
});
