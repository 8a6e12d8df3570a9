import assert from "node:assert/strict";
import { ClientLog, compareStored, tallyClients } from "./tally.ts";
import { message, REFUSED } from "./frames_for_tests.ts";

/** Two clients that each sent one message, both broadcast to both. */
function twoClients(): [ClientLog, ClientLog] {
  const a = new ClientLog();
  const b = new ClientLog();
  a.recordSent("a1");
  b.recordSent("b1");
  for (const log of [a, b]) {
    log.recordFrame(message(1, "b1"));
    log.recordFrame(message(2, "a1"));
  }
  return [a, b];
}

Deno.test("ClientLog counts its own broadcasts and refusals, and knows when all is answered", () => {
  const log = new ClientLog();
  log.recordSent("m1");
  log.recordSent("m2");
  log.recordInvalid("Frame is not valid JSON");
  assert.equal(log.answered, false);

  log.recordFrame(JSON.stringify({ error: "Frame is not valid JSON" }));
  log.recordFrame(message(7, "someone else's"));
  log.recordFrame(message(8, "m1"));
  assert.equal(log.answered, false);
  log.recordFrame(REFUSED);

  assert.equal(log.acknowledged, 1);
  assert.equal(log.refused, 1);
  assert.equal(log.answered, true);
  assert.equal(log.broadcasts.length, 2);
});

Deno.test("ClientLog keeps frames that are neither a message nor an error apart", () => {
  const log = new ClientLog();
  log.recordFrame("not json");
  log.recordFrame('{"id":"1"}');
  assert.deepEqual(log.unreadable, ["not json", '{"id":"1"}']);
});

Deno.test("tallyClients() passes clients that saw every message in the same order", () => {
  const tally = tallyClients(twoClients());
  assert.deepEqual(tally, {
    validSent: 2,
    invalidSent: 0,
    acknowledged: 2,
    refused: 0,
    rejected: 0,
    broadcast: 2,
    delivered: 4,
    sameOrder: true,
    problems: [],
  });
});

Deno.test("tallyClients() reports a client that saw another order", () => {
  const [a] = twoClients();
  const b = new ClientLog();
  b.recordSent("b1");
  b.recordFrame(message(2, "a1"));
  b.recordFrame(message(1, "b1"));
  const tally = tallyClients([a, b]);
  assert.equal(tally.sameOrder, false);
  assert.deepEqual(tally.problems, [
    "Client 1 received 2 broadcasts in a different order or number than client 0 (2)",
  ]);
});

Deno.test("tallyClients() reports a message neither broadcast nor refused", () => {
  const [a, b] = twoClients();
  a.recordSent("a2");
  assert.deepEqual(tallyClients([a, b]).problems, [
    "Client 0 sent 2 valid messages but 1 were broadcast and 0 refused",
  ]);
});

Deno.test("tallyClients() reports a message broadcast twice", () => {
  const a = new ClientLog();
  a.recordSent("a1");
  a.recordFrame(message(1, "a1"));
  a.recordFrame(message(2, "a1"));
  const problems = tallyClients([a]).problems;
  assert.ok(problems.includes("Client 0 had a message broadcast twice"));
});

Deno.test("tallyClients() reports ids that go backwards and messages nobody sent", () => {
  const a = new ClientLog();
  a.recordSent("a1");
  a.recordFrame(message(5, "a1"));
  a.recordFrame(message(4, "stranger"));
  const problems = tallyClients([a]).problems;
  assert.equal(problems[0], "Client 0 received id 4 after id 5");
  assert.equal(
    problems[1],
    "A broadcast message was sent by no client: stranger",
  );
});

Deno.test("tallyClients() checks each invalid frame got its own error, in order", () => {
  const [a, b] = twoClients();
  a.recordInvalid("Frame is not valid JSON");
  a.recordInvalid("Binary frames are not accepted");
  a.recordFrame(JSON.stringify({ error: "Binary frames are not accepted" }));
  a.recordFrame(JSON.stringify({ error: "Frame is not valid JSON" }));
  assert.deepEqual(tallyClients([a, b]).problems, [
    'Client 0 got 2 errors for 2 invalid frames, first difference at 0: got "Binary frames are not accepted", expected "Frame is not valid JSON"',
  ]);
});

Deno.test("compareStored() accepts exactly the broadcast rows and counts the differences", () => {
  const broadcast = [{ id: 1, msg: "a" }, { id: 2, msg: "b" }];
  assert.deepEqual(compareStored(broadcast, broadcast), []);
  assert.deepEqual(
    compareStored([{ id: 1, msg: "a" }, { id: 3, msg: "c" }], broadcast),
    [
      "The table holds 2 rows for 2 broadcasts: 1 stored but never broadcast, 1 broadcast but not stored",
    ],
  );
});
