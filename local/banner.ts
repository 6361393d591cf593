// What `meridian up` prints once everything serves: what runs where, and three commands that
// show the CDN working (a geo-steered answer, a cache MISS then HIT through that PoP, a PoP
// outage drill).
import { relative } from 'node:path';
import type { HostPort } from '../common/host-port.js';
import { formatHostPort } from '../common/host-port.js';
import type { Plan } from './plan.js';

export interface BannerExample {
  /** The routed name asked for (www.demo.test); none when the config routes no name. */
  readonly name?: string | undefined;
  /** The ECS subnet of the example client. */
  readonly subnet: string;
  /** Where the DNS server placed it (country code), when it could. */
  readonly country?: string | undefined;
  /** The PoP it is answered, and the addresses, when the DNS server said so. */
  readonly pop?: string | undefined;
  readonly addresses?: readonly string[] | undefined;
}

export interface BannerInput {
  readonly plan: Plan;
  /** up's control API base URL. */
  readonly controlUrl: string;
  /** True when --control-listen was left at its default (the drill command needs no --control then). */
  readonly defaultControl: boolean;
  readonly example: BannerExample;
  /** Why announcers were left out or will not announce (anycast-preflight.ts), one line each. */
  readonly anycastNotes?: readonly string[];
  /** Path of an asset on the origin, e.g. /assets/app.3f9a1c2b.js. */
  readonly asset: string;
  readonly verbose: boolean;
  readonly cwd: string;
}

export function renderBanner(b: BannerInput): string {
  const { plan, example } = b;
  const out: string[] = [];
  const file = relative(b.cwd, plan.configFile);
  out.push(
    `Meridian is up: ${plan.processes.length} processes from ${file.startsWith('..') ? plan.configFile : file} (Ctrl-C stops them all)`,
    '',
  );
  out.push(
    ...table([
      ['origin', plan.origin],
      ['dns', `${plan.dns.listen.map(formatHostPort).join(', ')} (udp+tcp), control ${plan.dns.control}`],
      ['up', `control ${b.controlUrl}`],
    ]),
    '',
  );
  out.push(
    ...table([['PoP', 'name', 'edge', 'prober'], ...plan.pops.map((p) => [p.id, p.name, p.edge, p.prober])]),
    '',
  );
  if (plan.anycast.length > 0)
    out.push(
      ...table([
        ['anycast', 'prefixes', 'BIRD', 'control'],
        ...plan.anycast.map((a) => [a.pop, a.prefixes.join(' '), a.socket, a.control]),
      ]),
      '',
    );
  // Repeated from the start-up log: easy to miss above the children's first lines.
  if (b.anycastNotes?.length) out.push(...b.anycastNotes, '');

  const pop = plan.pops.find((p) => p.id === example.pop) ?? plan.pops[0]!;
  const where = example.country ? `a client in ${example.country}` : `a client in ${example.subnet}`;
  const answered = example.pop
    ? `${where} is answered ${example.pop} (${pop.name})${example.addresses?.length ? `: ${example.addresses.join(', ')}` : ''}`
    : where;
  const meridian = 'node bin/meridian.js';
  const up = b.defaultControl ? '' : ` --control ${b.controlUrl}`;
  out.push(
    'Try:',
    ...(example.name === undefined
      ? []
      : [`  ${digCommand(plan.dns.listen[0]!)} ${example.name} +subnet=${example.subnet} +short`, `      ${answered}`]),
    `  curl -si ${pop.edge}${b.asset} | grep -iE '^(HTTP|cache-status|x-origin-time)'`,
    `      twice: first fwd=uri-miss (fetched from the origin), then hit (same X-Origin-Time)`,
    `  ${meridian} pop kill ${pop.id}${up}`,
    `      ${pop.id}'s edge stops; within seconds dig answers another PoP. \`${meridian} pop revive ${pop.id}${up}\` brings it back`,
    '',
    b.verbose
      ? 'Showing every log line (--verbose).'
      : 'Showing warnings and health changes only (--verbose shows every log line).',
  );
  return `${out.join('\n')}\n`;
}

function digCommand(server: HostPort): string {
  return `dig @${server.host}${server.port === 53 ? '' : ` -p ${server.port}`}`;
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`);
}
