import assert from "node:assert/strict";
import { loadConfig } from "./config.ts";

const MIGRATIONS = new URL("file:///srv/migrations/");

function environment(values: Record<string, string>) {
  return { get: (name: string) => values[name] };
}

Deno.test("loadConfig() defaults to port 8000 and a 30 s database wait", () => {
  assert.deepEqual(loadConfig(environment({}), MIGRATIONS), {
    hostname: "0.0.0.0",
    port: 8000,
    databaseWaitMs: 30_000,
    migrationsDir: MIGRATIONS,
  });
});

Deno.test("loadConfig() reads PORT and DB_WAIT_SECONDS", () => {
  const config = loadConfig(
    environment({ PORT: "0", DB_WAIT_SECONDS: "2.5" }),
    MIGRATIONS,
  );
  assert.equal(config.port, 0);
  assert.equal(config.databaseWaitMs, 2500);
});

Deno.test("loadConfig() rejects a PORT that is not a port number", () => {
  for (const port of ["abc", "-1", "65536", "80.5", " 80"]) {
    assert.throws(
      () => loadConfig(environment({ PORT: port }), MIGRATIONS),
      /^Error: PORT must be an integer from 0 to 65535/,
    );
  }
});

Deno.test("loadConfig() rejects a DB_WAIT_SECONDS that is not a positive number", () => {
  for (const seconds of ["0", "-3", "soon", "3601"]) {
    assert.throws(
      () => loadConfig(environment({ DB_WAIT_SECONDS: seconds }), MIGRATIONS),
      /^Error: DB_WAIT_SECONDS must be a number of seconds/,
    );
  }
});
