// The supervisor with real child processes (small `node -e` scripts): restarts with backoff and
// a report of why, kill/revive, and a stop that escalates to SIGKILL.
import { afterEach, describe, expect, it } from 'vitest';
import { capturedLog } from '../test/helpers/captured-log.js';
import { waitFor } from '../test/helpers/wait-for.js';
import { Supervisor, type ChildSpec } from './supervisor.js';

const node = (name: string, script: string, extra: Partial<ChildSpec> = {}): ChildSpec => ({
  name,
  command: process.execPath,
  args: ['-e', script],
  ...extra,
});
const FOREVER = 'setInterval(() => {}, 1000);';
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let sup: Supervisor | undefined;
afterEach(async () => {
  await sup?.stopAll();
  sup = undefined;
});

describe('Supervisor', () => {
  it('restarts a child that dies, with growing delays, and reports its exit code and last stderr lines', async () => {
    const { log, lines } = capturedLog();
    sup = new Supervisor({ log, backoff: { initialMs: 40, maxMs: 160, resetAfterMs: 60_000 } });
    const never = (signal: AbortSignal) =>
      new Promise<void>((_resolve, reject) => signal.addEventListener('abort', reject));
    sup.add(
      node('edge fra', "console.error('Error: listen EADDRINUSE 127.0.1.1:8080'); process.exit(3);", { ready: never }),
    );
    sup.start('edge fra');
    await waitFor(
      () => lines.filter((l) => l.msg?.toString().includes('exited unexpectedly')).length >= 4,
      5000,
      'four crashes',
    );
    const crashes = lines.filter((l) => String(l.msg).includes('exited unexpectedly'));
    expect(crashes.slice(0, 4).map((l) => l.restartInMs)).toEqual([40, 80, 160, 160]);
    expect(crashes[0]).toMatchObject({
      level: 50,
      process: 'edge fra',
      code: 3,
      signal: null,
      tail: ['Error: listen EADDRINUSE 127.0.1.1:8080'],
    });
    expect(crashes[0]!.msg).toBe('edge fra exited unexpectedly (code 3); restarting in 0.0 s');
    const [status] = sup.status('edge fra');
    expect(status!.restarts).toBeGreaterThanOrEqual(4);
    // Never ready: each exit counts as a failed start.
    expect(status!.failedStarts).toBe(status!.restarts);
  });

  it('reports a child killed by a signal, restarts it, and says when it is ready again', async () => {
    const { log, lines } = capturedLog();
    sup = new Supervisor({ log, backoff: { initialMs: 20, maxMs: 20, resetAfterMs: 60_000 } });
    sup.add(node('dns', FOREVER));
    sup.start('dns');
    expect(await sup.waitReady('dns', 5000)).toBe(true);
    const first = sup.status('dns')[0]!.pid!;
    process.kill(first, 'SIGKILL');
    await waitFor(() => lines.some((l) => l.msg === 'dns ready again (restart 1)'), 5000, 'dns ready again');
    expect(lines.find((l) => String(l.msg).includes('exited unexpectedly'))).toMatchObject({
      process: 'dns',
      code: null,
      signal: 'SIGKILL',
    });
    const now = sup.status('dns')[0]!;
    expect(now).toMatchObject({ state: 'running', ready: true, restarts: 1, failedStarts: 0 });
    expect(now.pid).not.toBe(first);
  });

  it('a child is ready only when its ready check says so', async () => {
    sup = new Supervisor({ log: capturedLog().log });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    sup.add(node('origin', FOREVER, { ready: () => gate }));
    sup.start('origin');
    expect(await sup.waitReady('origin', 200)).toBe(false);
    expect(sup.status('origin')[0]!.state).toBe('starting');
    release();
    expect(await sup.waitReady('origin', 5000)).toBe(true);
  });

  it('kill keeps a child down (no restart) until revive', async () => {
    const { log, lines } = capturedLog();
    sup = new Supervisor({ log, backoff: { initialMs: 20, maxMs: 20, resetAfterMs: 60_000 } });
    sup.add(node('edge sin', FOREVER));
    sup.start('edge sin');
    await sup.waitReady('edge sin', 5000);
    const pid = sup.status('edge sin')[0]!.pid!;
    await sup.kill('edge sin');
    expect(alive(pid)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sup.status('edge sin')[0]).toMatchObject({
      state: 'killed',
      pid: null,
      ready: false,
      restarts: 0,
      lastExit: { signal: 'SIGTERM' },
    });
    expect(lines.some((l) => String(l.msg).includes('exited unexpectedly'))).toBe(false);
    expect(await sup.revive('edge sin')).toBe(true);
    expect(await sup.waitReady('edge sin', 5000)).toBe(true);
    expect(await sup.revive('edge sin')).toBe(false);
  });

  it('a Ctrl-C that reaches a child just before us is not reported as a crash', async () => {
    const { log, lines } = capturedLog();
    sup = new Supervisor({ log, backoff: { initialMs: 20, maxMs: 20, resetAfterMs: 60_000 } });
    sup.add(node('edge fra', FOREVER));
    sup.start('edge fra');
    await sup.waitReady('edge fra', 5000);
    // The terminal signals the whole process group; the child may die before our handler runs.
    process.kill(sup.status('edge fra')[0]!.pid!, 'SIGINT');
    await waitFor(() => sup!.status('edge fra')[0]!.pid === null, 5000, 'the child to exit');
    await sup.stopAll();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(lines.filter((l) => String(l.msg).includes('exited unexpectedly'))).toEqual([]);
    expect(sup.status('edge fra')[0]).toMatchObject({ state: 'stopped', restarts: 0, lastExit: { signal: 'SIGINT' } });
  });

  it('stopAll sends SIGTERM, then SIGKILL to a child that ignores it', async () => {
    const { log, lines } = capturedLog();
    let armed = false;
    sup = new Supervisor({
      log,
      stopTimeoutMs: 300,
      onLine: (_name, _stream, line) => void (armed ||= line === 'armed'),
    });
    // Ready once it says its handler is in place, so the SIGTERM cannot arrive before it.
    sup.add(
      node('stubborn', "process.on('SIGTERM', () => console.log('ignored')); console.log('armed');" + FOREVER, {
        ready: () => waitFor(() => armed, 5000, 'armed'),
      }),
    );
    sup.add(node('polite', FOREVER));
    sup.start('stubborn');
    sup.start('polite');
    await sup.waitReady('stubborn', 5000);
    const t0 = performance.now();
    await sup.stopAll();
    expect(performance.now() - t0).toBeLessThan(3000);
    const [stubborn, polite] = sup.status();
    expect(stubborn).toMatchObject({ state: 'stopped', lastExit: { signal: 'SIGKILL' } });
    expect(polite).toMatchObject({ state: 'stopped', lastExit: { signal: 'SIGTERM' } });
    expect(lines.some((l) => l.msg === 'stubborn did not stop within 300 ms; SIGKILL')).toBe(true);
  });
});
