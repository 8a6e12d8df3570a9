/** Resident memory of a process, as Linux reports it. */

/** The `VmRSS` line of a `/proc/<pid>/status` text, in KiB. */
export function parseResidentKiB(status: string): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error("No VmRSS line in the process status");
  return Number(match[1]);
}

/**
 * Resident memory of process `pid` in KiB. Deno opens `/proc` only to
 * `--allow-all`, which the harness does not ask for, so `cat` reads it.
 */
export async function readResidentKiB(pid: number): Promise<number> {
  const path = `/proc/${pid}/status`;
  const result = await new Deno.Command("cat", {
    args: [path],
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!result.success) throw new Error(`Could not read ${path}`);
  return parseResidentKiB(new TextDecoder().decode(result.stdout));
}

/** Growth from `baseline` to `final` as a fraction: 0.05 is 5 % more. */
export function growth(baseline: number, final: number): number {
  if (baseline <= 0) throw new Error("Baseline memory must be above zero");
  return (final - baseline) / baseline;
}
