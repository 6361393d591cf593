// Two serving workers in this process, joined by a primary that keeps the fetch leases with the
// real LeaseTable and relays storage changes in order (as pool.ts does over IPC). The test holds
// back what the primary sends one worker, to reproduce a worker whose relays lag behind its
// requests: its lookup misses an object a sibling already stored, and the lease it asks for is
// granted after the relayed copy. It must serve that copy, not fetch the object again.
import { deserialize, serialize } from 'node:v8';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEdgeConfig } from '../config.js';
import { EdgeCore } from '../core.js';
import { startEdgeServer, type EdgeServer } from '../server.js';
import { capturedLog } from '../../test/helpers/captured-log.js';
import { writeConfigDir } from '../../test/helpers/config-dir.js';
import { edgeConfig } from '../../test/helpers/edge-config.js';
import { request, type TestResponse } from '../../test/helpers/http-client.js';
import { reply, startOrigin, type TestOrigin } from '../../test/helpers/test-origin.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { LeaseTable } from './leases.js';
import type { FromWorker, ToWorker } from './messages.js';
import { WorkerLink } from './worker-link.js';

interface TestWorker {
  readonly link: WorkerLink;
  readonly core: EdgeCore;
  readonly server: EdgeServer;
  /** What the primary sent while held, delivered in order by `deliver`. */
  readonly held: ToWorker[];
  hold: boolean;
}

let origin: TestOrigin | undefined;
const workers: TestWorker[] = [];

afterEach(async () => {
  for (const w of workers.splice(0)) {
    await w.server.close();
    await w.core.close();
  }
  await origin?.stop();
});

/** Node's 'advanced' IPC serialisation, so entries arrive as another process would get them. */
const overIpc = <T>(msg: T): T => deserialize(serialize(msg)) as T;

async function startWorkers(count: number, originUrl: string, onAsk: (from: number, msg: FromWorker) => void) {
  const { configPath } = writeConfigDir(edgeConfig(originUrl, '  warmUp: 0s\n'), { prefix: 'meridian-relay-' });
  const config = await loadEdgeConfig(configPath, 'fra');
  const leases = new LeaseTable({
    maxMs: 10_000,
    settle: (id, key, outcome) => toWorker(id, { kind: 'settled', key, outcome }),
  });
  const toWorker = (id: number, msg: ToWorker): void => {
    const w = workers[id]!;
    if (w.hold) w.held.push(overIpc(msg));
    else w.link.receive(overIpc(msg));
  };
  // The primary's side of pool.ts: leases, and every change passed on to the other workers.
  const fromWorker = (id: number, msg: FromWorker): void => {
    onAsk(id, msg);
    if (msg.kind === 'lease') toWorker(id, { kind: 'lease', key: msg.key, lead: leases.acquire(msg.key, id) });
    else if (msg.kind === 'release') leases.release(msg.key, id, msg.outcome);
    else if (msg.kind === 'change')
      for (let other = 0; other < workers.length; other++) if (other !== id) toWorker(other, msg);
  };
  for (let id = 0; id < count; id++) {
    const link = new WorkerLink((msg) => queueMicrotask(() => fromWorker(id, overIpc(msg))));
    const core = new EdgeCore({ config, log: capturedLog().log, now: Date.now, registry: new Registry(), peers: link });
    link.attach(core);
    const server = await startEdgeServer(
      core.state,
      { healthz: () => ({ status: 200, body: {} }), purge: () => ({ purged: 0, soft: false }), token: undefined },
      { host: '127.0.0.1', port: 0 },
    );
    workers.push({ link, core, server, held: [], hold: false });
  }
}

function deliver(w: TestWorker): void {
  w.hold = false;
  for (const msg of w.held.splice(0)) w.link.receive(msg);
}

const get = (w: TestWorker, path: string, headers: Record<string, string> = {}) =>
  request(w.server.url + path, { host: 'www.test', ...headers });

/**
 * Worker A fetches `path` while what the primary sends worker B is held; B then asks for the same
 * path. B has not seen the relay yet: its lookup misses and it asks for the lease, which A no
 * longer holds. The primary's answer follows the relayed object on B's channel.
 */
async function requestBehindRelay(path: string): Promise<{ first: TestResponse; answer: TestResponse; b: TestWorker }> {
  let bAsked = false;
  await startWorkers(2, origin!.url, (from, msg) => {
    if (from === 1 && msg.kind === 'lease') bAsked = true;
  });
  const [a, b] = workers as [TestWorker, TestWorker];
  b.hold = true;
  const first = await get(a, path);
  expect(b.held.some((m) => m.kind === 'change')).toBe(true);
  const second = get(b, path);
  await waitFor(() => bAsked, 5_000, "worker B's lease question");
  deliver(b);
  return { first, answer: await second, b };
}

describe('a worker whose relayed objects lag behind its requests', () => {
  it('serves the copy that arrived with its lease instead of fetching the object again', async () => {
    origin = await startOrigin(reply(200, { 'cache-control': 'public, max-age=600' }, 'the object'));
    const { first, answer, b } = await requestBehindRelay('/k');

    expect(first.header('cache-status')).toContain('fwd=uri-miss; fwd-status=200; stored');
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('the object');
    expect(answer.header('cache-status')).toBe('meridian-fra; fwd=uri-miss; collapsed; ttl=600');
    expect(origin.count('/k')).toBe(1);
    // B kept the relayed copy: its next request is a plain hit.
    expect((await get(b, '/k')).header('cache-status')).toMatch(/; hit; ttl=(600|59\d)$/);
  });

  it('still fetches when the relayed copy is one the request could not be served', async () => {
    // Stored, but must be revalidated before every use: a relayed copy is no answer by itself.
    origin = await startOrigin(reply(200, { 'cache-control': 'public, no-cache', etag: '"v1"' }, 'revalidate me'));
    const { answer } = await requestBehindRelay('/nc');

    expect(answer.status).toBe(200);
    expect(answer.text).toBe('revalidate me');
    expect(answer.header('cache-status')).not.toContain('collapsed');
    expect(origin.count('/nc')).toBe(2);
  });
});
