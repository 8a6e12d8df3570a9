/** Severity of a log line. */
export type Level = "info" | "warn" | "error";

/** Named values printed after the event name as `key=value`. */
export type Fields = Record<string, string | number | boolean | undefined>;

/** Writes one line per event: time, level, event name, then fields. */
export interface Logger {
  info(event: string, fields?: Fields): void;
  warn(event: string, fields?: Fields): void;
  error(event: string, fields?: Fields): void;
}

const BARE_VALUE = /^[\w.:/@#+-]+$/;

/** Renders one log line, e.g. `2026-12-03T18:00:00.000Z info listening port=8000`. */
export function formatLine(
  time: Date,
  level: Level,
  event: string,
  fields: Fields = {},
): string {
  const parts = [time.toISOString(), level, event];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = String(value);
    parts.push(`${key}=${BARE_VALUE.test(text) ? text : JSON.stringify(text)}`);
  }
  return parts.join(" ");
}

const encoder = new TextEncoder();

function writeToStderr(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) {
    written += Deno.stderr.writeSync(bytes.subarray(written));
  }
}

/** Creates a logger that hands each formatted line to `write` (stderr by default). */
export function createLogger(
  write: (line: string) => void = writeToStderr,
  now: () => Date = () => new Date(),
): Logger {
  const emit = (level: Level) => (event: string, fields?: Fields) =>
    write(formatLine(now(), level, event, fields));
  return { info: emit("info"), warn: emit("warn"), error: emit("error") };
}

/** The message of an error, or the value itself as text, on a single line. */
export function errorMessage(error: unknown): string {
  const text = error instanceof Error
    ? error.message || error.name
    : String(error);
  return text.replaceAll(/\s+/g, " ").trim();
}
