import type pg from "pg";
import { errorMessage, type Logger } from "./log.ts";

/** One schema change: a `.sql` file, applied once in a transaction of its own. */
export interface Migration {
  name: string;
  sql: string;
}

/** Arbitrary constant naming the advisory lock that serialises migrations. */
const MIGRATION_LOCK = "7416204933";

/** Reads the `*.sql` files of `dir`, sorted by file name. */
export async function readMigrations(dir: URL): Promise<Migration[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".sql")) names.push(entry.name);
    }
  } catch (error) {
    throw new Error(
      `Cannot read migrations from ${dir.pathname}: ${errorMessage(error)}`,
    );
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return await Promise.all(names.map(async (name) => ({
    name,
    sql: await Deno.readTextFile(new URL(name, dir)),
  })));
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in order,
 * and returns the names it applied. An advisory lock makes replicas that
 * start together take turns; the later ones find the work done.
 */
export async function applyMigrations(
  pool: pg.Pool,
  migrations: Migration[],
  log: Logger,
): Promise<string[]> {
  const client = await pool.connect();
  try {
    // Waiting for the lock or a slow migration must not hit the pool's
    // statement timeout.
    await client.query("SET statement_timeout = 0");
    await client.query("SELECT pg_advisory_lock($1::bigint)", [MIGRATION_LOCK]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
        name text PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`,
    );
    const { rows } = await client.query<{ name: string }>(
      "SELECT name FROM schema_migrations",
    );
    const done = new Set(rows.map((row) => row.name));

    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.name)) continue;
      await applyOne(client, migration);
      log.info("migration_applied", { name: migration.name });
      applied.push(migration.name);
    }
    return applied;
  } finally {
    // Closing this session releases the advisory lock, also after a failure,
    // and keeps its settings from reaching other pool users.
    client.release(true);
  }
}

async function applyOne(
  client: pg.PoolClient,
  migration: Migration,
): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query(migration.sql);
    await client.query("INSERT INTO schema_migrations (name) VALUES ($1)", [
      migration.name,
    ]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw new Error(
      `Migration ${migration.name} failed: ${errorMessage(error)}`,
    );
  }
}
