import type pg from "pg";
import { createApp } from "./app.ts";
import { ChatRoom } from "./chat_room.ts";
import type { Config } from "./config.ts";
import { createPool, pingDatabase, waitForDatabase } from "./database.ts";
import type { Phase } from "./health.ts";
import { errorMessage, type Logger } from "./log.ts";
import { createMessageStore } from "./messages.ts";
import { applyMigrations, readMigrations } from "./migrate.ts";

export interface RunOptions {
  config: Config;
  log: Logger;
  /** Aborting it shuts the server down gracefully. */
  stop: AbortSignal;
  /** Connection settings that replace the libpq environment variables. */
  database?: pg.PoolConfig;
  /** Called with the bound port once the server listens. */
  onListen?: (port: number) => void;
}

const HEALTH_PING_MS = 1000;
const STARTUP_PING_MS = 2000;
const DRAIN_MS = 2000;
const CLOSE_MS = 1500;
const POOL_END_MS = 500;

/**
 * Listens at once, waits for the database, applies the migrations and
 * then serves until `stop` aborts. Resolves with the exit code: 0 after a
 * requested stop, 1 when start-up failed.
 */
export async function runServer(options: RunOptions): Promise<number> {
  const { config, log, stop } = options;
  const pool = createPool(log, options.database);
  const store = createMessageStore(pool);
  const room = new ChatRoom((inputs) => store.insert(inputs), log);
  let phase: Phase = "starting";
  const app = createApp({
    phase: () => phase,
    ping: () => pingDatabase(pool, HEALTH_PING_MS),
    recent: (limit) => store.recent(limit),
    room,
    log,
  });

  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: config.hostname,
      port: config.port,
      onListen: ({ hostname, port }) => {
        log.info("listening", { host: hostname, port });
        options.onListen?.(port);
      },
    }, (request) => app.fetch(request));
  } catch (error) {
    log.error("listen_failed", {
      port: config.port,
      error: errorMessage(error),
    });
    await pool.end();
    return 1;
  }

  let exitCode = 0;
  try {
    const migrations = await readMigrations(config.migrationsDir);
    await waitForDatabase(() => pingDatabase(pool, STARTUP_PING_MS), {
      timeoutMs: config.databaseWaitMs,
      log,
      signal: stop,
    });
    const applied = await applyMigrations(pool, migrations, log);
    phase = "ready";
    log.info("ready", {
      migrations: migrations.length,
      applied: applied.length,
    });
    await whenAborted(stop);
  } catch (error) {
    if (!stop.aborted) {
      log.error("startup_failed", { error: errorMessage(error) });
      exitCode = 1;
    }
  }

  phase = "stopping";
  await shutDown(server, room, pool);
  log.info("stopped", { exit_code: exitCode });
  return exitCode;
}

/**
 * Turns new messages away, lets queued ones be stored and broadcast, sends
 * every socket a close frame and waits for the handshakes, stops the HTTP
 * server and closes the pool.
 * Each step has a time limit, so the whole stays well under five seconds.
 */
async function shutDown(
  server: Deno.HttpServer,
  room: ChatRoom,
  pool: pg.Pool,
): Promise<void> {
  room.stopAccepting();
  await withTimeout(room.idle(), DRAIN_MS);
  room.closeAll(1001, "Server is shutting down");
  await withTimeout(room.empty(), CLOSE_MS);
  await withTimeout(server.shutdown(), CLOSE_MS);
  await withTimeout(pool.end(), POOL_END_MS);
}

function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}

/** Waits for `promise` at most `ms`; its failure is ignored. */
async function withTimeout(promise: Promise<unknown>, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([promise.catch(() => {}), elapsed]);
  } finally {
    clearTimeout(timer);
  }
}
