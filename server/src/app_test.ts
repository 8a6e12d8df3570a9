import assert from "node:assert/strict";
import { type AppContext, createApp, parseLimit } from "./app.ts";
import type { ChatMessage } from "./chat_message.ts";
import { ChatRoom } from "./chat_room.ts";
import type { Phase } from "./health.ts";
import { createLogger } from "./log.ts";

const MESSAGE: ChatMessage = {
  id: 7,
  username: "ada",
  color: "#123456",
  msg: "hi",
  created_at: "2026-12-03T18:00:00.000Z",
};

function setup(overrides: Partial<AppContext> & { phase?: () => Phase } = {}) {
  const lines: string[] = [];
  const log = createLogger((line) => lines.push(line));
  const limits: number[] = [];
  const context: AppContext = {
    phase: () => "ready",
    ping: () => Promise.resolve(),
    recent: (limit) => {
      limits.push(limit);
      return Promise.resolve([MESSAGE]);
    },
    room: new ChatRoom(() => Promise.resolve([]), log),
    log,
    ...overrides,
  };
  return { app: createApp(context), lines, limits };
}

async function json(response: Response) {
  return { status: response.status, body: await response.json() };
}

Deno.test("parseLimit() takes 1 to 500, defaults to 100 and refuses the rest", () => {
  assert.equal(parseLimit(undefined), 100);
  assert.equal(parseLimit("1"), 1);
  assert.equal(parseLimit("500"), 500);
  for (
    const text of ["", "0", "501", "1000", "-1", "05", "1.0", "1e2", " 1", "x"]
  ) {
    assert.equal(parseLimit(text), undefined, text);
  }
});

Deno.test("GET /chat passes the limit to the store and answers its messages", async () => {
  const { app, limits } = setup();
  assert.deepEqual(await json(await app.request("/chat")), {
    status: 200,
    body: [MESSAGE],
  });
  await app.request("/chat?limit=250");
  assert.deepEqual(limits, [100, 250]);
});

Deno.test("GET /chat answers 400 for a bad limit without asking the store", async () => {
  const { app, limits, lines } = setup();
  assert.deepEqual(await json(await app.request("/chat?limit=0")), {
    status: 400,
    body: { error: 'Query parameter "limit" must be an integer from 1 to 500' },
  });
  assert.deepEqual(limits, []);
  assert.deepEqual(lines, []);
});

Deno.test("GET /chat answers 503 while starting or stopping", async () => {
  for (
    const [phase, error] of [
      ["starting", "Server is starting"],
      ["stopping", "Server is shutting down"],
    ] as const
  ) {
    const { app } = setup({ phase: () => phase });
    assert.deepEqual(await json(await app.request("/chat")), {
      status: 503,
      body: { error },
    });
  }
});

Deno.test("GET /chat answers 503 when the store fails and logs it once", async () => {
  const { app, lines } = setup({
    recent: () => Promise.reject(new Error("connect ECONNREFUSED")),
  });
  assert.deepEqual(await json(await app.request("/chat?limit=5")), {
    status: 503,
    body: { error: "Database is unavailable" },
  });
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    / error request_failed method=GET path=\/chat status=503 error="connect ECONNREFUSED"$/,
  );
});

Deno.test("an unexpected error answers 500 and is logged once", async () => {
  const { app, lines } = setup({
    phase: () => {
      throw new Error("broken");
    },
  });
  assert.deepEqual(await json(await app.request("/chat")), {
    status: 500,
    body: { error: "Internal server error" },
  });
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    / error request_failed method=GET path=\/chat status=500 error=broken$/,
  );
});

Deno.test("GET /health answers 200 when ready and 503 with a reason otherwise", async () => {
  assert.deepEqual(await json(await setup().app.request("/health")), {
    status: 200,
    body: { status: "ok" },
  });
  const down = setup({ ping: () => Promise.reject(new Error("down")) });
  assert.deepEqual(await json(await down.app.request("/health")), {
    status: 503,
    body: { status: "unavailable", reason: "Database is not answering" },
  });
  assert.deepEqual(down.lines, []);
});

Deno.test("GET /ws answers 426 without an upgrade and 503 while starting", async () => {
  assert.deepEqual(await json(await setup().app.request("/ws")), {
    status: 426,
    body: { error: "Expected a WebSocket upgrade request" },
  });
  const starting = setup({ phase: () => "starting" });
  const response = await starting.app.request("/ws", {
    headers: { upgrade: "websocket" },
  });
  assert.deepEqual(await json(response), {
    status: 503,
    body: { error: "Server is starting" },
  });
});

Deno.test("unknown routes answer 404 with a JSON error", async () => {
  const { app } = setup();
  for (const [path, method] of [["/", "GET"], ["/chat", "DELETE"]]) {
    assert.deepEqual(await json(await app.request(path, { method })), {
      status: 404,
      body: { error: "Not found" },
    });
  }
});
