import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { localHttp, type LocalHttp } from '../../test/helpers/local-http.js';
import { collectAnycast, formatAnycast } from './anycast.js';

const json = (res: ServerResponse, status: number, body: unknown) =>
  void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const prefix = (announced: boolean, reason: string, penalty = 0, suppressed = false, flaps = 0) => ({
  prefix: '198.51.100.0/24',
  announced,
  reason,
  penalty,
  suppressed,
  flaps,
  holdDownMs: 0,
  addresses: [],
});

describe('the anycast table of meridian status', () => {
  const servers: LocalHttp[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('reads the DNS server’s view into one row per PoP and prefix, and says who announces each address', async () => {
    const s = await localHttp((_req, res) =>
      json(res, 200, {
        pops: [
          { pop: 'fra', fresh: true, ageMs: 420, epoch: 1, seq: 9, prefixes: [prefix(true, 'healthy')] },
          {
            pop: 'iad',
            fresh: true,
            ageMs: 130,
            epoch: 1,
            seq: 4,
            prefixes: [prefix(false, 'held down by damping for 12 s (penalty 1840 above reuse 750)', 1840.4, true, 3)],
          },
          { pop: 'sin', fresh: false, ageMs: 9000, epoch: 1, seq: 2, prefixes: [prefix(true, 'healthy')] },
        ],
        addresses: [
          {
            address: '198.51.100.80',
            announcedBy: ['fra'],
            reason: 'announced by 1 PoP (fra); 1 stale report not counted',
          },
        ],
      }),
    );
    servers.push(s);
    const view = await collectAnycast(new URL(s.url), 1000);
    expect(formatAnycast(view)).toEqual([
      '',
      'anycast (as the announcers report it; a stale report counts as nothing announced):',
      'POP  PREFIX           ANNOUNCED  PENALTY  SUPPRESSED  FLAPS  REPORT AGE     WHY',
      'fra  198.51.100.0/24  yes        0        no          0      0.4 s          healthy',
      'iad  198.51.100.0/24  no         1840     yes         3      0.1 s          held down by damping for 12 s (penalty 1840 above reuse 750)',
      'sin  198.51.100.0/24  yes        0        no          0      9.0 s (stale)  healthy',
      '  198.51.100.80: answered: announced by 1 PoP (fra); 1 stale report not counted',
    ]);
  });

  it('shows nothing for a server without announcers or from before anycast (404)', async () => {
    const old = await localHttp((_req, res) => json(res, 404, { error: 'not found' }));
    const none = await localHttp((_req, res) => json(res, 200, { pops: [], addresses: [] }));
    servers.push(old, none);
    expect(await collectAnycast(new URL(old.url), 1000)).toBeNull();
    expect(await collectAnycast(new URL(none.url), 1000)).toBeNull();
    expect(formatAnycast(null)).toEqual([]);
    expect(formatAnycast({ rows: [], addresses: [], error: 'GET /v1/anycast: HTTP 500' })).toEqual([
      '',
      'anycast: not read: GET /v1/anycast: HTTP 500',
    ]);
  });
});
