// The anycast part of `meridian status`: the DNS server's view of every announcer (GET
// /v1/anycast), one row per PoP and prefix, and per anycast address who announces it. A server
// from before anycast answers 404: then there is simply no anycast table.
import { z } from 'zod';
import { getJson } from './http.js';

export interface AnycastRow {
  readonly pop: string;
  readonly prefix: string;
  readonly announced: boolean;
  readonly reason: string;
  readonly penalty: number;
  readonly suppressed: boolean;
  readonly flaps: number;
  /** A stale report does not count: its PoP is taken as announcing nothing. */
  readonly fresh: boolean;
  readonly ageMs: number;
}

export interface AnycastAddressRow {
  readonly address: string;
  readonly announcedBy: readonly string[];
  readonly reason: string;
}

export interface AnycastView {
  readonly rows: readonly AnycastRow[];
  readonly addresses: readonly AnycastAddressRow[];
  /** The view could not be read (the rest of the status still could). */
  readonly error?: string;
}

const anycastSchema = z.object({
  pops: z.array(
    z.object({
      pop: z.string(),
      fresh: z.boolean(),
      ageMs: z.number(),
      prefixes: z.array(
        z.object({
          prefix: z.string(),
          announced: z.boolean(),
          reason: z.string(),
          penalty: z.number(),
          suppressed: z.boolean(),
          flaps: z.number(),
        }),
      ),
    }),
  ),
  addresses: z.array(z.object({ address: z.string(), announcedBy: z.array(z.string()), reason: z.string() })),
});

/** The anycast view, or null when the server has none (no such endpoint, or nothing reported). */
export async function collectAnycast(control: URL, timeoutMs: number): Promise<AnycastView | null> {
  const answer = await getJson(new URL('/v1/anycast', control), timeoutMs);
  if (answer.status === 404) return null;
  const parsed = anycastSchema.safeParse(answer.body);
  if (answer.status !== 200 || !parsed.success)
    throw new Error(`GET /v1/anycast on ${control.href}: HTTP ${answer.status}, not the anycast view`);
  const rows = parsed.data.pops.flatMap((p) =>
    p.prefixes.map(({ prefix, announced, reason, penalty, suppressed, flaps }) => ({
      pop: p.pop,
      prefix,
      announced,
      reason,
      penalty,
      suppressed,
      flaps,
      fresh: p.fresh,
      ageMs: p.ageMs,
    })),
  );
  if (rows.length === 0 && parsed.data.addresses.length === 0) return null;
  return { rows, addresses: parsed.data.addresses };
}

const HEADER = ['POP', 'PREFIX', 'ANNOUNCED', 'PENALTY', 'SUPPRESSED', 'FLAPS', 'REPORT AGE', 'WHY'];

/** The table lines (no trailing newline), or none without a view. */
export function formatAnycast(v: AnycastView | null): string[] {
  if (v === null) return [];
  if (v.error !== undefined) return ['', `anycast: not read: ${v.error}`];
  const rows = v.rows.map((r) => [
    r.pop,
    r.prefix,
    r.announced ? 'yes' : 'no',
    String(Math.round(r.penalty)),
    r.suppressed ? 'yes' : 'no',
    String(r.flaps),
    `${(r.ageMs / 1000).toFixed(1)} s${r.fresh ? '' : ' (stale)'}`,
    r.reason,
  ]);
  const lines = [
    '',
    'anycast (as the announcers report it; a stale report counts as nothing announced):',
    ...table([HEADER, ...rows]),
  ];
  for (const a of v.addresses)
    lines.push(
      `  ${a.address}: ${a.announcedBy.length > 0 ? 'answered' : 'not answered (anycast pools fall back to unicast)'}: ${a.reason}`,
    );
  return lines;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}
