/**
 * Load and fault harness: runs `main.ts` as a child process against a
 * PostgreSQL cluster of its own and checks that nothing is lost under
 *
 * - broadcast: 100 clients sending 100 messages each, all at once;
 * - malformed: the same load with invalid frames mixed in and raw
 *   connections that break off or break the protocol;
 * - outage: the database stopped and started again during a steady load;
 * - soak: connect/send/disconnect cycles, watching resident memory.
 *
 * All traffic stays on 127.0.0.1. Figures go to stdout (a table, or JSON
 * with `--json`), progress to stderr. Exit status: 0 when every check
 * passed, 1 when one failed, 2 when the harness could not run.
 */
import { errorMessage } from "../src/log.ts";
import {
  createCluster,
  findPostgresBin,
  type PostgresCluster,
} from "../testing/postgres.ts";
import { runBroadcast } from "./broadcast.ts";
import { killChats, SetupError } from "./chat_instance.ts";
import { seededRandom } from "./junk.ts";
import { parseOptions, USAGE } from "./options.ts";
import { runOutage } from "./outage.ts";
import {
  formatJson,
  formatTable,
  type RunInfo,
  type ScenarioResult,
} from "./report.ts";
import { runSoak } from "./soak.ts";

const CLIENTS = 100;
const MESSAGES_PER_CLIENT = 100;

/** The cluster of the run, for the signal handler to remove. */
let activeCluster: PostgresCluster | undefined;

async function main(): Promise<number> {
  let options;
  try {
    options = parseOptions(Deno.args, Date.now() % 2 ** 32);
  } catch (error) {
    console.error(`error: ${errorMessage(error)}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }

  const date = new Date().toISOString();
  const started = performance.now();
  const random = seededRandom(options.seed);
  const results: ScenarioResult[] = [];
  let postgres: string;
  try {
    postgres = await postgresVersion();
    await using cluster = await createCluster({
      settings: {
        fsync: "on",
        synchronous_commit: "on",
        full_page_writes: "on",
      },
    });
    activeCluster = cluster;
    const scenarios: [string, () => Promise<ScenarioResult>][] = [
      ["broadcast", () =>
        runBroadcast(cluster, {
          scenario: "broadcast",
          clients: CLIENTS,
          messagesPerClient: MESSAGES_PER_CLIENT,
          junkPerClient: 0,
          abortedConnections: 0,
          random,
        })],
      ["malformed", () =>
        runBroadcast(cluster, {
          scenario: "malformed",
          clients: CLIENTS,
          messagesPerClient: MESSAGES_PER_CLIENT,
          junkPerClient: 25,
          abortedConnections: 140,
          random,
        })],
      ["outage", () =>
        runOutage(cluster, {
          clients: CLIENTS,
          messagesPerClient: MESSAGES_PER_CLIENT,
          intervalMs: 50,
          outageAfterMs: 1500,
          outageMs: 1500,
        })],
      ["soak", () =>
        runSoak(cluster, {
          cycles: options.soakCycles,
          v8Flags: options.soakV8Flags,
        })],
    ];
    for (const [name, run] of scenarios) {
      const began = performance.now();
      console.error(`load: ${name} ...`);
      const result = await runScenario(name, run);
      console.error(
        `load: ${name} ${
          result.problems.length === 0 ? "passed" : "FAILED"
        } in ${((performance.now() - began) / 1000).toFixed(1)} s`,
      );
      for (const problem of result.problems) {
        console.error(`error: ${name}: ${problem}`);
      }
      results.push(result);
    }
  } catch (error) {
    console.error(`error: ${errorMessage(error)}`);
    return 2;
  } finally {
    activeCluster = undefined;
  }

  const info: RunInfo = {
    date,
    cores: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    postgres,
    seed: options.seed,
    seconds: (performance.now() - started) / 1000,
  };
  console.log(
    options.json ? formatJson(info, results) : formatTable(info, results),
  );
  return results.every((result) => result.problems.length === 0) ? 0 : 1;
}

/**
 * Runs one scenario. A server that never got ready ends the whole run (the
 * harness could not do its job); any other error fails this scenario only.
 */
async function runScenario(
  name: string,
  run: () => Promise<ScenarioResult>,
): Promise<ScenarioResult> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof SetupError) throw error;
    return {
      scenario: name,
      figures: {},
      problems: [`Stopped by an error: ${errorMessage(error)}`],
    };
  }
}

async function postgresVersion(): Promise<string> {
  const bin = await findPostgresBin();
  const { stdout } = await new Deno.Command(`${bin}/postgres`, {
    args: ["--version"],
  }).output();
  return new TextDecoder().decode(stdout).trim().replace(/^.*\) /, "");
}

/** An interrupted run still stops its servers and removes its cluster. */
function stopOnSignal(signal: Deno.Signal): void {
  Deno.addSignalListener(signal, async () => {
    console.error(`error: interrupted by ${signal}`);
    await killChats();
    await activeCluster?.destroy().catch(() => {});
    Deno.exit(2);
  });
}

stopOnSignal("SIGINT");
stopOnSignal("SIGTERM");
Deno.exit(await main());
