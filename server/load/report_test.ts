import assert from "node:assert/strict";
import { formatJson, formatTable, type RunInfo } from "./report.ts";

const INFO: RunInfo = {
  date: "2026-12-03T18:00:00.000Z",
  cores: 2,
  deno: "2.9.8",
  postgres: "15.20",
  seed: 1,
  seconds: 42.25,
};

Deno.test("formatTable() aligns the figures and ends with the verdict", () => {
  const table = formatTable(INFO, [
    {
      scenario: "broadcast",
      figures: { rows: 10000, seconds: 8.294 },
      problems: [],
    },
    { scenario: "soak", figures: { growth: 0.2, order: "yes" }, problems: [] },
  ]);
  assert.equal(
    table,
    [
      "chat load run, 2026-12-03T18:00:00.000Z, 2 cores, deno 2.9.8, PostgreSQL 15.20, seed 1",
      "scenario   figure   value",
      "broadcast  rows     10000",
      "broadcast  seconds  8.29",
      "soak       growth   0.20",
      "soak       order    yes",
      "passed: 2 scenarios in 42.3 s",
    ].join("\n"),
  );
});

Deno.test("formatTable() names the scenarios that failed", () => {
  const table = formatTable(INFO, [
    { scenario: "outage", figures: {}, problems: ["Lost one"] },
    { scenario: "soak", figures: {}, problems: [] },
  ]);
  assert.match(table, /\nfailed: outage$/);
});

Deno.test("formatJson() carries the run, the verdict and each scenario's problems", () => {
  const json = JSON.parse(formatJson(INFO, [
    { scenario: "outage", figures: { rows: 3 }, problems: ["Lost one"] },
  ]));
  assert.equal(json.passed, false);
  assert.equal(json.seed, 1);
  assert.deepEqual(json.scenarios, [
    { scenario: "outage", figures: { rows: 3 }, problems: ["Lost one"] },
  ]);
});
