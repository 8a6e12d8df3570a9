/** Median and 95th percentile of a set of samples. */
export interface Summary {
  count: number;
  median: number;
  p95: number;
}

/** Nearest-rank percentile: the smallest sample with at least `percent` % of samples at or below it. */
export function percentile(sorted: readonly number[], percent: number): number {
  if (sorted.length === 0) {
    throw new Error("No samples to take a percentile of");
  }
  const rank = Math.ceil((percent / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(rank, 1)) - 1];
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    median: percentile(sorted, 50),
    p95: percentile(sorted, 95),
  };
}
