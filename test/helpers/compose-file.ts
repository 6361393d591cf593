// docker-compose.yml read the way Compose reads it, for the parts the compose test checks: variable
// interpolation and the short `ports` syntax.

export interface PortMapping {
  target: number;
  published?: number | string;
  protocol?: string;
  host_ip?: string;
}

/** The compose file's variables, as compose substitutes them: `${VAR}`, `${VAR:-default}`,
 *  `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, and `$$` for a literal `$`. */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(
    /\$\$|\$\{(\w+)(?:(:?)([-?])([^}]*))?\}/g,
    (_all: string, name: string | undefined, colon: string, op: string, arg: string) => {
      if (name === undefined) return '$';
      const value = env[name];
      const unset = value === undefined || (colon === ':' && value === '');
      if (!unset) return value;
      if (op === '-') return arg;
      if (op === '?') throw new Error(`compose refuses: ${name} ${arg}`);
      return '';
    },
  );
}

/** The compose document with every string interpolated (what `docker compose config` shows). */
export function interpolated<T>(doc: T, env: Record<string, string | undefined>): T {
  return JSON.parse(JSON.stringify(doc), (_key, value: unknown) =>
    typeof value === 'string' ? interpolate(value, env) : value,
  ) as T;
}

/** A `ports` entry in either syntax; the short one is `[HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]`. */
export function portMapping(p: PortMapping | string | number): PortMapping | undefined {
  if (typeof p === 'object') return p;
  const m = /^(?:(?:(\[[0-9A-Fa-f:.]+\]|[0-9.]+):)?(\d*):)?(\d+)(?:\/(tcp|udp|sctp))?$/.exec(String(p));
  if (!m) return undefined;
  return {
    target: Number(m[3]),
    ...(m[2] ? { published: Number(m[2]) } : {}),
    ...(m[4] ? { protocol: m[4] } : {}),
    ...(m[1] ? { host_ip: m[1].replace(/^\[(.*)\]$/, '$1') } : {}),
  };
}
