import assert from "node:assert/strict";
import { checkHealth } from "./health.ts";

const answers = () => Promise.resolve();
const refuses = () => Promise.reject(new Error("connection refused"));

Deno.test("checkHealth() is ok when ready and the database answers", async () => {
  assert.deepEqual(await checkHealth("ready", answers), {
    status: 200,
    body: { status: "ok" },
  });
});

Deno.test("checkHealth() reports starting before the migrations are applied", async () => {
  let pinged = false;
  const report = await checkHealth("starting", () => {
    pinged = true;
    return Promise.resolve();
  });
  assert.deepEqual(report, {
    status: 503,
    body: {
      status: "starting",
      reason: "Database migrations have not been applied yet",
    },
  });
  assert.equal(pinged, false);
});

Deno.test("checkHealth() reports stopping once a shutdown has begun", async () => {
  assert.deepEqual(await checkHealth("stopping", answers), {
    status: 503,
    body: { status: "stopping", reason: "Server is shutting down" },
  });
});

Deno.test("checkHealth() reports unavailable when the database does not answer", async () => {
  assert.deepEqual(await checkHealth("ready", refuses), {
    status: 503,
    body: { status: "unavailable", reason: "Database is not answering" },
  });
});
