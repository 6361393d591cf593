// The DNS server's side of health: reports pushed over the control API move answers, quorum
// and overrides decide, and overrides and verdicts survive a restart.
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { control } from '../helpers/control-client.js';
import { query } from '../helpers/dig.js';
import { runMeridian } from '../helpers/meridian-process.js';
import { startServer, type RunningServer } from '../helpers/spawn-dns.js';
import { needs } from '../helpers/system-tools.js';

const CONFIG = `
dns:
  control: { token: secret }
pops:
  - { id: tokyo, location: { lat: 35.68, lon: 139.69 }, ipv4: [192.0.2.10] }
  - { id: nyc, location: { lat: 40.71, lon: -74.01 }, ipv4: [192.0.2.20] }
  - { id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [192.0.2.30] }
pools:
  - { id: p, members: [tokyo, nyc, fra] }
health: { grace: 2s }
geo:
  nets: [{ network: 127.0.0.0/8, location: { lat: 34.69, lon: 135.50 } }]
zones:
  - name: example.test
    soa: { mname: ns1.example.test., rname: admin.example.test. }
    ns: [ns1.example.test.]
    records: [{ name: ns1, type: A, value: 192.0.2.1 }]
    routes: [{ name: www, pool: p, ttl: 10 }]
`;

const AUTH = { authorization: 'Bearer secret', 'content-type': 'application/json' };
let seq = 0;
async function report(
  server: RunningServer,
  vantage: string,
  down: string[],
  epoch = 1,
  resolvers: { network: string; rttMs: number }[] = [],
) {
  const body = {
    vantage,
    epoch,
    seq: ++seq,
    interval: 500,
    targets: ['tokyo', 'nyc', 'fra'].map((pop) => ({ pop, up: !down.includes(pop), rttMs: 12.5 })),
    resolvers,
  };
  const res = await fetch(`${server.controlUrl}/v1/health/reports`, {
    method: 'POST',
    headers: AUTH,
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}
const answer = async (server: RunningServer) => (await query(server, ['www.example.test'])).answer.map((a) => a.data);

describe('health reports and overrides on the DNS server', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('moves the answer away from a PoP a quorum sees down, and back when it recovers', needs('dig'), async () => {
    server = await startServer(CONFIG);
    expect(await answer(server)).toEqual(['192.0.2.10']);
    await report(server, 'nyc', ['tokyo']);
    await report(server, 'fra', []);
    expect(await answer(server)).toEqual(['192.0.2.10']); // 1 of 2: no quorum
    await report(server, 'tokyo', ['tokyo']);
    expect(await answer(server)).toEqual(['192.0.2.30']); // 2 of 3: down → next nearest (Frankfurt)
    const h = await control(server, 'GET', '/v1/health');
    const tokyo = (h.json as { pops: { pop: string; verdict: string; votes: unknown[] }[] }).pops.find(
      (p) => p.pop === 'tokyo',
    )!;
    expect(tokyo.verdict).toBe('down');
    expect(tokyo.votes).toHaveLength(3);
    const explained = await control(server, 'GET', '/v1/explain?name=www.example.test&client=127.0.0.1');
    expect(JSON.stringify(explained.json)).toContain(
      'down: 2 of 3 expected vantage points see it down (3 report, quorum 2)',
    );
    await report(server, 'nyc', []);
    await report(server, 'tokyo', []);
    expect(await answer(server)).toEqual(['192.0.2.10']);
    expect(server.stdout.join('\n')).toMatch(/"pop":"tokyo","from":"up","to":"down".*PoP health verdict changed/);
  });

  it('lists the resolver networks that query routed names, and steers them by measured RTT', needs('dig'), async () => {
    server = await startServer(CONFIG);
    expect(await answer(server)).toEqual(['192.0.2.10']); // by distance: Osaka → Tokyo
    const listed = await control(server, 'GET', '/v1/resolvers?limit=10');
    expect(listed.json).toEqual({ resolvers: [{ network: '127.0.0.0/24', sample: '127.0.0.1', queries: 1 }] });
    expect((await control(server, 'GET', '/v1/resolvers?limit=0')).status).toBe(400);
    // Each PoP's prober measured its RTT to that resolver network: Frankfurt is clearly fastest.
    const rtts: Record<string, number> = { tokyo: 80, nyc: 90, fra: 10 };
    for (const pop of ['tokyo', 'nyc', 'fra'])
      await report(server, pop, [], 1, [{ network: '127.0.0.0/24', rttMs: rtts[pop]! }]);
    // Decisions are re-made within 5 s; a health change is not needed for new RTTs to count.
    const deadline = Date.now() + 8000;
    let got: string[] = [];
    while (Date.now() < deadline) {
      for (const pop of ['tokyo', 'nyc', 'fra'])
        await report(server, pop, [], 1, [{ network: '127.0.0.0/24', rttMs: rtts[pop]! }]);
      got = await answer(server);
      if (got[0] === '192.0.2.30') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(got).toEqual(['192.0.2.30']);
    const e = await control(server, 'GET', '/v1/explain?name=www.example.test&client=127.0.0.1');
    const decision = (
      e.json as { decisions: { rankedBy: string; candidates: { id: string; measuredRttMs: number | null }[] }[] }
    ).decisions[0]!;
    expect(decision.rankedBy).toBe('measured-latency');
    expect(decision.candidates.map((c) => [c.id, c.measuredRttMs])).toEqual([
      ['fra', 10],
      ['tokyo', 80],
      ['nyc', 90],
    ]);
    // With ECS the client is not the resolver: distance decides again.
    expect((await query(server, ['www.example.test', '+subnet=127.0.0.0/24'])).answer.map((a) => a.data)).toEqual([
      '192.0.2.10',
    ]);
  });

  it('refuses reports without the token, malformed ones with a reason, and replays with 409', async () => {
    server = await startServer(CONFIG);
    const noAuth = await fetch(`${server.controlUrl}/v1/health/reports`, { method: 'POST', body: '{}' });
    expect(noAuth.status).toBe(401);
    const bad = await fetch(`${server.controlUrl}/v1/health/reports`, {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({ vantage: 'nyc' }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/invalid health report: epoch/);
    const unknown = await report(server, 'mars', []);
    expect(unknown.status).toBe(400);
    const body = { vantage: 'nyc', epoch: 5, seq: 7, interval: 500, targets: [] };
    expect(
      (
        await fetch(`${server.controlUrl}/v1/health/reports`, {
          method: 'POST',
          headers: AUTH,
          body: JSON.stringify(body),
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await fetch(`${server.controlUrl}/v1/health/reports`, {
          method: 'POST',
          headers: AUTH,
          body: JSON.stringify(body),
        })
      ).status,
    ).toBe(409);
  });

  it('fails open when reports stop: after the grace period the PoP is answered again', needs('dig'), async () => {
    server = await startServer(CONFIG);
    await report(server, 'nyc', ['tokyo']);
    await report(server, 'fra', ['tokyo']);
    expect(await answer(server)).toEqual(['192.0.2.30']);
    // Reports go stale after 3 × 500 ms; the verdict then holds for the 2 s grace.
    await new Promise((r) => setTimeout(r, 4000));
    expect(await answer(server)).toEqual(['192.0.2.10']);
  });

  it(
    'keeps a dead PoP out across a restart: the first report saying it is up decides nothing',
    needs('dig'),
    async () => {
      const config = CONFIG.replace('grace: 2s', 'grace: 30s');
      server = await startServer(config);
      await report(server, 'nyc', ['tokyo']);
      await report(server, 'fra', ['tokyo']);
      expect(await answer(server)).toEqual(['192.0.2.30']);
      const verdictsFile = server.configPath.replace(/\.ya?ml$/, '.verdicts.state.json');
      expect(JSON.parse(readFileSync(verdictsFile, 'utf8')).verdicts.tokyo).toMatchObject({ up: false });

      // A crash, not a clean stop: the verdict was saved when it changed.
      const configPath = server.configPath;
      server.process.kill('SIGKILL');
      await server.exited;
      server = await startServer({ file: configPath });
      expect(await answer(server)).toEqual(['192.0.2.30']); // before any report
      await report(server, 'tokyo', []); // tokyo's own prober, say, still sees its edge up
      expect(await answer(server)).toEqual(['192.0.2.30']);
      const h = await control(server, 'GET', '/v1/health');
      const tokyo = (h.json as { pops: { pop: string; verdict: string; reason: string }[] }).pops.find(
        (p) => p.pop === 'tokyo',
      )!;
      expect(tokyo).toMatchObject({
        verdict: 'down',
        reason: expect.stringMatching(
          /^down: 1 of 3 expected vantage points report, 0 see it down, quorum 2: verdict from before the restart held/,
        ),
      });
      expect(server.stdout.join('\n')).toMatch(
        /"restored":\{"tokyo":"down","nyc":"up","fra":"up"\}.*health verdicts from before the restart/,
      );
      await report(server, 'nyc', []); // a quorum (2 of 3) sees it up
      expect(await answer(server)).toEqual(['192.0.2.10']);
    },
  );

  it('drains with `meridian pop`, keeps the drain across a restart, and undrains', needs('dig'), async () => {
    server = await startServer(CONFIG);
    const env = { MERIDIAN_CONTROL_TOKEN: 'secret' };
    const drained = await runMeridian(['pop', 'drain', 'tokyo', '--control', server.controlUrl], 10_000, env);
    expect(drained.stdout).toMatch(/tokyo: not answered \(drained by an operator/);
    expect(await answer(server)).toEqual(['192.0.2.30']);
    const stateFile = server.configPath.replace(/\.ya?ml$/, '.state.json');
    expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toEqual({ overrides: { tokyo: 'drain' } });

    const configPath = server.configPath;
    await server.process.kill('SIGTERM');
    await server.exited;
    server = await startServer({ file: configPath });
    expect(await answer(server)).toEqual(['192.0.2.30']);
    const back = await runMeridian(['pop', 'undrain', 'tokyo', '--control', server.controlUrl], 10_000, env);
    expect(back.code).toBe(0);
    expect(await answer(server)).toEqual(['192.0.2.10']);
    expect(existsSync(stateFile)).toBe(true);
    const wrong = await runMeridian(['pop', 'drain', 'mars', '--control', server.controlUrl], 10_000, env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/no PoP or checked CNAME member with id 'mars'/);
  });
});
