import assert from "node:assert/strict";
import { percentile, summarize } from "./stats.ts";

Deno.test("percentile() takes the nearest rank", () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(sorted, 50), 50);
  assert.equal(percentile(sorted, 95), 95);
  assert.equal(percentile(sorted, 100), 100);
  assert.equal(percentile([7], 95), 7);
});

Deno.test("percentile() refuses an empty sample", () => {
  assert.throws(
    () => percentile([], 50),
    /^Error: No samples to take a percentile of$/,
  );
});

Deno.test("summarize() sorts before taking percentiles", () => {
  assert.deepEqual(summarize([5, 1, 4, 2, 3]), { count: 5, median: 3, p95: 5 });
});
