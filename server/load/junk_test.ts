import assert from "node:assert/strict";
import { MAX_FRAME_BYTES, parseChatFrame } from "../src/chat_message.ts";
import {
  frameBytes,
  JUNK_KINDS,
  junkFrame,
  randomInt,
  seededRandom,
} from "./junk.ts";

Deno.test("seededRandom() repeats its sequence for a seed and stays in [0, 1)", () => {
  const take = (seed: number) => {
    const random = seededRandom(seed);
    return Array.from({ length: 1000 }, () => random());
  };
  assert.deepEqual(take(7), take(7));
  assert.notDeepEqual(take(7), take(8));
  assert.ok(take(7).every((value) => value >= 0 && value < 1));
});

Deno.test("randomInt() covers both ends of its range", () => {
  const random = seededRandom(1);
  const seen = new Set(
    Array.from({ length: 500 }, () => randomInt(random, 3, 6)),
  );
  assert.deepEqual([...seen].sort(), [3, 4, 5, 6]);
});

Deno.test("junkFrame() expects the error the server's frame parser gives", () => {
  const random = seededRandom(42);
  const kinds = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const frame = junkFrame(random);
    kinds.add(frame.kind);
    const data = typeof frame.data === "string"
      ? frame.data
      : frame.data.buffer;
    assert.deepEqual(parseChatFrame(data), { ok: false, error: frame.error });
    if (frame.kind === "oversized") {
      assert.ok(frameBytes(frame.data) > MAX_FRAME_BYTES);
    }
  }
  assert.deepEqual([...kinds].sort(), [...JUNK_KINDS].sort());
});

Deno.test("frameBytes() counts UTF-8 bytes of text and the length of binary", () => {
  assert.equal(frameBytes("é€"), 5);
  assert.equal(frameBytes(new Uint8Array(3)), 3);
});
