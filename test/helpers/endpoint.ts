// Where a DNS server listens, as the tests pass it around, and how its ready line spells it.

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Splits `127.0.0.1:40123 (udp+tcp)` / `[::1]:40123 (udp+tcp)` into host and port. */
export function parseListenerText(text: string): Endpoint {
  const m = /^\[?([^\]\s]+?)\]?:(\d+)(?:\s|$)/.exec(text.trim());
  if (!m) throw new Error(`cannot parse listener '${text}'`);
  return { host: m[1]!, port: Number(m[2]) };
}
