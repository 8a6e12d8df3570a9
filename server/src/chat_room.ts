import type { ChatInput, ChatMessage } from "./chat_message.ts";
import { errorMessage, type Logger } from "./log.ts";

/** The part of a WebSocket the room uses. */
export interface ChatSocket {
  readonly readyState: number;
  /** Bytes queued by `send` and not yet handed to the network. */
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Stores a batch of messages and returns the stored rows in id order. */
export type StoreMessages = (inputs: ChatInput[]) => Promise<ChatMessage[]>;

export interface RoomOptions {
  /** Most messages stored by one statement. */
  maxBatch?: number;
  /** Most messages waiting to be stored before senders are turned away. */
  maxQueued?: number;
  /** Bytes a socket may have waiting to be sent before it is closed as too slow. */
  maxBuffered?: number;
}

interface Pending {
  sender: ChatSocket;
  input: ChatInput;
}

const OPEN = 1;

/**
 * The open sockets and the one queue every message goes through: a batch
 * is stored, then its rows are broadcast, before the next batch starts.
 * Every socket therefore sees messages in the order they were committed,
 * which is id order.
 */
export class ChatRoom {
  readonly #sockets = new Set<ChatSocket>();
  readonly #queue: Pending[] = [];
  readonly #idleWaiters: (() => void)[] = [];
  readonly #emptyWaiters: (() => void)[] = [];
  readonly #store: StoreMessages;
  readonly #log: Logger;
  readonly #maxBatch: number;
  readonly #maxQueued: number;
  readonly #maxBuffered: number;
  #draining = false;
  #accepting = true;

  constructor(store: StoreMessages, log: Logger, options: RoomOptions = {}) {
    this.#store = store;
    this.#log = log;
    this.#maxBatch = options.maxBatch ?? 100;
    this.#maxQueued = options.maxQueued ?? 50_000;
    this.#maxBuffered = options.maxBuffered ?? 8 * 1024 * 1024;
  }

  /** Number of sockets in the room. */
  get size(): number {
    return this.#sockets.size;
  }

  join(socket: ChatSocket): void {
    this.#sockets.add(socket);
  }

  leave(socket: ChatSocket): void {
    this.#sockets.delete(socket);
    if (this.#sockets.size === 0) {
      for (const resolve of this.#emptyWaiters.splice(0)) resolve();
    }
  }

  /** Resolves once no socket is left in the room. */
  empty(): Promise<void> {
    if (this.#sockets.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#emptyWaiters.push(resolve));
  }

  /** Queues a message for storing and broadcasting; failures reach `sender` only. */
  submit(sender: ChatSocket, input: ChatInput): void {
    if (!this.#accepting) {
      sendError(sender, "Server is shutting down");
      return;
    }
    if (this.#queue.length >= this.#maxQueued) {
      sendError(sender, "Server is busy, try again later");
      return;
    }
    this.#queue.push({ sender, input });
    if (!this.#draining) void this.#drain();
  }

  /** Resolves once every queued message has been stored (or refused) and broadcast. */
  idle(): Promise<void> {
    if (!this.#draining) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Turns new messages away from now on. */
  stopAccepting(): void {
    this.#accepting = false;
  }

  /** Sends a close frame to every socket. */
  closeAll(code: number, reason: string): void {
    for (const socket of this.#sockets) closeQuietly(socket, code, reason);
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        let stored: ChatMessage[];
        try {
          stored = await this.#store(batch.map((pending) => pending.input));
        } catch (error) {
          this.#log.warn("message_store_failed", {
            count: batch.length,
            error: errorMessage(error),
          });
          for (const { sender } of batch) {
            sendError(sender, "Message could not be stored, try again later");
          }
          continue;
        }
        for (const message of stored) this.#broadcast(JSON.stringify(message));
      }
    } finally {
      this.#draining = false;
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  #broadcast(data: string): void {
    for (const socket of this.#sockets) {
      if (socket.bufferedAmount > this.#maxBuffered) {
        // A client that does not read would otherwise make the server hold
        // every later message for it. It can reload the history from /chat.
        this.leave(socket);
        this.#log.warn("slow_client_closed", {
          buffered_bytes: socket.bufferedAmount,
        });
        closeQuietly(socket, 1013, "Client is not keeping up");
        continue;
      }
      send(socket, data);
    }
  }
}

/** Sends `{"error": message}` to one socket. */
export function sendError(socket: ChatSocket, message: string): void {
  send(socket, JSON.stringify({ error: message }));
}

function closeQuietly(socket: ChatSocket, code: number, reason: string) {
  try {
    socket.close(code, reason);
  } catch {
    // Already closing.
  }
}

function send(socket: ChatSocket, data: string): void {
  if (socket.readyState !== OPEN) return;
  try {
    socket.send(data);
  } catch {
    // The socket closed between the check and the send; its close
    // handler removes it from the room.
  }
}
