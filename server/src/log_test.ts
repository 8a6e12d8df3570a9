import { createLogger, errorMessage, formatLine } from "./log.ts";
import assert from "node:assert/strict";

const TIME = new Date("2026-12-03T18:00:00.000Z");

Deno.test("formatLine() prints time, level, event and bare fields", () => {
  assert.equal(
    formatLine(TIME, "info", "listening", { host: "0.0.0.0", port: 8000 }),
    "2026-12-03T18:00:00.000Z info listening host=0.0.0.0 port=8000",
  );
});

Deno.test("formatLine() quotes values with spaces or quotes", () => {
  assert.equal(
    formatLine(TIME, "warn", "database_retry", {
      error: 'connect "refused" now',
    }),
    '2026-12-03T18:00:00.000Z warn database_retry error="connect \\"refused\\" now"',
  );
});

Deno.test("formatLine() leaves out undefined fields and quotes empty ones", () => {
  assert.equal(
    formatLine(TIME, "error", "x", { a: undefined, b: "" }),
    '2026-12-03T18:00:00.000Z error x b=""',
  );
});

Deno.test("createLogger() writes one line per event", () => {
  const lines: string[] = [];
  const log = createLogger((line) => lines.push(line), () => TIME);
  log.info("ready");
  log.error("startup_failed", { error: "line one\nline two" });
  assert.deepEqual(lines, [
    "2026-12-03T18:00:00.000Z info ready",
    '2026-12-03T18:00:00.000Z error startup_failed error="line one\\nline two"',
  ]);
});

Deno.test("errorMessage() flattens an error message to one line", () => {
  assert.equal(errorMessage(new Error("first\n  second")), "first second");
  assert.equal(errorMessage("plain"), "plain");
  assert.equal(errorMessage(new TypeError("")), "TypeError");
});
