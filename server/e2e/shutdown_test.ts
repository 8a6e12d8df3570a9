import assert from "node:assert/strict";
import { createCluster, freePort } from "../testing/postgres.ts";
import { spawnServer } from "../testing/server_process.ts";
import { TestSocket } from "../testing/ws_client.ts";

const LIMIT_MS = 5000;

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`${signal} closes open WebSockets and exits 0 within 5 s`, async () => {
    await using cluster = await createCluster();
    await using server = await spawnServer(
      cluster.env(await cluster.createDatabase()),
    );
    await server.waitForLog(/ info ready /);
    await using client = await TestSocket.open(
      server.url("/ws").replace("http:", "ws:"),
    );
    client.sendJson({ username: "ada", color: "#000000", msg: "bye" });
    await client.next();

    const started = performance.now();
    server.kill(signal);
    const [status, close] = await Promise.all([server.status, client.closed]);
    const elapsed = performance.now() - started;

    assert.equal(status.code, 0);
    assert.ok(elapsed < LIMIT_MS, `exited after ${elapsed} ms`);
    assert.equal(close.code, 1001);
    assert.equal(close.reason, "Server is shutting down");
    assert.ok(close.wasClean);
    assert.ok(
      server.logs.some((line) =>
        line.endsWith(` info shutdown_started signal=${signal}`)
      ),
    );
    assert.ok(server.logs.at(-1)?.endsWith(" info stopped exit_code=0"));
  });
}

Deno.test("SIGTERM while waiting for the database exits 0 at once", async () => {
  await using server = await spawnServer({
    PGHOST: "127.0.0.1",
    PGPORT: String(freePort()),
    PGUSER: "postgres",
    PGDATABASE: "postgres",
  });
  await server.waitForLog(/ warn database_retry attempt=1 /);

  const started = performance.now();
  server.kill("SIGTERM");
  const status = await server.status;

  assert.equal(status.code, 0);
  assert.ok(performance.now() - started < 2000);
  assert.equal(server.logs.filter((line) => / error /.test(line)).length, 0);
});
