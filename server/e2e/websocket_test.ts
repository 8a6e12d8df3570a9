import assert from "node:assert/strict";
import { createCluster } from "../testing/postgres.ts";
import { spawnServer } from "../testing/server_process.ts";
import { TestSocket } from "../testing/ws_client.ts";

interface Received {
  id: number;
  username: string;
  color: string;
  msg: string;
  created_at: string;
}

const VALID = { username: "ada", color: "#a1b2c3", msg: "hello" };

Deno.test("WebSocket chat of a running server", async (t) => {
  await using cluster = await createCluster();
  await using server = await spawnServer(
    cluster.env(await cluster.createDatabase()),
  );
  await server.waitForLog(/ info ready /);
  const wsUrl = server.url("/ws").replace("http:", "ws:");
  const storedCount = async () =>
    (await (await fetch(server.url("/chat?limit=500"))).json()).length;

  await t.step(
    "invalid frames get an error back, stay open and store nothing",
    async () => {
      await using sender = await TestSocket.open(wsUrl);
      await using observer = await TestSocket.open(wsUrl);
      const cases: [string | Uint8Array<ArrayBuffer>, string][] = [
        ["not json", "Frame is not valid JSON"],
        ["[1, 2]", "Frame must be a JSON object"],
        [
          JSON.stringify({ ...VALID, username: 42 }),
          'Field "username" must be a string',
        ],
        [
          JSON.stringify({ ...VALID, msg: null }),
          'Field "msg" must be a string',
        ],
        [
          JSON.stringify({ color: "#000000", msg: "hi" }),
          'Field "username" is missing',
        ],
        [
          JSON.stringify({ username: "ada", msg: "hi" }),
          'Field "color" is missing',
        ],
        [
          JSON.stringify({ username: "ada", color: "#000000" }),
          'Field "msg" is missing',
        ],
        [
          JSON.stringify({ ...VALID, username: "" }),
          'Field "username" must be 1 to 32 characters',
        ],
        [
          JSON.stringify({ ...VALID, username: "u".repeat(33) }),
          'Field "username" must be 1 to 32 characters',
        ],
        [
          JSON.stringify({ ...VALID, color: "blue" }),
          'Field "color" must be a string like "#1a2b3c"',
        ],
        [
          JSON.stringify({ ...VALID, msg: "" }),
          'Field "msg" must be 1 to 2000 characters',
        ],
        [
          JSON.stringify({ ...VALID, msg: "m".repeat(2001) }),
          'Field "msg" must be 1 to 2000 characters',
        ],
        [
          JSON.stringify({ ...VALID, padding: "p".repeat(16 * 1024) }),
          "Frame is larger than 16384 bytes",
        ],
        [new Uint8Array([123, 125]), "Binary frames are not accepted"],
      ];

      for (const [frame, error] of cases) {
        sender.send(frame);
        assert.deepEqual(await sender.next(), { error });
        assert.ok(sender.isOpen, `still open after: ${error}`);
      }

      sender.sendJson(VALID);
      const stored = await sender.next() as Received;
      assert.equal(stored.msg, "hello");
      assert.deepEqual(await observer.next(), stored);
      assert.equal(observer.pending, 0);
      assert.equal(await storedCount(), 1);
    },
  );

  await t.step(
    "a stored message is broadcast to every client, sender included",
    async () => {
      await using alice = await TestSocket.open(wsUrl);
      await using bob = await TestSocket.open(wsUrl);
      alice.sendJson({ username: "alice", color: "#ff0000", msg: "hi bob" });

      const atAlice = await alice.next() as Received;
      const atBob = await bob.next() as Received;
      assert.deepEqual(atBob, atAlice);
      assert.equal(atAlice.username, "alice");
      assert.equal(atAlice.color, "#ff0000");
      assert.equal(atAlice.msg, "hi bob");
      const history = await (await fetch(server.url("/chat?limit=1"))).json();
      assert.deepEqual(history, [atAlice]);
    },
  );

  await t.step(
    "concurrent senders: every client sees the same order, which is id order",
    async () => {
      const clients = await Promise.all(
        Array.from({ length: 10 }, () => TestSocket.open(wsUrl)),
      );
      const perClient = 30;
      const total = clients.length * perClient;
      try {
        clients.forEach((client, c) => {
          for (let i = 0; i < perClient; i++) {
            client.sendJson({
              username: `client${c}`,
              color: "#123456",
              msg: `${i}`,
            });
          }
        });
        const seen = await Promise.all(
          clients.map(async (client) =>
            (await client.take(total)) as Received[]
          ),
        );

        const ids = seen[0].map((message) => message.id);
        for (const sequence of seen) {
          assert.deepEqual(sequence.map((message) => message.id), ids);
        }
        assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
        assert.equal(new Set(ids).size, total);
        for (let c = 0; c < clients.length; c++) {
          const own = seen[0].filter((message) =>
            message.username === `client${c}`
          );
          assert.deepEqual(own.map((message) => Number(message.msg)), [
            ...Array(perClient).keys(),
          ]);
        }
        const history = await (await fetch(server.url(`/chat?limit=${total}`)))
          .json();
        assert.deepEqual(history.map((message: Received) => message.id), ids);
      } finally {
        await Promise.all(clients.map((client) => client.close()));
      }
    },
  );

  await t.step("logs never contain the content of chat messages", async () => {
    await using client = await TestSocket.open(wsUrl);
    client.sendJson({
      username: "ada",
      color: "#000000",
      msg: "top secret words",
    });
    await client.next();
    client.send("secret but invalid");
    await client.next();
    assert.ok(server.logs.length > 0);
    assert.equal(
      server.logs.filter((line) => /secret|hi bob/.test(line)).length,
      0,
    );
  });

  assert.equal((await server.stop()).code, 0);
});
