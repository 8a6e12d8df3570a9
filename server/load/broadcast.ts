import type { PostgresCluster } from "../testing/postgres.ts";
import { healthStatus } from "../testing/http.ts";
import { startChat } from "./chat_instance.ts";
import { JUNK_KINDS, type JunkFrame, junkFrame, randomInt } from "./junk.ts";
import { closeAll, LoadClient, settle } from "./load_client.ts";
import { ABORT_KINDS, abortConnection } from "./raw_socket.ts";
import type { Figures, ScenarioResult } from "./report.ts";
import {
  type Broadcast,
  compareStored,
  type Tally,
  tallyClients,
} from "./tally.ts";

export interface BroadcastLoad {
  scenario: string;
  clients: number;
  messagesPerClient: number;
  /** Invalid frames each client mixes in among its valid ones. */
  junkPerClient: number;
  /** Raw connections that break off, running alongside the clients. */
  abortedConnections: number;
  random: () => number;
}

const SETTLE_MS = 120_000;

/**
 * Every client sends all its frames at once, without waiting for answers;
 * then each valid message must be stored once and broadcast to every
 * client in the same order, and each invalid frame answered with its error.
 */
export async function runBroadcast(
  cluster: PostgresCluster,
  load: BroadcastLoad,
): Promise<ScenarioResult> {
  await using chat = await startChat(cluster);
  const clients = await Promise.all(
    Array.from({ length: load.clients }, () => LoadClient.open(chat.wsUrl)),
  );
  const plans = clients.map(() => planFrames(load));

  const started = performance.now();
  const aborted = Promise.allSettled(
    Array.from(
      { length: load.abortedConnections },
      (_, i) =>
        abortConnection(chat.server.port, ABORT_KINDS[i % ABORT_KINDS.length]),
    ),
  );
  clients.forEach((client, c) => {
    let sent = 0;
    for (const frame of plans[c]) {
      if (frame === "valid") {
        client.sendMessage(`load${c}`, `${load.scenario} c${c} m${sent++}`);
      } else {
        client.sendJunk(frame);
      }
    }
  });
  const problems = await settle(clients, SETTLE_MS);
  const seconds = (performance.now() - started) / 1000;
  const abortFailures = (await aborted).flatMap((result) =>
    result.status === "rejected" ? [String(result.reason)] : []
  );

  const tally = tallyClients(clients.map((client) => client.log));
  const stored = await chat.storedRows();
  const health = await healthStatus(chat.server.url(""));
  const complaints = chat.complaints();
  const alive = !chat.exited();
  problems.push(
    ...judgeBroadcast({
      expectedRows: load.clients * load.messagesPerClient,
      stored,
      reference: clients[0].log.broadcasts,
      tally,
      abortFailures,
      healthAfter: health,
      serverErrorLines: complaints.errors,
    }),
    ...await closeAll(clients),
    ...await chat.stop(),
  );

  const figures: Figures = {
    clients: load.clients,
    valid_messages_sent: tally.validSent,
  };
  if (load.junkPerClient > 0 || load.abortedConnections > 0) {
    const kinds = plans.flat().filter((frame) => frame !== "valid");
    figures.invalid_frames_sent = tally.invalidSent;
    for (const kind of JUNK_KINDS) {
      figures[`invalid_${kind}`] = kinds.filter((f) => f.kind === kind).length;
    }
    figures.error_frames_received = tally.rejected;
    figures.raw_connections_broken = load.abortedConnections;
    figures.raw_connection_kinds = ABORT_KINDS.length;
  }
  Object.assign(figures, {
    rows_stored: stored.length,
    messages_broadcast: tally.broadcast,
    broadcasts_received: tally.delivered,
    clients_with_every_row: clients.filter((client) =>
      client.log.broadcasts.length === stored.length
    ).length,
    same_order_everywhere: tally.sameOrder ? "yes" : "no",
    server_alive: alive ? "yes" : "no",
    server_warn_lines: complaints.warnings,
    server_error_lines: complaints.errors,
    seconds,
    stored_per_second: Math.round(stored.length / seconds),
  });
  return { scenario: load.scenario, figures, problems };
}

/** What a broadcast run ended with, for `judgeBroadcast`. */
export interface BroadcastOutcome {
  expectedRows: number;
  stored: readonly Broadcast[];
  /** The broadcasts the first client received. */
  reference: readonly Broadcast[];
  tally: Tally;
  /** Why raw connections failed before doing what they were meant to. */
  abortFailures: readonly string[];
  /** Status of `GET /health` after the load. */
  healthAfter: number;
  serverErrorLines: number;
}

/** The problems of a broadcast run: anything lost, refused, reordered or logged as an error. */
export function judgeBroadcast(outcome: BroadcastOutcome): string[] {
  const { tally } = outcome;
  const problems = [
    ...tally.problems,
    ...compareStored(outcome.stored, outcome.reference),
  ];
  if (outcome.stored.length !== outcome.expectedRows) {
    problems.push(
      `Expected ${outcome.expectedRows} rows, the table holds ${outcome.stored.length}`,
    );
  }
  if (tally.refused > 0) {
    problems.push(`${tally.refused} valid messages were refused`);
  }
  for (const failure of outcome.abortFailures) {
    problems.push(`A raw connection failed early: ${failure}`);
  }
  if (outcome.healthAfter !== 200) {
    problems.push(`GET /health answered ${outcome.healthAfter} after the load`);
  }
  if (outcome.serverErrorLines > 0) {
    problems.push(`The server logged ${outcome.serverErrorLines} error lines`);
  }
  return problems;
}

/** The order of one client's frames: its valid messages with junk at random places. */
export function planFrames(
  load: Pick<BroadcastLoad, "messagesPerClient" | "junkPerClient" | "random">,
): ("valid" | JunkFrame)[] {
  const plan: ("valid" | JunkFrame)[] = Array(load.messagesPerClient).fill(
    "valid",
  );
  for (let j = 0; j < load.junkPerClient; j++) {
    plan.splice(
      randomInt(load.random, 0, plan.length),
      0,
      junkFrame(load.random),
    );
  }
  return plan;
}
