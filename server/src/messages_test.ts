import assert from "node:assert/strict";
import { connection, createCluster } from "../testing/postgres.ts";
import { createPool } from "./database.ts";
import { createLogger } from "./log.ts";
import { createMessageStore, RECENT_SQL } from "./messages.ts";
import { applyMigrations, readMigrations } from "./migrate.ts";

const MIGRATIONS_DIR = new URL("../migrations/", import.meta.url);

Deno.test("createMessageStore()", async (t) => {
  await using cluster = await createCluster();
  const log = createLogger(() => {});
  const pool = createPool(
    log,
    connection(cluster.port, await cluster.createDatabase()),
  );
  await applyMigrations(pool, await readMigrations(MIGRATIONS_DIR), log);
  const store = createMessageStore(pool);

  try {
    await t.step("recent() answers nothing for an empty table", async () => {
      assert.deepEqual(await store.recent(100), []);
    });

    await t.step(
      "insert() stores a batch and returns the rows in id order",
      async () => {
        const before = Date.now();
        const stored = await store.insert([
          { username: "ada", color: "#000001", msg: "one" },
          { username: "bob", color: "#000002", msg: "two" },
          { username: "cy", color: "#000003", msg: "three" },
        ]);
        assert.deepEqual(
          stored.map((message) => [message.id, message.username, message.msg]),
          [
            [1, "ada", "one"],
            [2, "bob", "two"],
            [3, "cy", "three"],
          ],
        );
        const createdAt = Date.parse(stored[0].created_at);
        assert.ok(createdAt >= before - 1000 && createdAt <= Date.now() + 1000);
        assert.equal(stored[0].created_at, new Date(createdAt).toISOString());
      },
    );

    await t.step("insert() of nothing stores nothing", async () => {
      assert.deepEqual(await store.insert([]), []);
    });

    await t.step(
      "recent() answers the newest messages, oldest first",
      async () => {
        assert.deepEqual(
          (await store.recent(2)).map((message) => message.msg),
          ["two", "three"],
        );
        assert.equal((await store.recent(500)).length, 3);
      },
    );

    await t.step(
      "the table refuses what the WebSocket validation refuses",
      async () => {
        for (
          const input of [
            { username: "", color: "#000000", msg: "x" },
            { username: "u".repeat(33), color: "#000000", msg: "x" },
            { username: "ada", color: "red", msg: "x" },
            { username: "ada", color: "#000000", msg: "" },
            { username: "ada", color: "#000000", msg: "m".repeat(2001) },
          ]
        ) {
          await assert.rejects(
            store.insert([input]),
            /violates check constraint/,
          );
        }
      },
    );

    await t.step(
      "recent() reads backwards through the primary key index",
      async () => {
        await pool.query(`INSERT INTO messages (username, color, msg)
        SELECT 'u', '#000000', 'm' FROM generate_series(1, 20000)`);
        await pool.query("ANALYZE messages");
        const plan = await pool.query(`EXPLAIN (FORMAT JSON) ${RECENT_SQL}`, [
          500,
        ]);
        assert.deepEqual(planNodes(plan.rows[0]["QUERY PLAN"][0].Plan), [
          "Limit",
          "Index Scan Backward using messages_pkey",
        ]);
      },
    );
  } finally {
    await pool.end();
  }
});

interface PlanNode {
  "Node Type": string;
  "Scan Direction"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

/** The nodes of an EXPLAIN plan, top down, e.g. "Index Scan Backward using messages_pkey". */
function planNodes(node: PlanNode): string[] {
  const direction = node["Scan Direction"] === "Backward" ? " Backward" : "";
  const index = node["Index Name"] ? ` using ${node["Index Name"]}` : "";
  return [
    `${node["Node Type"]}${direction}${index}`,
    ...(node.Plans ?? []).flatMap(planNodes),
  ];
}
