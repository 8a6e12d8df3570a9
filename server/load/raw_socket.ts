/**
 * Connections that break off half-way or break the WebSocket protocol,
 * written byte by byte over plain TCP: a WebSocket client library always
 * finishes what it starts and never sends a frame it considers invalid.
 */

/** How a raw connection ends. */
export type AbortKind =
  /** Half the upgrade request, then hang up. */
  | "partial_handshake"
  /** Hang up right after the upgrade. */
  | "after_handshake"
  /** The first byte of a frame, then hang up. */
  | "partial_header"
  /** Half a frame, then hang up. */
  | "partial_payload"
  /** A header that announces 1 TiB, 1 KiB of it, then hang up. */
  | "huge_length"
  /** A whole text frame that is not UTF-8. */
  | "invalid_utf8"
  /** A whole frame with an opcode the protocol reserves. */
  | "reserved_opcode";

export const ABORT_KINDS: readonly AbortKind[] = [
  "partial_handshake",
  "after_handshake",
  "partial_header",
  "partial_payload",
  "huge_length",
  "invalid_utf8",
  "reserved_opcode",
];

const TEXT = 0x1;
const RESERVED = 0x3;
const HUGE_LENGTH = 2n ** 40n;
const TIMEOUT_MS = 10_000;
const encoder = new TextEncoder();

/** The HTTP request that asks to upgrade `path` to a WebSocket. */
export function upgradeRequest(host: string, path: string, key: string) {
  return [
    `GET ${path} HTTP/1.1`,
    `Host: ${host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
    "",
    "",
  ].join("\r\n");
}

/** The header of a final, masked frame whose payload is `length` bytes. */
export function frameHeader(
  opcode: number,
  length: bigint,
  mask: Uint8Array,
): Uint8Array {
  const extended = length < 126n ? 0 : length < 65536n ? 2 : 8;
  const header = new Uint8Array(2 + extended + 4);
  header[0] = 0x80 | opcode;
  if (extended === 0) {
    header[1] = 0x80 | Number(length);
  } else if (extended === 2) {
    header[1] = 0x80 | 126;
    new DataView(header.buffer).setUint16(2, Number(length));
  } else {
    header[1] = 0x80 | 127;
    new DataView(header.buffer).setBigUint64(2, length);
  }
  header.set(mask, 2 + extended);
  return header;
}

/** A single-frame WebSocket message (FIN set), masked as clients must. */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array,
  mask: Uint8Array,
): Uint8Array {
  const header = frameHeader(opcode, BigInt(payload.length), mask);
  const frame = new Uint8Array(header.length + payload.length);
  frame.set(header);
  for (let i = 0; i < payload.length; i++) {
    frame[header.length + i] = payload[i] ^ mask[i % 4];
  }
  return frame;
}

/**
 * The bytes a raw connection writes after the upgrade before it hangs up.
 * `message` is a valid chat message, so the server would store it if it
 * took part of a frame, or a broken one, for a whole one.
 */
export function bytesAfterHandshake(
  kind: AbortKind,
  message: Uint8Array,
  mask: Uint8Array,
): Uint8Array {
  const frame = encodeFrame(TEXT, message, mask);
  switch (kind) {
    case "partial_handshake":
    case "after_handshake":
      return new Uint8Array();
    case "partial_header":
      return frame.subarray(0, 1);
    case "partial_payload":
      return frame.subarray(0, Math.floor(frame.length / 2));
    case "huge_length": {
      const header = frameHeader(TEXT, HUGE_LENGTH, mask);
      const bytes = new Uint8Array(header.length + 1024);
      bytes.set(header);
      bytes.fill(0x20, header.length);
      return bytes;
    }
    case "invalid_utf8": {
      // 0xff never occurs in UTF-8.
      const broken = new Uint8Array(message);
      broken[broken.length >> 1] = 0xff;
      return encodeFrame(TEXT, broken, mask);
    }
    case "reserved_opcode":
      return encodeFrame(RESERVED, message, mask);
  }
}

/**
 * Opens a TCP connection to `127.0.0.1:port`, goes as far as `kind` says
 * and closes it without a close frame. Rejects when the server refuses the
 * upgrade, or when a step takes longer than `timeoutMs`.
 */
export async function abortConnection(
  port: number,
  kind: AbortKind,
  timeoutMs = TIMEOUT_MS,
): Promise<void> {
  // The signal bounds the connect only; the timer bounds the rest.
  const connection = await Deno.connect({
    hostname: "127.0.0.1",
    port,
    signal: AbortSignal.timeout(timeoutMs),
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    connection.close();
  }, timeoutMs);
  try {
    const request = encoder.encode(
      upgradeRequest(`127.0.0.1:${port}`, "/ws", "dGhlIHNhbXBsZSBub25jZQ=="),
    );
    if (kind === "partial_handshake") {
      await writeAll(connection, request.subarray(0, request.length >> 1));
      return;
    }
    await writeAll(connection, request);
    await readHandshake(connection);
    const message = encoder.encode(JSON.stringify({
      username: "raw",
      color: "#0f0f0f",
      msg: `half sent ${kind}`,
    }));
    const mask = crypto.getRandomValues(new Uint8Array(4));
    await writeAll(connection, bytesAfterHandshake(kind, message, mask))
      .catch((error) => {
        // The server may hang up on a broken frame before it is all written.
        if (
          !(error instanceof Deno.errors.BrokenPipe) &&
          !(error instanceof Deno.errors.ConnectionReset)
        ) throw error;
      });
  } catch (error) {
    if (timedOut) {
      throw new Error(
        `The ${kind} connection took longer than ${timeoutMs} ms`,
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
    if (!timedOut) connection.close();
  }
}

async function readHandshake(connection: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(4096);
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\r\n\r\n")) {
    const read = await connection.read(buffer);
    if (read === null) throw new Error("Server closed during the handshake");
    text += decoder.decode(buffer.subarray(0, read), { stream: true });
  }
  if (!text.startsWith("HTTP/1.1 101")) {
    throw new Error(`Server refused the upgrade: ${text.split("\r\n")[0]}`);
  }
}

async function writeAll(connection: Deno.Conn, bytes: Uint8Array) {
  let written = 0;
  while (written < bytes.length) {
    written += await connection.write(bytes.subarray(written));
  }
}
