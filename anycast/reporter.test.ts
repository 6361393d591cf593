// The announcer's reporter against stand-in DNS servers: what it posts, and how the override in
// the replies is combined (any server's drain wins; with no server answering the last word holds).
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../common/log.js';
import { localHttp, type LocalHttp } from '../test/helpers/local-http.js';
import { waitFor } from '../test/helpers/wait-for.js';
import { startAnycastReporter, type AnycastReporter, type Override } from './reporter.js';

const log = createLogger({ service: 'anycast', level: 'silent' });

/** A DNS control port that records the reports and answers with the override the test sets. */
async function dnsServer(state: {
  override: Override;
  bodies: unknown[];
  auth: (string | undefined)[];
}): Promise<LocalHttp> {
  return localHttp((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      // A request the reporter gave up on (its 100 ms timeout) may arrive cut short.
      try {
        state.bodies.push(JSON.parse(text));
      } catch {
        return void res.destroy();
      }
      state.auth.push(req.headers.authorization);
      res
        .writeHead(req.url === '/v1/anycast/reports' ? 200 : 404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ accepted: true, override: state.override }));
    });
  });
}

describe('anycast reporter', () => {
  const servers: LocalHttp[] = [];
  let reporter: AnycastReporter | undefined;
  afterEach(async () => {
    await reporter?.stop();
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('posts the state with the token; a drain from any server wins; an unreachable fleet changes nothing', async () => {
    const one = { override: null as Override, bodies: [] as unknown[], auth: [] as (string | undefined)[] };
    const two = { override: null as Override, bodies: [] as unknown[], auth: [] as (string | undefined)[] };
    servers.push(await dnsServer(one), await dnsServer(two));
    const said: Override[] = [];
    reporter = startAnycastReporter({
      pop: 'fra',
      epoch: 42,
      interval: 100,
      reportTo: servers.map((s) => s.url),
      token: 't0ken',
      prefixes: () => [],
      onOverride: (o) => said.push(o),
      log,
    });
    const r = reporter;
    await waitFor(() => one.bodies.length > 0 && two.bodies.length > 0, 2000, 'reports delivered');
    expect(one.bodies[0]).toEqual({ pop: 'fra', epoch: 42, seq: 1, interval: 100, prefixes: [] });
    expect(one.auth[0]).toBe('Bearer t0ken');
    two.override = 'drain';
    await waitFor(() => r.override === 'drain', 2000, 'drain');
    // Both servers gone: the drain holds (a DNS outage must not re-announce by itself).
    await Promise.all(servers.map((s) => s.stop()));
    await new Promise((res) => setTimeout(res, 300));
    expect(r.override).toBe('drain');
    expect(r.status().every((d) => d.lastError !== null)).toBe(true);
    two.override = null;
    await servers[1]!.start();
    await waitFor(() => r.override === null, 2000, 'undrain');
    expect(said).toEqual(['drain', null]);
  });
});
