import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDnsConfig } from './config.js';
import { buildServingState } from './server/state.js';

const HEAD = `
zones:
  - name: example.test
    soa: { mname: ns1.example.test., rname: admin.example.test. }
    ns: [ns1.example.test.]
    records:
      - { name: ns1, type: A, value: 192.0.2.1 }
`;

function writeConfig(yaml: string, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-config-'));
  const file = join(dir, 'meridian.yaml');
  writeFileSync(file, yaml);
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return file;
}

async function load(yaml: string, extra?: Record<string, string>) {
  const config = await loadDnsConfig(writeConfig(yaml, extra));
  return buildServingState(config);
}

async function loadError(yaml: string, extra?: Record<string, string>): Promise<string> {
  try {
    await load(yaml, extra);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the config to be refused');
}

describe('DNS config', () => {
  it('loads the shipped demo config with its master file', async () => {
    const state = buildServingState(await loadDnsConfig('config/demo.yaml'));
    expect(state.zoneCount).toBe(1);
    expect(state.recordCount).toBeGreaterThan(15);
  });

  it('applies defaults an operator expects', async () => {
    const config = await loadDnsConfig(writeConfig(HEAD));
    expect(config.settings.maxUdpPayload).toBe(1232);
    expect(config.settings.listen.map((l) => `${l.host}:${l.port}`)).toEqual(['127.0.0.1:5353', '::1:5353']);
    expect(config.settings.control.listen).toEqual({ host: '127.0.0.1', port: 8053 });
    expect(config.settings.version).toBeNull();
    expect(config.settings.tcp).toEqual({
      idleTimeout: 10_000,
      maxConnections: 1000,
      maxConnectionsPerNetwork: 32,
      readTimeout: 5000,
      maxInFlight: 64,
    });
    expect(config.deprecated).toEqual([]);
  });

  it('reads the control listener from dns.control.listen, and from the old dns.http with a deprecation', async () => {
    const current = await loadDnsConfig(writeConfig(`dns: { control: { listen: "127.0.0.1:9053" } }\n${HEAD}`));
    expect(current.settings.control.listen).toEqual({ host: '127.0.0.1', port: 9053 });
    expect(current.deprecated).toEqual([]);
    const old = await loadDnsConfig(writeConfig(`dns: { http: "127.0.0.1:9054" }\n${HEAD}`));
    expect(old.settings.control.listen).toEqual({ host: '127.0.0.1', port: 9054 });
    expect(old.deprecated).toEqual([{ old: 'dns.http', replacement: 'dns.control.listen' }]);
    expect(await loadError(`dns: { http: "127.0.0.1:9054", control: { listen: "127.0.0.1:9053" } }\n${HEAD}`)).toMatch(
      /meridian\.yaml: dns\.http: give dns\.control\.listen only/,
    );
  });

  it('refuses TCP abuse limits that would turn the protection off or stop all service', async () => {
    expect(await loadError(`dns: { tcp: { maxConnectionsPerNetwork: 0 } }\n${HEAD}`)).toMatch(
      /meridian\.yaml: dns\.tcp\.maxConnectionsPerNetwork: /,
    );
    expect(await loadError(`dns: { tcp: { readTimeout: 10 } }\n${HEAD}`)).toMatch(
      /meridian\.yaml: dns\.tcp\.readTimeout: /,
    );
    expect(await loadError(`dns: { tcp: { maxInFlight: 0 } }\n${HEAD}`)).toMatch(
      /meridian\.yaml: dns\.tcp\.maxInFlight: /,
    );
    expect(await loadError(`dns: { tcp: { maxInFlight: 1.5 } }\n${HEAD}`)).toMatch(
      /meridian\.yaml: dns\.tcp\.maxInFlight: /,
    );
    expect(await loadError(`dns: { tcp: { readTimout: 1000 } }\n${HEAD}`)).toMatch(/meridian\.yaml: dns\.tcp/);
    const set = await loadDnsConfig(
      writeConfig(`dns: { tcp: { maxConnectionsPerNetwork: 4, readTimeout: 300 } }\n${HEAD}`),
    );
    expect(set.settings.tcp).toMatchObject({ maxConnectionsPerNetwork: 4, readTimeout: 300, maxInFlight: 64 });
  });

  it("shares the workers rule with the edge: 'auto' or 1 to 64", async () => {
    expect((await loadDnsConfig(writeConfig(`dns: { workers: 3 }\n${HEAD}`))).settings.workers).toBe(3);
    expect(await loadError(`dns: { workers: 0 }\n${HEAD}`)).toMatch(/meridian\.yaml: dns\.workers: /);
  });

  it('names the file, the path and the expectation for a bad value', async () => {
    const msg = await loadError(`${HEAD}      - { name: www, type: A, value: 300.1.2.3 }\n`);
    expect(msg).toMatch(/meridian\.yaml: zones\[0\]\.records\[1\]\.value: '300\.1\.2\.3' is not an IPv4 address/);
  });

  it('names the index inside values', async () => {
    const msg = await loadError(`${HEAD}      - { name: www, type: AAAA, values: ["2001:db8::1", "nope"] }\n`);
    expect(msg).toMatch(/zones\[0\]\.records\[1\]\.values\[1\]: 'nope' is not an IPv6 address/);
  });

  it('rejects unknown keys and types with their path', async () => {
    expect(await loadError(`${HEAD}      - { name: www, type: A, valeu: 192.0.2.1 }\n`)).toMatch(
      /zones\[0\]\.records\[1\]: .*valeu/,
    );
    expect(await loadError(`${HEAD}      - { name: www, type: SPF, value: x }\n`)).toMatch(
      /zones\[0\]\.records\[1\]\.type: expected one of A, AAAA/,
    );
    expect(await loadError(`dns: { maxUdpPayload: 100 }\n${HEAD}`)).toMatch(/dns\.maxUdpPayload/);
    expect(await loadError(`dns: { listen: ["localhost"] }\n${HEAD}`)).toMatch(
      /dns\.listen\[0\]: 'localhost' is not HOST:PORT/,
    );
  });

  it('reads dns.control.allowedHosts, naming the file and field of a bad name', async () => {
    expect((await loadDnsConfig(writeConfig(HEAD))).settings.control.allowedHosts).toEqual([]);
    const config = await loadDnsConfig(writeConfig(`dns: { control: { allowedHosts: [DNS.Internal] } }\n${HEAD}`));
    expect(config.settings.control.allowedHosts).toEqual(['dns.internal']);
    expect(await loadError(`dns: { control: { allowedHosts: ["dns.internal:8053"] } }\n${HEAD}`)).toMatch(
      /meridian\.yaml: dns\.control\.allowedHosts\[0\]: 'dns\.internal:8053' is not a host name/,
    );
  });

  it('reports YAML syntax errors with the line', async () => {
    expect(await loadError('zones: [\n  - name: x\n')).toMatch(/meridian\.yaml: invalid YAML: .*line/);
  });

  it('rejects CNAME beside other data, naming both places', async () => {
    const msg = await loadError(
      `${HEAD}      - { name: www, type: A, value: 192.0.2.2 }\n      - { name: www, type: CNAME, value: ns1 }\n`,
    );
    expect(msg).toMatch(
      /records\[2\]\.value: CNAME at www\.example\.test\. cannot coexist with other data \(A at .*records\[1\]\.value\)/,
    );
  });

  it('rejects a CNAME at the apex', async () => {
    expect(await loadError(`${HEAD}      - { name: "@", type: CNAME, value: elsewhere.test. }\n`)).toMatch(
      /CNAME at example\.test\. cannot coexist/,
    );
  });

  it('rejects records outside the zone', async () => {
    expect(await loadError(`${HEAD}      - { name: www.other.test., type: A, value: 192.0.2.2 }\n`)).toMatch(
      /records\[1\]\.value: www\.other\.test\. is outside zone example\.test\./,
    );
  });

  it('rejects data below a delegation other than glue', async () => {
    const msg = await loadError(
      `${HEAD}      - { name: sub, type: NS, value: ns.sub }\n      - { name: ns.sub, type: A, value: 192.0.2.3 }\n      - { name: www.sub, type: TXT, value: hidden }\n`,
    );
    expect(msg).toMatch(
      /records\[3\]\.value: TXT at www\.sub\.example\.test\. is below the delegation to sub\.example\.test\./,
    );
  });

  it('rejects differing TTLs inside one RRset', async () => {
    const msg = await loadError(
      `${HEAD}      - { name: www, type: A, ttl: 60, value: 192.0.2.2 }\n      - { name: www, type: A, ttl: 30, value: 192.0.2.3 }\n`,
    );
    expect(msg).toMatch(/records\[2\]\.value: TTL 30 differs from TTL 60/);
  });

  it('rejects MX and NS targets that are aliases', async () => {
    const msg = await loadError(
      `${HEAD}      - { name: alias, type: CNAME, value: ns1 }\n      - { name: "@", type: MX, value: "10 alias" }\n`,
    );
    expect(msg).toMatch(/MX target alias\.example\.test\. is a CNAME/);
  });

  it('rejects NS at a wildcard, a zone without SOA, and a zone defined twice', async () => {
    expect(await loadError(`${HEAD}      - { name: "*.w", type: NS, value: ns1 }\n`)).toMatch(/NS at wildcard/);
    expect(await loadError('zones:\n  - name: x.test\n    ns: [ns.x.test.]\n')).toMatch(
      /zones\[0\]: zone x\.test\. has no SOA/,
    );
    expect(await loadError(`${HEAD}${HEAD.replace('\nzones:\n', '')}`)).toMatch(
      /zones\[1\]: zone example\.test\. is defined twice/,
    );
  });

  it('rejects TXT strings longer than 255 bytes in master files but splits YAML text', async () => {
    const long = 'x'.repeat(300);
    const state = await load(`${HEAD}      - { name: long, type: TXT, value: ${long} }\n`);
    expect(
      state.zones.get('\x07example\x04test')!.nodes.get('\x04long\x07example\x04test')!.rrsets.get(16)!.rdata[0]![0],
    ).toHaveLength(302);
    const msg = await loadError(`${HEAD}    file: extra.zone\n`, { 'extra.zone': `long IN TXT "${long}"\n` });
    expect(msg).toMatch(/extra\.zone:1: string of 300 bytes/);
  });

  it('reads master files with $ORIGIN, $TTL and relative names, naming file:line on errors', async () => {
    const zone = '$TTL 60\nhost IN A 192.0.2.9\n$ORIGIN sub.example.test.\nx IN A 192.0.2.10\nbad IN A 1.2.3\n';
    expect(await loadError(`${HEAD}    file: extra.zone\n`, { 'extra.zone': zone })).toMatch(
      /extra\.zone:5: '1\.2\.3' is not an IPv4 address/,
    );
    const state = await load(`${HEAD}    file: extra.zone\n`, { 'extra.zone': zone.replace('bad IN A 1.2.3\n', '') });
    const nodes = state.zones.get('\x07example\x04test')!.nodes;
    expect(nodes.get('\x04host\x07example\x04test')!.rrsets.get(1)!.ttl).toBe(60);
    expect(nodes.has('\x01x\x03sub\x07example\x04test')).toBe(true);
  });

  it('takes SOA and NS from the master file when the YAML has none', async () => {
    const zone = '$TTL 300\n@ IN SOA ns1 admin 1 7200 3600 1209600 60\n@ IN NS ns1\nns1 IN A 192.0.2.1\n';
    const state = await load('zones:\n  - name: example.test\n    file: z.zone\n', { 'z.zone': zone });
    expect(state.zones.get('\x07example\x04test')!.negativeTtl).toBe(60);
  });

  it('reads a health-checked CNAME member, and refuses one without an id, naming file and field', async () => {
    const pops = `pops: [{ id: fra, location: { lat: 50, lon: 8 }, ipv4: [192.0.2.30] }]\n`;
    const member =
      '{ cname: edge.other-cdn.example., id: other, weight: 20, health: { check: { type: http, url: "http://127.0.0.1:9/health" }, fall: 2 } }';
    const file = writeConfig(`${HEAD}${pops}pools: [{ id: p, members: [fra, ${member}] }]\n`);
    const config = await loadDnsConfig(file);
    expect(config.topology.pools[0]!.members[1]).toEqual({
      kind: 'cname',
      cname: 'edge.other-cdn.example.',
      id: 'other',
      weight: 20,
      health: {
        check: { type: 'http', url: 'http://127.0.0.1:9/health', path: '/healthz', expectStatus: 200 },
        fall: 2,
      },
    });
    const msg = await loadError(
      `${HEAD}${pops}pools: [{ id: p, members: [fra, ${member.replace('id: other, ', '')}] }]\n`,
    );
    expect(msg).toMatch(
      /^\/.*meridian\.yaml: pools\[0\]\.members\[1\]\.id: a CNAME member with a health check needs an id/,
    );
    const bad = await loadError(
      `${HEAD}${pops}pools: [{ id: p, members: [fra, { cname: x.example., id: x, wieght: 2 }] }]\n`,
    );
    expect(bad).toMatch(/pools\[0\]\.members\[1\].*wieght/);
  });
});

describe('dns.pop: the PoP a server runs in, named in NSID and id.server', () => {
  const POPS = `
pops:
  - { id: fra, location: { lat: 50.1, lon: 8.7 }, ipv4: [192.0.2.10] }
  - { id: iad, location: { lat: 38.9, lon: -77.4 }, ipv4: [192.0.2.20] }
`;

  it('builds NSID and CH TXT id.server as <serverId>@<pop>', async () => {
    const state = await load(`dns: { serverId: ns1.example.test, pop: fra }\n${POPS}${HEAD}`);
    expect(state.nsid?.toString()).toBe('ns1.example.test@fra');
    const txt = [...state.chaos.values()].map((rr) => (rr.rdata[0]![0] as Buffer).subarray(1).toString());
    expect(txt).toEqual(['ns1.example.test@fra', 'ns1.example.test@fra']);
  });

  it('--pop (loadDnsConfig overrides) wins over dns.pop; without either NSID is the serverId', async () => {
    const file = writeConfig(`dns: { serverId: ns1.example.test, pop: fra }\n${POPS}${HEAD}`);
    expect(buildServingState(await loadDnsConfig(file, { pop: 'iad' })).nsid?.toString()).toBe('ns1.example.test@iad');
    const plain = await load(`dns: { serverId: ns1.example.test }\n${POPS}${HEAD}`);
    expect(plain.nsid?.toString()).toBe('ns1.example.test');
  });

  it('refuses a PoP the config does not have, naming file, field and the known ones', async () => {
    expect(await loadError(`dns: { pop: lhr }\n${POPS}${HEAD}`)).toMatch(
      /meridian\.yaml: dns\.pop: no PoP with id 'lhr' \(known: fra, iad\)/,
    );
    const file = writeConfig(`${POPS}${HEAD}`);
    await expect(loadDnsConfig(file, { pop: 'lhr' })).rejects.toThrow(/pops \(--pop\): no PoP with id 'lhr'/);
  });

  describe('dns.cookies', () => {
    it('is on by default, with a generated secret', async () => {
      const config = await loadDnsConfig(writeConfig(HEAD));
      expect(config.settings.cookies).toEqual({ enabled: true, secret: null });
      expect(buildServingState(config).cookies).not.toBeNull();
      const off = await loadDnsConfig(writeConfig(`dns:\n  cookies: { enabled: false }\n${HEAD}`));
      expect(buildServingState(off).cookies).toBeNull();
    });

    it('reads the SipHash key from secretFile, relative to the config', async () => {
      const key = 'e5e973e5a6b2a43f48e7dc849e37bfcf';
      const yaml = `dns:\n  cookies: { secretFile: cookie.key }\n${HEAD}`;
      const config = await loadDnsConfig(writeConfig(yaml, { 'cookie.key': `${key.toUpperCase()}\n` }));
      expect(config.settings.cookies.secret?.toString('hex')).toBe(key);
    });

    it.each([
      ['missing', undefined, /dns\.cookies\.secretFile: cannot read .*cookie\.key/],
      ['too short', 'e5e973e5', /dns\.cookies\.secretFile: .*cookie\.key must hold 32 hex digits/],
      ['not hex', 'x'.repeat(32), /must hold 32 hex digits/],
    ])('refuses a secretFile that is %s, naming the file and the field', async (_, text, message) => {
      const yaml = `dns:\n  cookies: { secretFile: cookie.key }\n${HEAD}`;
      const file = writeConfig(yaml, text === undefined ? {} : { 'cookie.key': text });
      await expect(loadDnsConfig(file)).rejects.toThrow(message);
      await expect(loadDnsConfig(file)).rejects.toThrow(file);
    });
  });

  describe('dns.rrl', () => {
    it('is on by default with BIND-like defaults, every rate from responsesPerSecond', async () => {
      const { rrl } = (await loadDnsConfig(writeConfig(HEAD))).settings;
      expect(rrl).toMatchObject({ enabled: true, responsesPerSecond: 100, errorsPerSecond: 100, window: 15, slip: 2 });
      const set = await loadDnsConfig(
        writeConfig(
          `dns:\n  rrl: { responsesPerSecond: 5, nxdomainsPerSecond: 2, exempt: [192.0.2.0/24, "::1"] }\n${HEAD}`,
        ),
      );
      expect(set.settings.rrl).toMatchObject({ responsesPerSecond: 5, nxdomainsPerSecond: 2, nodataPerSecond: 5 });
      expect(set.settings.rrl.exempt.map((e) => [e.text, e.prefixLength])).toEqual([
        ['192.0.2.0/24', 24],
        ['::1', 128],
      ]);
    });

    it.each([
      ['a network with host bits', '{ exempt: [10.1.2.3/8] }', /dns\.rrl\.exempt\[0\]: .*host bits set/],
      ['not an address', '{ exempt: [office] }', /dns\.rrl\.exempt\[0\]: .*'office'/],
      ['a slip over 10', '{ slip: 20 }', /dns\.rrl\.slip: /],
      ['a negative rate', '{ errorsPerSecond: -1 }', /dns\.rrl\.errorsPerSecond: /],
      ['a prefix too long', '{ ipv4PrefixLength: 33 }', /dns\.rrl\.ipv4PrefixLength: /],
      ["BIND's spelling", '{ responses-per-second: 5 }', /dns\.rrl: .*responses-per-second/],
    ])('refuses %s, naming the file and the field', async (_, rrl, message) => {
      const error = await loadError(`dns:\n  rrl: ${rrl}\n${HEAD}`);
      expect(error).toMatch(message);
      expect(error).toMatch(/meridian\.yaml: /);
    });
  });
});
