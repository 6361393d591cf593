// Who can reach a control port's mutating endpoints. Without a token they are open to whoever
// reaches the port: on loopback that is every local user (said at start-up), beyond loopback it
// is the network, which is refused at start-up rather than warned about in a log nobody reads.
import { isIP } from 'node:net';
import { CONTROL_TOKEN_ENV } from './control-token.js';

/** Where a service's control address and token are set, named in the refusal. */
export interface ControlSettings {
  /** e.g. 'dns.control.listen'. */
  readonly listen: string;
  /** e.g. 'dns.control.tokenFile' (besides MERIDIAN_CONTROL_TOKEN, which every service reads). */
  readonly tokenFile: string;
}

export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase();
  return a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.');
}

/**
 * Why a control port at `address` (an IP address) must not start, or null when it may:
 * mutating endpoints, no token, and an address beyond loopback (a wildcard included).
 */
export function exposureRefusal(
  address: string,
  port: number,
  token: string | undefined,
  mutatingPaths: readonly string[],
  settings: ControlSettings | undefined,
): string | null {
  if (token !== undefined || mutatingPaths.length === 0 || isLoopbackAddress(address)) return null;
  const at = isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
  const listen = settings ? `${settings.listen} or --control-listen` : '--control-listen';
  const tokenFrom = settings ? `${CONTROL_TOKEN_ENV} or ${settings.tokenFile}` : CONTROL_TOKEN_ENV;
  return (
    `control port ${at} is not on loopback and has no token: anyone who can reach it could call ` +
    `${mutatingPaths.join(', ')}. Set a token (${tokenFrom}), or listen on 127.0.0.1 (${listen})`
  );
}
