import pg from "pg";

/**
 * A throwaway PostgreSQL cluster in a temporary directory, listening on
 * 127.0.0.1 only, with trust authentication for the `postgres` role.
 */
export interface PostgresCluster extends AsyncDisposable {
  readonly port: number;
  readonly dataDir: string;
  /** Starts the server (again) on the same port and data directory. */
  start(): Promise<void>;
  /** Stops the server; the data directory is kept. */
  stop(): Promise<void>;
  /** Creates a fresh database and returns its name. */
  createDatabase(): Promise<string>;
  /** libpq variables that connect to `database`. */
  env(database: string): Record<string, string>;
  /** Stops the server and removes the temporary directory. */
  destroy(): Promise<void>;
}

export interface ClusterOptions {
  /** Port to use; a free one is picked when absent. */
  port?: number;
  /** Whether to start the server before returning; true by default. */
  start?: boolean;
  /** Extra `-c name=value` settings for the server. */
  settings?: Record<string, string>;
}

/** Settings that make a disposable cluster fast; durability does not matter here. */
const FAST_SETTINGS: Record<string, string> = {
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
};

/** Where to look for the PostgreSQL server binaries. */
export interface BinSearch {
  pgBin?: string;
  pgConfig: string;
  debianRoot: string;
}

const DEFAULT_SEARCH: BinSearch = {
  pgBin: Deno.env.get("PG_BIN"),
  pgConfig: "pg_config",
  debianRoot: "/usr/lib/postgresql",
};

/**
 * Finds the directory with `initdb` and `pg_ctl`: `PG_BIN`, then
 * `pg_config --bindir`, then the newest `/usr/lib/postgresql/<version>/bin`.
 */
export async function findPostgresBin(
  search: BinSearch = DEFAULT_SEARCH,
): Promise<string> {
  const candidates: string[] = [];
  const tried: string[] = [];
  if (search.pgBin) {
    candidates.push(search.pgBin);
    tried.push(`PG_BIN=${search.pgBin}`);
  } else {
    tried.push("PG_BIN (unset)");
  }
  const fromPgConfig = await output(search.pgConfig, ["--bindir"]).catch(
    () => "",
  );
  if (fromPgConfig) candidates.push(fromPgConfig);
  tried.push(`${search.pgConfig} --bindir (${fromPgConfig || "failed"})`);
  const versioned = await versionedBinDirs(search.debianRoot);
  candidates.push(...versioned);
  tried.push(
    `${search.debianRoot}/*/bin (${versioned.join(", ") || "none"})`,
  );

  for (const dir of candidates) {
    if (await isFile(`${dir}/initdb`) && await isFile(`${dir}/pg_ctl`)) {
      return dir;
    }
  }
  throw new Error(
    "PostgreSQL server binaries (initdb, pg_ctl) not found; set PG_BIN to " +
      `their directory or install them. Tried: ${tried.join(", ")}`,
  );
}

/** Creates a cluster with `initdb` and, unless told otherwise, starts it. */
export async function createCluster(
  options: ClusterOptions = {},
): Promise<PostgresCluster> {
  const bin = await findPostgresBin();
  const port = options.port ?? await freePort();
  const root = await Deno.makeTempDir({ prefix: "chat-pg-" });
  const dataDir = `${root}/data`;
  const settings = { ...FAST_SETTINGS, ...options.settings };
  const owner = await unprivilegedOwner();
  if (owner) await Deno.chown(root, owner.uid, owner.gid);

  const run = (tool: string, args: string[]) =>
    output(
      owner ? "setpriv" : `${bin}/${tool}`,
      owner
        ? [
          "--reuid=postgres",
          "--regid=postgres",
          "--init-groups",
          `${bin}/${tool}`,
          ...args,
        ]
        : args,
    );

  let running = false;
  let databases = 0;
  const cluster: PostgresCluster = {
    port,
    dataDir,
    async start() {
      const serverOptions = [
        `-p ${port}`,
        "-c listen_addresses=127.0.0.1",
        `-c unix_socket_directories=${root}`,
        ...Object.entries(settings).map(([name, value]) =>
          `-c ${name}=${value}`
        ),
      ].join(" ");
      await run("pg_ctl", [
        "start",
        "--wait",
        "--silent",
        `--pgdata=${dataDir}`,
        `--log=${root}/postgres.log`,
        `--options=${serverOptions}`,
      ]).catch(async (error) => {
        const log = await Deno.readTextFile(`${root}/postgres.log`).catch(
          () => "",
        );
        throw new Error(`PostgreSQL did not start: ${error.message}\n${log}`);
      });
      running = true;
    },
    async stop() {
      if (!running) return;
      await run("pg_ctl", [
        "stop",
        "--wait",
        "--silent",
        "--mode=fast",
        `--pgdata=${dataDir}`,
      ]);
      running = false;
    },
    async createDatabase() {
      databases++;
      const name = `chat_${databases}`;
      const client = new pg.Client(connection(port, "postgres"));
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return name;
    },
    env(database: string) {
      return {
        PGHOST: "127.0.0.1",
        PGPORT: String(port),
        PGUSER: "postgres",
        PGPASSWORD: "",
        PGDATABASE: database,
      };
    },
    async destroy() {
      try {
        await cluster.stop();
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    },
    [Symbol.asyncDispose]() {
      return cluster.destroy();
    },
  };

  try {
    await run("initdb", [
      `--pgdata=${dataDir}`,
      "--username=postgres",
      "--auth=trust",
      "--encoding=UTF8",
      "--locale=C",
      "--no-sync",
      "--no-instructions",
    ]);
    if (options.start ?? true) await cluster.start();
  } catch (error) {
    await Deno.remove(root, { recursive: true }).catch(() => {});
    throw error;
  }
  return cluster;
}

/** Client settings for a database of a cluster on `port`. */
export function connection(
  port: number,
  database: string,
): pg.ClientConfig {
  return { host: "127.0.0.1", port, user: "postgres", database };
}

/** A port that nothing listens on at the moment of asking. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** PostgreSQL refuses to run as root, so root hands the cluster to `postgres`. */
async function unprivilegedOwner(): Promise<
  { uid: number; gid: number } | undefined
> {
  if (Deno.uid() !== 0) return undefined;
  try {
    return {
      uid: Number(await output("id", ["-u", "postgres"])),
      gid: Number(await output("id", ["-g", "postgres"])),
    };
  } catch {
    throw new Error(
      "Running as root, but there is no 'postgres' user to run PostgreSQL as",
    );
  }
}

async function versionedBinDirs(root: string): Promise<string[]> {
  const versions: number[] = [];
  try {
    for await (const entry of Deno.readDir(root)) {
      if (/^\d+$/.test(entry.name)) versions.push(Number(entry.name));
    }
  } catch {
    return [];
  }
  return versions.sort((a, b) => b - a).map((version) =>
    `${root}/${version}/bin`
  );
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function output(command: string, args: string[]): Promise<string> {
  const result = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!result.success) {
    throw new Error(
      `${command} ${args.join(" ")} exited with ${result.code}: ${
        decoder.decode(result.stderr).trim()
      }`,
    );
  }
  return decoder.decode(result.stdout).trim();
}
