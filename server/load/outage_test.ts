import assert from "node:assert/strict";
import { judgeOutage, type OutageOutcome } from "./outage.ts";
import { ClientLog, tallyClients } from "./tally.ts";
import { message, REFUSED } from "./frames_for_tests.ts";

/**
 * One client: m0 stored, m1 refused during the outage, m2 stored once the
 * database was back.
 */
function cleanOutcome(): OutageOutcome {
  const log = new ClientLog();
  log.recordSent("m0");
  log.recordSent("m1");
  log.recordFrame(message(1, "m0"));
  log.recordFrame(REFUSED);
  const during = tallyClients([log]);
  log.recordSent("m2");
  log.recordFrame(message(2, "m2"));
  return {
    during,
    tally: tallyClients([log]),
    stored: [{ id: 1, msg: "m0" }, { id: 2, msg: "m2" }],
    reference: log.broadcasts,
    healthWhileDown: [503, 503],
    serverErrorLines: 0,
  };
}

Deno.test("judgeOutage() passes a run where each message was stored or refused", () => {
  assert.deepEqual(judgeOutage(cleanOutcome()), []);
});

Deno.test("judgeOutage() reports a refused message that was stored anyway", () => {
  const outcome = cleanOutcome();
  outcome.stored = [
    { id: 1, msg: "m0" },
    { id: 2, msg: "m2" },
    { id: 3, msg: "m1" },
  ];
  assert.deepEqual(judgeOutage(outcome), [
    "The table holds 3 rows for 2 broadcasts: 1 stored but never broadcast, 0 broadcast but not stored",
    "2 messages were acknowledged but 3 stored",
  ]);
});

Deno.test("judgeOutage() reports a message that got no answer at all", () => {
  const outcome = cleanOutcome();
  const log = new ClientLog();
  for (const msg of ["m0", "m1", "m2"]) log.recordSent(msg);
  log.recordFrame(message(1, "m0"));
  log.recordFrame(REFUSED);
  outcome.during = tallyClients([log]);
  outcome.tally = outcome.during;
  outcome.stored = [{ id: 1, msg: "m0" }];
  outcome.reference = log.broadcasts;
  assert.deepEqual(judgeOutage(outcome), [
    "Client 0 sent 3 valid messages but 1 were broadcast and 1 refused",
  ]);
});

Deno.test("judgeOutage() reports an outage that refused nothing", () => {
  const outcome = cleanOutcome();
  outcome.during = { ...outcome.during, refused: 0 };
  outcome.tally = { ...outcome.tally, refused: 0 };
  assert.deepEqual(judgeOutage(outcome), [
    "No message was refused: the outage missed the load",
  ]);
});

Deno.test("judgeOutage() reports /health answers other than 503 while down", () => {
  const outcome = cleanOutcome();
  outcome.healthWhileDown = [503, 200, 0];
  assert.deepEqual(judgeOutage(outcome), [
    "GET /health answered 200, 0 while the database was down",
  ]);
  outcome.healthWhileDown = [];
  assert.deepEqual(judgeOutage(outcome), [
    "GET /health answered nothing while the database was down",
  ]);
});

Deno.test("judgeOutage() reports a server that did not recover", () => {
  const outcome = cleanOutcome();
  const log = new ClientLog();
  log.recordSent("m0");
  log.recordFrame(REFUSED);
  outcome.during = tallyClients([log]);
  log.recordSent("m1");
  log.recordFrame(REFUSED);
  outcome.tally = tallyClients([log]);
  outcome.stored = [];
  outcome.reference = [];
  outcome.recoveryError = "Timed out after 30000 ms waiting for GET /health";
  outcome.serverErrorLines = 1;
  assert.deepEqual(judgeOutage(outcome), [
    "The server did not recover: Timed out after 30000 ms waiting for GET /health",
    "1 messages were refused after the database came back",
    "The server logged 1 error lines",
  ]);
});
