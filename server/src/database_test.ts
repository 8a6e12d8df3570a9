import assert from "node:assert/strict";
import { connection, createCluster, freePort } from "../testing/postgres.ts";
import { createPool, pingDatabase, waitForDatabase } from "./database.ts";
import { createLogger } from "./log.ts";

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger((line) => lines.push(line)) };
}

function failingTimes(failures: number) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    ping() {
      calls++;
      return calls <= failures
        ? Promise.reject(new Error(`refused ${calls}`))
        : Promise.resolve();
    },
  };
}

Deno.test("waitForDatabase() returns at the first answer without logging", async () => {
  const { lines, log } = capture();
  const database = failingTimes(0);
  await waitForDatabase(database.ping, { timeoutMs: 1000, log });
  assert.equal(database.calls, 1);
  assert.deepEqual(lines, []);
});

Deno.test("waitForDatabase() retries with growing delays and logs each failed try", async () => {
  const { lines, log } = capture();
  const database = failingTimes(3);
  await waitForDatabase(database.ping, {
    timeoutMs: 5000,
    log,
    firstDelayMs: 10,
    maxDelayMs: 25,
  });
  assert.equal(database.calls, 4);
  assert.deepEqual(lines.map((line) => line.replace(/^\S+ /, "")), [
    'warn database_retry attempt=1 delay_ms=10 error="refused 1"',
    'warn database_retry attempt=2 delay_ms=20 error="refused 2"',
    'warn database_retry attempt=3 delay_ms=25 error="refused 3"',
    "info database_connected attempts=4",
  ]);
});

Deno.test("waitForDatabase() gives up after timeoutMs with the last error", async () => {
  const { log } = capture();
  const database = failingTimes(Infinity);
  await assert.rejects(
    waitForDatabase(database.ping, { timeoutMs: 120, log, firstDelayMs: 20 }),
    /^Error: Database not reachable after \d+ tries in 0\.12 s: refused \d+$/,
  );
  assert.ok(database.calls >= 3);
});

Deno.test("waitForDatabase() stops when its signal aborts", async () => {
  const { log } = capture();
  const stop = new AbortController();
  const waiting = waitForDatabase(failingTimes(Infinity).ping, {
    timeoutMs: 60_000,
    log,
    signal: stop.signal,
    firstDelayMs: 10_000,
  });
  setTimeout(() => stop.abort(new Error("stopping")), 20);
  await assert.rejects(waiting, /^Error: stopping$/);
});

Deno.test("pingDatabase() answers against a running database and fails on a closed port", async () => {
  await using cluster = await createCluster();
  const { log } = capture();
  const up = createPool(log, connection(cluster.port, "postgres"));
  const down = createPool(log, connection(freePort(), "postgres"));
  try {
    await pingDatabase(up, 1000);
    await assert.rejects(pingDatabase(down, 1000), /ECONNREFUSED/);
  } finally {
    await Promise.all([up.end(), down.end()]);
  }
});

Deno.test("createPool() outlives a database restart and logs lost connections", async () => {
  await using cluster = await createCluster();
  const { lines, log } = capture();
  const pool = createPool(log, connection(cluster.port, "postgres"));
  try {
    await Promise.all([pool.query("SELECT 1"), pool.query("SELECT 1")]);
    await cluster.stop();
    await assert.rejects(pool.query("SELECT 1"));
    await cluster.start();
    assert.deepEqual((await pool.query("SELECT 1 AS one")).rows, [{ one: 1 }]);
    assert.ok(lines.length > 0);
    for (const line of lines) {
      assert.match(
        line,
        / warn database_connection_lost error="terminating connection due to administrator command"$/,
      );
    }
  } finally {
    await pool.end();
  }
});
