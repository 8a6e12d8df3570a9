/**
 * Measures the server as deployed (`main.ts` in a child process) against a
 * PostgreSQL cluster of its own with durable settings: `GET /chat` latency
 * with 1,000 and 100,000 rows, WebSocket broadcast throughput with 50
 * clients, and server memory across 10,000 connect/disconnect cycles.
 *
 * Run with `deno task bench`. The clients run on the same machine as the
 * server and the database, so all three share its cores.
 */
import pg from "pg";
import { connection, createCluster } from "../testing/postgres.ts";
import { spawnServer } from "../testing/server_process.ts";
import { TestSocket } from "../testing/ws_client.ts";
import { summarize, type Summary } from "./stats.ts";

const REQUESTS = 2000;
const WARMUP_REQUESTS = 1000;
const CLIENTS = 50;
const MESSAGES_PER_CLIENT = 40;
const CYCLES = 10_000;
const TARGET_RATIO = 1.5;

await using cluster = await createCluster({
  settings: { fsync: "on", synchronous_commit: "on", full_page_writes: "on" },
});
const database = await cluster.createDatabase();
await using server = await spawnServer(cluster.env(database));
await server.waitForLog(/ info ready /);
const db = new pg.Client(connection(cluster.port, database));
await db.connect();

try {
  console.log(
    `chat benchmark, ${
      new Date().toISOString()
    }, ${navigator.hardwareConcurrency} cores`,
  );

  await fillTo(1000);
  const small = await measureChat();
  report("GET /chat with 1,000 rows", small);

  await fillTo(100_000);
  const large = await measureChat();
  report("GET /chat with 100,000 rows", large);

  const medianRatio = large.median / small.median;
  const p95Ratio = large.p95 / small.p95;
  console.log(
    `ratio 100,000 / 1,000 rows: median ${medianRatio.toFixed(2)}x, ` +
      `p95 ${p95Ratio.toFixed(2)}x (target at most ${TARGET_RATIO}x: ${
        medianRatio <= TARGET_RATIO ? "met" : "missed"
      })`,
  );

  await measureBroadcast();
  await measureConnectCycles();
} finally {
  await db.end();
  await server.stop();
}

/**
 * Inserts rows until the table holds `rows`, then refreshes planner
 * statistics and writes a checkpoint, so no background work of the fill
 * lands in the measurement.
 */
async function fillTo(rows: number): Promise<void> {
  await db.query(
    `INSERT INTO messages (username, color, msg)
     SELECT 'bench' || (n % 50), '#336699', repeat('x', 80)
     FROM generate_series((SELECT count(*) FROM messages) + 1, $1) AS n`,
    [rows],
  );
  await db.query("VACUUM ANALYZE messages");
  await db.query("CHECKPOINT");
}

/** Sequential `GET /chat` (default limit, 100 messages) round trips, in ms. */
async function measureChat(): Promise<Summary> {
  const url = server.url("/chat");
  const samples: number[] = [];
  for (let i = 0; i < WARMUP_REQUESTS + REQUESTS; i++) {
    const started = performance.now();
    const response = await fetch(url);
    const body = await response.json();
    const elapsed = performance.now() - started;
    if (response.status !== 200 || body.length !== 100) {
      throw new Error(`GET /chat answered ${response.status}`);
    }
    if (i >= WARMUP_REQUESTS) samples.push(elapsed);
  }
  return summarize(samples);
}

function report(what: string, summary: Summary): void {
  console.log(
    `${what}: median ${summary.median.toFixed(3)} ms, ` +
      `p95 ${summary.p95.toFixed(3)} ms over ${summary.count} requests`,
  );
}

/** Every client sends its share at once; the clock stops when all clients have every message. */
async function measureBroadcast(): Promise<void> {
  const url = server.url("/ws").replace("http:", "ws:");
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, () => TestSocket.open(url)),
  );
  const total = CLIENTS * MESSAGES_PER_CLIENT;
  try {
    const started = performance.now();
    clients.forEach((client, c) => {
      for (let i = 0; i < MESSAGES_PER_CLIENT; i++) {
        client.sendJson({
          username: `bench${c}`,
          color: "#336699",
          msg: `message ${i}`,
        });
      }
    });
    await Promise.all(clients.map((client) => client.take(total, 60_000)));
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `WebSocket broadcast, ${CLIENTS} clients x ${MESSAGES_PER_CLIENT} messages: ` +
        `${total} messages in ${seconds.toFixed(2)} s, ` +
        `${Math.round(total / seconds)} messages/s stored, ` +
        `${Math.round((total * CLIENTS) / seconds)} messages/s delivered`,
    );
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

/**
 * Opens and closes one socket at a time and samples the server's resident
 * memory every quarter: a leak shows as steady growth, not a plateau.
 */
async function measureConnectCycles(): Promise<void> {
  const url = server.url("/ws").replace("http:", "ws:");
  const samples = [(await residentMiB(server.pid)).toFixed(1)];
  const started = performance.now();
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    const client = await TestSocket.open(url);
    await client.close();
    if (cycle % (CYCLES / 4) === 0) {
      samples.push((await residentMiB(server.pid)).toFixed(1));
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${CYCLES} WebSocket connect/disconnect cycles in ${
      seconds.toFixed(1)
    } s: ` +
      `server resident memory at 0, 25, 50, 75, 100 %: ${
        samples.join(", ")
      } MiB`,
  );
}

async function residentMiB(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("ps", {
    args: ["-o", "rss=", "-p", String(pid)],
  }).output();
  return Number(new TextDecoder().decode(stdout).trim()) / 1024;
}
