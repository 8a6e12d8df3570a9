import type { JunkFrame } from "./junk.ts";
import { ClientLog } from "./tally.ts";
import { sleep, within } from "./timing.ts";

const OPEN_MS = 10_000;
const CLOSE_MS = 5_000;

/** A WebSocket client that logs every frame it sends and receives. */
export class LoadClient {
  readonly log = new ClientLog();
  readonly #socket: WebSocket;
  readonly #waiters = new Set<() => void>();
  #closedByServer = false;
  #closing = false;
  readonly closed: Promise<void>;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.addEventListener("message", (event) => {
      this.log.recordFrame(String(event.data));
      for (const wake of this.#waiters) wake();
    });
    this.closed = new Promise((resolve) =>
      socket.addEventListener("close", () => {
        if (!this.#closing) this.#closedByServer = true;
        for (const wake of this.#waiters) wake();
        resolve();
      }, { once: true })
    );
  }

  /** Connects to `url`; rejects when that fails or takes longer than `timeoutMs`. */
  static open(url: string, timeoutMs = OPEN_MS): Promise<LoadClient> {
    const socket = new WebSocket(url);
    const client = new LoadClient(socket);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`No WebSocket to ${url} within ${timeoutMs} ms`));
        client.#closing = true;
        socket.close();
      }, timeoutMs);
      socket.addEventListener("open", () => {
        clearTimeout(timer);
        resolve(client);
      }, { once: true });
      socket.addEventListener("error", () => {
        clearTimeout(timer);
        reject(new Error(`Could not open a WebSocket to ${url}`));
      }, { once: true });
    });
  }

  /** Whether the connection ended without this client closing it. */
  get closedByServer(): boolean {
    return this.#closedByServer;
  }

  sendMessage(username: string, msg: string): void {
    this.log.recordSent(msg);
    this.#socket.send(JSON.stringify({ username, color: "#336699", msg }));
  }

  sendJunk(frame: JunkFrame): void {
    this.log.recordInvalid(frame.error);
    this.#socket.send(frame.data);
  }

  /** Resolves true once `condition` holds, false after `timeoutMs` or a close. */
  waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (result: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(result);
      };
      const check = () => {
        if (condition()) finish(true);
        else if (this.#socket.readyState === WebSocket.CLOSED) finish(false);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.#waiters.add(check);
    });
  }

  /** Starts the closing handshake; false when it is not done within `timeoutMs`. */
  close(timeoutMs = CLOSE_MS): Promise<boolean> {
    this.#closing = true;
    if (this.#socket.readyState < WebSocket.CLOSING) this.#socket.close();
    return within(this.closed, timeoutMs);
  }
}

/**
 * Waits until every client has an answer for each frame it sent and has
 * received every message acknowledged to any client, then `graceMs` longer
 * so that a duplicate would still arrive. Returns the problems found.
 */
export async function settle(
  clients: readonly LoadClient[],
  timeoutMs: number,
  graceMs = 300,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const remaining = () => Math.max(1, deadline - Date.now());
  const answered = await Promise.all(
    clients.map((client) =>
      client.waitFor(() => client.log.answered, remaining())
    ),
  );
  const acknowledged = clients.reduce(
    (total, client) => total + client.log.acknowledged,
    0,
  );
  const delivered = await Promise.all(
    clients.map((client) =>
      client.waitFor(
        () => client.log.broadcasts.length >= acknowledged,
        remaining(),
      )
    ),
  );
  await sleep(graceMs);

  const problems: string[] = [];
  const unanswered = answered.filter((done) => !done).length;
  if (unanswered > 0) {
    problems.push(
      `${unanswered} clients still missed answers after ${timeoutMs} ms`,
    );
  }
  const short = delivered.filter((done) => !done).length;
  if (short > 0) {
    problems.push(
      `${short} clients received fewer than the ${acknowledged} acknowledged messages`,
    );
  }
  const dropped = clients.filter((client) => client.closedByServer).length;
  if (dropped > 0) problems.push(`The server closed ${dropped} clients`);
  return problems;
}

/** Closes every client; problems for those whose closing handshake hung. */
export async function closeAll(
  clients: readonly LoadClient[],
): Promise<string[]> {
  const closed = await Promise.all(clients.map((client) => client.close()));
  const hung = closed.filter((done) => !done).length;
  return hung === 0
    ? []
    : [`${hung} clients did not finish the closing handshake`];
}
