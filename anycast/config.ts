// The announcer's part of the topology file: the `anycast:` section. Service prefixes and the
// addresses in them (each serving DNS or an edge), how the local service behind each is checked
// (the prober's checks and rise/fall), damping, and per PoP its BGP speaker (BIRD's control
// socket, local ASN, neighbours, BFD, timers). `--pop` picks the PoP this announcer runs in.
// The shape is config-schema.ts; what needs the whole file (prefixes against PoPs' unicast
// addresses, ASNs, a PoP without BGP) is config-problems.ts.
import { isIPv4 } from 'node:net';
import { dirname, resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { ConfigError, parseWith, readYamlFile } from '../common/config-file.js';
import { probeSettingsFor, type ProbeSettings } from '../common/health-contract.js';
import type { IpNetwork } from '../common/ip.js';
import { fileSchema, type BgpSettings, type DampingSettings } from './config-schema.js';
import { anycastProblems, prefixWarnings } from './config-problems.js';

export interface AnycastAddress {
  readonly address: string;
  readonly family: 4 | 6;
  readonly serves: 'dns' | 'edge';
  readonly port: number;
  /** The prober's settings for this address's check. */
  readonly settings: ProbeSettings;
}

export interface AnycastPrefix {
  /** As written, e.g. '198.51.100.0/24'. */
  readonly text: string;
  readonly network: IpNetwork;
  /** The addresses in it that this PoP serves (the route is announced while all are healthy). */
  readonly addresses: readonly AnycastAddress[];
}

export interface AnycastConfig {
  readonly file: string;
  readonly pop: string;
  readonly prefixes: readonly AnycastPrefix[];
  readonly bgp: BgpSettings;
  readonly damping: DampingSettings;
  readonly interface: string;
  readonly lease: { readonly interface: string; readonly timeout: number };
  /** The DNS servers' control URLs the state is reported to: `health.reportTo`, as the probers'. */
  readonly reportTo: readonly string[];
  readonly reportInterval: number;
  /** Absolute path of `health.tokenFile`, if set. */
  readonly tokenFile: string | undefined;
  /** Worth a log line, not a refusal (a lab's /32). */
  readonly warnings: readonly string[];
}

export async function loadAnycastConfig(file: string, popId: string): Promise<AnycastConfig> {
  return anycastConfigFrom(file, await readYamlFile(file), popId);
}

/** The parsing and checking of loadAnycastConfig, on data already read (tests). */
export function anycastConfigFrom(file: string, data: unknown, popId: string): AnycastConfig {
  const parsed = parseWith(file, fileSchema, data);
  const section = parsed.anycast;
  if (section === undefined)
    throw new ConfigError(
      `${file}: anycast: missing; the announcer needs an anycast section (prefixes, addresses, pops with bgp)`,
    );
  const problems = anycastProblems(parsed, section);
  if (problems.length > 0) throw new ConfigError(problems.map(([path, msg]) => `${file}: ${path}: ${msg}`).join('\n'));
  const popIndex = section.pops.findIndex((p) => p.pop === popId);
  const entry = section.pops[popIndex];
  if (entry === undefined) {
    const known = section.pops.map((p) => p.pop).join(', ');
    throw new ConfigError(
      `${file}: anycast.pops: no entry for PoP '${popId}' (--pop), so it has no BGP settings; listed: ${known}`,
    );
  }
  // anycastProblems refused an entry without bgp.
  const bgp = entry.bgp!;
  const served = entry.addresses === undefined ? undefined : new Set(entry.addresses);
  const settingsFor = (serves: 'dns' | 'edge'): ProbeSettings => {
    const own = serves === 'dns' ? section.dns : section.edge;
    const zone = parsed.zones?.[0]?.name;
    const fallbackCheck =
      serves === 'dns' && own?.check === undefined
        ? { check: { type: 'dns' as const, name: zone ?? '.', qtype: 'SOA' as const, port: 53 } }
        : {};
    return probeSettingsFor(parsed.health, undefined, { ...fallbackCheck, ...own });
  };
  const prefixes = section.prefixes
    .map((p) => ({
      text: p.prefix.text,
      network: { family: p.prefix.family, address: p.prefix.address, prefix: p.prefix.prefix },
      addresses: p.addresses
        .filter((a) => served === undefined || served.has(a.address))
        .map((a) => {
          const settings = settingsFor(a.serves);
          const port = a.port ?? (settings.check.type === 'dns' ? settings.check.port : a.serves === 'dns' ? 53 : 80);
          return {
            address: a.address,
            family: isIPv4(a.address) ? (4 as const) : (6 as const),
            serves: a.serves,
            port,
            settings,
          };
        }),
    }))
    .filter((p) => p.addresses.length > 0);
  return {
    file,
    pop: popId,
    prefixes,
    bgp,
    damping: section.damping,
    interface: section.interface,
    lease: section.lease,
    // The same DNS servers the probers report to, with the same token: one list to keep, and
    // a server that judges a PoP's health is the one that answers its anycast pools.
    reportTo: parsed.health.reportTo,
    reportInterval: section.reportInterval,
    tokenFile: parsed.health.tokenFile === undefined ? undefined : resolvePath(dirname(file), parsed.health.tokenFile),
    warnings: prefixWarnings(section),
  };
}
