/** A WebSocket client that queues what it receives, for tests to take in order. */
export class TestSocket implements AsyncDisposable {
  readonly #socket: WebSocket;
  readonly #received: string[] = [];
  readonly #waiters: (() => void)[] = [];
  /** Resolves with the close event, whoever closed. */
  readonly closed: Promise<CloseEvent>;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.addEventListener("message", (event) => {
      this.#received.push(String(event.data));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) =>
      socket.addEventListener("close", (event) => {
        for (const wake of this.#waiters.splice(0)) wake();
        resolve(event);
      }, { once: true })
    );
  }

  /** Opens a connection and waits for it to be established. */
  static open(url: string): Promise<TestSocket> {
    const socket = new WebSocket(url);
    const client = new TestSocket(socket);
    return new Promise((resolve, reject) => {
      socket.addEventListener("open", () => resolve(client), { once: true });
      socket.addEventListener(
        "error",
        () => reject(new Error(`Could not open a WebSocket to ${url}`)),
        { once: true },
      );
    });
  }

  get isOpen(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  send(data: string | ArrayBufferLike | Uint8Array<ArrayBuffer>): void {
    this.#socket.send(data);
  }

  /** Sends `value` as JSON text. */
  sendJson(value: unknown): void {
    this.#socket.send(JSON.stringify(value));
  }

  /** The next frame, parsed as JSON. */
  async next(timeoutMs = 5000): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    while (this.#received.length === 0) {
      if (this.#socket.readyState === WebSocket.CLOSED) {
        throw new Error("The WebSocket closed while a frame was awaited");
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(`No frame arrived within ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return JSON.parse(this.#received.shift()!);
  }

  /** The next `count` frames. */
  async take(count: number, timeoutMs = 10_000): Promise<unknown[]> {
    const frames: unknown[] = [];
    const deadline = Date.now() + timeoutMs;
    while (frames.length < count) {
      frames.push(await this.next(Math.max(1, deadline - Date.now())));
    }
    return frames;
  }

  /** Frames received and not yet taken. */
  get pending(): number {
    return this.#received.length;
  }

  async close(): Promise<CloseEvent> {
    if (this.#socket.readyState < WebSocket.CLOSING) this.#socket.close();
    return await this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
