import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { loadDnsConfig } from '../config.js';
import { QueryHandler, UDP } from '../server/handle-query.js';
import { buildServingState } from '../server/state.js';

const CONFIG = `
pops:
  - { id: v4only, location: { lat: 35.68, lon: 139.69 }, ipv4: [192.0.2.10] }
  - { id: both, location: { lat: 40.71, lon: -74.01 }, ipv4: [192.0.2.20], ipv6: ["2001:db8::20"] }
  - { id: off, location: { lat: 35.0, lon: 135.0 }, ipv4: [192.0.2.30], enabled: false }
pools:
  - { id: p, members: [v4only, both, off] }
  - { id: cdn, policy: ordered, members: [{ cname: edge.other-cdn.example., weight: 1 }, both] }
geo:
  nets: [{ network: 10.0.0.0/8, location: { lat: 34.69, lon: 135.50 } }]
zones:
  - name: example.test
    soa: { mname: ns1.example.test., rname: admin.example.test., minimum: 60 }
    ns: [ns1.example.test.]
    records:
      - { name: ns1, type: A, value: 192.0.2.1 }
      - { name: www, type: TXT, value: "static text beside a route" }
    routes:
      - { name: www, pool: p }
      - { name: multi, pool: cdn }
`;

async function handler() {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-steer-'));
  writeFileSync(join(dir, 'c.yaml'), CONFIG);
  return new QueryHandler(buildServingState(await loadDnsConfig(join(dir, 'c.yaml'))));
}

function ask(h: QueryHandler, name: string, type: dnsPacket.RecordType, from = '10.1.2.3') {
  const q = dnsPacket.encode({ type: 'query', id: 7, flags: 0, questions: [{ type, name, class: 'IN' }] });
  const r = dnsPacket.decode(h.handle(q, UDP, from)!) as dnsPacket.DecodedPacket & { rcode: string };
  const records = (list: dnsPacket.Answer[] | undefined) =>
    (list ?? []) as { type: string; data: unknown; ttl: number }[];
  return { rcode: r.rcode, answers: records(r.answers), authorities: records(r.authorities) };
}

describe('routed answers', () => {
  it('answers AAAA with NODATA (and the SOA) when the chosen PoP has no IPv6 address', async () => {
    const h = await handler();
    expect(ask(h, 'www.example.test', 'A').answers.map((a) => a.data)).toEqual(['192.0.2.10']);
    const aaaa = ask(h, 'www.example.test', 'AAAA');
    expect(aaaa.rcode).toBe('NOERROR');
    expect(aaaa.answers).toEqual([]);
    expect(aaaa.authorities.map((a) => [a.type, a.ttl])).toEqual([['SOA', 60]]);
  });

  it('keeps static records of other types beside a route, and skips disabled PoPs', async () => {
    const h = await handler();
    expect(ask(h, 'www.example.test', 'TXT').answers.map((a) => a.type)).toEqual(['TXT']);
    // `off` is nearest to Osaka but disabled.
    expect(ask(h, 'www.example.test', 'A').answers.map((a) => a.data)).not.toContain('192.0.2.30');
  });

  it('answers an external CDN member as a CNAME to it, for A and AAAA alike', async () => {
    const h = await handler();
    for (const type of ['A', 'AAAA'] as const) {
      const r = ask(h, 'multi.example.test', type);
      expect(r.answers.map((a) => [a.type, a.data])).toEqual([['CNAME', 'edge.other-cdn.example']]);
    }
  });
});

describe("pre-encoded routed answers (the fast path for a routed name's own A/AAAA)", () => {
  /** EDNS with an optional Client Subnet (and NSID) so scopes and options are compared too. */
  function query(
    id: number,
    name: string,
    type: dnsPacket.RecordType,
    ecs?: { family: 1 | 2; ip: string; prefix: number },
  ) {
    const options: unknown[] = [{ code: 3, data: Buffer.alloc(0) }];
    if (ecs)
      options.push({ code: 8, family: ecs.family, sourcePrefixLength: ecs.prefix, scopePrefixLength: 0, ip: ecs.ip });
    return dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type, name, class: 'IN' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options } as unknown as dnsPacket.Answer],
    });
  }

  it('are byte for byte what resolving in full gives, for every case, type, subnet and answer count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-steer-'));
    writeFileSync(
      join(dir, 'c.yaml'),
      CONFIG.replace(
        '      - { name: multi, pool: cdn }',
        '      - { name: multi, pool: cdn }\n      - { name: two, pool: p, answers: 2, ttl: 45 }',
      ),
    );
    const config = await loadDnsConfig(join(dir, 'c.yaml'));
    const fast = new QueryHandler(buildServingState(config));
    const full = new QueryHandler({ ...buildServingState(config), routes: new Map() });
    expect([...buildServingState(config).routes.keys()].length).toBe(3);
    let id = 1;
    for (const name of [
      'www.example.test',
      'WwW.Example.TEST',
      'two.example.test',
      'tWo.eXample.test',
      'multi.example.test',
    ]) {
      for (const type of ['A', 'AAAA'] as const) {
        for (const ecs of [
          undefined,
          { family: 1 as const, ip: '10.9.0.0', prefix: 16 },
          { family: 1 as const, ip: '192.0.2.0', prefix: 24 },
          { family: 2 as const, ip: '2001:db8::', prefix: 32 },
        ]) {
          for (const from of ['10.1.2.3', '198.51.100.9']) {
            const q = query(id++, name, type, ecs);
            const a = fast.handle(q, UDP, from)!;
            const b = full.handle(q, UDP, from)!;
            expect(a.toString('hex'), `${name} ${type} ${JSON.stringify(ecs)} from ${from}`).toBe(b.toString('hex'));
          }
        }
      }
    }
  });
});
