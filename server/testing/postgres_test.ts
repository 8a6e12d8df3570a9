import assert from "node:assert/strict";
import pg from "pg";
import { connection, createCluster, findPostgresBin } from "./postgres.ts";

async function selectOne(port: number, database: string): Promise<number> {
  const client = new pg.Client(connection(port, database));
  await client.connect();
  try {
    const result = await client.query("SELECT 1 AS one");
    return result.rows[0].one;
  } finally {
    await client.end();
  }
}

Deno.test("findPostgresBin() finds a directory with initdb and pg_ctl", async () => {
  const bin = await findPostgresBin();
  assert.ok((await Deno.stat(`${bin}/initdb`)).isFile);
});

Deno.test("findPostgresBin() takes PG_BIN first", async () => {
  const bin = await findPostgresBin();
  assert.equal(
    await findPostgresBin({
      pgBin: bin,
      pgConfig: "/nonexistent/pg_config",
      debianRoot: "/nonexistent",
    }),
    bin,
  );
});

Deno.test("findPostgresBin() fails with the places it looked in", async () => {
  await assert.rejects(
    findPostgresBin({
      pgBin: "/nonexistent/bin",
      pgConfig: "/nonexistent/pg_config",
      debianRoot: "/nonexistent",
    }),
    {
      message:
        "PostgreSQL server binaries (initdb, pg_ctl) not found; set PG_BIN to " +
        "their directory or install them. Tried: PG_BIN=/nonexistent/bin, " +
        "/nonexistent/pg_config --bindir (failed), /nonexistent/*/bin (none)",
    },
  );
});

Deno.test("createCluster() starts a server, stops and restarts it, and cleans up", async () => {
  const cluster = await createCluster();
  try {
    const database = await cluster.createDatabase();
    assert.equal(await selectOne(cluster.port, database), 1);

    await cluster.stop();
    await assert.rejects(selectOne(cluster.port, database));

    await cluster.start();
    assert.equal(await selectOne(cluster.port, database), 1);
  } finally {
    await cluster.destroy();
  }
  await assert.rejects(Deno.stat(cluster.dataDir), Deno.errors.NotFound);
});

Deno.test("createCluster() can prepare a cluster without starting it", async () => {
  await using cluster = await createCluster({ start: false });
  await assert.rejects(selectOne(cluster.port, "postgres"));
  await cluster.start();
  assert.equal(await selectOne(cluster.port, "postgres"), 1);
});
