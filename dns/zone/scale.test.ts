// A million-record zone, as an operator imports one (issue 17): an RFC 1035 master file of
// `h<i> IN A` with a TXT for every fourth name, loaded the way the server loads it (config file →
// loadDnsConfig → serving state) and asked a few questions. Nothing here may depend on the
// zone's size: a spread of the records as arguments or a recursion over names would overflow
// the stack. It takes ~12 s (~27 s when the machine is busy) and ~1 GB on a 2-core machine, so
// it runs in its own vitest project, after the others (vitest.config.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDnsConfig } from '../config.js';
import { QueryHandler, UDP } from '../server/handle-query.js';
import { buildServingState, type BuiltState } from '../server/state.js';

const NAMES = 800_000;
const dir = mkdtempSync(join(tmpdir(), 'meridian-zone-scale-'));
let state: BuiltState;

function writeZone(file: string): void {
  const lines: string[] = ['$TTL 300'];
  for (let i = 0; i < NAMES; i++) {
    lines.push(`h${i} IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    if (i % 4 === 0) lines.push(`h${i} IN TXT "record ${i}"`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

beforeAll(async () => {
  writeZone(join(dir, 'big.zone'));
  writeFileSync(
    join(dir, 'meridian.yaml'),
    `
dns: { serverId: ns1.big.test }
pops: [{ id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [192.0.2.1] }]
pools: [{ id: global, members: [fra], fallback: fra }]
zones:
  - name: big.test
    ttl: 3600
    soa: { mname: ns1.big.test., rname: admin.big.test., minimum: 60 }
    ns: [ns1.big.test.]
    file: big.zone
`,
  );
  state = buildServingState(await loadDnsConfig(join(dir, 'meridian.yaml')));
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN'];

function ask(name: string, type: 'A' | 'TXT'): dnsPacket.Packet & { rcode: string } {
  const msg = dnsPacket.encode({ type: 'query', id: 7, questions: [{ name, type, class: 'IN' }] });
  const bytes = new QueryHandler(state).handle(msg, UDP, '192.0.2.9')!;
  return { ...dnsPacket.decode(bytes), rcode: RCODES[bytes[3]! & 0xf] ?? 'other' };
}

describe('a 1,000,000-record master file', () => {
  it('loads every record', () => {
    // The SOA and NS from the config, then the file.
    expect(state.recordCount).toBe(2 + NAMES + NAMES / 4);
  });

  it.each([
    [
      'the last name',
      `h${NAMES - 1}.big.test`,
      'A',
      `10.${((NAMES - 1) >> 16) & 255}.${((NAMES - 1) >> 8) & 255}.${(NAMES - 1) & 255}`,
    ],
    ['a TXT in mixed case', 'H400000.Big.Test', 'TXT', 'record 400000'],
  ] as const)('answers %s', (_, name, type, data) => {
    const r = ask(name, type);
    expect(r.rcode).toBe('NOERROR');
    const answer = r.answers![0]! as { data: unknown };
    expect(type === 'TXT' ? (answer.data as Buffer[]).map(String).join('') : answer.data).toBe(data);
  });

  it('answers NODATA and NXDOMAIN with the SOA', () => {
    expect(ask('h1.big.test', 'TXT')).toMatchObject({ rcode: 'NOERROR', answers: [], authorities: [{ type: 'SOA' }] });
    expect(ask(`h${NAMES}.big.test`, 'A')).toMatchObject({
      rcode: 'NXDOMAIN',
      answers: [],
      authorities: [{ type: 'SOA' }],
    });
  });
});
