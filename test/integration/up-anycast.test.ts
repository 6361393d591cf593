// `meridian up` with a config that has an `anycast:` section, on a machine that cannot run the
// announcers (here: no BIRD answers on the PoPs' sockets; without root it is CAP_NET_ADMIN that
// is missing). `up` must not fail: one line per reason, the announcers left out, and the rest of
// the CDN serving, with anycast pools answered by unicast steering (never an empty answer).
// config/hybrid.yaml with this test's addresses and ports.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { closedPort } from '../helpers/closed-port.js';
import { query } from '../helpers/dig.js';
import { collectLines, spawnMeridian } from '../helpers/meridian-process.js';
import { REPO_ROOT } from '../helpers/repo-paths.js';
import { needs } from '../helpers/system-tools.js';
import { waitFor } from '../helpers/wait-for.js';

// Apart from hybrid.yaml's own 127.0.x.1 and the other `up` test's 127.61.x.1.
const POPS = ['fra', 'iad', 'sin'] as const;
const ADDR: Record<(typeof POPS)[number], string> = { fra: '127.63.1.1', iad: '127.63.2.1', sin: '127.63.4.1' };

let dir: string;
let up: ChildProcess | undefined;
let exited: Promise<{ code: number | null; signal: string | null }>;
const output: string[] = [];
const ports = { dns: 0, dnsHttp: 0, origin: 0, up: 0, edge: 0, prober: 0 };

function testConfig(): string {
  const c = parse(readFileSync(join(REPO_ROOT, 'config', 'hybrid.yaml'), 'utf8')) as Record<string, any>;
  c.dns.listen = [`127.0.0.1:${ports.dns}`];
  c.dns.control = { listen: `127.0.0.1:${ports.dnsHttp}` };
  for (const pop of c.pops as { id: (typeof POPS)[number]; ipv4: string[]; edge: string }[]) {
    pop.ipv4 = [ADDR[pop.id]];
    pop.edge = `http://${ADDR[pop.id]}:${ports.edge}`;
  }
  c.health.reportTo = [`http://127.0.0.1:${ports.dnsHttp}`];
  c.edge.origin = `http://127.0.0.1:${ports.origin}`;
  c.geo.databases = [join(REPO_ROOT, 'geo-data', 'test-city.mmdb')];
  // Sockets no BIRD listens on: not anycast-capable, root or not.
  for (const p of c.anycast.pops as { pop: string; bgp: { socket: string } }[])
    p.bgp.socket = join(dir, `${p.pop}.ctl`);
  return stringify(c);
}

describe('meridian up with anycast, where announcers cannot run', needs('dig'), () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-up-anycast-'));
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await closedPort();
    const file = join(dir, 'hybrid.yaml');
    writeFileSync(file, testConfig());
    const child = spawnMeridian([
      'up',
      '--config',
      file,
      '--control-listen',
      `127.0.0.1:${ports.up}`,
      '--prober-port',
      String(ports.prober),
    ]);
    up = child;
    exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    collectLines(child.stdout, output);
    collectLines(child.stderr, output);
    let gone = false;
    void exited.then(() => (gone = true));
    await waitFor(() => gone || output.some((l) => l.startsWith('Meridian is up')), 60_000, 'the banner').catch(
      (e: Error) => {
        throw new Error(`${e.message}\n${output.join('\n')}`);
      },
    );
    if (gone) throw new Error(`meridian up exited before it was ready:\n${output.join('\n')}`);
  }, 70_000);

  afterAll(async () => {
    if (up && up.exitCode === null && up.signalCode === null) {
      up.kill('SIGKILL');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('says in one line per reason that anycast is not started, in the log and again in the banner', () => {
    const skipped = output.filter((l) => /anycast( \w+)?: not started — /.test(l));
    const text = skipped.join('\n');
    if (text.includes('anycast: not started — needs root (CAP_NET_ADMIN)')) {
      expect(text).toContain('to add 198.51.100.53, 198.51.100.80, 2001:db8:100::53 and 2001:db8:100::80');
      expect(text).toContain('sudo npm run lab:anycast -- up');
    } else
      for (const pop of POPS)
        expect(text).toContain(
          `anycast ${pop}: not started — BIRD does not answer on ${join(dir, `${pop}.ctl`)} (ENOENT); start BIRD 2`,
        );
    // Each reason twice: as up's warning at start, and repeated under the banner.
    const banner = output.findIndex((l) => l.startsWith('Meridian is up'));
    expect(skipped.length).toBeGreaterThan(0);
    expect(output.slice(banner).filter((l) => /^anycast( \w+)?: not started — /.test(l))).toHaveLength(
      output.slice(0, banner).filter((l) => /anycast( \w+)?: not started — /.test(l)).length,
    );
  });

  it('runs everything else, and no announcer', async () => {
    const res = await request(`http://127.0.0.1:${ports.up}/v1/processes`);
    const body = (await res.body.json()) as { ready: boolean; processes: { name: string; state: string }[] };
    expect(body.ready).toBe(true);
    expect(body.processes.map((p) => p.name).sort()).toEqual(
      ['dns', 'origin', ...POPS.map((p) => `edge ${p}`), ...POPS.map((p) => `health ${p}`)].sort(),
    );
    expect(body.processes.every((p) => p.state === 'running')).toBe(true);
  });

  it('DNS answers: an anycast pool falls back to unicast steering, a unicast name as usual', async () => {
    const dns = { host: '127.0.0.1', port: ports.dns };
    const small = await query(dns, ['img.cdn.hybrid.test', 'A']);
    expect(small.status).toBe('NOERROR');
    expect(small.answer.filter((r) => r.type === 'A').map((r) => r.data)).toEqual([ADDR.fra]);
    const www = await query(dns, ['www.hybrid.test', 'A']);
    expect(www.answer.filter((r) => r.type === 'A').map((r) => r.data)).toEqual([ADDR.fra]);
  });

  it('stops cleanly on SIGINT', async () => {
    up!.kill('SIGINT');
    expect(await exited).toEqual({ code: 0, signal: null });
  }, 20_000);
});
