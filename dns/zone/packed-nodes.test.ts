// Packed zones give back exactly what was compiled: every record of the source, names looked up
// in any case, delegations and routes as before, and the same objects for a name asked twice.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDnsConfig, type DnsConfig } from '../config.js';
import { Type } from '../wire/constants.js';
import type { RData } from '../wire/rdata.js';
import { compileZones } from './compile.js';
import type { Zone } from './zone.js';

const ZONE_FILE = `$TTL 300
@        IN SOA ns1 admin 1 7200 3600 1209600 60
@        IN NS  ns1
@        IN MX  10 Mail.Example.Test.
ns1      IN A   192.0.2.1
ns1      IN AAAA 2001:db8::1
Mail     IN A   192.0.2.25
www      IN CNAME web
web      IN A   192.0.2.80
web      IN A   192.0.2.81
web      IN TXT "v=one" "two strings"
*.wild   IN TXT "wildcard"
deep.a.b.c IN A 192.0.2.9
sub      IN NS  ns.sub
ns.sub   IN A   192.0.2.53
_sip._tcp IN SRV 0 5 5060 web
`;

const KEY = (text: string): string =>
  text
    .split('.')
    .filter(Boolean)
    .map((l) => String.fromCharCode(l.length) + l.toLowerCase())
    .join('');

let config: DnsConfig;
let zone: Zone;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-packed-'));
  writeFileSync(join(dir, 'example.zone'), ZONE_FILE);
  writeFileSync(
    join(dir, 'meridian.yaml'),
    `pops: [{ id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [192.0.2.1] }]
pools: [{ id: global, members: [fra], fallback: fra }]
zones:
  - name: example.test
    file: example.zone
    routes: [{ name: cdn, pool: global, ttl: 30 }]
`,
  );
  config = await loadDnsConfig(join(dir, 'meridian.yaml'));
  zone = compileZones(config.zones).get(KEY('example.test'))!;
});

const bytesOf = (rdata: RData): string =>
  rdata.map((p) => (Buffer.isBuffer(p) ? p.toString('hex') : `name:${p.name.key}:${p.compress}`)).join('|');

describe('PackedNodes', () => {
  it('gives back every source record: owner, type, TTL and RDATA, names in their written case', () => {
    const records = config.zones[0]!.records;
    expect(records).toHaveLength(15);
    for (const rec of records) {
      const node = zone.nodes.get(rec.owner.key);
      expect(node, rec.where).toBeDefined();
      expect(node!.name.wire.equals(rec.owner.wire)).toBe(true);
      const rrset = node!.rrsets.get(rec.type)!;
      expect(rrset.ttl).toBe(rec.ttl);
      expect(rrset.owner).toBe(node!.name);
      expect(rrset.rdata.map(bytesOf)).toContain(bytesOf(rec.rdata));
    }
    // The MX target keeps the case it was written in; lookups fold it.
    const mx = zone.nodes.get(KEY('example.test'))!.rrsets.get(Type.MX)!.rdata[0]!;
    const target = mx.find((p) => !Buffer.isBuffer(p));
    expect(target && !Buffer.isBuffer(target) && target.name.wire.toString('latin1')).toContain('Mail');
  });

  it('finds names whatever their case was in the file, and nothing else', () => {
    expect(zone.nodes.get(KEY('mail.example.test'))?.rrsets.get(Type.A)).toBeDefined();
    expect(zone.nodes.get(KEY('nope.example.test'))).toBeUndefined();
    expect(zone.nodes.has(KEY('web.example.test'))).toBe(true);
    // A key that differs in one byte, or is a suffix or a prefix of a real one.
    expect(zone.nodes.get(KEY('wed.example.test'))).toBeUndefined();
    expect(zone.nodes.get(KEY('eb.example.test'))).toBeUndefined();
    expect(zone.nodes.get(KEY('web.example'))).toBeUndefined();
  });

  it('keeps the empty non-terminals, with no RRsets', () => {
    for (const ent of ['a.b.c.example.test', 'b.c.example.test', 'c.example.test', 'wild.example.test']) {
      expect(zone.nodes.get(KEY(ent))?.rrsets.size, ent).toBe(0);
    }
  });

  it('keeps delegations: the cut is its own delegation, glue below points at it', () => {
    const cut = zone.nodes.get(KEY('sub.example.test'))!;
    expect(cut.delegation).toBe(cut);
    const glue = zone.nodes.get(KEY('ns.sub.example.test'))!;
    expect(glue.delegation).toBe(cut);
    expect(zone.nodes.get(KEY('web.example.test'))!.delegation).toBeNull();
    expect(zone.nodes.get(KEY('example.test'))!.delegation).toBeNull();
  });

  it('keeps routes, and lists the routed names without going through the others', () => {
    expect(zone.nodes.get(KEY('cdn.example.test'))!.route).toMatchObject({ pool: 'global', ttl: 30 });
    expect([...zone.nodes.routed()].map((n) => n.name.key)).toEqual([KEY('cdn.example.test')]);
    expect(zone.nodes.get(KEY('web.example.test'))!.route).toBeNull();
  });

  it('returns the same objects for a name asked twice (resolve.ts compares RRsets by identity)', () => {
    const a = zone.nodes.get(KEY('web.example.test'))!;
    expect(zone.nodes.get(KEY('WEB.Example.test'))).toBe(a);
    expect(a.zone).toBe(zone);
  });

  it('iterates every node once, parents before children', () => {
    const keys = [...zone.nodes.values()].map((n) => n.name.key);
    expect(new Set(keys).size).toBe(zone.nodes.size);
    for (const [i, key] of keys.entries()) {
      const parent = key.slice(key.charCodeAt(0) + 1);
      if (key !== KEY('example.test')) expect(keys.indexOf(parent)).toBeLessThan(i);
    }
  });

  it('costs bytes near the wire size, not objects', () => {
    // 17 names with data or without: a few hundred bytes of names and RDATA plus the arrays.
    expect(zone.nodes.bytes).toBeLessThan(2048);
  });
});
