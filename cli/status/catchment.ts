// The catchment table of `meridian status`: where each vantage lands on each anycast address,
// as the probers measured it (the `catchment` of GET /v1/status; dns/pop-health/catchment-view.ts).
// One row per vantage, one column per address; a cell is the PoP that answered and how long ago.
// A stale cell is marked so: it says where that vantage landed, not where it lands.
import { z } from 'zod';

export const landingSchema = z.object({
  vantage: z.string(),
  address: z.string(),
  pop: z.string().nullable(),
  detail: z.string().optional(),
  ageMs: z.number(),
  stale: z.boolean(),
});
export type LandingRow = z.output<typeof landingSchema>;

/** One cell: `a (3 s)`, `no answer (2 s)`, `b (40 s, stale)`. */
export function landingText(l: Pick<LandingRow, 'pop' | 'ageMs' | 'stale'>): string {
  return `${l.pop ?? 'no answer'} (${ageNote(l)})`;
}

/** `3.0 s`, `40 s, stale`. */
export function ageNote(l: Pick<LandingRow, 'ageMs' | 'stale'>): string {
  return `${ageText(l.ageMs)}${l.stale ? ', stale' : ''}`;
}

export function ageText(ms: number): string {
  const s = ms / 1000;
  return s < 10 ? `${s.toFixed(1)} s` : s < 120 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;
}

/** The table's lines (none when nothing was measured). */
export function formatCatchment(rows: readonly LandingRow[] | undefined): string[] {
  if (!rows || rows.length === 0) return [];
  const addresses = [...new Set(rows.map((r) => r.address))];
  const vantages = [...new Set(rows.map((r) => r.vantage))];
  const cell = (v: string, a: string) => {
    const l = rows.find((r) => r.vantage === v && r.address === a);
    return l ? landingText(l) : '-';
  };
  const grid = [['VANTAGE', ...addresses], ...vantages.map((v) => [v, ...addresses.map((a) => cell(v, a))])];
  const widths = grid[0]!.map((_, i) => Math.max(...grid.map((r) => r[i]!.length)));
  const lines = [
    '',
    'catchment (which PoP answers each anycast address from each vantage, as its prober last saw it):',
    ...grid.map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    ),
  ];
  const unexplained = rows.filter((r) => r.pop === null && r.detail);
  for (const r of unexplained) lines.push(`  ${r.vantage} → ${r.address}: ${r.detail}`);
  return lines;
}
