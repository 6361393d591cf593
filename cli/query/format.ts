// `meridian query` output: the facts an operator checks first (status, who answered, the ECS
// scope) on top, then the sections as aligned master-file lines.
import type { ClientSubnet } from './args.js';
import type { DnsReply, ResourceRecord } from './message.js';

export interface QueryResult {
  /** HOST:PORT that answered. */
  readonly server: string;
  readonly transport: 'udp' | 'tcp';
  readonly retriedOverTcp: boolean;
  readonly rttMs: number;
  readonly query: { readonly name: string; readonly type: string; readonly subnet: string | null };
  readonly reply: DnsReply;
}

export function subnetText(s: ClientSubnet): string {
  return `${s.address}/${s.prefix}`;
}

export function formatQueryResult(r: QueryResult): string {
  const { reply } = r;
  const lines: string[] = [];
  lines.push(`${r.query.name} ${r.query.type}${r.query.subnet ? ` for client subnet ${r.query.subnet}` : ''}`);
  lines.push(`status:  ${reply.rcode}   flags: ${reply.flags.join(' ') || '(none)'}   id: ${reply.id}`);
  const via = r.retriedOverTcp ? 'TCP (the UDP reply was truncated)' : r.transport.toUpperCase();
  lines.push(`server:  ${r.server} over ${via}, ${r.rttMs.toFixed(1)} ms`);
  if (!reply.edns) {
    lines.push('edns:    none in the reply (the server does not speak EDNS, so no NSID or client subnet)');
  } else {
    const nsid = reply.edns.nsid;
    lines.push(`nsid:    ${nsid === null ? '(none sent)' : nsid.text !== null ? nsid.text : `0x${nsid.hex}`}`);
    lines.push(`ecs:     ${ecsText(r.query.subnet, reply.edns.clientSubnet)}`);
  }
  section(lines, 'ANSWER', reply.answer, reply.rcode === 'NOERROR' ? emptyAnswer(reply) : undefined);
  section(lines, 'AUTHORITY', reply.authority);
  section(lines, 'ADDITIONAL', reply.additional);
  return `${lines.join('\n')}\n`;
}

/** An empty NOERROR answer is either NODATA (authoritative) or a referral to a child zone. */
function emptyAnswer(reply: DnsReply): string {
  if (!reply.flags.includes('aa') && reply.authority.some((rr) => rr.type === 'NS'))
    return '(none: a referral; the servers in AUTHORITY answer for this name)';
  return '(none: the name exists but has no records of this type, NODATA)';
}

function ecsText(asked: string | null, echoed: NonNullable<DnsReply['edns']>['clientSubnet']): string {
  if (!echoed) return asked ? `not echoed (the server ignored ${asked})` : '(not sent)';
  const scope = `scope /${echoed.scopePrefix}`;
  const meaning = echoed.scopePrefix === 0 ? ' (the same answer for every client)' : '';
  return `${echoed.address}/${echoed.sourcePrefix}, ${scope}${meaning}`;
}

function section(lines: string[], title: string, records: readonly ResourceRecord[], whenEmpty?: string): void {
  if (records.length === 0 && whenEmpty === undefined) return;
  lines.push('', title);
  if (records.length === 0) {
    lines.push(`  ${whenEmpty}`);
    return;
  }
  const rows = records.map((rr) => [rr.name, String(rr.ttl), rr.class, rr.type, rr.data]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) {
    lines.push(
      `  ${row.map((cell, i) => (i < 4 ? (i === 1 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)) : cell)).join('  ')}`,
    );
  }
}
