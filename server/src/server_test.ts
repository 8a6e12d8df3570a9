import assert from "node:assert/strict";
import { connection, createCluster } from "../testing/postgres.ts";
import type { Config } from "./config.ts";
import { createLogger } from "./log.ts";
import { runServer } from "./server.ts";

const MIGRATIONS_DIR = new URL("../migrations/", import.meta.url);

function config(overrides: Partial<Config> = {}): Config {
  return {
    hostname: "127.0.0.1",
    port: 0,
    databaseWaitMs: 5000,
    migrationsDir: MIGRATIONS_DIR,
    ...overrides,
  };
}

function capture() {
  const lines: string[] = [];
  const events = () => lines.map((line) => line.split(" ")[2]);
  return { lines, events, log: createLogger((line) => lines.push(line)) };
}

Deno.test("runServer() listens, gets ready, and resolves 0 once stopped", async () => {
  await using cluster = await createCluster();
  const { events, log } = capture();
  const stop = new AbortController();
  const listening = Promise.withResolvers<number>();

  const running = runServer({
    config: config(),
    log,
    stop: stop.signal,
    database: connection(cluster.port, await cluster.createDatabase()),
    onListen: listening.resolve,
  });
  const port = await listening.promise;
  let health = 503;
  for (let i = 0; i < 100 && health !== 200; i++) {
    const response = await fetch(`http://127.0.0.1:${port}/health`);
    await response.body?.cancel();
    health = response.status;
    if (health !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(health, 200);

  stop.abort();
  assert.equal(await running, 0);
  assert.deepEqual(events(), [
    "listening",
    "migration_applied",
    "ready",
    "stopped",
  ]);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/health`));
});

Deno.test("runServer() resolves 1 when the migrations cannot be read", async () => {
  const { lines, log } = capture();
  const code = await runServer({
    config: config({ migrationsDir: new URL("file:///nonexistent/") }),
    log,
    stop: new AbortController().signal,
  });
  assert.equal(code, 1);
  assert.match(
    lines.at(-2) ?? "",
    / error startup_failed error="Cannot read migrations from \/nonexistent\//,
  );
  assert.match(lines.at(-1) ?? "", / info stopped exit_code=1$/);
});

Deno.test("runServer() resolves 1 when the port is taken", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { lines, log } = capture();
  const code = await runServer({
    config: config({ port: taken.addr.port }),
    log,
    stop: new AbortController().signal,
  });
  assert.equal(code, 1);
  assert.match(
    lines[0],
    new RegExp(` error listen_failed port=${taken.addr.port} error=`),
  );
});
