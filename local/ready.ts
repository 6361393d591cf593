// "Is it serving yet?": poll a URL until anything answers. Any HTTP status counts: an edge whose
// /healthz says 503 (draining, origin down) is running; a refused connection is not.
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

const POLL_MS = 150;
const ATTEMPT_TIMEOUT_MS = 1000;

/** Resolves when `url` answers; rejects only when `signal` aborts (the child exited). */
export async function waitForHttp(url: string, signal: AbortSignal): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    try {
      const res = await request(url, {
        signal,
        headersTimeout: ATTEMPT_TIMEOUT_MS,
        bodyTimeout: ATTEMPT_TIMEOUT_MS,
        reset: true,
      });
      await res.body.dump();
      return;
    } catch {
      // Not listening yet (or the attempt timed out): try again.
    }
    await sleep(POLL_MS, undefined, { signal });
  }
}
