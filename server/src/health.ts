/** Where the server is in its life. */
export type Phase = "starting" | "ready" | "stopping";

/** What `GET /health` answers. */
export interface HealthReport {
  status: 200 | 503;
  body:
    | { status: "ok" }
    | { status: "starting" | "stopping" | "unavailable"; reason: string };
}

/** Healthy means the migrations are applied, no shutdown has begun and the database answers `ping`. */
export async function checkHealth(
  phase: Phase,
  ping: () => Promise<void>,
): Promise<HealthReport> {
  if (phase === "starting") {
    return unhealthy(
      "starting",
      "Database migrations have not been applied yet",
    );
  }
  if (phase === "stopping") {
    return unhealthy("stopping", "Server is shutting down");
  }
  try {
    await ping();
  } catch {
    return unhealthy("unavailable", "Database is not answering");
  }
  return { status: 200, body: { status: "ok" } };
}

function unhealthy(
  status: "starting" | "stopping" | "unavailable",
  reason: string,
): HealthReport {
  return { status: 503, body: { status, reason } };
}
