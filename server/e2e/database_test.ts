import assert from "node:assert/strict";
import { getJson, healthStatus, pollUntil } from "../testing/http.ts";
import { createCluster, freePort } from "../testing/postgres.ts";
import { spawnServer } from "../testing/server_process.ts";
import { TestSocket } from "../testing/ws_client.ts";

const MESSAGE = { username: "ada", color: "#0a0b0c", msg: "still here" };

function wsUrl(server: { url(path: string): string }): string {
  return server.url("/ws").replace("http:", "ws:");
}

Deno.test("a server started before its database becomes healthy without a restart", async () => {
  await using cluster = await createCluster({ start: false });
  await using server = await spawnServer({
    ...cluster.env("postgres"),
    DB_WAIT_SECONDS: "30",
  });
  const base = server.url("");

  assert.deepEqual(await getJson(server.url("/health")), {
    status: 503,
    body: {
      status: "starting",
      reason: "Database migrations have not been applied yet",
    },
  });
  assert.deepEqual(await getJson(server.url("/chat")), {
    status: 503,
    body: { error: "Server is starting" },
  });
  await assert.rejects(TestSocket.open(wsUrl(server)));

  const whileDown: number[] = [];
  while (!server.logs.some((line) => / database_retry attempt=3 /.test(line))) {
    whileDown.push(await healthStatus(base));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(whileDown.length >= 5, `polled ${whileDown.length} times`);
  assert.deepEqual([...new Set(whileDown)], [503]);
  await cluster.start();
  await pollUntil(
    "GET /health to answer 200",
    async () => await healthStatus(base) === 200,
  );

  const started = performance.now();
  const chat = await getJson(server.url("/chat"));
  await using client = await TestSocket.open(wsUrl(server));
  client.sendJson(MESSAGE);
  const stored = await client.next(1000) as { msg: string };
  assert.equal(chat.status, 200);
  assert.equal(stored.msg, MESSAGE.msg);
  assert.ok(performance.now() - started < 1000, "served at once once healthy");

  const retries = server.logs.filter((line) =>
    / warn database_retry attempt=\d+ delay_ms=\d+ error=/.test(line)
  );
  assert.ok(retries.length >= 3);
  assert.ok(
    server.logs.some((line) =>
      / info migration_applied name=001_create_messages\.sql$/.test(line)
    ),
  );
  assert.ok(
    server.logs.some((line) =>
      / info database_connected attempts=\d+$/.test(line)
    ),
  );
});

Deno.test("a server whose database never comes up exits 1 after the configured wait", async () => {
  const port = freePort();
  const started = performance.now();
  await using server = await spawnServer({
    PGHOST: "127.0.0.1",
    PGPORT: String(port),
    PGUSER: "postgres",
    PGDATABASE: "postgres",
    DB_WAIT_SECONDS: "1.5",
  });
  assert.equal(await healthStatus(server.url("")), 503);

  const status = await server.status;
  const elapsed = performance.now() - started;
  assert.equal(status.code, 1);
  assert.ok(elapsed > 1500 && elapsed < 8000, `exited after ${elapsed} ms`);
  assert.ok(
    server.logs.some((line) =>
      / warn database_retry attempt=1 delay_ms=250 error=.*ECONNREFUSED/.test(
        line,
      )
    ),
  );
  const failure = server.logs.find((line) =>
    / error startup_failed /.test(line)
  );
  assert.match(
    failure ?? "",
    new RegExp(
      `error="Database not reachable after \\d+ tries in 1.5 s: .*${port}`,
    ),
  );
});

Deno.test("a server reports the database gone with 503 and recovers when it returns", async () => {
  await using cluster = await createCluster();
  await using server = await spawnServer(
    cluster.env(await cluster.createDatabase()),
  );
  await server.waitForLog(/ info ready /);
  const base = server.url("");
  await using sender = await TestSocket.open(wsUrl(server));
  await using observer = await TestSocket.open(wsUrl(server));

  await cluster.stop();

  assert.deepEqual(await getJson(server.url("/health")), {
    status: 503,
    body: { status: "unavailable", reason: "Database is not answering" },
  });
  assert.deepEqual(await getJson(server.url("/chat")), {
    status: 503,
    body: { error: "Database is unavailable" },
  });
  sender.sendJson({ ...MESSAGE, msg: "lost in the outage" });
  assert.deepEqual(await sender.next(), {
    error: "Message could not be stored, try again later",
  });
  assert.ok(sender.isOpen);
  await server.waitForLog(/ warn message_store_failed count=1 /);
  await server.waitForLog(
    / error request_failed method=GET path=\/chat status=503 /,
  );

  await cluster.start();
  await pollUntil(
    "GET /health to answer 200",
    async () => await healthStatus(base) === 200,
  );

  sender.sendJson(MESSAGE);
  const stored = await sender.next();
  assert.deepEqual(await observer.next(), stored);
  assert.equal(observer.pending, 0);
  const history = await getJson(server.url("/chat"));
  assert.deepEqual(history, { status: 200, body: [stored] });
  assert.equal(
    server.logs.filter((line) => /outage|still here/.test(line)).length,
    0,
  );
});

Deno.test("messages survive a restart of the server and migrations run once", async () => {
  await using cluster = await createCluster();
  const env = cluster.env(await cluster.createDatabase());

  let stored: unknown;
  {
    await using server = await spawnServer(env);
    await server.waitForLog(/ info ready migrations=1 applied=1$/);
    await using client = await TestSocket.open(wsUrl(server));
    client.sendJson(MESSAGE);
    stored = await client.next();
    await client.close();
    assert.equal((await server.stop()).code, 0);
  }

  await using server = await spawnServer(env);
  await server.waitForLog(/ info ready migrations=1 applied=0$/);
  assert.deepEqual(await getJson(server.url("/chat")), {
    status: 200,
    body: [stored],
  });
  assert.equal(
    server.logs.filter((line) => /migration_applied/.test(line)).length,
    0,
  );
});

Deno.test("two servers starting together on a fresh database apply each migration once", async () => {
  await using cluster = await createCluster({ start: false });
  const env = { ...cluster.env("postgres"), DB_WAIT_SECONDS: "30" };
  const [first, second] = await Promise.all([
    spawnServer(env),
    spawnServer(env),
  ]);
  await using _first = first;
  await using _second = second;
  await Promise.all([
    first.waitForLog(/ warn database_retry /),
    second.waitForLog(/ warn database_retry /),
  ]);

  await cluster.start();
  await Promise.all([
    first.waitForLog(/ info ready /),
    second.waitForLog(/ info ready /),
  ]);

  const applied = [...first.logs, ...second.logs].filter((line) =>
    / info migration_applied /.test(line)
  );
  assert.equal(applied.length, 1);
  assert.equal(await healthStatus(first.url("")), 200);
  assert.equal(await healthStatus(second.url("")), 200);
});
