import pg from "pg";
import { errorMessage, type Logger } from "./log.ts";

/**
 * Pool settings. Connection details come from the libpq variables
 * (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`), which `pg`
 * reads itself; `overrides` replace them, as tests do.
 */
export function createPool(
  log: Logger,
  overrides: pg.PoolConfig = {},
): pg.Pool {
  const pool = new pg.Pool({
    max: 5,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 10_000,
    statement_timeout: 5000,
    query_timeout: 8000,
    keepAlive: true,
    ...overrides,
  });
  // An idle connection that breaks (the server restarted, say) emits an
  // error on the pool; without a listener that would end the process.
  pool.on("error", (error) => {
    log.warn("database_connection_lost", { error: errorMessage(error) });
  });
  return pool;
}

/** Resolves once `SELECT 1` succeeds, rejects when it fails or takes longer than `timeoutMs`. */
export async function pingDatabase(
  pool: pg.Pool,
  timeoutMs: number,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Database did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([pool.query("SELECT 1"), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface WaitOptions {
  /** Give up once this much time has passed since the first try. */
  timeoutMs: number;
  log: Logger;
  /** Stops waiting, rejecting with the abort reason. */
  signal?: AbortSignal;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Calls `ping` until it succeeds, waiting longer after each failure (up to
 * `maxDelayMs`) and logging each failed try. The delay lives only in this
 * loop: once the database answers, nothing is left that slows later queries.
 */
export async function waitForDatabase(
  ping: () => Promise<void>,
  options: WaitOptions,
): Promise<void> {
  const { timeoutMs, log, signal } = options;
  const firstDelayMs = options.firstDelayMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 2000;
  const deadline = Date.now() + timeoutMs;

  for (let attempt = 1;; attempt++) {
    signal?.throwIfAborted();
    try {
      await ping();
      if (attempt > 1) log.info("database_connected", { attempts: attempt });
      return;
    } catch (error) {
      signal?.throwIfAborted();
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        throw new Error(
          `Database not reachable after ${attempt} tries in ${
            timeoutMs / 1000
          } s: ${errorMessage(error)}`,
        );
      }
      const delayMs = Math.min(
        firstDelayMs * 2 ** (attempt - 1),
        maxDelayMs,
        remainingMs,
      );
      log.warn("database_retry", {
        attempt,
        delay_ms: delayMs,
        error: errorMessage(error),
      });
      await sleep(delayMs, signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
