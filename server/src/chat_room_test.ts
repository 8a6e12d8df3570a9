import assert from "node:assert/strict";
import type { ChatInput, ChatMessage } from "./chat_message.ts";
import { ChatRoom, type ChatSocket } from "./chat_room.ts";
import { createLogger } from "./log.ts";

class FakeSocket implements ChatSocket {
  readyState = 1;
  bufferedAmount = 0;
  sent: unknown[] = [];
  closedWith: [number?, string?] | undefined;

  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }

  close(code?: number, reason?: string): void {
    this.closedWith = [code, reason];
    this.readyState = 2;
  }
}

const INPUT: ChatInput = { username: "ada", color: "#123456", msg: "hi" };

function memoryStore() {
  const batches: number[] = [];
  let nextId = 1;
  let failing = false;
  return {
    batches,
    fail(value: boolean) {
      failing = value;
    },
    store(inputs: ChatInput[]): Promise<ChatMessage[]> {
      batches.push(inputs.length);
      if (failing) return Promise.reject(new Error("connection refused"));
      return Promise.resolve(inputs.map((input) => ({
        ...input,
        id: nextId++,
        created_at: "2026-12-03T18:00:00.000Z",
      })));
    },
  };
}

function quietLog(lines: string[] = []) {
  return createLogger((line) => lines.push(line));
}

Deno.test("ChatRoom broadcasts a stored message to every open socket", async () => {
  const memory = memoryStore();
  const room = new ChatRoom(memory.store, quietLog());
  const [alice, bob, gone] = [
    new FakeSocket(),
    new FakeSocket(),
    new FakeSocket(),
  ];
  room.join(alice);
  room.join(bob);
  room.join(gone);
  gone.readyState = 3;

  room.submit(alice, INPUT);
  await room.idle();

  const expected = { ...INPUT, id: 1, created_at: "2026-12-03T18:00:00.000Z" };
  assert.deepEqual(alice.sent, [expected]);
  assert.deepEqual(bob.sent, [expected]);
  assert.deepEqual(gone.sent, []);
});

Deno.test("ChatRoom batches messages queued while a store is running, in order", async () => {
  const memory = memoryStore();
  const room = new ChatRoom(memory.store, quietLog(), { maxBatch: 3 });
  const socket = new FakeSocket();
  room.join(socket);

  for (let i = 0; i < 7; i++) room.submit(socket, { ...INPUT, msg: `m${i}` });
  await room.idle();

  assert.deepEqual(memory.batches, [1, 3, 3]);
  assert.deepEqual(
    socket.sent.map((message) => (message as ChatMessage).msg),
    ["m0", "m1", "m2", "m3", "m4", "m5", "m6"],
  );
});

Deno.test("ChatRoom sends an error to the sender only when storing fails, and recovers", async () => {
  const memory = memoryStore();
  const lines: string[] = [];
  const room = new ChatRoom(memory.store, quietLog(lines));
  const [sender, other] = [new FakeSocket(), new FakeSocket()];
  room.join(sender);
  room.join(other);

  memory.fail(true);
  room.submit(sender, { ...INPUT, msg: "secret words" });
  await room.idle();
  assert.deepEqual(sender.sent, [
    { error: "Message could not be stored, try again later" },
  ]);
  assert.deepEqual(other.sent, []);
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    /warn message_store_failed count=1 error="connection refused"/,
  );
  assert.doesNotMatch(lines[0], /secret/);

  memory.fail(false);
  room.submit(sender, INPUT);
  await room.idle();
  assert.equal(other.sent.length, 1);
});

Deno.test("ChatRoom turns messages away when the queue is full", async () => {
  const memory = memoryStore();
  const room = new ChatRoom(memory.store, quietLog(), {
    maxBatch: 1,
    maxQueued: 2,
  });
  const socket = new FakeSocket();
  room.join(socket);

  for (let i = 0; i < 4; i++) room.submit(socket, INPUT);
  await room.idle();

  const errors = socket.sent.filter((frame) => "error" in (frame as object));
  assert.deepEqual(errors, [{ error: "Server is busy, try again later" }]);
  assert.equal(socket.sent.length, 4);
});

Deno.test("ChatRoom stops accepting, drains, and closes every socket", async () => {
  const memory = memoryStore();
  const room = new ChatRoom(memory.store, quietLog());
  const [a, b] = [new FakeSocket(), new FakeSocket()];
  room.join(a);
  room.join(b);

  room.submit(a, INPUT);
  room.stopAccepting();
  room.submit(b, INPUT);
  await room.idle();
  room.closeAll(1001, "Server is shutting down");

  assert.equal(a.sent.length, 1);
  assert.deepEqual(b.sent, [
    { error: "Server is shutting down" },
    { ...INPUT, id: 1, created_at: "2026-12-03T18:00:00.000Z" },
  ]);
  assert.deepEqual(a.closedWith, [1001, "Server is shutting down"]);
  assert.deepEqual(b.closedWith, [1001, "Server is shutting down"]);
});

Deno.test("ChatRoom forgets sockets that leave and tells when it is empty", async () => {
  const room = new ChatRoom(memoryStore().store, quietLog());
  await room.empty();
  const sockets = Array.from({ length: 1000 }, () => new FakeSocket());
  for (const socket of sockets) room.join(socket);
  assert.equal(room.size, 1000);

  let emptied = false;
  const empty = room.empty().then(() => emptied = true);
  for (const socket of sockets.slice(1)) room.leave(socket);
  await Promise.resolve();
  assert.equal(emptied, false);
  room.leave(sockets[0]);
  await empty;
  assert.equal(room.size, 0);
});

Deno.test("ChatRoom closes a socket that does not keep up and still serves the others", async () => {
  const lines: string[] = [];
  const room = new ChatRoom(memoryStore().store, quietLog(lines), {
    maxBuffered: 1000,
  });
  const [reader, stalled] = [new FakeSocket(), new FakeSocket()];
  room.join(reader);
  room.join(stalled);
  stalled.bufferedAmount = 1001;

  room.submit(reader, INPUT);
  await room.idle();

  assert.equal(reader.sent.length, 1);
  assert.deepEqual(stalled.sent, []);
  assert.deepEqual(stalled.closedWith, [1013, "Client is not keeping up"]);
  assert.equal(room.size, 1);
  assert.match(lines[0], / warn slow_client_closed buffered_bytes=1001$/);
});
