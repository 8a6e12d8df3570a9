import assert from "node:assert/strict";
import { judgeSoak, SOAK_V8_FLAGS, type SoakOutcome } from "./soak.ts";

function outcome(changes: Partial<SoakOutcome> = {}): SoakOutcome {
  return {
    cycles: 2000,
    completed: 2000,
    acknowledged: 2000,
    rows: 2000,
    baselineKiB: 70_000,
    finalKiB: 76_000,
    failures: [],
    serverErrorLines: 0,
    ...changes,
  };
}

Deno.test("judgeSoak() passes growth up to 10 % and any shrinking", () => {
  assert.deepEqual(judgeSoak(outcome()), []);
  assert.deepEqual(judgeSoak(outcome({ finalKiB: 77_000 })), []);
  assert.deepEqual(judgeSoak(outcome({ finalKiB: 50_000 })), []);
});

Deno.test("judgeSoak() reports resident memory that grew more than 10 %", () => {
  assert.deepEqual(judgeSoak(outcome({ finalKiB: 77_100 })), [
    "Resident memory grew 10.1 % from cycle 1000 to cycle 2000, more than 10 %",
  ]);
});

Deno.test("judgeSoak() reports failed cycles and a soak that stopped early", () => {
  assert.deepEqual(
    judgeSoak(outcome({
      completed: 700,
      acknowledged: 690,
      rows: 690,
      baselineKiB: NaN,
      failures: Array(10).fill("cycle 7: no answer within 5000 ms"),
    })),
    [
      "10 cycles failed, the soak stopped after 700 of 2000; first cycle 7: no answer within 5000 ms",
      "The soak ended before cycle 1000",
    ],
  );
});

Deno.test("judgeSoak() reports acknowledged and stored counts that differ, and error lines", () => {
  assert.deepEqual(judgeSoak(outcome({ rows: 1999, serverErrorLines: 3 })), [
    "2000 messages were acknowledged but 1999 stored",
    "The server logged 3 error lines",
  ]);
});

Deno.test("SOAK_V8_FLAGS are the V8 flags the image runs the server with", async () => {
  const containerfile = await Deno.readTextFile(
    new URL("../Containerfile", import.meta.url),
  );
  const env = containerfile.split("\n").filter((line) =>
    line.startsWith("ENV ")
  );
  assert.ok(
    env.some((line) =>
      line.split(/\s+/).includes(`DENO_V8_FLAGS=${SOAK_V8_FLAGS}`)
    ),
    `no ENV line sets DENO_V8_FLAGS=${SOAK_V8_FLAGS}: ${env.join(" | ")}`,
  );
});
