import assert from "node:assert/strict";
import { connection, createCluster } from "../testing/postgres.ts";
import { createPool } from "./database.ts";
import { createLogger } from "./log.ts";
import { applyMigrations, type Migration, readMigrations } from "./migrate.ts";

const MIGRATIONS_DIR = new URL("../migrations/", import.meta.url);

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger((line) => lines.push(line)) };
}

const STEPS: Migration[] = [
  {
    name: "001_first.sql",
    sql: "CREATE TABLE steps (n int); INSERT INTO steps VALUES (1);",
  },
  { name: "002_second.sql", sql: "INSERT INTO steps VALUES (2);" },
];

Deno.test("readMigrations() reads the .sql files in name order", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/010_later.sql`, "SELECT 10;");
    await Deno.writeTextFile(`${dir}/002_sooner.sql`, "SELECT 2;");
    await Deno.writeTextFile(`${dir}/README.md`, "not a migration");
    await Deno.mkdir(`${dir}/003_dir.sql`);
    assert.deepEqual(await readMigrations(new URL(`file://${dir}/`)), [
      { name: "002_sooner.sql", sql: "SELECT 2;" },
      { name: "010_later.sql", sql: "SELECT 10;" },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readMigrations() fails with the directory it could not read", async () => {
  await assert.rejects(
    readMigrations(new URL("file:///nonexistent/migrations/")),
    /^Error: Cannot read migrations from \/nonexistent\/migrations\/: /,
  );
});

Deno.test("readMigrations() finds the server's own migrations", async () => {
  const migrations = await readMigrations(MIGRATIONS_DIR);
  assert.equal(migrations[0].name, "001_create_messages.sql");
});

Deno.test("applyMigrations()", async (t) => {
  await using cluster = await createCluster();
  const { lines, log } = capture();

  await t.step(
    "applies each migration once, in order, and records it",
    async () => {
      const pool = createPool(
        log,
        connection(cluster.port, await cluster.createDatabase()),
      );
      try {
        assert.deepEqual(await applyMigrations(pool, STEPS, log), [
          "001_first.sql",
          "002_second.sql",
        ]);
        assert.deepEqual(await applyMigrations(pool, STEPS, log), []);
        const steps = await pool.query("SELECT n FROM steps ORDER BY n");
        assert.deepEqual(steps.rows, [{ n: 1 }, { n: 2 }]);
        const recorded = await pool.query(
          "SELECT name FROM schema_migrations ORDER BY name",
        );
        assert.deepEqual(recorded.rows.map((row) => row.name), [
          "001_first.sql",
          "002_second.sql",
        ]);
        assert.deepEqual(lines.map((line) => line.replace(/^\S+ /, "")), [
          "info migration_applied name=001_first.sql",
          "info migration_applied name=002_second.sql",
        ]);
      } finally {
        await pool.end();
      }
    },
  );

  await t.step(
    "run by several pools at once, applies each migration once",
    async () => {
      const database = await cluster.createDatabase();
      const pools = Array.from(
        { length: 4 },
        () => createPool(log, connection(cluster.port, database)),
      );
      const slow: Migration[] = [
        {
          name: "001_slow.sql",
          sql: "SELECT pg_sleep(0.2); CREATE TABLE once (n int);",
        },
        ...STEPS,
      ];
      try {
        const results = await Promise.all(
          pools.map((pool) => applyMigrations(pool, slow, log)),
        );
        assert.deepEqual(results.flat().sort(), [
          "001_first.sql",
          "001_slow.sql",
          "002_second.sql",
        ]);
        const steps = await pools[0].query(
          "SELECT count(*)::int AS count FROM steps",
        );
        assert.equal(steps.rows[0].count, 2);
      } finally {
        await Promise.all(pools.map((pool) => pool.end()));
      }
    },
  );

  await t.step(
    "rolls back a failing migration and names it in the error",
    async () => {
      const pool = createPool(
        log,
        connection(cluster.port, await cluster.createDatabase()),
      );
      const broken: Migration[] = [
        STEPS[0],
        {
          name: "002_broken.sql",
          sql: "INSERT INTO steps VALUES (2); SELEC 1;",
        },
      ];
      try {
        await assert.rejects(
          applyMigrations(pool, broken, log),
          /^Error: Migration 002_broken\.sql failed: syntax error at or near "SELEC"$/,
        );
        const steps = await pool.query("SELECT n FROM steps");
        assert.deepEqual(steps.rows, [{ n: 1 }]);
        const recorded = await pool.query("SELECT name FROM schema_migrations");
        assert.deepEqual(recorded.rows, [{ name: "001_first.sql" }]);
      } finally {
        await pool.end();
      }
    },
  );

  await t.step(
    "applies the server's migrations to an empty database",
    async () => {
      const pool = createPool(
        log,
        connection(cluster.port, await cluster.createDatabase()),
      );
      try {
        await applyMigrations(pool, await readMigrations(MIGRATIONS_DIR), log);
        const columns = await pool.query(
          `SELECT column_name FROM information_schema.columns
         WHERE table_name = 'messages' ORDER BY ordinal_position`,
        );
        assert.deepEqual(columns.rows.map((row) => row.column_name), [
          "id",
          "username",
          "color",
          "msg",
          "created_at",
        ]);
      } finally {
        await pool.end();
      }
    },
  );
});
