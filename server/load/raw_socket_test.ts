import assert from "node:assert/strict";
import {
  ABORT_KINDS,
  abortConnection,
  bytesAfterHandshake,
  encodeFrame,
  frameHeader,
  upgradeRequest,
} from "./raw_socket.ts";

const MASK = new Uint8Array([0x11, 0x22, 0x33, 0x44]);
const MESSAGE = new TextEncoder().encode('{"msg":"hello"}');

function unmask(frame: Uint8Array, offset: number): Uint8Array {
  const mask = frame.subarray(offset, offset + 4);
  return frame.subarray(offset + 4).map((byte, i) => byte ^ mask[i % 4]);
}

Deno.test("encodeFrame() writes a masked text frame with a 7-bit length", () => {
  const frame = encodeFrame(1, new TextEncoder().encode("hi"), MASK);
  assert.deepEqual(
    [...frame.subarray(0, 6)],
    [0x81, 0x82, 0x11, 0x22, 0x33, 0x44],
  );
  assert.equal(new TextDecoder().decode(unmask(frame, 2)), "hi");
});

Deno.test("encodeFrame() uses 16-bit and 64-bit lengths past 125 and 65535 bytes", () => {
  const medium = encodeFrame(2, new Uint8Array(300).fill(7), MASK);
  assert.deepEqual([...medium.subarray(0, 4)], [0x82, 0xfe, 0x01, 0x2c]);
  assert.deepEqual(unmask(medium, 4), new Uint8Array(300).fill(7));

  const large = encodeFrame(2, new Uint8Array(70_000), MASK);
  assert.equal(large[1], 0xff);
  assert.equal(new DataView(large.buffer).getBigUint64(2), 70_000n);
  assert.equal(large.length, 2 + 8 + 4 + 70_000);
});

Deno.test("encodeFrame() leaves the payload it masks unchanged", () => {
  const payload = new Uint8Array([1, 2, 3]);
  encodeFrame(1, payload, MASK);
  assert.deepEqual(payload, new Uint8Array([1, 2, 3]));
});

Deno.test("frameHeader() announces a length without the payload", () => {
  const header = frameHeader(1, 2n ** 40n, MASK);
  assert.equal(header.length, 14);
  assert.equal(new DataView(header.buffer).getBigUint64(2), 2n ** 40n);
});

Deno.test("bytesAfterHandshake() cuts, breaks or withholds the frame as each kind says", () => {
  const whole = encodeFrame(1, MESSAGE, MASK);
  const bytes = (kind: (typeof ABORT_KINDS)[number]) =>
    bytesAfterHandshake(kind, MESSAGE, MASK);

  assert.equal(bytes("partial_handshake").length, 0);
  assert.equal(bytes("after_handshake").length, 0);
  assert.deepEqual(bytes("partial_header"), whole.subarray(0, 1));
  assert.deepEqual(bytes("partial_payload"), whole.subarray(0, 10));

  const huge = bytes("huge_length");
  assert.equal(new DataView(huge.buffer).getBigUint64(2), 2n ** 40n);
  assert.equal(huge.length, 14 + 1024);

  const invalid = unmask(bytes("invalid_utf8"), 2);
  assert.equal(invalid.length, MESSAGE.length);
  assert.throws(() =>
    new TextDecoder("utf-8", { fatal: true }).decode(invalid)
  );

  const reserved = bytes("reserved_opcode");
  assert.equal(reserved[0], 0x83);
  assert.deepEqual(unmask(reserved, 2), MESSAGE);
});

Deno.test("upgradeRequest() asks for a version 13 WebSocket", () => {
  assert.equal(
    upgradeRequest("h:1", "/ws", "a2V5"),
    "GET /ws HTTP/1.1\r\nHost: h:1\r\nUpgrade: websocket\r\n" +
      "Connection: Upgrade\r\nSec-WebSocket-Key: a2V5\r\n" +
      "Sec-WebSocket-Version: 13\r\n\r\n",
  );
});

Deno.test("abortConnection() of every kind leaves a WebSocket server no message", async () => {
  const messages: unknown[] = [];
  let upgrades = 0;
  let closes = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      upgrades++;
      socket.addEventListener("message", (event) => messages.push(event.data));
      socket.addEventListener("close", () => closes++);
      return response;
    },
  );
  try {
    for (const kind of ABORT_KINDS) {
      await abortConnection(server.addr.port, kind);
    }
    for (let i = 0; i < 300 && closes < upgrades; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(upgrades, ABORT_KINDS.length - 1);
    assert.equal(closes, upgrades);
    assert.deepEqual(messages, []);
  } finally {
    await server.shutdown();
  }
});

Deno.test("abortConnection() rejects when the server refuses the upgrade", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("no", { status: 404 }),
  );
  try {
    await assert.rejects(
      abortConnection(server.addr.port, "after_handshake"),
      { message: "Server refused the upgrade: HTTP/1.1 404 Not Found" },
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("abortConnection() gives up on a server that never answers", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const connection of listener) accepted.push(connection);
  })();
  try {
    await assert.rejects(
      abortConnection(listener.addr.port, "after_handshake", 100),
      { message: "The after_handshake connection took longer than 100 ms" },
    );
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const connection of accepted) connection.close();
  }
});
