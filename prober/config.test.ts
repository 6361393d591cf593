import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROBE } from '../common/health-contract.js';
import { loadProberConfig } from './config.js';

function writeConfig(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'meridian-health-')), 'meridian.yaml');
  writeFileSync(file, yaml);
  return file;
}

async function loadError(yaml: string, pop = 'fra'): Promise<string> {
  try {
    await loadProberConfig(writeConfig(yaml), pop);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the config to be refused');
}

const loc = '{ lat: 0, lon: 0 }';

describe('loadProberConfig', () => {
  it('turns every PoP of the demo config into a target with the defaults', async () => {
    const config = await loadProberConfig('config/demo.yaml', 'iad');
    expect(config.vantage).toBe('iad');
    expect(config.targets.map((t) => t.pop)).toEqual(['fra', 'iad', 'gru', 'sin', 'syd', 'jnb']);
    expect(config.targets[0]).toEqual({
      kind: 'pop',
      pop: 'fra',
      edge: new URL('http://127.0.1.1:8080'),
      enabled: true,
      settings: DEFAULT_PROBE,
    });
    expect(config).toMatchObject({ interval: 1000, concurrency: 32, reportTo: ['http://127.0.0.1:8053'], skipped: [] });
    expect(config.latency).toEqual({
      resolvers: 100,
      refresh: 30_000,
      method: 'dns',
      port: 53,
      rate: 20,
      timeout: 1000,
    });
  });

  it('resolves settings PoP over first pool over health, and keeps disabled PoPs', async () => {
    const file = writeConfig(`
dns: { listen: ["127.0.0.1:5353"] }   # another service's section: not ours to check
health:
  interval: 2s
  timeout: 300ms
  fall: 4
  reportTo: [http://127.0.0.1:8053, http://127.0.0.2:8053]
  check: { type: http, path: /ping, bodyMatch: "^ok" }
pops:
  - { id: fra, location: ${loc}, ipv4: [192.0.2.1], edge: "http://192.0.2.1:8080" }
  - { id: iad, location: ${loc}, ipv4: [192.0.2.2], edge: "https://[2001:db8::2]", enabled: false, health: { rise: 5 } }
  - { id: sin, location: ${loc}, ipv4: [192.0.2.3], edge: "http://192.0.2.3", health: { check: { type: dns, name: health.demo.test } } }
  - { id: nyc, location: ${loc}, ipv4: [192.0.2.4] }
pools:
  - { id: tcp-only, members: [iad, sin], health: { check: { type: tcp, port: 8443 }, interval: 500 } }
  - { id: other, members: [fra, iad], health: { timeout: 1s } }
`);
    const config = await loadProberConfig(file, 'fra');
    expect(config).toMatchObject({
      interval: 2000,
      reportTo: ['http://127.0.0.1:8053', 'http://127.0.0.2:8053'],
      skipped: ['nyc'],
    });
    const [fra, iad, sin] = config.targets;
    expect(config.targets).toHaveLength(3);
    expect(fra!.settings).toEqual({
      check: { type: 'http', path: '/ping', expectStatus: 200, bodyMatch: '^ok' },
      interval: 2000,
      fastInterval: 500,
      timeout: 1000,
      rise: 2,
      fall: 4,
    });
    expect(iad).toMatchObject({
      enabled: false,
      settings: { check: { type: 'tcp', port: 8443 }, interval: 500, timeout: 300, rise: 5, fall: 4 },
    });
    expect(iad!.edge.hostname).toBe('[2001:db8::2]');
    expect(sin!.settings.check).toEqual({ type: 'dns', name: 'health.demo.test', qtype: 'A', port: 53 });
  });

  it('reads health.control.listen, off when unset (like the edge, the prober has a control port only when asked)', async () => {
    const pops = `pops:\n  - { id: fra, location: ${loc}, ipv4: [192.0.2.1] }\n`;
    expect(
      (await loadProberConfig(writeConfig(`health: { control: { listen: "127.0.0.1:8090" } }\n${pops}`), 'fra'))
        .controlListen,
    ).toEqual({ host: '127.0.0.1', port: 8090 });
    expect((await loadProberConfig(writeConfig(pops), 'fra')).controlListen).toBeUndefined();
    expect(await loadError(`health: { control: { listen: "8090" } }\n${pops}`)).toMatch(
      /health\.control\.listen: '8090' is not HOST:PORT/,
    );
  });

  it('reads health.latency, over its defaults', async () => {
    const pops = `pops:\n  - { id: fra, location: ${loc}, ipv4: [192.0.2.1] }\n`;
    const config = await loadProberConfig(
      writeConfig(`health: { latency: { method: tcp, port: 853, refresh: 2m, rate: 0.5 } }\n${pops}`),
      'fra',
    );
    expect(config.latency).toEqual({
      resolvers: 100,
      refresh: 120_000,
      method: 'tcp',
      port: 853,
      rate: 0.5,
      timeout: 1000,
    });
    expect(await loadError(`health: { latency: { rate: 0 } }\n${pops}`)).toMatch(/health\.latency\.rate: .*>0/);
    expect(await loadError(`health: { latency: { method: icmp } }\n${pops}`)).toMatch(/health\.latency\.method: /);
    expect(await loadError(`health: { latency: { refresh: 0 } }\n${pops}`)).toMatch(
      /health\.latency\.refresh: must be at least 1 ms/,
    );
  });

  it('refuses an unknown --pop, listing the known ones', async () => {
    const msg = await loadError(
      `pops:\n  - { id: fra, location: ${loc}, ipv4: [192.0.2.1] }\n  - { id: iad, location: ${loc}, ipv4: [192.0.2.2] }\n`,
      'ams',
    );
    expect(msg).toMatch(/meridian\.yaml: pops: no PoP with id 'ams' \(--pop\); known: fra, iad$/);
  });

  it('refuses a --pop that health.vantagePoints does not list, and a list or quorum that cannot work', async () => {
    const pops = `pops:\n  - { id: fra, location: ${loc}, ipv4: [192.0.2.1] }\n  - { id: iad, location: ${loc}, ipv4: [192.0.2.2] }\n`;
    expect(await loadProberConfig(writeConfig(`health: { vantagePoints: [fra] }\n${pops}`), 'fra')).toMatchObject({
      vantage: 'fra',
    });
    expect(await loadError(`health: { vantagePoints: [fra] }\n${pops}`, 'iad')).toMatch(
      /health\.vantagePoints: 'iad' \(--pop\) is not listed, so the DNS servers would refuse its reports; listed: fra$/,
    );
    expect(await loadError(`health: { vantagePoints: [fra, ams, fra] }\n${pops}`)).toMatch(
      /vantagePoints\[1\]: no PoP with id 'ams'\n.*vantagePoints\[2\]: 'fra' is listed twice/,
    );
    expect(await loadError(`health: { quorum: 3 }\n${pops}`)).toMatch(
      /health\.quorum: 3 can never be reached: the config has 2 vantage points$/,
    );
  });

  it('names the file and path of a bad value', async () => {
    const msg = await loadError(`health: { fall: 0 }\npops:\n  - { id: fra, location: ${loc}, ipv4: [192.0.2.1] }\n`);
    expect(msg).toMatch(/meridian\.yaml: health\.fall: .*>=1/);
    const edge = await loadError(`pops:\n  - { id: fra, location: ${loc}, ipv4: [192.0.2.1], edge: "ftp://x" }\n`);
    expect(edge).toMatch(/meridian\.yaml: pops\[0\]\.edge: expected an http\(s\) URL/);
  });

  it('refuses a bodyMatch that is not a regular expression, where it was set', async () => {
    const msg = await loadError(`
pops:
  - { id: fra, location: ${loc}, ipv4: [192.0.2.1], edge: "http://192.0.2.1" }
pools:
  - { id: p, members: [fra], health: { check: { type: http, bodyMatch: "(" } } }
`);
    expect(msg).toMatch(/meridian\.yaml: pools\[0\]\.health\.check\.bodyMatch: Invalid regular expression/);
  });

  it('applies the shared topology rules', async () => {
    const msg = await loadError(
      `pops:\n  - { id: fra, location: ${loc}, ipv4: [192.0.2.1] }\n  - { id: fra, location: ${loc}, ipv4: [192.0.2.2] }\n`,
    );
    expect(msg).toMatch(/pops\[1\]\.id: PoP id 'fra' is used twice/);
  });

  describe('checked CNAME members (other CDNs)', () => {
    const pops = `pops:
  - { id: fra, location: ${loc}, ipv4: [192.0.2.1], edge: "http://192.0.2.1:8080" }
  - { id: iad, location: ${loc}, ipv4: [192.0.2.2], edge: "http://192.0.2.2:8080" }`;

    it('probes a member at its check url with the pool and health settings under its own', async () => {
      const file = writeConfig(`
health: { interval: 2s, fall: 4 }
${pops}
pools:
  - id: global
    health: { timeout: 300ms }
    members:
      - fra
      - { cname: edge.other-cdn.example., id: other, weight: 10, health: { check: { type: http, url: "http://127.0.0.1:9/health" }, rise: 1 } }
      - { cname: plain.cdn.example. }
  - { id: eu, members: [iad, { cname: edge.other-cdn.example., id: other, weight: 10, health: { check: { type: http, url: "http://127.0.0.1:9/health" }, rise: 1 } }] }
`);
      const config = await loadProberConfig(file, 'fra');
      expect(config.targets.map((t) => `${t.kind}:${t.pop}`)).toEqual(['pop:fra', 'pop:iad', 'member:other']);
      const other = config.targets[2]!;
      expect(other.edge.href).toBe('http://127.0.0.1:9/health');
      expect(other.settings).toEqual({
        check: { type: 'http', url: 'http://127.0.0.1:9/health', path: '/healthz', expectStatus: 200 },
        interval: 2000,
        // interval / 4 (common/health-contract.ts): a member in transition is confirmed as fast as a PoP.
        fastInterval: 500,
        timeout: 300,
        rise: 1,
        fall: 4,
      });
    });

    it('refuses a checked member without an id, naming the field and suggesting one', async () => {
      const msg = await loadError(`${pops}
pools:
  - { id: global, members: [fra, { cname: edge.other-cdn.example., health: { check: { type: http, url: "http://127.0.0.1:9/" } } }] }
`);
      expect(msg).toMatch(
        /meridian\.yaml: pools\[0\]\.members\[1\]\.id: a CNAME member with a health check needs an id .*e\.g\. id: other-cdn/,
      );
    });

    it('refuses a member id that is a PoP id or names two different members', async () => {
      const msg = await loadError(`${pops}
pools:
  - { id: a, members: [fra, { cname: x.example., id: iad }, { cname: y.example., id: other }] }
  - { id: b, members: [fra, { cname: z.example., id: other }] }
`);
      expect(msg).toContain("pools[0].members[1].id: 'iad' is a PoP id; a CNAME member needs its own");
      expect(msg).toContain("pools[1].members[1].id: 'other' already names another member (pools[0].members[2]");
    });

    it('refuses member checks other than http with a url, and a url on PoP checks', async () => {
      const msg = await loadError(`
health: { check: { type: http, url: "http://127.0.0.1:9/" } }
${pops}
pools:
  - { id: a, members: [fra, { cname: x.example., id: x, health: { check: { type: tcp } } }, { cname: y.example., id: y, health: { rise: 2 } }] }
  - { id: b, members: [iad], health: { check: { type: http, url: "http://127.0.0.1:9/" } } }
`);
      expect(msg).toContain('pools[0].members[1].health.check: a CNAME member is checked by { type: http, url: ... }');
      expect(msg).toContain("pools[0].members[2].health.check: a CNAME member's health needs a check");
      expect(msg).toContain("pools[1].health.check.url: a check 'url' is for CNAME members");
      expect(msg).toContain("health.check.url: a check 'url' is for CNAME members");
    });

    it('refuses a check url that is not http(s)', async () => {
      const msg = await loadError(`${pops}
pools:
  - { id: a, members: [fra, { cname: x.example., id: x, health: { check: { type: http, url: "ftp://127.0.0.1/" } } }] }
`);
      expect(msg).toMatch(/pools\[0\]\.members\[1\].*url/);
    });
  });
});

describe('catchment: the anycast addresses to ask, and probers outside the PoPs', () => {
  const yaml = `
pops:
  - { id: a, location: ${loc}, ipv4: [10.0.0.1], edge: "http://10.0.0.1:80" }
  - { id: b, location: ${loc}, ipv4: [10.0.0.2], edge: "http://10.0.0.2:80" }
health:
  catchment: { interval: 2s, vantages: [c1, c2] }
anycast:
  prefixes:
    - prefix: 198.51.100.0/25
      addresses: [{ address: 198.51.100.53, serves: dns }]
    - prefix: 198.51.100.128/25
      addresses: [{ address: 198.51.100.180, serves: edge, port: 8080 }]
`;

  it("a PoP's prober probes edges and asks every anycast address at its port", async () => {
    const config = await loadProberConfig(writeConfig(yaml), 'a');
    expect(config.inPop).toBe(true);
    expect(config.targets).toHaveLength(2);
    expect(config.catchment).toEqual({
      interval: 2000,
      timeout: 1000,
      pops: ['a', 'b'],
      addresses: [
        { address: '198.51.100.53', serves: 'dns', port: 53 },
        { address: '198.51.100.180', serves: 'edge', port: 8080 },
      ],
    });
  });

  it('a listed vantage outside the PoPs asks catchment only: no edges, no resolver RTTs', async () => {
    const config = await loadProberConfig(writeConfig(yaml), { vantage: 'c1' });
    expect(config).toMatchObject({ vantage: 'c1', inPop: false, targets: [] });
    expect(config.latency.resolvers).toBe(0);
    expect(config.catchment.addresses).toHaveLength(2);
    // A vantage named like a PoP is that PoP's prober.
    expect((await loadProberConfig(writeConfig(yaml), { vantage: 'b' })).inPop).toBe(true);
  });

  it('refuses a vantage the DNS servers would refuse, and a catchment vantage named like a PoP', async () => {
    await expect(loadProberConfig(writeConfig(yaml), { vantage: 'c9' })).rejects.toThrow(
      /health\.catchment\.vantages: 'c9' \(--vantage\) is neither a PoP nor listed, so the DNS servers would refuse its reports; listed: c1, c2/,
    );
    expect(await loadError(yaml.replace('[c1, c2]', '[c1, a, c1]'), 'a')).toMatch(
      /health\.catchment\.vantages\[1\]: 'a' is a PoP[^\n]*\n[^\n]*health\.catchment\.vantages\[2\]: 'c1' is listed twice/,
    );
  });
});
