import assert from "node:assert/strict";
import { createCluster } from "../testing/postgres.ts";
import { SetupError, startChat } from "./chat_instance.ts";
import { LoadClient } from "./load_client.ts";

Deno.test("startChat()", async (t) => {
  await using cluster = await createCluster();

  await t.step(
    "runs a ready server on a database of its own, and stops it cleanly",
    async () => {
      const chat = await startChat(cluster);
      const other = await startChat(cluster);
      try {
        const client = await LoadClient.open(chat.wsUrl);
        client.sendMessage("u", "kept");
        assert.ok(await client.waitFor(() => client.log.answered, 5000));
        await client.close();

        assert.deepEqual(
          (await chat.storedRows()).map((row) => row.msg),
          ["kept"],
        );
        assert.deepEqual(await other.storedRows(), []);
        assert.ok(await chat.residentKiB() > 10_000);
        assert.deepEqual(chat.complaints(), { errors: 0, warnings: 0 });
        assert.deepEqual(await chat.stop(), []);
        assert.equal(chat.exited(), true);
      } finally {
        await other.stop();
      }
    },
  );

  await t.step("stop() reports a server that died by itself", async () => {
    const chat = await startChat(cluster);
    chat.server.kill("SIGKILL");
    await chat.server.status;
    const problems = await chat.stop();
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^The server exited by itself with code 137: /);
  });

  await t.step("throws a SetupError when the server cannot start", async () => {
    await assert.rejects(
      startChat(cluster, { DB_WAIT_SECONDS: "never" }),
      (error: Error) => {
        assert.ok(error instanceof SetupError);
        assert.match(error.message, /^The chat server did not start: /);
        return true;
      },
    );
  });

  await t.step("dispose kills a server that was not stopped", async () => {
    let pid: number;
    {
      await using chat = await startChat(cluster);
      pid = chat.server.pid;
    }
    const probe = await new Deno.Command("kill", { args: ["-0", String(pid)] })
      .output();
    assert.equal(probe.success, false);
  });
});
