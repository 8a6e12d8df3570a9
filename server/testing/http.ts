/** Status and parsed JSON body of a request. */
export async function getJson<Body = unknown>(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: Body }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.json() };
}

/** Calls `check` every `intervalMs` until it returns true; fails after `timeoutMs`. */
export async function pollUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 10_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Status of `GET /health`, or 0 when nothing answers within `timeoutMs`. */
export async function healthStatus(
  baseUrl: string,
  timeoutMs = 5000,
): Promise<number> {
  try {
    const response = await fetch(`${baseUrl}/health`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  }
}
