// Report formatting shared by the benches: progress lines on stderr, numbers, medians, the machine
// line, the "other work" cells and plain-text tables.
import os from 'node:os';

// Cores of unrelated CPU use above which a figure is flagged: during a measured run ("!" in its
// row), and just before the run starts. The "other work" estimate mixes tick-sampled machine
// counters with per-process times and is only good to ~±0.2 of a core.
const OTHER_WORK_LIMIT = 0.5;
export const BUSY_BEFORE_LIMIT = 0.2;

export function log(msg) {
  process.stderr.write(`${msg}\n`);
}

export const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
export const fmt1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
export const fmt2 = (n) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
/** A duration in ms, with two decimals below 10 ms and one above. */
export const fmtMs = (ms) => (Number.isFinite(ms) ? `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms` : 'n/a');

/** The median of the finite numbers in `xs` (NaN if there are none): the figure the benches compare across runs. */
export const median = (xs) => {
  const a = xs.filter(Number.isFinite).sort((x, y) => x - y);
  if (a.length === 0) return NaN;
  const mid = a.length >> 1;
  return a.length % 2 ? a[mid] : (a[mid - 1] + a[mid]) / 2;
};

/** "machine: nproc N (CPU model), OS release, node vX" (the caller appends tool versions). */
export function machineText() {
  const cpuModel = os.cpus()[0]?.model?.trim() ?? '?';
  return `machine: nproc ${os.availableParallelism()} (${cpuModel}), ${os.type()} ${os.release()}, node ${process.version}`;
}

/** The report's line on busyBefore()'s sample, flagged above BUSY_BEFORE_LIMIT. */
export const busyBeforeText = (cores) =>
  `CPU in use by other work just before the run: ${(cores * 100).toFixed(0)}% of a core` +
  (cores > BUSY_BEFORE_LIMIT ? '  <-- the machine was busy: treat these figures as unreliable' : '');

/** An "other work" table cell: % of a core, "!" above OTHER_WORK_LIMIT. */
export const otherWorkCell = (cores) =>
  Number.isFinite(cores) ? `${Math.max(0, cores * 100).toFixed(0)}%${cores > OTHER_WORK_LIMIT ? ' !' : ''}` : 'n/a';

/** The legend for otherWorkCell()'s "!", when any row has one. */
export const otherWorkLegend = (coresList) =>
  coresList.some((c) => c > OTHER_WORK_LIMIT) ? `; "!" = over ${OTHER_WORK_LIMIT * 100}%: that row is unreliable` : '';

/**
 * A plain-text table: header, a dashed rule, rows; columns two spaces apart, the first
 * `leftColumns` padded on the right (text), the others on the left (figures). Returns its lines.
 */
export function formatTable(header, rows, leftColumns = 1) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmtRow = (r) => r.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmtRow(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmtRow)];
}
