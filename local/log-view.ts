// What `meridian up` shows of a dozen processes' pino JSON lines: one readable line each,
// `10:42:03 [edge fra] WARN upstream unreachable upstream=http://127.0.0.1:8081 …`. By default
// only warnings, errors and the lifecycle events a drill is about (health verdicts, overrides,
// reloads); `--verbose` shows everything. Lines that are not JSON (a crash's stack trace) always
// show.

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const WARN = 40;

/** Info lines worth seeing without --verbose: what changes where answers go. */
const LIFECYCLE = new Set([
  'PoP health verdict changed',
  'CNAME member health verdict changed',
  'health state change',
  'admin override',
  'config reloaded',
  'upstream reachable again',
  'health reports delivered again',
]);

/** pino's own fields, shown another way (time, level) or not at all. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'service', 'msg', 'v']);

export interface ViewOptions {
  readonly verbose: boolean;
  /** Show the line's fields after the message (default true). `up` writes its own messages as
   *  whole sentences, so its fields would only repeat them; they stay in the --logs file. */
  readonly fields?: boolean;
}

/**
 * The terminal lines for one line of a child's (or up's own) output, or none when it is filtered
 * out. A `tail` field (a list of lines, e.g. a dead child's last stderr) is shown indented below.
 */
export function viewLine(who: string, line: string, opts: ViewOptions): string[] {
  const parsed = parseJsonLine(line);
  if (!parsed) return line.trim() === '' ? [] : [`${clock(Date.now())} [${who}] ${line}`];
  const level = typeof parsed.level === 'number' ? parsed.level : 30;
  const msg = typeof parsed.msg === 'string' ? parsed.msg : '';
  if (!opts.verbose && level < WARN && !LIFECYCLE.has(msg) && parsed.lifecycle !== true) return [];
  const time = typeof parsed.time === 'number' ? parsed.time : Date.now();
  const levelText = level === 30 ? '' : ` ${LEVELS[level] ?? `L${level}`}`;
  const fields =
    opts.fields === false
      ? []
      : Object.entries(parsed)
          .filter(([k]) => !HIDDEN.has(k) && k !== 'tail' && k !== 'lifecycle')
          .map(([k, v]) => `${k}=${fieldText(k, v)}`);
  const out = [`${clock(time)} [${who}]${levelText} ${msg}${fields.length ? ` ${fields.join(' ')}` : ''}`];
  if (Array.isArray(parsed.tail)) for (const t of parsed.tail) out.push(`      | ${String(t)}`);
  return out;
}

function parseJsonLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function fieldText(key: string, value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  // pino serialises errors as { type, message, stack }: the message is what a reader needs.
  if (key === 'err' && typeof value === 'object' && value !== null && 'message' in value)
    return JSON.stringify(String((value as { message: unknown }).message));
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 200 ? `${json.slice(0, 199)}…` : json;
}

/** HH:MM:SS in local time: enough to follow a drill. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}
