// TCP check: the edge accepts a connection within the timeout. Says nothing about what it
// serves, only that something listens and the path to it works.
import { connect } from 'node:net';
import type { ProbeResult, ProbeTarget, SettingsFor } from './types.js';
import { describeError, edgeHostPort, elapsedMs, failed, passed } from './types.js';

export function probe(target: ProbeTarget, settings: SettingsFor<'tcp'>, signal?: AbortSignal): Promise<ProbeResult> {
  const { host, port } = edgeHostPort(target.edge, settings.check.port);
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let done = false;
    const finish = (result: ProbeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(failed(elapsedMs(started), `timeout after ${settings.timeout} ms`)), settings.timeout);
    const onAbort = (): void => finish(failed(elapsedMs(started), 'aborted'));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(passed(elapsedMs(started))));
    socket.on('error', (err) => finish(failed(elapsedMs(started), describeError(err, settings.timeout))));
  });
}
