import assert from "node:assert/strict";
import { growth, parseResidentKiB, readResidentKiB } from "./memory.ts";

Deno.test("parseResidentKiB() reads the VmRSS line", () => {
  const status =
    "Name:\tdeno\nVmPeak:\t  900 kB\nVmRSS:\t   51234 kB\nThreads:\t4\n";
  assert.equal(parseResidentKiB(status), 51234);
});

Deno.test("parseResidentKiB() fails without a VmRSS line", () => {
  assert.throws(
    () => parseResidentKiB("Name:\tkthreadd\n"),
    /^Error: No VmRSS line in the process status$/,
  );
});

Deno.test("readResidentKiB() reads this process's resident memory", async () => {
  const kib = await readResidentKiB(Deno.pid);
  const rss = Deno.memoryUsage().rss / 1024;
  assert.ok(kib > 0.5 * rss && kib < 2 * rss, `${kib} KiB, rss ${rss} KiB`);
});

Deno.test("growth() is the fraction gained from the baseline", () => {
  assert.equal(growth(100, 110), 0.1);
  assert.equal(growth(100, 95), -0.05);
  assert.throws(() => growth(0, 1), /must be above zero/);
});
