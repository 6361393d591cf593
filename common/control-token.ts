// The bearer token that guards mutating control endpoints (drain a PoP, purge, overrides).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const CONTROL_TOKEN_ENV = 'MERIDIAN_CONTROL_TOKEN';

export interface ControlTokenOptions {
  /** Literal token from config; the weakest source, since config files get shared. */
  token?: string;
  /** File holding the token (a mounted secret); surrounding whitespace is ignored. */
  tokenFile?: string;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Picks the token by precedence: env MERIDIAN_CONTROL_TOKEN, then tokenFile, then token.
 * Returns undefined when none is set (mutating endpoints are then open, loopback default).
 * An empty env var counts as unset (`MERIDIAN_CONTROL_TOKEN= meridian ...`); an unreadable or
 * empty token file throws, because the operator clearly meant to protect the port.
 */
export function resolveControlToken(opts: ControlTokenOptions): string | undefined {
  const fromEnv = (opts.env ?? process.env)[CONTROL_TOKEN_ENV]?.trim();
  if (fromEnv) return fromEnv;

  if (opts.tokenFile !== undefined) {
    let contents: string;
    try {
      contents = readFileSync(opts.tokenFile, 'utf8');
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`cannot read control token file ${opts.tokenFile}: ${reason}`, { cause: err });
    }
    const token = contents.trim();
    if (token === '') throw new Error(`control token file ${opts.tokenFile} is empty`);
    return token;
  }

  const literal = opts.token?.trim();
  return literal ? literal : undefined;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * True when the Authorization header is `Bearer <expected>` (scheme case-insensitive).
 * Both sides are hashed first so timingSafeEqual always compares equal lengths and the
 * comparison time reveals neither the content nor the length of the expected token.
 */
export function tokenMatches(expected: string, authorizationHeader: string | undefined): boolean {
  if (expected === '' || authorizationHeader === undefined) return false;
  const presented = BEARER.exec(authorizationHeader.trim())?.[1];
  if (presented === undefined) return false;
  return timingSafeEqual(sha256(expected), sha256(presented));
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
