// Header plumbing a proxy owes both directions: hop-by-hop fields removed (RFC 9110 §7.6.1),
// Via and X-Forwarded-For appended. Header maps are node's shape: lower-case names, a string or
// (for repeated fields such as Set-Cookie) an array of strings.

export type HeaderMap = Record<string, string | string[]>;
export type IncomingHeaders = Record<string, string | string[] | undefined>;

export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** One header's value, repeated fields joined with ', ' (never for Set-Cookie). */
export function headerValue(headers: IncomingHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The fields a Connection header names (hop-by-hop for this message), lower-case; undefined without one. */
export function connectionNamed(headers: IncomingHeaders): ReadonlySet<string> | undefined {
  const connection = headerValue(headers, 'connection');
  return connection
    ? new Set(
        connection
          .toLowerCase()
          .split(',')
          .map((t) => t.trim()),
      )
    : undefined;
}

/** A copy without hop-by-hop fields: the fixed set, Proxy-*, and whatever Connection names. */
export function withoutHopByHop(headers: IncomingHeaders, drop?: ReadonlySet<string>): HeaderMap {
  const named = connectionNamed(headers);
  const out: HeaderMap = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower.startsWith('proxy-') || named?.has(lower) || drop?.has(lower)) continue;
    out[lower] = value;
  }
  return out;
}

/** `Via` with our hop appended. */
export function appendVia(existing: string | string[] | undefined, hop: string): string {
  const prior = Array.isArray(existing) ? existing.join(', ') : existing;
  return prior ? `${prior}, ${hop}` : hop;
}

/** `X-Forwarded-For` with the client's address appended. */
export function appendForwardedFor(
  existing: string | string[] | undefined,
  address: string | undefined,
): string | undefined {
  const prior = Array.isArray(existing) ? existing.join(', ') : existing;
  const client = address?.startsWith('::ffff:') ? address.slice(7) : address;
  if (!client) return prior;
  return prior ? `${prior}, ${client}` : client;
}

/** True when a Via header shows the request already passed through `hop` (a shield loop). */
export function viaIncludes(via: string | string[] | undefined, pseudonym: string): boolean {
  if (via === undefined) return false;
  const text = Array.isArray(via) ? via.join(',') : via;
  return text.split(',').some((entry) => entry.trim().split(/\s+/)[1] === pseudonym);
}
