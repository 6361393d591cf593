// A serving worker's setup (common/process-pool.ts) comes over the IPC channel, asked for once
// the worker listens for it, not in its environment: an environment is readable by any process
// of the same user (/proc/PID/environ) and passed on to whatever the worker runs, and the setup
// holds secrets (the DNS cookie master).
import cluster from 'node:cluster';

/** The worker's question; the primary answers { kind: SETUP, setup }. */
export const SETUP_REQUEST = 'setup-request';
export const SETUP = 'setup';

const SETUP_TIMEOUT_MS = 10_000;

/** Asks the primary for this worker's setup; `notAWorker` is the error when this process is no worker. */
export function receiveSetup<T>(notAWorker: string): Promise<T> {
  if (!cluster.isWorker || !process.send) return Promise.reject(new Error(notAWorker));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error(`no setup from the primary within ${SETUP_TIMEOUT_MS / 1000} s`));
    }, SETUP_TIMEOUT_MS);
    const onMessage = (msg: { kind?: unknown; setup?: unknown }): void => {
      if (msg?.kind !== SETUP) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(msg.setup as T);
    };
    // Listening first: a message with no listener yet would be lost.
    process.on('message', onMessage);
    process.send!({ kind: SETUP_REQUEST });
  });
}
