// The anycast lab's network: three transit routers in a line (r1 — r2 — r3, one AS each), a PoP
// and a client on every router, each box its own network namespace joined by veth pairs made
// straight inside the namespaces (no bridge, nothing in the root namespace but the namespace
// names). Removal kills what runs inside and deletes the namespaces: the same call cleans up after
// a crashed earlier run, since every name carries the lab's prefix.
//
//   c1        c2        c3         clients   10.212.N.2  (default via their router)
//   |         |         |
//   r1 ────── r2 ────── r3         routers   AS 6510N, BIRD, forwarding; 10.210.12/24, 10.210.23/24
//   |         |         |
//   pa        pb        pc         PoPs      AS 6500N, BIRD + meridian dns/anycast + an edge; 10.211.N.2
//
// Every link is dual-stack: beside its 10.x /24 it has a /64 in IPv6 documentation space
// (2001:db8:21X:...), the same numbering with `::` (ADDR6), and a default route per family.
// A line makes AS-path length decide: from c1, pa is 1 AS away behind r1, pb 2, pc 3.
import { spawnSync } from 'node:child_process';

export const ROUTERS = ['r1', 'r2', 'r3'];
export const POPS = ['a', 'b', 'c'];
export const CLIENTS = ['c1', 'c2', 'c3'];
/** Which router each PoP and client hangs off (its position on the line). */
export const ROUTER_OF = { a: 'r1', b: 'r2', c: 'r3', c1: 'r1', c2: 'r2', c3: 'r3' };
/** The PoP each client reaches while every PoP announces: the one on its own router. */
export const NEAREST = { c1: 'a', c2: 'b', c3: 'c' };
export const ASN = { r1: 65101, r2: 65102, r3: 65103, a: 65001, b: 65002, c: 65003 };

const n = (router) => Number(router.slice(1));
/** Link addresses (10.x, inside the lab's namespaces only). */
export const ADDR = {
  /** The router's and the PoP's end of a PoP's link. */
  popLink: (pop) => ({ router: `10.211.${n(ROUTER_OF[pop])}.1`, pop: `10.211.${n(ROUTER_OF[pop])}.2` }),
  clientLink: (client) => ({ router: `10.212.${n(ROUTER_OF[client])}.1`, client: `10.212.${n(ROUTER_OF[client])}.2` }),
  /** The link between two neighbouring routers: 10.210.<lower><higher>.<router number>. */
  routerLink: (from, to) => {
    const [lo, hi] = [n(from), n(to)].sort();
    return { [from]: `10.210.${lo}${hi}.${n(from)}`, [to]: `10.210.${lo}${hi}.${n(to)}` };
  },
  routerId: (router) => `10.255.0.${n(router)}`,
};
/**
 * The same links' IPv6 addresses (documentation space, RFC 3849; /64 each): 2001:db8:211:N::1/::2
 * on a PoP's link, 2001:db8:212:N::1/::2 on a client's, 2001:db8:210:<lower><higher>::<router
 * number> between routers.
 */
export const ADDR6 = {
  popLink: (pop) => ({ router: `2001:db8:211:${n(ROUTER_OF[pop])}::1`, pop: `2001:db8:211:${n(ROUTER_OF[pop])}::2` }),
  clientLink: (client) => ({
    router: `2001:db8:212:${n(ROUTER_OF[client])}::1`,
    client: `2001:db8:212:${n(ROUTER_OF[client])}::2`,
  }),
  routerLink: (from, to) => {
    const [lo, hi] = [n(from), n(to)].sort();
    return { [from]: `2001:db8:210:${lo}${hi}::${n(from)}`, [to]: `2001:db8:210:${lo}${hi}::${n(to)}` };
  },
};
/** Each router's neighbours on the line. */
export const NEIGHBOURS = { r1: ['r2'], r2: ['r1', 'r3'], r3: ['r2'] };

/** Interface names inside the namespaces (each namespace has its own, so no prefix is needed). */
export const IFACE = {
  toPop: 'to-pop',
  toClient: 'to-client',
  toRouter: (router) => `to-${router}`,
  uplink: 'uplink',
};

export function ip(...args) {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout;
}
const quiet = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });

/** The namespaces of a lab with this prefix that exist now (a running lab, or a crashed one's leftovers). */
export function labNamespaces(prefix) {
  return (quiet('ip', ['netns', 'list']).stdout ?? '')
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name.startsWith(prefix));
}

/**
 * Kills (SIGKILL, by pid) everything running in the lab's namespaces and deletes them. Their veth
 * pairs go with them. Synchronous, so it also works in an 'exit' handler.
 */
export function removeTopology(prefix) {
  if (prefix.length < 4) throw new Error(`prefix '${prefix}' is too short to clean up safely`);
  const namespaces = labNamespaces(prefix);
  for (const ns of namespaces) {
    // Ours by name: started by this lab or an earlier run of it.
    for (const pid of (quiet('ip', ['netns', 'pids', ns]).stdout ?? '').split(/\s+/).filter((p) => /^\d+$/.test(p))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const ns of namespaces) quiet('ip', ['netns', 'del', ns]);
}

/** A veth pair between two namespaces, addressed (/24 and /64) and up on both ends. */
function link(nsA, ifA, [addrA, addr6A], nsB, ifB, [addrB, addr6B]) {
  ip('-n', nsA, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB);
  ip('-n', nsA, 'addr', 'add', `${addrA}/24`, 'dev', ifA);
  ip('-n', nsB, 'addr', 'add', `${addrB}/24`, 'dev', ifB);
  // nodad: usable at once (BIRD binds them), rather than after a second of duplicate detection.
  ip('-n', nsA, 'addr', 'add', `${addr6A}/64`, 'dev', ifA, 'nodad');
  ip('-n', nsB, 'addr', 'add', `${addr6B}/64`, 'dev', ifB, 'nodad');
  ip('-n', nsA, 'link', 'set', ifA, 'up');
  ip('-n', nsB, 'link', 'set', ifB, 'up');
}

function sysctl(ns, ...settings) {
  for (const s of settings) {
    const r = quiet('ip', ['netns', 'exec', ns, 'sysctl', '-qw', s]);
    if (r.status !== 0) throw new Error(`sysctl ${s} in ${ns}: ${(r.stderr ?? '').trim()}`);
  }
}

/** Removes any leftovers with this prefix, then builds the namespaces and links. Returns ns names by key. */
export function createTopology(prefix) {
  if (prefix.length > 10) throw new Error(`prefix '${prefix}' is longer than 10 bytes`);
  removeTopology(prefix);
  const ns = Object.fromEntries([...ROUTERS, ...POPS.map((p) => `p${p}`), ...CLIENTS].map((k) => [k, `${prefix}${k}`]));
  const popNs = (pop) => ns[`p${pop}`];
  for (const name of Object.values(ns)) {
    ip('netns', 'add', name);
    ip('-n', name, 'link', 'set', 'lo', 'up');
    // Replies may come back another way than the query went (anycast is often asymmetric).
    sysctl(name, 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0');
    // IPv6 on, whatever a new namespace inherits on this host (the veths take `default`).
    sysctl(name, 'net.ipv6.conf.all.disable_ipv6=0', 'net.ipv6.conf.default.disable_ipv6=0');
  }
  for (const r of ROUTERS) sysctl(ns[r], 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
  for (const [a, b] of [
    ['r1', 'r2'],
    ['r2', 'r3'],
  ]) {
    const [v4, v6] = [ADDR.routerLink(a, b), ADDR6.routerLink(a, b)];
    link(ns[a], IFACE.toRouter(b), [v4[a], v6[a]], ns[b], IFACE.toRouter(a), [v4[b], v6[b]]);
  }
  for (const pop of POPS) {
    const [v4, v6] = [ADDR.popLink(pop), ADDR6.popLink(pop)];
    link(ns[ROUTER_OF[pop]], IFACE.toPop, [v4.router, v6.router], popNs(pop), IFACE.uplink, [v4.pop, v6.pop]);
    ip('-n', popNs(pop), 'route', 'add', 'default', 'via', v4.router);
    ip('-n', popNs(pop), '-6', 'route', 'add', 'default', 'via', v6.router);
  }
  for (const c of CLIENTS) {
    const [v4, v6] = [ADDR.clientLink(c), ADDR6.clientLink(c)];
    link(ns[ROUTER_OF[c]], IFACE.toClient, [v4.router, v6.router], ns[c], IFACE.uplink, [v4.client, v6.client]);
    ip('-n', ns[c], 'route', 'add', 'default', 'via', v4.router);
    ip('-n', ns[c], '-6', 'route', 'add', 'default', 'via', v6.router);
  }
  return ns;
}
