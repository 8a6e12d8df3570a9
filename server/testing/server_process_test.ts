import assert from "node:assert/strict";
import { spawnServer } from "./server_process.ts";

Deno.test("spawnServer() fails as soon as the server exits before listening", async () => {
  await assert.rejects(
    spawnServer({ DB_WAIT_SECONDS: "never" }),
    (error: Error) => {
      assert.match(error.message, /^Server exited before logging /);
      assert.match(error.message, / error invalid_config /);
      return true;
    },
  );
});
