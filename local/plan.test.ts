// Which processes a topology implies, and the config mistakes `up` refuses before starting any.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { planFor } from './plan.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEMO = join(ROOT, 'config', 'demo.yaml');
const CONTROL = { host: '127.0.0.1', port: 8054 };

/** The demo topology with `change` applied, written to a temp file. */
function variant(change: (c: Record<string, any>) => void): string {
  const config = parse(readFileSync(DEMO, 'utf8')) as Record<string, any>;
  config.geo.databases = [join(ROOT, 'geo-data', 'test-city.mmdb')];
  config.zones[0].file = join(ROOT, 'config', 'zones', 'demo.test.extra.zone');
  change(config);
  const file = join(mkdtempSync(join(tmpdir(), 'meridian-plan-')), 'cdn.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

describe('planFor', () => {
  it('demo.yaml: the origin, the DNS server with one worker, and an edge and a prober per PoP', async () => {
    const plan = await planFor(DEMO, { proberPort: 8090, controlListen: CONTROL });
    expect(plan.configFile).toBe(DEMO);
    expect(plan.warnings).toEqual([]);
    expect(plan.processes).toHaveLength(14);
    const byName = new Map(plan.processes.map((p) => [p.name, p]));
    expect(byName.get('origin')).toMatchObject({
      args: ['origin', '--listen', '127.0.0.1:8081'],
      readyUrl: 'http://127.0.0.1:8081/healthz',
      stage: 1,
    });
    expect(byName.get('dns')).toMatchObject({
      args: ['dns', '--config', DEMO, '--workers', '1'],
      readyUrl: 'http://127.0.0.1:8053/healthz',
      stage: 1,
    });
    expect(byName.get('edge sin')).toMatchObject({
      role: 'edge',
      pop: 'sin',
      args: ['edge', '--config', DEMO, '--pop', 'sin', '--workers', '1'],
      url: 'http://127.0.4.1:8080',
      stage: 1,
    });
    // Probers start once the edges serve, each on its own PoP's address.
    expect(byName.get('health sin')).toMatchObject({
      args: ['health', '--config', DEMO, '--pop', 'sin', '--control-listen', '127.0.4.1:8090'],
      readyUrl: 'http://127.0.4.1:8090/healthz',
      stage: 2,
    });
    expect(plan.pops.map((p) => p.id)).toEqual(['fra', 'iad', 'gru', 'sin', 'syd', 'jnb']);
    expect(plan.routedNames).toEqual(['www.demo.test', '*.cdn.demo.test']);
    expect(plan.dns).toEqual({
      listen: [
        { host: '127.0.0.1', port: 5353 },
        { host: '::1', port: 5353 },
      ],
      control: 'http://127.0.0.1:8053',
    });
    expect(plan.listeners).toContainEqual({
      host: '127.0.0.1',
      port: 5353,
      proto: 'udp',
      what: 'the DNS server (dns.listen)',
    });
  });

  it('a fixed edge.control port is given to each edge on its own address', async () => {
    const plan = await planFor(
      variant((c) => (c.edge.control = { listen: '127.0.0.1:9080' })),
      { proberPort: 8090, controlListen: CONTROL },
    );
    expect(plan.processes.find((p) => p.name === 'edge fra')!.args.slice(-2)).toEqual([
      '--control-listen',
      '127.0.1.1:9080',
    ]);
    expect(plan.processes.find((p) => p.name === 'edge jnb')!.args.slice(-2)).toEqual([
      '--control-listen',
      '127.0.6.1:9080',
    ]);
  });

  it('PoPs sharing one address get consecutive prober ports', async () => {
    const file = variant((c) =>
      c.pops.forEach((p: { edge: string }, i: number) => (p.edge = `http://127.0.0.1:${18080 + i}`)),
    );
    const plan = await planFor(file, { proberPort: 9000, controlListen: CONTROL });
    expect(plan.pops.map((p) => p.prober)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `http://127.0.0.1:${9000 + i}`));
  });

  it('warns when the probers would not report to the DNS server it starts', async () => {
    const plan = await planFor(
      variant((c) => (c.health.reportTo = ['http://127.0.0.1:9999'])),
      { proberPort: 8090, controlListen: CONTROL },
    );
    expect(plan.warnings).toEqual([
      "health.reportTo does not list the DNS server's control port (http://127.0.0.1:8053): probers will not move answers away from a dead PoP",
    ]);
  });

  it('refuses addresses off this machine, with the path in the file', async () => {
    await expect(
      planFor(
        variant((c) => (c.edge.origin = 'http://origin.internal:8000')),
        { proberPort: 8090, controlListen: CONTROL },
      ),
    ).rejects.toThrow(
      /cdn\.yaml: edge\.origin: origin\.internal:8000 is not a loopback address: `meridian up` runs the demo origin on this machine only/,
    );
    await expect(
      planFor(
        variant((c) => (c.pops[1].edge = 'http://192.0.2.10:8080')),
        { proberPort: 8090, controlListen: CONTROL },
      ),
    ).rejects.toThrow(
      /pops\[1\]\.edge: 192\.0\.2\.10:8080 is not a loopback address: `meridian up` runs the edge of PoP iad on this machine only/,
    );
    await expect(
      planFor(
        variant((c) => (c.dns.listen = ['0.0.0.0:53'])),
        { proberPort: 8090, controlListen: CONTROL },
      ),
    ).rejects.toThrow(/dns\.listen\[0\]: 0\.0\.0\.0:53 is not a loopback address/);
  });

  it('reads which DNS listeners the demo may do without, and refuses one that is not in dns.listen', async () => {
    expect((await planFor(DEMO, { proberPort: 8090, controlListen: CONTROL })).optionalDnsListen).toEqual([
      { host: '::1', port: 5353 },
    ]);
    expect(
      (
        await planFor(
          variant((c) => delete c.up),
          { proberPort: 8090, controlListen: CONTROL },
        )
      ).optionalDnsListen,
    ).toEqual([]);
    await expect(
      planFor(
        variant((c) => (c.up.optionalListen = ['[::1]:53'])),
        { proberPort: 8090, controlListen: CONTROL },
      ),
    ).rejects.toThrow(/cdn\.yaml: up\.optionalListen\[0\]: \[::1\]:53 is not one of dns\.listen/);
    await expect(
      planFor(
        variant((c) => (c.up.optionalListen = ['::1:5353'])),
        { proberPort: 8090, controlListen: CONTROL },
      ),
    ).rejects.toThrow(/up\.optionalListen\[0\]: '::1:5353' is not HOST:PORT/);
  });

  it('refuses a PoP without an edge, and two services on one address', async () => {
    await expect(
      planFor(
        variant((c) => delete c.pops[2].edge),
        { proberPort: 8090, controlListen: CONTROL },
      ),
    ).rejects.toThrow(/pops\[2\]\.edge: PoP 'gru' has no edge URL; `meridian up` runs an edge for every PoP/);
    await expect(
      planFor(
        variant((c) => (c.edge.origin = 'http://127.0.0.1:8053')),
        { proberPort: 8090, controlListen: CONTROL },
      ),
    ).rejects.toThrow(
      /tcp 127\.0\.0\.1:8053 is wanted by both the demo origin \(edge\.origin\) and the DNS server's control port \(dns\.control\.listen\)/,
    );
    await expect(planFor(DEMO, { proberPort: 8080, controlListen: CONTROL })).rejects.toThrow(
      /tcp 127\.0\.1\.1:8080 is wanted by both the edge of PoP fra \(pops\[0\]\.edge\) and the prober of PoP fra \(--prober-port\)/,
    );
  });

  it('passes on the services’ own config errors', async () => {
    await expect(
      planFor(
        variant((c) => (c.pops[0].location.lat = 123)),
        { proberPort: 8090, controlListen: CONTROL },
      ),
    ).rejects.toThrow(/cdn\.yaml: pops\[0\]\.location\.lat/);
    await expect(
      planFor(join(ROOT, 'no', 'such', 'file.yaml'), { proberPort: 8090, controlListen: CONTROL }),
    ).rejects.toThrow(/cannot read/);
  });

  it('a file with anycast: an announcer per PoP listed there, after the services, on the PoP address beside its prober', async () => {
    const hybrid = join(ROOT, 'config', 'hybrid.yaml');
    const plan = await planFor(hybrid, { proberPort: 8090, controlListen: CONTROL });
    expect(plan.anycast.map((a) => [a.pop, a.socket, a.control])).toEqual([
      ['fra', '/run/bird/fra.ctl', 'http://127.0.1.1:8091'],
      ['iad', '/run/bird/iad.ctl', 'http://127.0.2.1:8091'],
      ['sin', '/run/bird/sin.ctl', 'http://127.0.4.1:8091'],
    ]);
    expect(plan.processes.find((p) => p.name === 'anycast sin')).toMatchObject({
      role: 'anycast',
      pop: 'sin',
      args: ['anycast', '--config', hybrid, '--pop', 'sin', '--control-listen', '127.0.4.1:8091'],
      readyUrl: 'http://127.0.4.1:8091/healthz',
      stage: 2,
    });
    expect(plan.anycast[0]!.prefixes).toEqual(['198.51.100.0/24', '2001:db8:100::/48']);
    expect(plan.anycast[0]!.addresses[0]).toEqual({
      prefix: '198.51.100.0/24',
      address: '198.51.100.53',
      serves: 'dns',
      port: 53,
    });
    expect((await planFor(DEMO, { proberPort: 8090, controlListen: CONTROL })).anycast).toEqual([]);
  });

  it("refuses a broken anycast section with the announcer's own message, before anything starts", async () => {
    const hybrid = parse(readFileSync(join(ROOT, 'config', 'hybrid.yaml'), 'utf8')) as Record<string, any>;
    hybrid.geo.databases = [join(ROOT, 'geo-data', 'test-city.mmdb')];
    const write = (change: (c: Record<string, any>) => void): string => {
      const c = structuredClone(hybrid);
      change(c);
      const file = join(mkdtempSync(join(tmpdir(), 'meridian-plan-')), 'cdn.yaml');
      writeFileSync(file, stringify(c));
      return file;
    };
    await expect(
      planFor(
        write((c) => (c.anycast.pops[1].bgp.asn = 0)),
        { proberPort: 8090, controlListen: CONTROL },
      ),
    ).rejects.toThrow(/cdn\.yaml: anycast\.pops\[1\]\.bgp\.asn: /);
    // Only PoPs the topology lacks: still refused, by the same loader.
    await expect(
      planFor(
        write((c) => (c.anycast.pops = [{ ...c.anycast.pops[0], pop: 'nowhere' }])),
        { proberPort: 8090, controlListen: CONTROL },
      ),
    ).rejects.toThrow(/anycast\.pops\[0\]\.pop: no PoP with id 'nowhere'/);
  });
});
