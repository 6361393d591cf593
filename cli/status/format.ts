// `meridian status` as a terminal table: one row per PoP, the long "why" last so the columns
// before it stay aligned however long it gets.
import type { EdgeView } from './edge.js';
import type { PopStatus, StatusReport, Vote } from './collect.js';
import { formatAnycast } from './anycast.js';
import { formatCatchment } from './catchment.js';
import { formatProtection } from './protection.js';

const HEADER = [
  'POP',
  'NAME',
  'VERDICT',
  'ANSWERED',
  'OVERRIDE',
  'VANTAGE POINTS',
  'RTT',
  'EDGE',
  'HIT',
  'OBJECTS',
  'STORED',
  'WHY',
];

export function formatStatus(r: StatusReport): string {
  const answered = r.pops.filter((p) => p.answered).length;
  const pops = r.pops.filter((p) => p.kind !== 'member').length;
  const members = r.pops.length - pops;
  const unreachable = r.pops.filter((p) => p.edge?.state === 'unreachable').length;
  const summary = [
    `${pops} PoP${pops === 1 ? '' : 's'}`,
    ...(members ? [`${members} checked CNAME member${members === 1 ? '' : 's'}`] : []),
    `${answered} answered`,
    ...(unreachable ? [`${unreachable} edge${unreachable === 1 ? '' : 's'} unreachable`] : []),
  ];
  const lines = [`DNS server ${r.serverId} at ${r.control}: ${summary.join(', ')}`, ''];
  lines.push(...table([HEADER, ...r.pops.map(row)]));
  lines.push(
    '',
    ...(members
      ? ['member: a CNAME member (another CDN) with a health check; NAME is its cname, and it has no edge of ours.']
      : []),
    'vantage points: ✓ sees it up, ✗ sees it down, ? has no result for it; (in parentheses) stale, not counted.',
    "RTT: median of the fresh vantage points' probe RTTs to the PoP's edge. HIT: share of cacheable requests its cache served since it started.",
  );
  lines.push(...formatAnycast(r.anycast ?? null));
  lines.push(...formatCatchment(r.catchment));
  lines.push(...formatProtection(r.protection));
  const problems = r.pops.filter((p) => p.edge?.error).map((p) => `  ${p.id}: ${p.edge!.url}: ${p.edge!.error}`);
  if (problems.length > 0) lines.push('', 'edges not read:', ...problems);
  return `${lines.join('\n')}\n`;
}

function row(p: PopStatus): string[] {
  const e = p.edge;
  const cache = e && e.hitRatio !== null;
  return [
    p.kind === 'member' ? `${p.id} (member)` : p.id,
    p.name ?? '',
    p.verdict,
    p.answered ? 'yes' : p.enabled ? 'no' : 'no (disabled)',
    p.override ?? '-',
    votesText(p.votes),
    p.rttMs === null ? '-' : msText(p.rttMs),
    p.kind === 'member' ? '-' : edgeState(e),
    cache ? `${(e.hitRatio! * 100).toFixed(1)}%` : '-',
    cache ? String(e.objects) : '-',
    cache ? bytesText(e.bytes!) : '-',
    p.reason,
  ];
}

export function votesText(votes: readonly Vote[]): string {
  if (votes.length === 0) return 'no reports';
  return votes
    .map((v) => {
      const mark = `${v.vantage}${v.up === true ? '✓' : v.up === false ? '✗' : '?'}`;
      return v.fresh ? mark : `(${mark})`;
    })
    .join(' ');
}

function edgeState(e: EdgeView | null): string {
  return e === null ? 'no edge URL' : e.state;
}

export function msText(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

export function bytesText(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Columns padded to their widest cell; widths count characters, which ✓ and ✗ are one of. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}
