import assert from "node:assert/strict";
import { runServerToExit } from "../testing/server_process.ts";

Deno.test("an invalid PORT makes the server exit 1 with the reason", async () => {
  const { code, logs } = await runServerToExit({ PORT: "eighty" });
  assert.equal(code, 1);
  assert.equal(logs.length, 1);
  assert.match(
    logs[0],
    / error invalid_config error="PORT must be an integer from 0 to 65535, got \\"eighty\\""$/,
  );
});

Deno.test("an invalid DB_WAIT_SECONDS makes the server exit 1 with the reason", async () => {
  const { code, logs } = await runServerToExit({ DB_WAIT_SECONDS: "0" });
  assert.equal(code, 1);
  assert.match(
    logs[0],
    / error invalid_config error="DB_WAIT_SECONDS must be /,
  );
});
