/**
 * What each load client sent and received, and the checks that nothing was
 * lost, duplicated or reordered: every valid message is either broadcast to
 * every client or answered with an error frame, never both and never neither.
 */

/** A chat message as a client saw it broadcast. */
export interface Broadcast {
  id: number;
  msg: string;
}

/** Error frames that refuse a valid message rather than reject an invalid frame. */
export const REFUSALS: ReadonlySet<string> = new Set([
  "Message could not be stored, try again later",
  "Server is busy, try again later",
  "Server is shutting down",
]);

/** Everything one client sent and received, in order. */
export class ClientLog {
  /** The `msg` of each valid message sent; each is unique across clients. */
  readonly sent: string[] = [];
  /** The error expected for each invalid frame sent. */
  readonly expectedErrors: string[] = [];
  readonly broadcasts: Broadcast[] = [];
  /** Every error frame received. */
  readonly errors: string[] = [];
  /** Frames that were neither a chat message nor an error. */
  readonly unreadable: string[] = [];
  readonly #own = new Set<string>();
  #acknowledged = 0;
  #refused = 0;

  recordSent(msg: string): void {
    this.sent.push(msg);
    this.#own.add(msg);
  }

  recordInvalid(expectedError: string): void {
    this.expectedErrors.push(expectedError);
  }

  recordFrame(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      this.unreadable.push(text);
      return;
    }
    const fields = (frame ?? {}) as Record<string, unknown>;
    if (typeof fields.error === "string") {
      this.errors.push(fields.error);
      if (REFUSALS.has(fields.error)) this.#refused++;
    } else if (
      typeof fields.id === "number" && typeof fields.msg === "string"
    ) {
      this.broadcasts.push({ id: fields.id, msg: fields.msg });
      if (this.#own.has(fields.msg)) this.#acknowledged++;
    } else {
      this.unreadable.push(text);
    }
  }

  /** Own messages that came back as broadcasts. */
  get acknowledged(): number {
    return this.#acknowledged;
  }

  /** Own messages answered with a refusal. */
  get refused(): number {
    return this.#refused;
  }

  /** Whether every frame sent has had its answer (or more). */
  get answered(): boolean {
    return this.#acknowledged + this.#refused >= this.sent.length &&
      this.errors.length - this.#refused >= this.expectedErrors.length;
  }
}

/** Totals over all clients and every way they disagree with the rules. */
export interface Tally {
  validSent: number;
  invalidSent: number;
  acknowledged: number;
  refused: number;
  rejected: number;
  /** Distinct messages broadcast, as the first client saw them. */
  broadcast: number;
  /** Broadcast frames received, summed over clients. */
  delivered: number;
  /** Whether every client received the same broadcasts in the same order. */
  sameOrder: boolean;
  problems: string[];
}

/** Checks the logs of clients that were all connected from first send to last answer. */
export function tallyClients(logs: readonly ClientLog[]): Tally {
  const problems: string[] = [];
  const reference = logs[0]?.broadcasts ?? [];
  const senders = new Map<string, number>();
  logs.forEach((log, c) => {
    for (const msg of log.sent) senders.set(msg, c);
  });

  for (let i = 1; i < reference.length; i++) {
    if (reference[i].id <= reference[i - 1].id) {
      problems.push(
        `Client 0 received id ${reference[i].id} after id ${
          reference[i - 1].id
        }`,
      );
      break;
    }
  }
  for (const { msg } of reference) {
    if (!senders.has(msg)) {
      problems.push(`A broadcast message was sent by no client: ${msg}`);
      break;
    }
  }

  let sameOrder = true;
  logs.forEach((log, c) => {
    if (!sameSequence(log.broadcasts, reference)) {
      sameOrder = false;
      problems.push(
        `Client ${c} received ${log.broadcasts.length} broadcasts in a different order or number than client 0 (${reference.length})`,
      );
    }
    const own = log.broadcasts.filter((b) => senders.get(b.msg) === c);
    const acked = own.map((b) => b.msg);
    if (new Set(acked).size !== acked.length) {
      problems.push(`Client ${c} had a message broadcast twice`);
    } else if (!isSubsequence(acked, log.sent)) {
      problems.push(`Client ${c} had its messages broadcast out of order`);
    }
    if (log.acknowledged + log.refused !== log.sent.length) {
      problems.push(
        `Client ${c} sent ${log.sent.length} valid messages but ${log.acknowledged} were broadcast and ${log.refused} refused`,
      );
    }
    const rejections = log.errors.filter((error) => !REFUSALS.has(error));
    if (!sameSequence(rejections, log.expectedErrors)) {
      problems.push(
        `Client ${c} got ${rejections.length} errors for ${log.expectedErrors.length} invalid frames, ${
          firstDifference(rejections, log.expectedErrors)
        }`,
      );
    }
    if (log.unreadable.length > 0) {
      problems.push(
        `Client ${c} received ${log.unreadable.length} frames that are neither a message nor an error`,
      );
    }
  });

  const sum = (count: (log: ClientLog) => number) =>
    logs.reduce((total, log) => total + count(log), 0);
  return {
    validSent: sum((log) => log.sent.length),
    invalidSent: sum((log) => log.expectedErrors.length),
    acknowledged: sum((log) => log.acknowledged),
    refused: sum((log) => log.refused),
    rejected: sum((log) =>
      log.errors.filter((error) => !REFUSALS.has(error)).length
    ),
    broadcast: reference.length,
    delivered: sum((log) => log.broadcasts.length),
    sameOrder,
    problems,
  };
}

/** Problems when the rows in the table are not exactly the messages broadcast, in the same order. */
export function compareStored(
  stored: readonly Broadcast[],
  broadcast: readonly Broadcast[],
): string[] {
  if (sameSequence(stored, broadcast)) return [];
  const broadcastIds = new Set(broadcast.map((b) => b.id));
  const storedIds = new Set(stored.map((b) => b.id));
  const unannounced = stored.filter((b) => !broadcastIds.has(b.id)).length;
  const missing = broadcast.filter((b) => !storedIds.has(b.id)).length;
  return [
    `The table holds ${stored.length} rows for ${broadcast.length} broadcasts: ` +
    `${unannounced} stored but never broadcast, ${missing} broadcast but not stored`,
  ];
}

function sameSequence<T extends string | Broadcast>(
  a: readonly T[],
  b: readonly T[],
): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i], b[i]];
    const same = typeof x === "string" || typeof y === "string"
      ? x === y
      : x.id === y.id && x.msg === y.msg;
    if (!same) return false;
  }
  return true;
}

function isSubsequence(part: readonly string[], whole: readonly string[]) {
  let i = 0;
  for (const item of whole) if (item === part[i]) i++;
  return i === part.length;
}

function firstDifference(got: readonly string[], expected: readonly string[]) {
  for (let i = 0; i < Math.max(got.length, expected.length); i++) {
    if (got[i] !== expected[i]) {
      return `first difference at ${i}: got ${
        JSON.stringify(got[i])
      }, expected ${JSON.stringify(expected[i])}`;
    }
  }
  return "no difference";
}
