import assert from "node:assert/strict";
import { TestSocket } from "../testing/ws_client.ts";
import type { ChatInput, ChatMessage } from "./chat_message.ts";
import { ChatRoom } from "./chat_room.ts";
import { attachToRoom } from "./chat_socket.ts";
import { createLogger } from "./log.ts";

/** A WebSocket server on a free port whose sockets join `room`. */
function serveRoom(room: ChatRoom): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      attachToRoom(socket, room);
      return response;
    },
  );
}

function echoStore(inputs: ChatInput[]): Promise<ChatMessage[]> {
  return Promise.resolve(inputs.map((input, i) => ({
    ...input,
    id: i + 1,
    created_at: "2026-12-03T18:00:00.000Z",
  })));
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.ok(condition());
}

Deno.test("attachToRoom() keeps no socket after 500 connect/disconnect cycles", async () => {
  const room = new ChatRoom(echoStore, createLogger(() => {}));
  const server = serveRoom(room);
  const url = `ws://127.0.0.1:${server.addr.port}/`;
  try {
    for (let cycle = 0; cycle < 500; cycle++) {
      const client = await TestSocket.open(url);
      await client.close();
    }
    const dropped = await TestSocket.open(url);
    await until(() => room.size === 1);
    await dropped.close();
    await until(() => room.size === 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("attachToRoom() answers an invalid frame to its sender only", async () => {
  const room = new ChatRoom(echoStore, createLogger(() => {}));
  const server = serveRoom(room);
  const url = `ws://127.0.0.1:${server.addr.port}/`;
  try {
    await using sender = await TestSocket.open(url);
    await using other = await TestSocket.open(url);
    await until(() => room.size === 2);

    sender.send("{");
    assert.deepEqual(await sender.next(), { error: "Frame is not valid JSON" });
    sender.sendJson({ username: "ada", color: "#000000", msg: "ok" });
    const stored = await sender.next();
    assert.deepEqual(await other.next(), stored);
    assert.equal(other.pending, 0);
  } finally {
    await server.shutdown();
  }
});
