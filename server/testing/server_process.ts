/** Directory of `main.ts`, the server's working directory. */
const SERVER_DIR = new URL("../", import.meta.url);

/** The exact command line the server is deployed with. */
export const SERVER_ARGS = [
  "run",
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "main.ts",
];

/** A `main.ts` child process and the log lines it has written so far. */
export interface ServerProcess extends AsyncDisposable {
  readonly pid: number;
  /** Port from the `listening` line. */
  readonly port: number;
  /** Every line written to stdout or stderr, in order of arrival per stream. */
  readonly logs: string[];
  readonly status: Promise<Deno.CommandStatus>;
  url(path: string): string;
  /** Resolves with the first log line matching `pattern`, waiting for it if needed. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: Deno.Signal): void;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<Deno.CommandStatus>;
}

/**
 * Spawns `deno run --allow-net --allow-env --allow-read main.ts` with `env`
 * added to this process's environment and `PORT=0`, and waits for it to
 * listen.
 */
export async function spawnServer(
  env: Record<string, string>,
): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: SERVER_ARGS,
    cwd: SERVER_DIR,
    env: { PORT: "0", NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const logs: string[] = [];
  const listeners = new Set<() => void>();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      logs.push(...lines);
      for (const listener of listeners) listener();
    }
    if (rest) logs.push(rest);
  };
  const streamsDone = Promise.all([
    collect(child.stdout),
    collect(child.stderr),
  ]);
  let exited = false;
  const status = child.status.then(async (status) => {
    await streamsDone;
    exited = true;
    for (const listener of listeners) listener();
    return status;
  });

  const waitForLog = (pattern: RegExp, timeoutMs = 10_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = logs.find((line) => pattern.test(line));
        if (line !== undefined) {
          finish();
          resolve(line);
        } else if (exited) {
          finish();
          reject(
            new Error(
              `Server exited before logging ${pattern}:\n${logs.join("\n")}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(
            `No log line matched ${pattern} in ${timeoutMs} ms:\n${
              logs.join("\n")
            }`,
          ),
        );
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  const kill = (signal: Deno.Signal = "SIGTERM") => {
    if (!exited) child.kill(signal);
  };

  let port: number;
  try {
    const line = await waitForLog(/ info listening /, 20_000);
    port = Number(/ port=(\d+)/.exec(line)?.[1]);
  } catch (error) {
    kill("SIGKILL");
    await status;
    throw error;
  }

  return {
    pid: child.pid,
    port,
    logs,
    status,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    waitForLog,
    kill,
    async stop() {
      kill("SIGTERM");
      return await status;
    },
    async [Symbol.asyncDispose]() {
      kill("SIGKILL");
      await status;
    },
  };
}

/** Runs `main.ts` with `env` until it exits by itself, for start-up failures. */
export async function runServerToExit(
  env: Record<string, string>,
): Promise<{ code: number; logs: string[] }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: SERVER_ARGS,
    cwd: SERVER_DIR,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  const output = decoder.decode(result.stdout) + decoder.decode(result.stderr);
  return { code: result.code, logs: output.split("\n").filter(Boolean) };
}
