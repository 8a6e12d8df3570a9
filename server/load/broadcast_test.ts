import assert from "node:assert/strict";
import {
  type BroadcastOutcome,
  judgeBroadcast,
  planFrames,
} from "./broadcast.ts";
import { seededRandom } from "./junk.ts";
import { ClientLog, tallyClients } from "./tally.ts";
import { message } from "./frames_for_tests.ts";

/** One client that sent two messages and got both back; the table holds both. */
function cleanOutcome(): BroadcastOutcome {
  const log = new ClientLog();
  log.recordSent("m0");
  log.recordSent("m1");
  log.recordFrame(message(1, "m0"));
  log.recordFrame(message(2, "m1"));
  const reference = log.broadcasts;
  return {
    expectedRows: 2,
    stored: [...reference],
    reference,
    tally: tallyClients([log]),
    abortFailures: [],
    healthAfter: 200,
    serverErrorLines: 0,
  };
}

Deno.test("planFrames() keeps every valid message and adds the junk asked for", () => {
  const plan = planFrames({
    messagesPerClient: 100,
    junkPerClient: 25,
    random: seededRandom(3),
  });
  assert.equal(plan.length, 125);
  assert.equal(plan.filter((frame) => frame === "valid").length, 100);
  const junkAt = plan.flatMap((frame, i) => frame === "valid" ? [] : [i]);
  assert.equal(junkAt.length, 25);
  assert.ok(junkAt[0] < 60 && junkAt.at(-1)! > 65, `junk at ${junkAt}`);
});

Deno.test("planFrames() repeats itself for a seed", () => {
  const plan = (seed: number) =>
    JSON.stringify(
      planFrames({
        messagesPerClient: 20,
        junkPerClient: 5,
        random: seededRandom(seed),
      }),
      (_, value) => value instanceof Uint8Array ? [...value] : value,
    );
  assert.equal(plan(11), plan(11));
  assert.notEqual(plan(11), plan(12));
});

Deno.test("judgeBroadcast() passes a run where everything was stored and delivered", () => {
  assert.deepEqual(judgeBroadcast(cleanOutcome()), []);
});

Deno.test("judgeBroadcast() reports a missing row", () => {
  const outcome = cleanOutcome();
  outcome.expectedRows = 3;
  assert.deepEqual(judgeBroadcast(outcome), [
    "Expected 3 rows, the table holds 2",
  ]);
});

Deno.test("judgeBroadcast() reports a row that was stored but never broadcast", () => {
  const outcome = cleanOutcome();
  outcome.stored = [...outcome.stored, { id: 3, msg: "half sent" }];
  outcome.expectedRows = 3;
  assert.deepEqual(judgeBroadcast(outcome), [
    "The table holds 3 rows for 2 broadcasts: 1 stored but never broadcast, 0 broadcast but not stored",
  ]);
});

Deno.test("judgeBroadcast() reports refusals, broken raw connections, health and error lines", () => {
  const log = new ClientLog();
  log.recordSent("m0");
  log.recordFrame(JSON.stringify({ error: "Server is busy, try again later" }));
  const outcome: BroadcastOutcome = {
    expectedRows: 0,
    stored: [],
    reference: [],
    tally: tallyClients([log]),
    abortFailures: ["Error: Server refused the upgrade: HTTP/1.1 503"],
    healthAfter: 503,
    serverErrorLines: 2,
  };
  assert.deepEqual(judgeBroadcast(outcome), [
    "1 valid messages were refused",
    "A raw connection failed early: Error: Server refused the upgrade: HTTP/1.1 503",
    "GET /health answered 503 after the load",
    "The server logged 2 error lines",
  ]);
});
