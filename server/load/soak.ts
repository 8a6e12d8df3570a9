import type { PostgresCluster } from "../testing/postgres.ts";
import { startChat } from "./chat_instance.ts";
import { LoadClient } from "./load_client.ts";
import { growth } from "./memory.ts";
import type { ScenarioResult } from "./report.ts";

/** Resident memory may grow at most this much from the baseline to the end. */
export const MAX_GROWTH = 0.10;

/** The cycle after which resident memory is taken as the baseline. */
export const BASELINE_CYCLE = 1000;

/**
 * V8 flags of the soak's server: those the image runs it with (`DENO_V8_FLAGS`
 * in `Containerfile`). With V8's defaults the server's resident memory climbs
 * for thousands of cycles while its live heap stays the same size: V8 grows
 * the young generation and lets garbage pile up in the old one.
 * `--optimize-for-size` keeps the heap close to what is live, so that resident
 * memory follows live memory and a leak shows as growth.
 */
export const SOAK_V8_FLAGS = "--optimize-for-size";

/** A soak stops early after this many failed cycles. */
const MAX_FAILED_CYCLES = 10;
const ANSWER_MS = 5000;

export interface SoakLoad {
  cycles: number;
  /** `DENO_V8_FLAGS` of the server; empty for V8's defaults. */
  v8Flags: string;
}

/**
 * Connects, sends one message, waits for its broadcast and disconnects,
 * `cycles` times in a row. Resident memory of the server after the last
 * cycle must be within 10 % of what it was after cycle 1,000, and every
 * message must have been broadcast back and stored.
 */
export async function runSoak(
  cluster: PostgresCluster,
  load: SoakLoad,
): Promise<ScenarioResult> {
  await using chat = await startChat(
    cluster,
    load.v8Flags ? { DENO_V8_FLAGS: load.v8Flags } : {},
  );
  const quarters = [1, 2, 3, 4].map((k) => Math.round((load.cycles * k) / 4));
  const samples: number[] = [];
  const start = await chat.residentKiB();
  let baseline = NaN;
  let acknowledged = 0;
  const failures: string[] = [];

  const started = performance.now();
  let completed = 0;
  while (completed < load.cycles && failures.length < MAX_FAILED_CYCLES) {
    const cycle = completed + 1;
    const outcome = await runCycle(chat.wsUrl, `soak ${cycle}`);
    if (outcome.acknowledged) acknowledged++;
    if (outcome.failure) failures.push(`cycle ${cycle}: ${outcome.failure}`);
    completed = cycle;
    if (cycle === BASELINE_CYCLE) baseline = await chat.residentKiB();
    if (quarters.includes(cycle)) samples.push(await chat.residentKiB());
  }
  const seconds = (performance.now() - started) / 1000;
  const final = await chat.residentKiB();
  const rows = (await chat.storedRows()).length;
  const complaints = chat.complaints();
  const problems = [
    ...judgeSoak({
      cycles: load.cycles,
      completed,
      acknowledged,
      rows,
      baselineKiB: baseline,
      finalKiB: final,
      failures,
      serverErrorLines: complaints.errors,
    }),
    ...await chat.stop(),
  ];

  const mib = (kib: number) => Number((kib / 1024).toFixed(1));
  return {
    scenario: "soak",
    figures: {
      cycles: completed,
      v8_flags: load.v8Flags || "none",
      acknowledged,
      rows_stored: rows,
      failed_cycles: failures.length,
      baseline_cycle: BASELINE_CYCLE,
      rss_start_mib: mib(start),
      rss_baseline_mib: mib(baseline),
      rss_end_mib: mib(final),
      rss_at_25_50_75_100_percent_mib: samples.map(mib).join(" "),
      rss_growth_percent: Number((growth(baseline, final) * 100).toFixed(1)),
      server_error_lines: complaints.errors,
      seconds,
      cycles_per_second: Math.round(completed / seconds),
    },
    problems,
  };
}

/** One connect/send/disconnect cycle: whether its message came back, and what went wrong. */
async function runCycle(
  url: string,
  msg: string,
): Promise<{ acknowledged: boolean; failure?: string }> {
  let client: LoadClient;
  try {
    client = await LoadClient.open(url);
  } catch (error) {
    return { acknowledged: false, failure: (error as Error).message };
  }
  client.sendMessage("soak", msg);
  const answered = await client.waitFor(
    () => client.log.answered,
    ANSWER_MS,
  );
  const closed = await client.close();
  const acknowledged = client.log.acknowledged === 1;
  if (!answered) {
    return { acknowledged, failure: `no answer within ${ANSWER_MS} ms` };
  }
  if (!acknowledged) {
    return {
      acknowledged,
      failure: `answered ${JSON.stringify(client.log.errors)}`,
    };
  }
  if (!closed) {
    return { acknowledged, failure: "the closing handshake did not finish" };
  }
  return { acknowledged };
}

/** What a soak ended with, for `judgeSoak`. */
export interface SoakOutcome {
  cycles: number;
  completed: number;
  acknowledged: number;
  rows: number;
  /** Resident memory after cycle `BASELINE_CYCLE`, NaN when the soak stopped before it. */
  baselineKiB: number;
  finalKiB: number;
  failures: readonly string[];
  serverErrorLines: number;
}

/** The problems of a soak: failed cycles, a lost message, or memory that grew. */
export function judgeSoak(outcome: SoakOutcome): string[] {
  const problems: string[] = [];
  if (outcome.failures.length > 0) {
    problems.push(
      `${outcome.failures.length} cycles failed${
        outcome.completed < outcome.cycles
          ? `, the soak stopped after ${outcome.completed} of ${outcome.cycles}`
          : ""
      }; first ${outcome.failures[0]}`,
    );
  }
  if (outcome.rows !== outcome.acknowledged) {
    problems.push(
      `${outcome.acknowledged} messages were acknowledged but ${outcome.rows} stored`,
    );
  }
  if (Number.isNaN(outcome.baselineKiB)) {
    problems.push(`The soak ended before cycle ${BASELINE_CYCLE}`);
  } else {
    const grew = growth(outcome.baselineKiB, outcome.finalKiB);
    if (grew > MAX_GROWTH) {
      problems.push(
        `Resident memory grew ${
          (grew * 100).toFixed(1)
        } % from cycle ${BASELINE_CYCLE} to cycle ${outcome.completed}, more than ${
          MAX_GROWTH * 100
        } %`,
      );
    }
  }
  if (outcome.serverErrorLines > 0) {
    problems.push(`The server logged ${outcome.serverErrorLines} error lines`);
  }
  return problems;
}
