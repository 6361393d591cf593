// Cache-Control (RFC 9111 §5.2), and Surrogate-Control, which uses the same syntax:
//   Cache-Control   = #cache-directive
//   cache-directive = token [ "=" ( token / quoted-string ) ]
// Directive names are compared case-insensitively (`No-CaChE` is no-cache); arguments may come in
// either form whatever form a directive's definition generates (`max-age="60"` is 60, §5.2);
// commas inside a quoted-string do not end a directive. A directive given twice keeps its first
// occurrence (§4.2.1). A list element that is not a directive is skipped.
//
// Arguments of the delta-seconds directives are normalised here, so every reader sees digits:
// a valid value capped at 2^31 (§1.2.2), an invalid one (`-1`, `1.5`, `abc`, none) as 0, which
// makes the response stale rather than fresh for an unknown time (§4.2.1 encourages that).
import { deltaSeconds } from './delta-seconds.js';

export type Directives = Readonly<Record<string, string | true>>;

const DELTA = new Set(['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error', 'min-fresh', 'max-stale']);
/** Delta directives whose argument is optional (RFC 9111 §5.2.1.2). */
const BARE_ALLOWED = new Set(['max-stale']);

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function parseCacheControl(value: string | undefined): Directives {
  const out: Record<string, string | true> = {};
  if (!value) return out;
  for (const element of listElements(value)) {
    const eq = element.indexOf('=');
    const rawName = eq < 0 ? element : element.slice(0, eq);
    if (!TOKEN.test(rawName)) continue;
    const name = rawName.toLowerCase();
    if (name in out) continue;
    const arg = eq < 0 ? true : argument(element.slice(eq + 1));
    out[name] = DELTA.has(name) ? delta(name, arg) : (arg ?? '');
  }
  return out;
}

function delta(name: string, arg: string | true | undefined): string | true {
  if (arg === true && BARE_ALLOWED.has(name)) return true;
  const n = typeof arg === 'string' ? deltaSeconds(arg) : undefined;
  return String(n ?? 0);
}

/** A token or the content of a quoted-string (quoted-pairs undone); undefined when it is neither. */
function argument(text: string): string | undefined {
  if (TOKEN.test(text)) return text;
  if (text.length < 2 || text[0] !== '"' || text[text.length - 1] !== '"') return undefined;
  let out = '';
  for (let i = 1; i < text.length - 1; i++) {
    const ch = text[i]!;
    if (ch === '"') return undefined;
    if (ch === '\\') {
      if (i + 1 >= text.length - 1) return undefined;
      out += text[++i];
    } else out += ch;
  }
  return out;
}

/** The comma-separated elements of a list field, trimmed, empty ones dropped, quotes respected. */
function listElements(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i <= value.length; i++) {
    const ch = value[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === ',' || ch === undefined) {
      const element = value.slice(start, i).trim();
      if (element !== '') out.push(element);
      start = i + 1;
    }
  }
  return out;
}
