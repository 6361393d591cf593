// The anycast addresses on the PoP host, so its services accept traffic routed to them: each
// as a host address (/32, /128) on a dummy interface, the usual home of anycast service
// addresses (a loopback alias would do too, but a dummy interface of our own is removed in one
// step and never touches `lo`). Kept on the host while the route is withdrawn: a withdrawn PoP
// receives no traffic for them anyway, and its services stay bound and checkable. Removed at a
// clean exit; after a crash they stay and the next start takes them over (`replace`).
import type { Logger } from '../common/log.js';
import { linkExists, runIp } from './ip-command.js';

export interface HostAddresses {
  remove(): Promise<void>;
}

export async function configureAddresses(ifname: string, addresses: readonly string[], log: Logger): Promise<HostAddresses> {
  const existed = await linkExists(ifname);
  if (!existed) await runIp(['link', 'add', ifname, 'type', 'dummy']);
  await runIp(['link', 'set', ifname, 'up']);
  for (const a of addresses) {
    // nodad: an anycast address is on every PoP by design; duplicate detection would only delay it.
    await runIp(a.includes(':') ? ['-6', 'addr', 'replace', `${a}/128`, 'dev', ifname, 'nodad'] : ['addr', 'replace', `${a}/32`, 'dev', ifname]);
  }
  log.info({ interface: ifname, addresses, created: !existed }, 'anycast addresses configured on this host');
  return {
    async remove() {
      // An interface we created goes whole; one the operator made keeps everything but our addresses.
      if (!existed) await runIp(['link', 'del', ifname]).catch((err: Error) => log.warn({ err: err.message }, 'could not remove the anycast interface'));
      else {
        for (const a of addresses) {
          await runIp(['addr', 'del', `${a}/${a.includes(':') ? 128 : 32}`, 'dev', ifname]).catch((err: Error) => log.warn({ err: err.message }, 'could not remove an anycast address'));
        }
      }
      log.info({ interface: ifname, addresses }, 'anycast addresses removed from this host');
    },
  };
}
