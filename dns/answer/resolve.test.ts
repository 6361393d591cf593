// resolve() as a table: one row per case, the question and client in, the Answer out (rcode, AA,
// each section as text, the ECS scope it decided). Static cases run without a router too, as the
// load-time templates call it; routed ones through the real Steering over testdata's state.
import { beforeAll, describe, expect, it } from 'vitest';
import { addressText } from '../../geo-data/locator.js';
import { Rcode, Type, typeName } from '../wire/constants.js';
import { wireToText } from '../wire/name.js';
import type { ClientSubnet } from '../wire/query.js';
import type { SectionEntry } from '../wire/rdata.js';
import { parseName } from '../zone/name-text.js';
import { resolve } from './resolve.js';
import type { Answer } from './types.js';
import { testState } from './testdata/serving-state.js';
import type { BuiltState } from '../server/state.js';

let state: BuiltState;
beforeAll(async () => {
  state = await testState();
});

function ecs(cidr: string): ClientSubnet {
  const [ip, prefix] = cidr.split('/') as [string, string];
  const v6 = ip.includes(':');
  const sourcePrefix = Number(prefix);
  const full = v6
    ? Buffer.from(
        ip
          .replace('::', ':0:0:0:0:0:')
          .split(':')
          .slice(0, 8)
          .map((h) => h.padStart(4, '0'))
          .join(''),
        'hex',
      )
    : Buffer.from(ip.split('.').map(Number));
  return { family: v6 ? 2 : 1, sourcePrefix, scopePrefix: 0, address: full.subarray(0, Math.ceil(sourcePrefix / 8)) };
}

/** `owner TYPE ttl data`, the owner `<qname>` when it is the QNAME as asked (wildcards). */
function rrText(entries: readonly SectionEntry[]): string[] {
  return entries.flatMap((e) =>
    e.rrset.rdata.map((rdata) => {
      const owner = e.owner === null ? '<qname>' : wireToText((e.owner ?? e.rrset.owner).wire);
      const data = rdata.map((p) => {
        if (!Buffer.isBuffer(p)) return wireToText(p.name.wire);
        if (e.rrset.type === Type.A || e.rrset.type === Type.AAAA) return addressText(p);
        if (e.rrset.type === Type.TXT) return JSON.stringify(p.subarray(1).toString('latin1'));
        return p.toString('hex');
      });
      return `${owner} ${typeName(e.rrset.type)} ${e.ttl ?? e.rrset.ttl} ${data.join(' ')}`.trimEnd();
    }),
  );
}

function view(a: Answer | null) {
  if (!a) return null;
  return {
    rcode: a.rcode,
    aa: a.aa,
    answer: rrText(a.answer),
    authority: rrText(a.authority),
    additional: rrText(a.additional),
    scope: a.scope,
    dynamic: a.dynamic ?? false,
  };
}

/** Serial 1, refresh 2h, retry 1h, expire 2w, minimum 60 (hex); at TTL min(SOA TTL, minimum) (RFC 2308 §5). */
const SOA = 'example.test. SOA 60 ns1.example.test. admin.example.test. 00000001 00001c20 00000e10 00127500 0000003c';
const NOERROR = Rcode.NOERROR;

interface Row {
  case: string;
  name: string;
  type: number;
  /** The resolver's address (default 127.0.0.1, which no database places). */
  from?: string;
  ecs?: string;
  out: ReturnType<typeof view>;
}

const STATIC: Row[] = [
  {
    case: 'static A',
    name: 'mail.example.test',
    type: Type.A,
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['mail.example.test. A 3600 192.0.2.25'],
      authority: [],
      additional: [],
      scope: 0,
      dynamic: false,
    },
  },
  {
    case: 'static AAAA',
    name: 'mail.example.test',
    type: Type.AAAA,
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['mail.example.test. AAAA 3600 2001:db8::25'],
      authority: [],
      additional: [],
      scope: 0,
      dynamic: false,
    },
  },
  {
    case: "MX, with the exchange's addresses as additional data",
    name: 'example.test',
    type: Type.MX,
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['example.test. MX 3600 000a mail.example.test.'],
      authority: [],
      additional: ['mail.example.test. A 3600 192.0.2.25', 'mail.example.test. AAAA 3600 2001:db8::25'],
      scope: 0,
      dynamic: false,
    },
  },
  {
    case: 'static TXT',
    name: 'txt.example.test',
    type: Type.TXT,
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['txt.example.test. TXT 3600 "hello"'],
      authority: [],
      additional: [],
      scope: 0,
      dynamic: false,
    },
  },
  {
    case: 'CNAME chased inside the zone',
    name: 'alias.example.test',
    type: Type.TXT,
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['alias.example.test. CNAME 3600 txt.example.test.', 'txt.example.test. TXT 3600 "hello"'],
      authority: [],
      additional: [],
      scope: 0,
      dynamic: false,
    },
  },
  {
    case: 'CNAME out of our zones: left for the resolver',
    name: 'away.example.test',
    type: Type.A,
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['away.example.test. CNAME 3600 host.elsewhere.example.'],
      authority: [],
      additional: [],
      scope: 0,
      dynamic: false,
    },
  },
  {
    case: 'CNAME asked for itself',
    name: 'alias.example.test',
    type: Type.CNAME,
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['alias.example.test. CNAME 3600 txt.example.test.'],
      authority: [],
      additional: [],
      scope: 0,
      dynamic: false,
    },
  },
  {
    case: 'wildcard: synthesized for the QNAME (RFC 4592)',
    name: 'a.b.wild.example.test',
    type: Type.A,
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['<qname> A 3600 192.0.2.99'],
      authority: [],
      additional: [],
      scope: 0,
      dynamic: false,
    },
  },
  {
    case: 'wildcard NODATA',
    name: 'a.wild.example.test',
    type: Type.MX,
    out: { rcode: NOERROR, aa: true, answer: [], authority: [SOA], additional: [], scope: 0, dynamic: false },
  },
  {
    case: 'NXDOMAIN with the SOA at the negative TTL',
    name: 'nope.example.test',
    type: Type.A,
    out: { rcode: Rcode.NXDOMAIN, aa: true, answer: [], authority: [SOA], additional: [], scope: 0, dynamic: false },
  },
  {
    case: 'NODATA with the SOA',
    name: 'txt.example.test',
    type: Type.A,
    out: { rcode: NOERROR, aa: true, answer: [], authority: [SOA], additional: [], scope: 0, dynamic: false },
  },
  {
    case: 'empty non-terminal is NODATA, not NXDOMAIN',
    name: 'wild.example.test',
    type: Type.A,
    out: { rcode: NOERROR, aa: true, answer: [], authority: [SOA], additional: [], scope: 0, dynamic: false },
  },
  {
    case: 'below a delegation: a referral with glue, not authoritative',
    name: 'host.sub.example.test',
    type: Type.A,
    out: {
      rcode: NOERROR,
      aa: false,
      answer: [],
      authority: ['sub.example.test. NS 3600 ns.sub.example.test.'],
      additional: ['ns.sub.example.test. A 3600 192.0.2.54'],
      scope: 0,
      dynamic: false,
    },
  },
  { case: 'out of our zones: null (the caller refuses)', name: 'www.other.test', type: Type.A, out: null },
  {
    case: 'letter case does not matter to the lookup',
    name: 'MaIl.ExAmple.TEST',
    type: Type.A,
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['mail.example.test. A 3600 192.0.2.25'],
      authority: [],
      additional: [],
      scope: 0,
      dynamic: false,
    },
  },
];

const ROUTED: Row[] = [
  {
    case: 'routed A for a resolver the nets place in Tokyo',
    name: 'www.example.test',
    type: Type.A,
    from: '10.1.2.3',
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['www.example.test. A 30 192.0.2.3'],
      authority: [],
      additional: [],
      scope: 0,
      dynamic: true,
    },
  },
  {
    case: 'routed AAAA where the chosen PoP has none: NODATA',
    name: 'www.example.test',
    type: Type.AAAA,
    from: '10.1.2.3',
    out: { rcode: NOERROR, aa: true, answer: [], authority: [SOA], additional: [], scope: 0, dynamic: true },
  },
  {
    case: 'routed A by ECS (Frankfurt /24): the scope is the database network',
    name: 'www.example.test',
    type: Type.A,
    ecs: '198.51.100.0/24',
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['www.example.test. A 30 192.0.2.1'],
      authority: [],
      additional: [],
      scope: 24,
      dynamic: true,
    },
  },
  {
    case: 'ECS wider than the database network: scope capped at the source prefix (RFC 7871 §7.2.1)',
    name: 'www.example.test',
    type: Type.A,
    ecs: '198.51.100.0/23',
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['www.example.test. A 30 192.0.2.1'],
      authority: [],
      additional: [],
      scope: 23,
      dynamic: true,
    },
  },
  {
    case: "ECS narrower than the database network: the network's scope",
    name: 'www.example.test',
    type: Type.A,
    ecs: '198.51.100.128/25',
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['www.example.test. A 30 192.0.2.1'],
      authority: [],
      additional: [],
      scope: 24,
      dynamic: true,
    },
  },
  {
    case: 'ECS IPv6 (Frankfurt /48) for AAAA',
    name: 'www.example.test',
    type: Type.AAAA,
    ecs: '2001:db8:1::/48',
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['www.example.test. AAAA 30 2001:db8:1::1'],
      authority: [],
      additional: [],
      scope: 48,
      dynamic: true,
    },
  },
  {
    case: "ECS source prefix 0: the resolver's address decides, scope 0 (RFC 7871 §7.1.2)",
    name: 'www.example.test',
    type: Type.A,
    from: '10.1.2.3',
    ecs: '0.0.0.0/0',
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['www.example.test. A 30 192.0.2.3'],
      authority: [],
      additional: [],
      scope: 0,
      dynamic: true,
    },
  },
  {
    case: 'routed name reached through a static CNAME',
    name: 'toroute.example.test',
    type: Type.A,
    ecs: '203.0.113.0/24',
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['toroute.example.test. CNAME 3600 www.example.test.', 'www.example.test. A 30 192.0.2.3'],
      authority: [],
      additional: [],
      scope: 24,
      dynamic: true,
    },
  },
  {
    case: 'routed wildcard: the decision owned by the QNAME',
    name: 'img.r.example.test',
    type: Type.A,
    ecs: '198.51.100.0/24',
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['<qname> A 20 192.0.2.1'],
      authority: [],
      additional: [],
      scope: 24,
      dynamic: true,
    },
  },
  {
    case: 'external CDN member: a CNAME to it',
    name: 'multi.example.test',
    type: Type.A,
    out: {
      rcode: NOERROR,
      aa: true,
      answer: ['multi.example.test. CNAME 30 edge.other-cdn.example.'],
      authority: [],
      additional: [],
      scope: 0,
      dynamic: true,
    },
  },
  {
    case: 'routed name, a type it does not steer: static NODATA',
    name: 'www.example.test',
    type: Type.TXT,
    out: { rcode: NOERROR, aa: true, answer: [], authority: [SOA], additional: [], scope: 0, dynamic: false },
  },
];

describe('resolve', () => {
  it.each(STATIC)('$case', (row) => {
    const key = parseName(`${row.name}.`, null).key;
    expect(view(resolve(state.zones, key, row.type))).toEqual(row.out);
    // With a router and a client the static answers are the same.
    expect(view(resolve(state.zones, key, row.type, state.steering, '10.1.2.3', ecs('198.51.100.0/24')))).toEqual(
      row.out,
    );
  });

  it.each(ROUTED)('$case', (row) => {
    const key = parseName(`${row.name}.`, null).key;
    const client = row.ecs ? ecs(row.ecs) : null;
    expect(view(resolve(state.zones, key, row.type, state.steering, row.from ?? '127.0.0.1', client))).toEqual(row.out);
  });

  it('marks a routed name dynamic without a router (so it is never precomputed), with no records', () => {
    const key = parseName('www.example.test.', null).key;
    expect(view(resolve(state.zones, key, Type.A))).toEqual({
      rcode: NOERROR,
      aa: true,
      answer: [],
      authority: [],
      additional: [],
      scope: 0,
      dynamic: true,
    });
  });

  it('keeps no state between calls: the same question for two clients, interleaved, answers each its own', () => {
    const key = parseName('www.example.test.', null).key;
    const tokyo = ecs('203.0.113.0/24');
    const frankfurt = ecs('198.51.100.0/24');
    const first = [
      resolve(state.zones, key, Type.A, state.steering, '127.0.0.1', tokyo),
      resolve(state.zones, key, Type.A, state.steering, '127.0.0.1', frankfurt),
    ];
    const again = [
      resolve(state.zones, key, Type.A, state.steering, '127.0.0.1', tokyo),
      resolve(state.zones, key, Type.A, state.steering, '127.0.0.1', null),
    ];
    expect(first.map((a) => rrText(a!.answer))).toEqual([
      ['www.example.test. A 30 192.0.2.3'],
      ['www.example.test. A 30 192.0.2.1'],
    ]);
    expect(again.map((a) => [rrText(a!.answer), a!.scope])).toEqual([
      [['www.example.test. A 30 192.0.2.3'], 24],
      [['www.example.test. A 30 192.0.2.1'], 0],
    ]);
  });
});
