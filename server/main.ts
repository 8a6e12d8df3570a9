import { loadConfig } from "./src/config.ts";
import { createLogger, errorMessage } from "./src/log.ts";
import { runServer } from "./src/server.ts";

/** Past this, a shutdown that is still waiting on something is cut short. */
const SHUTDOWN_LIMIT_MS = 4500;

const log = createLogger();

let config;
try {
  config = loadConfig(Deno.env, new URL("./migrations/", import.meta.url));
} catch (error) {
  log.error("invalid_config", { error: errorMessage(error) });
  Deno.exit(1);
}

const stop = new AbortController();
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, () => {
    if (stop.signal.aborted) return;
    log.info("shutdown_started", { signal });
    stop.abort();
    const timer = setTimeout(() => {
      log.warn("shutdown_cut_short", { after_ms: SHUTDOWN_LIMIT_MS });
      Deno.exit(0);
    }, SHUTDOWN_LIMIT_MS);
    Deno.unrefTimer(timer);
  });
}

Deno.exit(await runServer({ config, log, stop: stop.signal }));
