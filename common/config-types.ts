// Value types the config file uses in every section: durations, byte sizes, HOST:PORT. Each
// error names the value and gives an example, and the file/path come from parseWith.
import { z } from 'zod';
import { parseHostPort } from './host-port.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const UNIT_BYTES: Record<string, number> = {
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** Milliseconds, as a number or with a unit ('500ms', '2s', '1m', '1h'). */
export const duration = z.union([z.number().int().min(0), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/i.exec(v.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `'${v}' is not a duration (e.g. 500ms, 2s, 1m)` });
    return z.NEVER;
  }
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!);
});

/** Bytes, as a number or with a unit ('512KiB', '8MiB', '1GB'). */
export const byteSize = z.union([z.number().int().min(0), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)?$/i.exec(v.trim());
  const unit = UNIT_BYTES[(m?.[2] ?? 'b').toLowerCase()];
  if (!m || unit === undefined) {
    ctx.addIssue({ code: 'custom', message: `'${v}' is not a byte size (e.g. 8MiB, 512KiB, 1GB)` });
    return z.NEVER;
  }
  return Math.floor(Number(m[1]) * unit);
});

/** '127.0.0.1:5353' or '[::1]:5353'. */
export const hostPort = z.string().transform((s, ctx) => {
  try {
    return parseHostPort(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

/**
 * Host names a control port answers to besides IP addresses and localhost (control-guard.ts):
 * a DNS name without port, compared lowercase. A port would never match (every port of a
 * listed name is accepted) and a '*' would undo the DNS-rebinding check, so both are errors.
 */
export const allowedHosts = z
  .array(
    z
      .string()
      .regex(/^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i, {
        error: (issue) => `'${String(issue.input)}' is not a host name (e.g. dns.internal, without port or scheme)`,
      })
      .transform((s) => s.toLowerCase()),
  )
  .default([]);
