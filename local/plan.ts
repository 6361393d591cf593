// Which processes a topology file implies on one machine, and where each listens: the demo
// origin (at `edge.origin`), the DNS server (`dns.listen`, `dns.control.listen`), and per PoP an
// edge (at its `edge` URL) and a prober (an HTTP port on the PoP's own address). Every service's own
// loader reads the file first, so a broken config is refused here, with the service's message,
// before a dozen processes start and fail one by one. A file with an `anycast:` section also
// implies an announcer (`meridian anycast`) per PoP listed there; whether this machine can run
// them (root, iproute2, each PoP's BIRD) is anycast-preflight.ts's question, asked before start.
import { isIP } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { ConfigError, parseWith, readYamlFile } from '../common/config-file.js';
import { formatHostPort, parseHostPort, type HostPort } from '../common/host-port.js';
import { anycastConfigFrom } from '../anycast/config.js';
import { fileSchema as anycastFileSchema } from '../anycast/config-schema.js';
import { loadDnsConfig } from '../dns/config.js';
import { wireToText } from '../dns/wire/name.js';
import { loadEdgeConfig } from '../edge/config.js';
import { loadProberConfig } from '../prober/config.js';

export type Role = 'origin' | 'dns' | 'edge' | 'health' | 'anycast';

export interface ProcessPlan {
  /** 'origin', 'dns', 'edge fra', 'health fra', 'anycast fra': the log prefix and the supervisor's key. */
  readonly name: string;
  readonly role: Role;
  readonly pop: string | null;
  /** Arguments to `meridian`: the same subcommands docker compose runs. */
  readonly args: readonly string[];
  /** Its main address, for people (the banner, GET /v1/processes). */
  readonly url: string;
  /** Any HTTP answer here means the process serves (an edge's 503 is a verdict, not a crash). */
  readonly readyUrl: string;
  /**
   * 2 = started once stage 1 is ready: probers, so they never probe an edge still starting, and
   * announcers, whose first checks then find the services up. 0 = before everything: an
   * announcer whose anycast addresses the DNS server binds (anycast-preflight.ts).
   */
  readonly stage: 0 | 1 | 2;
}

export interface Listener {
  readonly host: string;
  readonly port: number;
  readonly proto: 'tcp' | 'udp';
  /** Who listens there, for error messages. */
  readonly what: string;
}

export interface PopPlan {
  readonly id: string;
  readonly name: string;
  readonly edge: string;
  readonly prober: string;
}

/** An announcer `up` would run: what it needs from this machine, for anycast-preflight.ts and the banner. */
export interface AnycastPlan {
  readonly pop: string;
  /** Its process's name in `processes`. */
  readonly name: string;
  /** The PoP's BIRD 2 control socket (anycast.pops[].bgp.socket). */
  readonly socket: string;
  readonly prefixes: readonly string[];
  /** The anycast addresses it puts on this host, each with the port its check asks. */
  readonly addresses: readonly {
    readonly prefix: string;
    readonly address: string;
    readonly serves: 'dns' | 'edge';
    readonly port: number;
  }[];
  /** The dummy interface and the lease interface it creates: one of each per host. */
  readonly interface: string;
  readonly leaseInterface: string;
  /** Its control port (GET /v1/status, /metrics). */
  readonly control: string;
}

export interface Plan {
  /** Absolute. */
  readonly configFile: string;
  readonly origin: string;
  readonly dns: { readonly listen: readonly HostPort[]; readonly control: string };
  /**
   * `up.optionalListen`: DNS listeners `up` may leave out on a machine that lacks their address
   * (the demo's [::1]:5353 in a container without IPv6 loopback). Each is one of dns.listen.
   */
  readonly optionalDnsListen: readonly HostPort[];
  /** Routed names of the zones (www.demo.test, *.cdn.demo.test), in config order. */
  readonly routedNames: readonly string[];
  readonly pops: readonly PopPlan[];
  readonly processes: readonly ProcessPlan[];
  /** The announcers, when the file has an `anycast:` section (each also in `processes`). */
  readonly anycast: readonly AnycastPlan[];
  /** Every fixed address a child (or up itself) will bind. */
  readonly listeners: readonly Listener[];
  readonly warnings: readonly string[];
}

export interface PlanOptions {
  /** Each prober's HTTP port on its PoP's address. */
  readonly proberPort: number;
  /** Where up's own control API listens (checked against the children's addresses). */
  readonly controlListen: HostPort;
}

/** Who a dns.listen entry of `listeners` is for (also how optional-listen.ts finds them). */
export const DNS_LISTENER = 'the DNS server (dns.listen)';

const originSection = z.looseObject({ edge: z.looseObject({ origin: z.string() }) });
// Read by `meridian up` only; the services ignore it.
const upSection = z.looseObject({ up: z.strictObject({ optionalListen: z.array(z.string()).default([]) }).optional() });

export async function planFor(file: string, opts: PlanOptions): Promise<Plan> {
  const configFile = resolvePath(file);
  const fail = (path: string, message: string): never => {
    throw new ConfigError(`${configFile}: ${path}: ${message}`);
  };

  const dnsConfig = await loadDnsConfig(configFile);
  const { pops } = dnsConfig.topology;
  if (pops.length === 0) fail('pops', '`meridian up` runs an edge and a prober per PoP, and this file has no PoPs');
  pops.forEach((p, i) => {
    if (p.edge === undefined)
      fail(`pops[${i}].edge`, `PoP '${p.id}' has no edge URL; \`meridian up\` runs an edge for every PoP`);
  });
  const edges = await Promise.all(pops.map((p) => loadEdgeConfig(configFile, p.id)));
  const health = await loadProberConfig(configFile, pops[0]!.id);

  const raw = await readYamlFile(configFile);
  const originUrl = new URL(parseWith(configFile, originSection, raw).edge.origin);
  if (originUrl.protocol !== 'http:') fail('edge.origin', `'${originUrl.href}': the demo origin serves plain HTTP`);
  const origin = { host: bareHost(originUrl.hostname), port: originUrl.port === '' ? 80 : Number(originUrl.port) };
  requireLoopback(fail, 'edge.origin', origin, 'the demo origin');

  const { settings } = dnsConfig;
  settings.listen.forEach((l, i) => requireLoopback(fail, `dns.listen[${i}]`, l, 'the DNS server'));
  requireLoopback(fail, 'dns.control.listen', settings.control.listen, "the DNS server's control port");
  const optionalDnsListen = (parseWith(configFile, upSection, raw).up?.optionalListen ?? []).map((text, i) => {
    const at = parsed(fail, `up.optionalListen[${i}]`, text);
    if (!settings.listen.some((l) => l.host === at.host && l.port === at.port))
      fail(`up.optionalListen[${i}]`, `${text} is not one of dns.listen`);
    return at;
  });
  const dnsControl = `http://${formatHostPort(settings.control.listen)}`;

  // One prober port on every PoP address; PoPs sharing an address get consecutive ports.
  const distinctHosts = new Set(edges.map((e) => e.listen.host)).size === edges.length;
  const popPlans: PopPlan[] = [];
  const processes: ProcessPlan[] = [];
  const listeners: Listener[] = [
    { ...opts.controlListen, proto: 'tcp', what: '`meridian up` control API (--control-listen)' },
  ];
  const originText = `http://${formatHostPort(origin)}`;
  processes.push({
    name: 'origin',
    role: 'origin',
    pop: null,
    args: ['origin', '--listen', formatHostPort(origin)],
    url: originText,
    readyUrl: `${originText}/healthz`,
    stage: 1,
  });
  listeners.push({ ...origin, proto: 'tcp', what: 'the demo origin (edge.origin)' });

  processes.push({
    name: 'dns',
    role: 'dns',
    pop: null,
    args: ['dns', '--config', configFile, '--workers', '1'],
    url: dnsControl,
    readyUrl: `${dnsControl}/healthz`,
    stage: 1,
  });
  for (const l of settings.listen) {
    listeners.push({ ...l, proto: 'udp', what: DNS_LISTENER }, { ...l, proto: 'tcp', what: DNS_LISTENER });
  }
  listeners.push({
    ...settings.control.listen,
    proto: 'tcp',
    what: "the DNS server's control port (dns.control.listen)",
  });
  if (settings.redirect)
    listeners.push({ ...settings.redirect.listen, proto: 'tcp', what: 'HTTP redirect steering (dns.redirect.listen)' });

  edges.forEach((edge, i) => {
    const pop = pops[i]!;
    requireLoopback(fail, `pops[${i}].edge`, edge.listen, `the edge of PoP ${pop.id}`);
    const edgeUrl = `http://${formatHostPort(edge.listen)}`;
    // One serving process per edge: a laptop running a dozen processes has no cores to spare.
    const args = ['edge', '--config', configFile, '--pop', pop.id, '--workers', '1'];
    listeners.push({ ...edge.listen, proto: 'tcp', what: `the edge of PoP ${pop.id} (pops[${i}].edge)` });
    // A fixed edge.control port would be the same for every edge: each gets it on its own address.
    const control = edge.control.listen;
    if (control && control.port !== 0) {
      const at = { host: edge.listen.host, port: control.port };
      args.push('--control-listen', formatHostPort(at));
      listeners.push({ ...at, proto: 'tcp', what: `the edge control port of PoP ${pop.id} (edge.control.listen)` });
    }
    processes.push({
      name: `edge ${pop.id}`,
      role: 'edge',
      pop: pop.id,
      args,
      url: edgeUrl,
      readyUrl: `${edgeUrl}/healthz`,
      stage: 1,
    });

    const proberAt = { host: edge.listen.host, port: opts.proberPort + (distinctHosts ? 0 : i) };
    const proberUrl = `http://${formatHostPort(proberAt)}`;
    processes.push({
      name: `health ${pop.id}`,
      role: 'health',
      pop: pop.id,
      args: ['health', '--config', configFile, '--pop', pop.id, '--control-listen', formatHostPort(proberAt)],
      url: proberUrl,
      readyUrl: `${proberUrl}/healthz`,
      stage: 2,
    });
    listeners.push({ ...proberAt, proto: 'tcp', what: `the prober of PoP ${pop.id} (--prober-port)` });
    popPlans.push({ id: pop.id, name: pop.name ?? pop.id, edge: edgeUrl, prober: proberUrl });
  });

  // Announcers: one per PoP of anycast.pops, in topology order; the announcer's own loader
  // checks the section (prefixes, ASNs, addresses against the PoPs) before anything starts.
  const anycast: AnycastPlan[] = [];
  const section = parseWith(configFile, anycastFileSchema, raw).anycast;
  if (section) {
    const listed = new Set(section.pops.map((p) => p.pop));
    edges.forEach((edge, i) => {
      const pop = pops[i]!;
      if (!listed.has(pop.id)) return;
      const config = anycastConfigFrom(configFile, raw, pop.id);
      const name = `anycast ${pop.id}`;
      // After the prober's port(s): proberPort + 1 on distinct addresses, past every prober's otherwise.
      const at = { host: edge.listen.host, port: opts.proberPort + (distinctHosts ? 1 : edges.length + i) };
      const url = `http://${formatHostPort(at)}`;
      processes.push({
        name,
        role: 'anycast',
        pop: pop.id,
        args: ['anycast', '--config', configFile, '--pop', pop.id, '--control-listen', formatHostPort(at)],
        url,
        readyUrl: `${url}/healthz`,
        stage: 2,
      });
      listeners.push({ ...at, proto: 'tcp', what: `the anycast announcer of PoP ${pop.id} (--prober-port + 1)` });
      anycast.push({
        pop: pop.id,
        name,
        socket: config.bgp.socket,
        prefixes: config.prefixes.map((p) => p.text),
        addresses: config.prefixes.flatMap((p) =>
          p.addresses.map((a) => ({ prefix: p.text, address: a.address, serves: a.serves, port: a.port })),
        ),
        interface: config.interface,
        leaseInterface: config.lease.interface,
        control: url,
      });
    });
    // No PoP of the topology listed: the loader still says what is wrong with the section.
    if (anycast.length === 0) anycastConfigFrom(configFile, raw, section.pops[0]!.pop);
  }

  const clash = firstClash(listeners);
  if (clash) {
    const [a, b] = clash;
    throw new ConfigError(`${configFile}: ${a.proto} ${formatHostPort(a)} is wanted by both ${a.what} and ${b.what}`);
  }

  const warnings: string[] = [];
  if (!health.reportTo.some((u) => sameOrigin(u, dnsControl))) {
    warnings.push(
      `health.reportTo does not list the DNS server's control port (${dnsControl}): probers will not move answers away from a dead PoP`,
    );
  }

  const routedNames = dnsConfig.zones.flatMap((z) =>
    (z.routes ?? []).map((r) => wireToText(r.owner.wire).replace(/\.$/, '')),
  );
  return {
    configFile,
    origin: originText,
    dns: { listen: settings.listen, control: dnsControl },
    optionalDnsListen,
    routedNames,
    pops: popPlans,
    processes,
    anycast,
    listeners,
    warnings,
  };
}

/** Everything `up` starts runs on this machine only: a typo must not open a port to the network. */
function requireLoopback(
  fail: (path: string, message: string) => never,
  path: string,
  at: HostPort,
  what: string,
): void {
  if (isLoopback(at.host)) return;
  fail(
    path,
    `${formatHostPort(at)} is not a loopback address: \`meridian up\` runs ${what} on this machine only (use 127.0.0.0/8 or ::1)`,
  );
}

export function isLoopback(host: string): boolean {
  return (isIP(host) === 4 && host.startsWith('127.')) || host === '::1' || host === 'localhost';
}

function parsed(fail: (path: string, message: string) => never, path: string, text: string): HostPort {
  try {
    return parseHostPort(text);
  } catch (e) {
    return fail(path, (e as Error).message);
  }
}

function bareHost(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1');
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

function firstClash(listeners: readonly Listener[]): [Listener, Listener] | undefined {
  const seen = new Map<string, Listener>();
  for (const l of listeners) {
    if (l.port === 0) continue;
    const key = `${l.proto} ${l.host} ${l.port}`;
    const other = seen.get(key);
    if (other) return [other, l];
    seen.set(key, l);
  }
  return undefined;
}
