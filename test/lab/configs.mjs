// What the lab's processes read: each transit router's BIRD config (written here, by hand, as an
// upstream's would be) and each PoP's Meridian config (its DNS server and its announcer; the
// PoP's own BIRD config is generated from it by `meridian anycast --print-bird-config`).
import { join } from 'node:path';
import { ADDR, ADDR6, ASN, CLIENTS, IFACE, NEIGHBOURS, POPS, ROUTER_OF } from './topology.mjs';

/** The anycast addresses: DNS and edges in prefixes of their own, so each fails over apart. */
export const ANYCAST = { dns: '198.51.100.53', edge: '198.51.100.180' };
export const PREFIX = { dns: '198.51.100.0/25', edge: '198.51.100.128/25' };
/**
 * The same in IPv6 (documentation space, RFC 3849): a /48 each, what the internet carries. Each
 * is withdrawn with its IPv4 twin, since one process serves both (`meridian dns`, the edge).
 */
export const ANYCAST6 = { dns: '2001:db8:53::53', edge: '2001:db8:180::180' };
export const PREFIX6 = { dns: '2001:db8:53::/48', edge: '2001:db8:180::/48' };
export const ZONE = 'lab.test';
/** Each PoP's DNS server answers NSID (and CH TXT id.server) with this. */
export const serverId = (pop) => `pop-${pop}`;
/**
 * Each PoP's DNS server's control port, on every address of the PoP: the announcer and
 * `meridian pop drain` reach it on the PoP namespace's loopback (DNS_CONTROL), the clients'
 * probers (catchment, `meridian health --vantage cN`) at the PoP's link address (dnsControlUrl).
 */
export const DNS_CONTROL_PORT = 8053;
export const DNS_CONTROL = `127.0.0.1:${DNS_CONTROL_PORT}`;
export const dnsControlUrl = (pop) => `http://${ADDR.popLink(pop).pop}:${DNS_CONTROL_PORT}`;
/**
 * The DNS servers' control token: their ports listen beyond loopback, which Meridian refuses
 * without one. The servers, announcers and probers read it from this file in the lab's dir;
 * `meridian pop` (popCommand) from MERIDIAN_CONTROL_TOKEN. A lab never leaves this machine, so
 * a fixed value does.
 */
export const LAB_CONTROL_TOKEN = 'meridian-lab';
export const controlTokenFile = (dir) => join(dir, 'control-token');
/** How often the clients' probers ask who answers each anycast address. */
export const CATCHMENT_INTERVAL_MS = 1000;
/** The announcer's control port, on the PoP namespace's loopback. */
export const ANNOUNCER_CONTROL = '127.0.0.1:9180';

/** BFD between a PoP and its router: a silent link is noticed in 100 ms × 3. */
export const BFD = { intervalMs: 100, multiplier: 3 };
/** BGP timers everywhere: hold 3 s, the lowest RFC 4271 allows, the backstop where BFD is off. */
export const BGP_TIMERS = { hold: 3, keepalive: 1 };
/**
 * Damping (RFC 2439 in spirit): one flap already suppresses, for halfLife × log2(penalty / reuse)
 * = 2 s × log2(1000 / 250) = 4 s; flaps every 2 s keep the penalty above reuse, so the prefix
 * stays down; never held longer than 10 s.
 */
export const DAMPING = { penalty: 1000, suppress: 1000, reuse: 250, halfLifeMs: 2000, maxHoldDownMs: 10_000 };
export const HOLD_DOWN_MS = DAMPING.halfLifeMs * Math.log2(DAMPING.penalty / DAMPING.reuse);

const routerNumber = (r) => Number(r.slice(1));

/**
 * A transit router's BIRD config. One BGP session per address family and neighbour (`pop` and
 * `pop6`, `r2` and `r2_6`), as many transit providers and IXPs run them and as the PoPs' generated
 * config does (a session carries its own family, so each family's next hop is the session's own
 * address, with no `next hop` settings); BFD runs on both PoP sessions.
 */
export function routerBirdConf(router) {
  const pop = POPS.find((p) => ROUTER_OF[p] === router);
  const popLink = ADDR.popLink(pop);
  const popLink6 = ADDR6.popLink(pop);
  const session = (name, local, neighbour, asn, extra, filters, family = 'ipv4') =>
    [
      `protocol bgp ${name} {`,
      `  local ${local} as ${ASN[router]};`,
      `  neighbor ${neighbour} as ${asn};`,
      `  hold time ${BGP_TIMERS.hold}; keepalive time ${BGP_TIMERS.keepalive}; connect retry time 1;`,
      // As the PoPs' generated config (anycast/bird-conf.ts): back 1 s after a failed session, not BIRD's 60 s.
      '  error wait time 1, 30; error forget time 30;',
      ...extra,
      `  ${family} { ${filters} };`,
      '}',
    ].join('\n');
  const out = [
    `# Transit router ${router} (AS ${ASN[router]}) of the Meridian anycast lab.`,
    `router id ${ADDR.routerId(router)};`,
    'protocol device { scan time 10; }',
    // The link networks, so every box can reach every other (replies, BGP next hops).
    `protocol direct { ipv4; ipv6; interface "to-*"; }`,
    'protocol kernel { ipv4 { import none; export where source = RTS_BGP; }; }',
    'protocol kernel kernel6 { ipv6 { import none; export where source = RTS_BGP; }; }',
    `protocol bfd { interface "${IFACE.toPop}" { interval ${BFD.intervalMs} ms; multiplier ${BFD.multiplier}; }; }`,
    // The PoP's session: take its anycast prefixes (and nothing longer than a /25), send it nothing.
    session(
      'pop',
      popLink.router,
      popLink.pop,
      ASN[pop],
      ['  bfd yes;'],
      'import where net ~ [ 198.51.100.0/24{24,25} ]; export none;',
    ),
    session(
      'pop6',
      popLink6.router,
      popLink6.pop,
      ASN[pop],
      ['  bfd yes;'],
      `import where net ~ [ ${PREFIX6.dns}, ${PREFIX6.edge} ]; export none;`,
      'ipv6',
    ),
  ];
  for (const other of NEIGHBOURS[router]) {
    const l = ADDR.routerLink(router, other);
    const l6 = ADDR6.routerLink(router, other);
    const name = `r${routerNumber(other)}`;
    out.push(session(name, l[router], l[other], ASN[other], [], 'import all; export all;'));
    out.push(session(`${name}_6`, l6[router], l6[other], ASN[other], [], 'import all; export all;', 'ipv6'));
  }
  return `${out.join('\n')}\n`;
}

/**
 * The whole topology file every PoP's processes read; `pop` picks its serverId. With
 * `reportTo`, it is the clients' probers' file instead (they report to every PoP's DNS server,
 * not to the PoP's own on its loopback).
 */
export function popConfigYaml(pop, dir, reportTo) {
  const bgp = (p) => {
    const l = ADDR.popLink(p);
    const l6 = ADDR6.popLink(p);
    return (
      `{ socket: ${join(dir, `p${p}.ctl`)}, asn: ${ASN[p]}, routerId: ${l.pop}, ` +
      `neighbors: [{ address: ${l.router}, asn: ${ASN[ROUTER_OF[p]]}, bfd: true }, { address: "${l6.router}", asn: ${ASN[ROUTER_OF[p]]}, bfd: true }], ` +
      `timers: { hold: ${BGP_TIMERS.hold}, keepalive: ${BGP_TIMERS.keepalive} }, bfd: { interval: ${BFD.intervalMs}ms, multiplier: ${BFD.multiplier} } }`
    );
  };
  const check = 'interval: 200ms, fastInterval: 100ms, timeout: 200ms, rise: 2, fall: 2';
  return `# PoP ${pop} of the Meridian anycast lab (test/lab/): its DNS server and its announcer read this.
dns:
  serverId: ${serverId(pop)}
  pop: ${pop}
  listen: ["${ANYCAST.dns}:53", "[${ANYCAST6.dns}]:53"]
  control: { listen: "0.0.0.0:${DNS_CONTROL_PORT}", tokenFile: ${controlTokenFile(dir)} }
  workers: 1
  # bench:anycast's client sends 200 of the same query a second (bench/anycast/stream.mjs): RRL
  # stays on with rates it never reaches, or its "lost" queries would be limited ones.
  rrl: { responsesPerSecond: 1000000 }
  log: { level: warn }
pops:
${POPS.map((p) => `  - { id: ${p}, location: { lat: ${50 - 10 * POPS.indexOf(p)}, lon: ${10 * POPS.indexOf(p)} }, ipv4: [${ADDR.popLink(p).pop}], ipv6: ["${ADDR6.popLink(p).pop}"] }`).join('\n')}
# www answers the anycast edge addresses (A and AAAA) while some PoP announces them, else the
# nearest PoP's own address (policy: anycast falls back per family).
pools:
  - { id: edge, policy: anycast, members: [${POPS.join(', ')}] }
geo:
  nets: [{ network: 10.0.0.0/8, location: { lat: 50, lon: 0 } }, { network: "2001:db8::/32", location: { lat: 50, lon: 0 } }]
# The announcer reports to its own PoP's DNS server, and hears a drain (meridian pop drain) in the
# reply; the clients' probers (reportTo given) report to every PoP's, which keep the catchment view.
health:
  tokenFile: ${controlTokenFile(dir)}
  reportTo: [${(reportTo ?? [`http://${DNS_CONTROL}`]).map((u) => `"${u}"`).join(', ')}]
  catchment: { interval: ${CATCHMENT_INTERVAL_MS}ms, timeout: 500ms, vantages: [${CLIENTS.join(', ')}] }
zones:
  - name: ${ZONE}
    soa: { mname: ns1.${ZONE}., rname: hostmaster.${ZONE}., serial: 1 }
    ns: [ns1.${ZONE}.]
    records:
      - { name: ns1, type: A, value: ${ANYCAST.dns} }
      - { name: ns1, type: AAAA, value: "${ANYCAST6.dns}" }
    routes:
      - { name: www, pool: edge, ttl: 10 }
anycast:
  prefixes:
    - prefix: ${PREFIX.dns}
      addresses: [{ address: ${ANYCAST.dns}, serves: dns }]
    - prefix: ${PREFIX.edge}
      addresses: [{ address: ${ANYCAST.edge}, serves: edge }]
    - prefix: ${PREFIX6.dns}
      addresses: [{ address: "${ANYCAST6.dns}", serves: dns }]
    - prefix: ${PREFIX6.edge}
      addresses: [{ address: "${ANYCAST6.edge}", serves: edge }]
  dns: { ${check} }
  edge: { ${check} }
  damping: { penalty: ${DAMPING.penalty}, suppress: ${DAMPING.suppress}, reuse: ${DAMPING.reuse}, halfLife: ${DAMPING.halfLifeMs}ms, maxHoldDown: ${DAMPING.maxHoldDownMs}ms }
  lease: { timeout: 600ms }
  reportInterval: 200ms
  pops:
${POPS.map((p) => `    - { pop: ${p}, bgp: ${bgp(p)} }`).join('\n')}
`;
}
