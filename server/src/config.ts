/** Settings read from the environment at start. */
export interface Config {
  /** Address the HTTP server binds to. */
  hostname: string;
  /** TCP port; 0 lets the system pick one. */
  port: number;
  /** How long start-up keeps retrying an unreachable database. */
  databaseWaitMs: number;
  /** Directory holding the `*.sql` migrations. */
  migrationsDir: URL;
}

/** Anything with a `get` like `Deno.env`. */
export interface Environment {
  get(name: string): string | undefined;
}

const DEFAULT_PORT = 8000;
const DEFAULT_DATABASE_WAIT_SECONDS = 30;

/** Reads `PORT` and `DB_WAIT_SECONDS`, throwing on a value that makes no sense. */
export function loadConfig(env: Environment, migrationsDir: URL): Config {
  return {
    hostname: "0.0.0.0",
    port: readPort(env.get("PORT")),
    databaseWaitMs: readSeconds(
      "DB_WAIT_SECONDS",
      env.get("DB_WAIT_SECONDS"),
      DEFAULT_DATABASE_WAIT_SECONDS,
    ) * 1000,
    migrationsDir,
  };
}

function readPort(text: string | undefined): number {
  if (text === undefined || text === "") return DEFAULT_PORT;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new Error(
      `PORT must be an integer from 0 to 65535, got ${JSON.stringify(text)}`,
    );
  }
  return port;
}

function readSeconds(
  name: string,
  text: string | undefined,
  fallback: number,
): number {
  if (text === undefined || text === "") return fallback;
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || seconds <= 0 || seconds > 3600) {
    throw new Error(
      `${name} must be a number of seconds above 0 and at most 3600, got ${
        JSON.stringify(text)
      }`,
    );
  }
  return seconds;
}
