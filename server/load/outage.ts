import { healthStatus, pollUntil } from "../testing/http.ts";
import type { PostgresCluster } from "../testing/postgres.ts";
import { startChat } from "./chat_instance.ts";
import { closeAll, LoadClient, settle } from "./load_client.ts";
import type { ScenarioResult } from "./report.ts";
import {
  type Broadcast,
  compareStored,
  type Tally,
  tallyClients,
} from "./tally.ts";
import { sleep } from "./timing.ts";

export interface OutageLoad {
  clients: number;
  messagesPerClient: number;
  /** Pause between two messages of one client. */
  intervalMs: number;
  /** When the database is stopped, counted from the first message. */
  outageAfterMs: number;
  /** Least time the database stays down. */
  outageMs: number;
}

const HEALTH_POLL_MS = 100;
const RECOVERY_MS = 30_000;
const SETTLE_MS = 60_000;

/**
 * Clients send at a steady pace while the PostgreSQL cluster is stopped
 * (fast mode) and started again on the same port. Each message must be
 * either stored and broadcast or refused with an error frame; `/health`
 * must answer 503 while the database is down; and once it is back, the
 * same server process must store one more message from every client.
 */
export async function runOutage(
  cluster: PostgresCluster,
  load: OutageLoad,
): Promise<ScenarioResult> {
  await using chat = await startChat(cluster);
  const base = chat.server.url("");
  const clients = await Promise.all(
    Array.from({ length: load.clients }, () => LoadClient.open(chat.wsUrl)),
  );

  const sending = Promise.all(clients.map(async (client, c) => {
    await sleep((c * load.intervalMs) / load.clients);
    for (let i = 0; i < load.messagesPerClient; i++) {
      client.sendMessage(`load${c}`, `outage c${c} m${i}`);
      await sleep(load.intervalMs);
    }
  }));
  const healthWhileDown: number[] = [];
  let downSeconds = NaN;
  let recoverySeconds = NaN;
  let recoveryError: string | undefined;
  const outage = (async () => {
    await sleep(load.outageAfterMs);
    const stopped = performance.now();
    await cluster.stop();
    do {
      healthWhileDown.push(await healthStatus(base));
      await sleep(HEALTH_POLL_MS);
    } while (performance.now() - stopped < load.outageMs);
    await cluster.start();
    const restarted = performance.now();
    downSeconds = (restarted - stopped) / 1000;
    try {
      await pollUntil(
        "GET /health to answer 200",
        async () => await healthStatus(base) === 200,
        RECOVERY_MS,
        50,
      );
      recoverySeconds = (performance.now() - restarted) / 1000;
    } catch (error) {
      recoveryError = (error as Error).message;
    }
  })();
  await Promise.all([sending, outage]);
  const problems = await settle(clients, SETTLE_MS);
  const during = tallyClients(clients.map((client) => client.log));

  clients.forEach((client, c) => {
    client.sendMessage(`load${c}`, `outage c${c} after recovery`);
  });
  problems.push(...await settle(clients, SETTLE_MS));
  const tally = tallyClients(clients.map((client) => client.log));
  const stored = await chat.storedRows();
  const complaints = chat.complaints();
  const alive = !chat.exited();
  problems.push(
    ...judgeOutage({
      during,
      tally,
      stored,
      reference: clients[0].log.broadcasts,
      healthWhileDown,
      recoveryError,
      serverErrorLines: complaints.errors,
    }),
    ...await closeAll(clients),
    ...await chat.stop(),
  );

  return {
    scenario: "outage",
    figures: {
      clients: load.clients,
      valid_messages_sent: tally.validSent,
      acknowledged: tally.acknowledged,
      refused_with_error_frame: tally.refused,
      unanswered: tally.validSent - tally.acknowledged - tally.refused,
      rows_stored: stored.length,
      health_checks_while_down: healthWhileDown.length,
      health_503_while_down:
        healthWhileDown.filter((status) => status === 503).length,
      database_down_seconds: downSeconds,
      seconds_to_healthy_after_start: recoverySeconds,
      sent_after_recovery: tally.validSent - during.validSent,
      stored_after_recovery: tally.acknowledged - during.acknowledged,
      server_alive: alive ? "yes" : "no",
      server_warn_lines: complaints.warnings,
      server_error_lines: complaints.errors,
    },
    problems,
  };
}

/** What an outage run ended with, for `judgeOutage`. */
export interface OutageOutcome {
  /** The clients' logs once the messages sent around the outage were answered. */
  during: Tally;
  /** The same after one more message per client, sent once `/health` was 200 again. */
  tally: Tally;
  stored: readonly Broadcast[];
  /** The broadcasts the first client received. */
  reference: readonly Broadcast[];
  /** Statuses of `GET /health` while the database was stopped. */
  healthWhileDown: readonly number[];
  /** Why `/health` did not turn 200 again, if it did not. */
  recoveryError?: string;
  serverErrorLines: number;
}

/**
 * The problems of an outage run: a message neither broadcast nor refused,
 * acknowledged and stored counts that differ, `/health` not 503 while the
 * database was down, or a server that did not recover by itself.
 */
export function judgeOutage(outcome: OutageOutcome): string[] {
  const { during, tally, stored } = outcome;
  const problems = [
    ...tally.problems,
    ...compareStored(stored, outcome.reference),
  ];
  if (stored.length !== tally.acknowledged) {
    problems.push(
      `${tally.acknowledged} messages were acknowledged but ${stored.length} stored`,
    );
  }
  if (during.refused === 0) {
    problems.push("No message was refused: the outage missed the load");
  }
  const not503 = outcome.healthWhileDown.filter((status) => status !== 503);
  if (outcome.healthWhileDown.length === 0 || not503.length > 0) {
    problems.push(
      `GET /health answered ${
        not503.join(", ") || "nothing"
      } while the database was down`,
    );
  }
  if (outcome.recoveryError !== undefined) {
    problems.push(`The server did not recover: ${outcome.recoveryError}`);
  }
  const refusedAfter = tally.refused - during.refused;
  if (refusedAfter > 0) {
    problems.push(
      `${refusedAfter} messages were refused after the database came back`,
    );
  }
  if (outcome.serverErrorLines > 0) {
    problems.push(`The server logged ${outcome.serverErrorLines} error lines`);
  }
  return problems;
}
