// The failover bench's summary on stdout: one table row per outage, median (min–max) of its runs
// against issue 14's targets, and the steady-state probe rate.
import { median } from '../lib.mjs';
import { SETTINGS } from './config.mjs';
import { RATE_WINDOW_MS } from './measure.mjs';

/** Issue 14's goals (median): a killed edge out ≤ 2 s and back ≤ 3 s, a silent one out ≤ 3 s. */
const TARGETS = { kill: { out: 2000, back: 3000 }, link: { out: 3000, back: undefined } };

/** Milliseconds as seconds with two decimals. */
export const seconds = (ms) => (ms / 1000).toFixed(2);

export const rateLine = (perPair) =>
  `steady-state probe rate: ${perPair.toFixed(2)} health checks/s per prober per edge over ${RATE_WINDOW_MS / 1000} s (the steady interval alone gives ${(1000 / SETTINGS.interval).toFixed(2)})`;

/** The table (a Markdown table, ready for bench/RESULTS.md): one row per measureOutage() result. */
export function summaryTable(summary) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  const out = [
    line(['outage', 'out: median (min–max) s', 'target', 'back: median (min–max) s', 'target']),
    line(['---', '---', '---', '---', '---']),
  ];
  for (const { outage, outs, backs } of summary) {
    const t = TARGETS[outage];
    const cell = (xs) => `${seconds(median(xs))} (${seconds(Math.min(...xs))}–${seconds(Math.max(...xs))})`;
    const meets = (xs, target) =>
      target === undefined ? '—' : `≤ ${seconds(target)} ${median(xs) <= target ? 'meets' : 'MISSES'}`;
    out.push(
      line([
        outage === 'kill' ? 'edge killed (RST)' : 'link down (silent)',
        cell(outs),
        meets(outs, t.out),
        cell(backs),
        meets(backs, t.back),
      ]),
    );
  }
  return out;
}
