// Checks of the `anycast:` section that need more than its shape: an address must lie in its
// prefix, an anycast prefix must not cover a PoP's unicast address (the unicast GeoDNS answer
// would then be routed to whichever PoP is nearest, not to that PoP), ASNs must be usable on a
// BGP session, and every announcing PoP needs its BGP settings, with a neighbour of each address
// family it announces. Each problem is [path, message], as topologyProblems returns them, so the
// file and path lead every line.
import { contains, parseIp, type IpNetwork } from '../common/ip.js';
import type { Topology } from '../common/topology.js';
import type { AnycastSection, BgpSettings } from './config-schema.js';

/**
 * AS numbers no BGP session may use as its own or its peer's: 0 (RFC 7607), AS_TRANS 23456
 * (RFC 6793, stands in for a 4-byte ASN on old speakers), 65535 and 4294967295 (RFC 7300, last
 * of each range, reserved).
 */
const RESERVED_ASNS: ReadonlyMap<number, string> = new Map([
  [0, 'AS 0 is reserved (RFC 7607)'],
  [23456, 'AS 23456 is AS_TRANS, reserved for 2-byte speakers (RFC 6793)'],
  [65535, 'AS 65535 is reserved (RFC 7300)'],
  [4294967295, 'AS 4294967295 is reserved (RFC 7300)'],
]);

/** Why `asn` cannot be used on a BGP session, or undefined when it can. */
export function asnProblem(asn: number): string | undefined {
  if (!Number.isInteger(asn) || asn < 0 || asn > 4294967295) return `${asn} is not an AS number (1 to 4294967294)`;
  return RESERVED_ASNS.get(asn);
}

export function anycastProblems(t: Pick<Topology, 'pops'>, section: AnycastSection): [string, string][] {
  const problems: [string, string][] = [];
  const nets: { net: IpNetwork; where: string; text: string }[] = [];
  const everyAddress = new Set<string>();
  section.prefixes.forEach((p, i) => {
    const where = `anycast.prefixes[${i}]`;
    const net: IpNetwork = { family: p.prefix.family, address: p.prefix.address, prefix: p.prefix.prefix };
    for (const other of nets) {
      if (contains(other.net, net) || contains(net, other.net))
        problems.push([
          `${where}.prefix`,
          `${p.prefix.text} overlaps ${other.text} (${other.where}): one route per prefix`,
        ]);
    }
    nets.push({ net, where, text: p.prefix.text });
    p.addresses.forEach((a, j) => {
      const ip = parseIp(a.address)!;
      if (!contains(net, { family: ip.family, address: ip.address, prefix: ip.family === 4 ? 32 : 128 })) {
        problems.push([`${where}.addresses[${j}].address`, `${a.address} is outside its prefix ${p.prefix.text}`]);
      }
      if (everyAddress.has(a.address))
        problems.push([`${where}.addresses[${j}].address`, `${a.address} is listed twice`]);
      everyAddress.add(a.address);
    });
  });
  t.pops.forEach((pop, k) => {
    for (const [family, list] of [
      ['ipv4', pop.ipv4],
      ['ipv6', pop.ipv6],
    ] as const) {
      list.forEach((text, m) => {
        const ip = parseIp(text);
        const hit =
          ip &&
          nets.find((n) =>
            contains(n.net, { family: ip.family, address: ip.address, prefix: ip.family === 4 ? 32 : 128 }),
          );
        if (hit) {
          problems.push([
            `${hit.where}.prefix`,
            `${hit.text} contains PoP '${pop.id}''s unicast address ${text} (pops[${k}].${family}[${m}]): anycast and unicast addresses must not overlap`,
          ]);
        }
      });
    }
  });
  const popIds = new Set(t.pops.map((p) => p.id));
  const listed = new Set<string>();
  section.pops.forEach((entry, i) => {
    const where = `anycast.pops[${i}]`;
    if (!popIds.has(entry.pop)) problems.push([`${where}.pop`, `no PoP with id '${entry.pop}'`]);
    if (listed.has(entry.pop)) problems.push([`${where}.pop`, `'${entry.pop}' is listed twice`]);
    listed.add(entry.pop);
    entry.addresses?.forEach((a, j) => {
      if (!everyAddress.has(a))
        problems.push([`${where}.addresses[${j}]`, `${a} is not an address of any anycast prefix`]);
    });
    const { bgp } = entry;
    if (bgp === undefined)
      return void problems.push([
        `${where}.bgp`,
        `PoP '${entry.pop}' has no BGP settings (bgp: { socket, asn, neighbors })`,
      ]);
    const own = asnProblem(bgp.asn);
    if (own) problems.push([`${where}.bgp.asn`, own]);
    bgp.neighbors.forEach((n, j) => {
      const bad = asnProblem(n.asn);
      if (bad) problems.push([`${where}.bgp.neighbors[${j}].asn`, bad]);
    });
    problems.push(...familyProblems(section, entry, bgp, i));
  });
  return problems;
}

/**
 * A PoP needs a neighbour of each address family it announces: the generated BIRD config gives
 * each session the channel of its own address family (bird-conf.ts), so an IPv6 prefix with only
 * IPv4 neighbours would reach no router while the announcer reported it announced and the DNS
 * servers answered its address: a blackhole. One problem per missing family.
 */
function familyProblems(
  section: AnycastSection,
  entry: AnycastSection['pops'][number],
  bgp: BgpSettings,
  i: number,
): [string, string][] {
  const served = entry.addresses === undefined ? undefined : new Set(entry.addresses);
  const carried = new Set(bgp.neighbors.map((n) => (n.address.includes(':') ? 6 : 4)));
  const missing = new Map<4 | 6, string>();
  for (const p of section.prefixes) {
    const announced = served === undefined || p.addresses.some((a) => served.has(a.address));
    if (announced && !carried.has(p.prefix.family) && !missing.has(p.prefix.family))
      missing.set(p.prefix.family, p.prefix.text);
  }
  return [...missing].map(([family, prefix]) => [
    `anycast.pops[${i}].bgp.neighbors`,
    `PoP '${entry.pop}' announces IPv${family} prefix ${prefix} but has no IPv${family} neighbour (a BGP session carries its own address family only): add one, or leave the prefix's addresses out of anycast.pops[${i}].addresses`,
  ]);
}

/**
 * Prefixes longer than what the internet carries: most networks filter IPv4 longer than /24
 * and IPv6 longer than /48, so such a route stays local. Fine in a lab, hence a warning.
 */
export function prefixWarnings(section: AnycastSection): string[] {
  const out: string[] = [];
  section.prefixes.forEach((p, i) => {
    const limit = p.prefix.family === 4 ? 24 : 48;
    if (p.prefix.prefix > limit) {
      out.push(
        `anycast.prefixes[${i}].prefix: ${p.prefix.text} is longer than /${limit}, which most networks filter: it will not propagate on the internet (fine in a lab)`,
      );
    }
  });
  return out;
}
