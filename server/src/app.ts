import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ChatMessage } from "./chat_message.ts";
import type { ChatRoom } from "./chat_room.ts";
import { attachToRoom } from "./chat_socket.ts";
import { checkHealth, type Phase } from "./health.ts";
import { errorMessage, type Logger } from "./log.ts";

export interface AppContext {
  /** "ready" once the migrations are applied, "stopping" once shutdown begins. */
  phase(): Phase;
  /** Fails when the database does not answer quickly. */
  ping(): Promise<void>;
  /** The newest messages, oldest first. */
  recent(limit: number): Promise<ChatMessage[]>;
  room: ChatRoom;
  log: Logger;
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 500;

/** Routes: `GET /health`, `GET /chat` and the `GET /ws` WebSocket. */
export function createApp(context: AppContext): Hono {
  const app = new Hono();

  app.get("/health", async (c) => {
    const report = await checkHealth(context.phase(), context.ping);
    return c.json(report.body, report.status);
  });

  app.get("/chat", async (c) => {
    const limit = parseLimit(c.req.query("limit"));
    if (limit === undefined) {
      return c.json(
        {
          error:
            `Query parameter "limit" must be an integer from 1 to ${MAX_LIMIT}`,
        },
        400,
      );
    }
    requireReady(context);
    try {
      return c.json(await context.recent(limit));
    } catch (error) {
      throw new HTTPException(503, {
        message: "Database is unavailable",
        cause: error,
      });
    }
  });

  app.get("/ws", (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return c.json({ error: "Expected a WebSocket upgrade request" }, 426);
    }
    requireReady(context);
    const { socket, response } = Deno.upgradeWebSocket(c.req.raw);
    attachToRoom(socket, context.room);
    return response;
  });

  app.notFound((c) => c.json({ error: "Not found" }, 404));

  app.onError((error, c) => {
    const known = error instanceof HTTPException;
    const status = known ? error.status : 500;
    context.log.error("request_failed", {
      method: c.req.method,
      path: c.req.path,
      status,
      error: errorMessage(error.cause ?? error),
    });
    return c.json(
      { error: known ? error.message : "Internal server error" },
      status,
    );
  });

  return app;
}

/** `limit` as a number, the default when absent, undefined when invalid. */
export function parseLimit(text: string | undefined): number | undefined {
  if (text === undefined) return DEFAULT_LIMIT;
  if (!/^[1-9]\d{0,2}$/.test(text)) return undefined;
  const limit = Number(text);
  return limit <= MAX_LIMIT ? limit : undefined;
}

function requireReady(context: AppContext): void {
  const phase = context.phase();
  if (phase === "starting") {
    throw new HTTPException(503, { message: "Server is starting" });
  }
  if (phase === "stopping") {
    throw new HTTPException(503, { message: "Server is shutting down" });
  }
}
