/** The figures of a load run, as a table or as JSON. */

export type Figures = Record<string, number | string>;

/** One scenario's figures and the checks it failed. */
export interface ScenarioResult {
  scenario: string;
  figures: Figures;
  problems: string[];
}

/** Facts about the run as a whole. */
export interface RunInfo {
  date: string;
  cores: number;
  deno: string;
  postgres: string;
  seed: number;
  seconds: number;
}

/** Aligned columns: scenario, figure, value; a passed/failed line last. */
export function formatTable(info: RunInfo, results: readonly ScenarioResult[]) {
  const rows: string[][] = [["scenario", "figure", "value"]];
  for (const { scenario, figures } of results) {
    for (const [name, value] of Object.entries(figures)) {
      rows.push([scenario, name, formatValue(value)]);
    }
  }
  const widths = rows[0].map((_, column) =>
    Math.max(...rows.map((row) => row[column].length))
  );
  const lines = rows.map((row) =>
    row.map((cell, column) =>
      column === row.length - 1 ? cell : cell.padEnd(widths[column])
    ).join("  ")
  );
  const failed = results.filter((result) => result.problems.length > 0);
  return [
    `chat load run, ${info.date}, ${info.cores} cores, deno ${info.deno}, ` +
    `PostgreSQL ${info.postgres}, seed ${info.seed}`,
    ...lines,
    failed.length === 0
      ? `passed: ${results.length} scenarios in ${info.seconds.toFixed(1)} s`
      : `failed: ${failed.map((result) => result.scenario).join(", ")}`,
  ].join("\n");
}

/** The same as a JSON document. */
export function formatJson(info: RunInfo, results: readonly ScenarioResult[]) {
  const passed = results.every((result) => result.problems.length === 0);
  return JSON.stringify({ ...info, passed, scenarios: results }, null, 2);
}

function formatValue(value: number | string): string {
  if (typeof value === "string") return value;
  return Number.isInteger(value)
    ? String(value)
    : value.toFixed(Math.abs(value) < 10 ? 2 : 1);
}
