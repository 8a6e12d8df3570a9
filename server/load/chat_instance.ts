import pg from "pg";
import { errorMessage } from "../src/log.ts";
import { connection, type PostgresCluster } from "../testing/postgres.ts";
import { type ServerProcess, spawnServer } from "../testing/server_process.ts";
import { readResidentKiB } from "./memory.ts";
import type { Broadcast } from "./tally.ts";
import { within } from "./timing.ts";

/** The server could not be started, so nothing about it was checked. */
export class SetupError extends Error {}

const READY_MS = 30_000;
/** The server cuts its own shutdown short after 4.5 s. */
const STOP_MS = 10_000;
const QUERY_MS = 30_000;

/** Servers started and not yet stopped, for `killChats`. */
const running = new Set<ServerProcess>();

/** A server child process with a fresh database of its own. */
export interface ChatInstance extends AsyncDisposable {
  readonly server: ServerProcess;
  readonly wsUrl: string;
  /** Whether the server process has exited. */
  exited(): boolean;
  /** Every row of `messages`, in id order. */
  storedRows(): Promise<Broadcast[]>;
  residentKiB(): Promise<number>;
  /** Log lines at level `error` or `warn`. */
  complaints(): { errors: number; warnings: number };
  /**
   * Stops the server with SIGTERM, and with SIGKILL when it is still running
   * 10 s later. Returns problems when it had crashed, hung or exited non-zero.
   */
  stop(): Promise<string[]>;
}

/**
 * Starts `main.ts`, with `env` added to its environment, on a new database
 * of `cluster`, and waits until it is ready. Throws a `SetupError` when it
 * does not get there.
 */
export async function startChat(
  cluster: PostgresCluster,
  env: Record<string, string> = {},
): Promise<ChatInstance> {
  let database: string;
  let server: ServerProcess;
  try {
    database = await cluster.createDatabase();
    server = await spawnServer({ ...cluster.env(database), ...env });
  } catch (error) {
    throw new SetupError(
      `The chat server did not start: ${errorMessage(error)}`,
    );
  }
  running.add(server);
  let exited = false;
  server.status.then(() => {
    exited = true;
    running.delete(server);
  });
  try {
    await server.waitForLog(/ info ready /, READY_MS);
  } catch (error) {
    server.kill("SIGKILL");
    await server.status;
    throw new SetupError(
      `The chat server did not get ready: ${errorMessage(error)}`,
    );
  }

  let stopped: Promise<string[]> | undefined;
  const stop = async (): Promise<string[]> => {
    if (exited) {
      const status = await server.status;
      return [
        `The server exited by itself with code ${status.code}: ${
          server.logs.slice(-5).join(" | ")
        }`,
      ];
    }
    server.kill("SIGTERM");
    if (!await within(server.status, STOP_MS)) {
      server.kill("SIGKILL");
      await server.status;
      return [`The server was still running ${STOP_MS} ms after SIGTERM`];
    }
    const status = await server.status;
    return status.code === 0
      ? []
      : [`The server exited with code ${status.code} on SIGTERM`];
  };

  return {
    server,
    wsUrl: server.url("/ws").replace("http:", "ws:"),
    exited: () => exited,
    async storedRows() {
      const client = new pg.Client({
        ...connection(cluster.port, database),
        connectionTimeoutMillis: QUERY_MS,
        query_timeout: QUERY_MS,
      });
      await client.connect();
      try {
        const { rows } = await client.query<{ id: string; msg: string }>(
          "SELECT id, msg FROM messages ORDER BY id",
        );
        return rows.map((row) => ({ id: Number(row.id), msg: row.msg }));
      } finally {
        await client.end();
      }
    },
    residentKiB: () => readResidentKiB(server.pid),
    complaints() {
      const count = (level: string) =>
        server.logs.filter((line) => line.split(" ")[1] === level).length;
      return { errors: count("error"), warnings: count("warn") };
    },
    stop: () => stopped ??= stop(),
    async [Symbol.asyncDispose]() {
      if (stopped === undefined && !exited) {
        server.kill("SIGKILL");
        await server.status;
      }
    },
  };
}

/** Kills every server still running, for a run that is interrupted. */
export async function killChats(): Promise<void> {
  const servers = [...running];
  for (const server of servers) server.kill("SIGKILL");
  await Promise.all(servers.map((server) => server.status));
}
