// `meridian explain NAME CLIENT`: asks a running DNS server why CLIENT gets the answer it gets
// for NAME, and prints it as a table (or JSON with --json).
import { request } from 'undici';
import { controlUrl } from './control-url.js';
import { exitFor, parseCommandLine, usageError } from './flags.js';
import { CONTROL_URL_ENV, DEFAULT_CONTROL_URL } from '../common/control-defaults.js';
import type { Explanation } from '../dns/answer/explain.js';
import { ageText, type LandingRow } from './status/catchment.js';

export const EXPLAIN_COMMAND = {
  name: 'explain',
  usage: `usage: meridian explain NAME CLIENT [--type A|AAAA] [--control URL] [--json]
  CLIENT is a resolver address (192.0.2.1) or a client subnet (198.51.100.0/24)
  --control URL     the DNS server's control port (default $${CONTROL_URL_ENV}, else ${DEFAULT_CONTROL_URL})
`,
  flags: {
    type: { type: 'string', short: 't' },
    control: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: { min: 2, max: 2, what: 'NAME and CLIENT' },
} as const;

export async function runExplain(args: string[]): Promise<number> {
  const line = parseCommandLine(EXPLAIN_COMMAND, args);
  if (line.kind !== 'run') return exitFor(EXPLAIN_COMMAND, line);
  const [name, client] = line.positionals as [string, string];
  const target = controlUrl(line.flags.control);
  if (!target.ok) return usageError(EXPLAIN_COMMAND, target.message);
  const url = new URL('/v1/explain', target.url);
  url.searchParams.set('name', name);
  url.searchParams.set('client', client);
  if (line.flags.type) url.searchParams.set('type', line.flags.type);
  let res;
  try {
    res = await request(url, { headersTimeout: 5000, bodyTimeout: 5000 });
  } catch (e) {
    process.stderr.write(
      `meridian explain: cannot reach the DNS server's control port at ${target.url.href}: ${(e as Error).message}\n`,
    );
    return 1;
  }
  const body = (await res.body.json()) as Explanation & { error?: string };
  if (res.statusCode !== 200) {
    process.stderr.write(`meridian explain: ${body.error ?? `HTTP ${res.statusCode}`}\n`);
    return 1;
  }
  process.stdout.write(line.flags.json ? `${JSON.stringify(body, null, 2)}\n` : formatExplanation(body));
  return 0;
}

export function formatExplanation(e: Explanation): string {
  const lines: string[] = [];
  const c = e.client as Record<string, unknown>;
  const loc = c['location'] as { lat: number; lon: number } | null | undefined;
  lines.push(`${e.name} ${e.type} for ${String(c['given'])} (${String(c['as'])})`);
  if (c['network'] !== undefined) {
    lines.push(
      `client: network ${String(c['network'])}, located by ${String(c['source'])}` +
        (loc ? ` at ${loc.lat.toFixed(2)},${loc.lon.toFixed(2)}` : '') +
        (c['country'] ? `, country ${String(c['country'])}` : '') +
        (c['continent'] ? `, continent ${String(c['continent'])}` : ''),
    );
  }
  type Row = {
    id: string;
    kind: string;
    memberId?: string;
    eligible: boolean;
    distanceKm: number | null;
    estimatedRttMs: number | null;
    measuredRttMs: number | null;
    notes: string[];
  };
  type Anycast = {
    type: string;
    applied: string;
    reason: string;
    addresses?: { address: string; catchment?: LandingRow[] }[];
  };
  for (const d of e.decisions as {
    pool: string;
    policy: string;
    rankedBy: string;
    candidates: Row[];
    chosen: string[];
    usedFallback: boolean;
    anycast?: Anycast[];
  }[]) {
    lines.push(
      '',
      `pool ${d.pool} (policy ${d.policy}, ranked by ${d.rankedBy})${d.usedFallback ? ' — nothing eligible, fallback used' : ''}`,
    );
    // Which applied per family, before the unicast ranking (what answers when anycast does not).
    for (const f of d.anycast ?? []) lines.push(`  ${f.type}: ${f.applied} — ${f.reason}`);
    // Where each vantage lands on each address (the routers' choice, as the probers measured it).
    for (const a of (d.anycast ?? []).flatMap((f) => f.addresses ?? [])) {
      const landings = a.catchment ?? [];
      lines.push(
        `  anycast ${a.address}: ${
          landings.length === 0
            ? 'no prober has measured where it lands'
            : landings
                .map(
                  (l) =>
                    `from ${l.vantage} → ${l.pop === null ? 'no answer' : `pop ${l.pop}`} (${ageText(l.ageMs)} ago${l.stale ? ', stale' : ''})`,
                )
                .join(', ')
        }`,
      );
    }
    const rows = [['', 'member', 'eligible', 'distance', 'est. RTT', 'measured', 'notes']];
    for (const m of d.candidates) {
      rows.push([
        d.chosen.includes(m.id) ? '→' : '',
        m.kind === 'cname' ? `${m.id} (cname${m.memberId ? ` ${m.memberId}` : ''})` : m.id,
        m.eligible ? 'yes' : 'no',
        m.distanceKm === null ? '-' : `${m.distanceKm} km`,
        m.estimatedRttMs === null ? '-' : `${m.estimatedRttMs} ms`,
        m.measuredRttMs === null ? '-' : `${m.measuredRttMs} ms`,
        m.notes.join('; '),
      ]);
    }
    lines.push(...table(rows));
  }
  lines.push('', `answer (${e.rcode}${e.ecsScope !== null ? `, ECS scope /${e.ecsScope}` : ''}):`);
  for (const a of e.answer) lines.push(`  ${a.name} ${a.ttl} ${a.type} ${a.data}`);
  if (e.answer.length === 0) lines.push('  (none)');
  return `${lines.join('\n')}\n`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')}`.trimEnd());
}
