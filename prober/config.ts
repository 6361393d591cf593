// The prober's part of the topology file: every PoP with an edge becomes a target, with its
// effective probe settings (PoP over first pool over `health` defaults), and `--pop` names the
// vantage point the reports come from.
import { dirname, resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { ConfigError, parseWith, readYamlFile } from '../common/config-file.js';
import { probeSettingsFor, type LatencySettings, type ProbeSettings } from '../common/health-contract.js';
import type { HostPort } from '../common/host-port.js';
import { checkedMembers, topologyProblems, topologySchema, type Pool } from '../common/topology.js';
import type { ProbeTarget } from './checks/types.js';
import type { AnycastAddress } from './catchment.js';

// Loose: the other services' sections (dns, zones, geo, edge) are theirs to check; of `anycast:`
// only the addresses are read here (catchment), the announcer checks the rest.
const fileSchema = z.looseObject({
  ...topologySchema,
  anycast: z
    .looseObject({
      prefixes: z.array(
        z.looseObject({
          addresses: z.array(
            z.looseObject({
              address: z.string(),
              serves: z.enum(['dns', 'edge']),
              port: z.number().int().min(1).max(65535).optional(),
            }),
          ),
        }),
      ),
    })
    .optional(),
});

export interface Target extends ProbeTarget {
  /** A PoP's edge, or a CNAME member (another CDN) probed at its check's `url` (also `edge`). */
  readonly kind: 'pop' | 'member';
  /** Disabled PoPs are probed too, so their state is known before they are enabled again. */
  readonly enabled: boolean;
  readonly settings: ProbeSettings;
}

export interface ProberConfig {
  readonly file: string;
  /** This prober's own PoP, or its name outside the PoPs (`--vantage`, health.catchment.vantages). */
  readonly vantage: string;
  /** false: a prober outside the PoPs, which measures catchment only (no edges, no resolver RTT). */
  readonly inPop: boolean;
  /** Which PoP answers each anycast address from here (`health.catchment`, `anycast.prefixes`). */
  readonly catchment: {
    readonly interval: number;
    readonly timeout: number;
    readonly addresses: readonly AnycastAddress[];
    readonly pops: readonly string[];
  };
  readonly targets: readonly Target[];
  /** PoPs without an `edge` URL: nothing to probe. */
  readonly skipped: readonly string[];
  /** The `health` interval: how often reports go out (targets may override their own). */
  readonly interval: number;
  readonly concurrency: number;
  readonly reportTo: readonly string[];
  /** Absolute path of `health.tokenFile`, if set. */
  readonly tokenFile: string | undefined;
  /** RTT measurement to the busiest resolver networks (`health.latency`). */
  readonly latency: LatencySettings;
  /** `health.control.listen`: the control port, unless --control-listen says otherwise. */
  readonly controlListen: HostPort | undefined;
}

/** Where the prober runs: in a PoP (`--pop`), or outside the PoPs under a vantage name (`--vantage`). */
export type ProberPlace = { readonly pop: string } | { readonly vantage: string };

export async function loadProberConfig(file: string, place: string | ProberPlace): Promise<ProberConfig> {
  const parsed = parseWith(file, fileSchema, await readYamlFile(file));
  const problems = topologyProblems(parsed);
  if (problems.length > 0) throw new ConfigError(problems.map(([path, msg]) => `${file}: ${path}: ${msg}`).join('\n'));
  const where: ProberPlace = typeof place === 'string' ? { pop: place } : place;
  const catchment = {
    interval: parsed.health.catchment.interval,
    timeout: parsed.health.catchment.timeout,
    addresses: (parsed.anycast?.prefixes ?? []).flatMap((p) =>
      p.addresses.map((a) => ({
        address: a.address,
        serves: a.serves,
        port: a.port ?? (a.serves === 'dns' ? 53 : 80),
      })),
    ),
    pops: parsed.pops.map((p) => p.id),
  };
  // A vantage that is a PoP is that PoP's prober; any other must be listed, or the DNS servers refuse its reports.
  if ('vantage' in where && !parsed.pops.some((p) => p.id === where.vantage)) {
    const listed = parsed.health.catchment.vantages;
    if (!listed.includes(where.vantage))
      throw new ConfigError(
        `${file}: health.catchment.vantages: '${where.vantage}' (--vantage) is neither a PoP nor listed, so the DNS servers would refuse its reports; listed: ${listed.join(', ') || 'none'}`,
      );
    return {
      file,
      vantage: where.vantage,
      inPop: false,
      catchment,
      targets: [],
      skipped: [],
      interval: probeSettingsFor(parsed.health, undefined, undefined).interval,
      concurrency: parsed.health.concurrency,
      reportTo: parsed.health.reportTo,
      tokenFile:
        parsed.health.tokenFile === undefined ? undefined : resolvePath(dirname(file), parsed.health.tokenFile),
      latency: { ...parsed.health.latency, resolvers: 0 },
      controlListen: parsed.health.control?.listen,
    };
  }
  const popId = 'pop' in where ? where.pop : where.vantage;
  if (!parsed.pops.some((p) => p.id === popId)) {
    const known = parsed.pops.map((p) => p.id).join(', ') || 'none';
    throw new ConfigError(`${file}: pops: no PoP with id '${popId}' (--pop); known: ${known}`);
  }

  const { health } = parsed;
  // The DNS servers refuse reports from a PoP they do not expect a prober in: say so at start.
  if (health.vantagePoints && !health.vantagePoints.includes(popId)) {
    throw new ConfigError(
      `${file}: health.vantagePoints: '${popId}' (--pop) is not listed, so the DNS servers would refuse its reports; listed: ${health.vantagePoints.join(', ')}`,
    );
  }
  const targets: Target[] = [];
  const skipped: string[] = [];
  parsed.pops.forEach((pop, i) => {
    if (pop.edge === undefined) return void skipped.push(pop.id);
    const pool = firstPoolWith(parsed.pools, pop.id);
    const settings = probeSettingsFor(health, pool?.health, pop.health);
    const where = pop.health?.check
      ? `pops[${i}].health.check`
      : pool?.health?.check
        ? `pools[${parsed.pools.indexOf(pool)}].health.check`
        : 'health.check';
    checkBodyMatch(file, where, settings);
    targets.push({ kind: 'pop', pop: pop.id, edge: new URL(pop.edge), enabled: pop.enabled, settings });
  });
  // Other CDNs in a pool: every prober probes them too, so the DNS servers' quorum decides.
  for (const m of checkedMembers(parsed)) {
    const settings = probeSettingsFor(health, m.pool.health, m.member.health);
    checkBodyMatch(file, `${m.where}.health.check`, settings);
    const url = settings.check.type === 'http' ? settings.check.url : undefined;
    // topologyProblems refused anything else.
    if (url === undefined) throw new Error(`${m.where}: checked CNAME member without a check url`);
    targets.push({ kind: 'member', pop: m.id, edge: new URL(url), enabled: true, settings });
  }
  return {
    file,
    vantage: popId,
    inPop: true,
    catchment,
    targets,
    skipped,
    interval: probeSettingsFor(health, undefined, undefined).interval,
    concurrency: health.concurrency,
    reportTo: health.reportTo,
    tokenFile: health.tokenFile === undefined ? undefined : resolvePath(dirname(file), health.tokenFile),
    latency: health.latency,
    controlListen: health.control?.listen,
  };
}

function firstPoolWith(pools: readonly Pool[], popId: string): Pool | undefined {
  return pools.find((pool) => pool.members.some((m) => m.kind === 'pop' && m.pop === popId));
}

/** A bad pattern is a config error at start-up, not a probe that fails forever. */
function checkBodyMatch(file: string, where: string, settings: ProbeSettings): void {
  const { check } = settings;
  if (check.type !== 'http' || check.bodyMatch === undefined) return;
  try {
    new RegExp(check.bodyMatch);
  } catch (e) {
    throw new ConfigError(`${file}: ${where}.bodyMatch: ${(e as Error).message}`);
  }
}
