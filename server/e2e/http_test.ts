import assert from "node:assert/strict";
import pg from "pg";
import type { ChatMessage } from "../src/chat_message.ts";
import { getJson } from "../testing/http.ts";
import { connection, createCluster } from "../testing/postgres.ts";
import { spawnServer } from "../testing/server_process.ts";

Deno.test("HTTP routes of a running server", async (t) => {
  await using cluster = await createCluster();
  const database = await cluster.createDatabase();
  await using server = await spawnServer(cluster.env(database));
  await server.waitForLog(/ info ready /);

  await t.step("GET /health answers 200 ok", async () => {
    assert.deepEqual(await getJson(server.url("/health")), {
      status: 200,
      body: { status: "ok" },
    });
  });

  await t.step(
    "GET /chat answers an empty array before any message",
    async () => {
      assert.deepEqual(await getJson(server.url("/chat")), {
        status: 200,
        body: [],
      });
    },
  );

  const client = new pg.Client(connection(cluster.port, database));
  await client.connect();
  try {
    await client.query(`INSERT INTO messages (username, color, msg)
      SELECT 'user' || n, '#00ff00', 'message ' || n
      FROM generate_series(1, 600) AS n`);
  } finally {
    await client.end();
  }

  await t.step(
    "GET /chat answers the newest 100 messages, oldest first",
    async () => {
      const { status, body } = await getJson<ChatMessage[]>(
        server.url("/chat"),
      );
      assert.equal(status, 200);
      assert.equal(body.length, 100);
      assert.deepEqual(
        body.map((message) => message.id),
        Array.from({ length: 100 }, (_, i) => 501 + i),
      );
      assert.deepEqual(Object.keys(body[0]), [
        "id",
        "username",
        "color",
        "msg",
        "created_at",
      ]);
      assert.equal(body[99].username, "user600");
      assert.equal(body[99].color, "#00ff00");
      assert.equal(body[99].msg, "message 600");
      assert.match(
        body[99].created_at,
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
      );
    },
  );

  await t.step(
    "GET /chat?limit=N answers N messages for N from 1 to 500",
    async () => {
      for (const limit of [1, 37, 500]) {
        const { status, body } = await getJson<ChatMessage[]>(
          server.url(`/chat?limit=${limit}`),
        );
        assert.equal(status, 200);
        assert.equal(body.length, limit);
        assert.equal(body[0].id, 601 - limit);
        assert.equal(body[limit - 1].id, 600);
      }
    },
  );

  await t.step(
    "GET /chat answers 400 with a JSON error for any other limit",
    async () => {
      for (
        const limit of ["0", "501", "-1", "abc", "1.5", "", "1e2", "+5", "05"]
      ) {
        assert.deepEqual(
          await getJson(server.url(`/chat?limit=${encodeURIComponent(limit)}`)),
          {
            status: 400,
            body: {
              error: 'Query parameter "limit" must be an integer from 1 to 500',
            },
          },
          `limit=${limit}`,
        );
      }
    },
  );

  await t.step(
    "GET /ws without an upgrade answers 426 with a JSON error",
    async () => {
      assert.deepEqual(await getJson(server.url("/ws")), {
        status: 426,
        body: { error: "Expected a WebSocket upgrade request" },
      });
    },
  );

  await t.step(
    "unknown routes and methods answer 404 with a JSON error",
    async () => {
      assert.deepEqual(await getJson(server.url("/nope")), {
        status: 404,
        body: { error: "Not found" },
      });
      assert.deepEqual(
        await getJson(server.url("/chat"), { method: "POST", body: "{}" }),
        { status: 404, body: { error: "Not found" } },
      );
    },
  );

  assert.equal((await server.stop()).code, 0);
});
