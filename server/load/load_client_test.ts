import assert from "node:assert/strict";
import { closeAll, LoadClient, settle } from "./load_client.ts";

/**
 * A WebSocket server on a free port that answers each text frame as
 * `respond` says; `sockets` holds the server side of each connection.
 */
function serve(respond: (socket: WebSocket, text: string) => void) {
  const sockets: WebSocket[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      sockets.push(socket);
      socket.addEventListener("message", (event) => {
        respond(socket, String(event.data));
      });
      return response;
    },
  );
  return { server, sockets, url: `ws://127.0.0.1:${server.addr.port}/` };
}

/** Sends a received chat message back to `targets` as a stored row. */
function echoTo(targets: () => WebSocket[]) {
  let id = 0;
  return (_: WebSocket, text: string) => {
    const row = JSON.stringify({ id: ++id, msg: JSON.parse(text).msg });
    for (const target of targets()) target.send(row);
  };
}

Deno.test("LoadClient logs its messages and their broadcasts, and waits for them", async () => {
  const chat = serve(echoTo(() => chat.sockets));
  try {
    const client = await LoadClient.open(chat.url);
    client.sendMessage("u", "first");
    client.sendMessage("u", "second");
    assert.equal(await client.waitFor(() => client.log.answered, 5000), true);
    assert.deepEqual(client.log.broadcasts, [
      { id: 1, msg: "first" },
      { id: 2, msg: "second" },
    ]);
    assert.equal(client.log.acknowledged, 2);
    assert.equal(await client.close(), true);
    assert.equal(client.closedByServer, false);
  } finally {
    await chat.server.shutdown();
  }
});

Deno.test("LoadClient.waitFor() gives up after its timeout and when the server closes", async () => {
  const chat = serve((socket) => socket.close(1011, "bye"));
  try {
    const client = await LoadClient.open(chat.url);
    const started = performance.now();
    assert.equal(await client.waitFor(() => false, 50), false);
    assert.ok(performance.now() - started >= 45);

    client.sendMessage("u", "unanswered");
    assert.equal(await client.waitFor(() => client.log.answered, 5000), false);
    await client.closed;
    assert.equal(client.closedByServer, true);
  } finally {
    await chat.server.shutdown();
  }
});

Deno.test("LoadClient.open() rejects when nothing listens and when the upgrade never comes", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const connection of listener) accepted.push(connection);
  })();
  try {
    await assert.rejects(LoadClient.open(`ws://127.0.0.1:${port}/`, 100), {
      message: `No WebSocket to ws://127.0.0.1:${port}/ within 100 ms`,
    });
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const connection of accepted) connection.close();
  }
  await assert.rejects(LoadClient.open(`ws://127.0.0.1:${port}/`), {
    message: `Could not open a WebSocket to ws://127.0.0.1:${port}/`,
  });
});

Deno.test("settle() passes clients that all got every acknowledged message", async () => {
  const chat = serve(echoTo(() => chat.sockets));
  try {
    const clients = await Promise.all(
      [0, 1].map(() => LoadClient.open(chat.url)),
    );
    clients.forEach((client, c) => client.sendMessage("u", `from ${c}`));
    assert.deepEqual(await settle(clients, 5000, 0), []);
    assert.deepEqual(clients.map((client) => client.log.broadcasts.length), [
      2,
      2,
    ]);
    assert.deepEqual(await closeAll(clients), []);
  } finally {
    await chat.server.shutdown();
  }
});

Deno.test("settle() reports clients that missed others' messages or answers, and closed ones", async () => {
  // Each message goes back to its sender only, and "drop" to nobody.
  const chat = serve((socket, text) => {
    const msg = JSON.parse(text).msg;
    if (msg === "drop") socket.close(1011, "dropped");
    else socket.send(JSON.stringify({ id: chat.sockets.indexOf(socket), msg }));
  });
  try {
    const clients = await Promise.all(
      [0, 1, 2].map(() => LoadClient.open(chat.url)),
    );
    clients[0].sendMessage("u", "a");
    clients[1].sendMessage("u", "b");
    clients[2].sendMessage("u", "drop");
    assert.deepEqual(await settle(clients, 300, 0), [
      "1 clients still missed answers after 300 ms",
      "3 clients received fewer than the 2 acknowledged messages",
      "The server closed 1 clients",
    ]);
    await closeAll(clients);
  } finally {
    await chat.server.shutdown();
  }
});
