import assert from "node:assert/strict";
import { sleep, within } from "./timing.ts";

Deno.test("within() is true for a promise that settles in time, either way", async () => {
  assert.equal(await within(sleep(5), 1000), true);
  assert.equal(await within(Promise.reject(new Error("no")), 1000), true);
});

Deno.test("within() is false once the time is up", async () => {
  let release = () => {};
  const never = new Promise<void>((resolve) => release = resolve);
  const started = performance.now();
  assert.equal(await within(never, 50), false);
  assert.ok(performance.now() - started >= 45);
  release();
});
