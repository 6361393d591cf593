// The anycast addresses on the PoP host, so its services accept traffic routed to them: each
// as a host address (/32, /128) on a dummy interface, the usual home of anycast service
// addresses, removed in one step and never touching `lo`. A kernel built without the dummy
// driver (some VMs and containers) gets them on `lo` instead, the other classic home ("loopback
// alias"), with a log line saying so. Kept on the host while the route is withdrawn: a withdrawn
// PoP receives no traffic for them anyway, and its services stay bound and checkable. Removed
// at a clean exit; after a crash they stay and the next start takes them over (`replace`).
import type { Logger } from '../common/log.js';
import { IpCommandError, linkExists, runIp } from './ip-command.js';

export interface HostAddresses {
  /** The interface the addresses are on (the dummy, or `lo`). */
  readonly interface: string;
  remove(): Promise<void>;
}

export async function configureAddresses(
  ifname: string,
  addresses: readonly string[],
  log: Logger,
): Promise<HostAddresses> {
  let device = ifname;
  let created = false;
  if (!(await linkExists(ifname))) {
    try {
      await runIp(['link', 'add', ifname, 'type', 'dummy']);
      created = true;
    } catch (e) {
      if (!(e instanceof IpCommandError && /unknown device type/i.test(e.stderr))) throw e;
      log.warn({ interface: ifname }, "this kernel has no dummy interfaces: the anycast addresses go on 'lo'");
      device = 'lo';
    }
  }
  await runIp(['link', 'set', device, 'up']);
  for (const a of addresses) {
    // nodad: an anycast address is on every PoP by design; duplicate detection would only delay it.
    await runIp(
      a.includes(':')
        ? ['-6', 'addr', 'replace', `${a}/128`, 'dev', device, 'nodad']
        : ['addr', 'replace', `${a}/32`, 'dev', device],
    );
  }
  log.info({ interface: device, addresses, created }, 'anycast addresses configured on this host');
  return {
    interface: device,
    async remove() {
      // An interface we created goes whole; one we did not (the operator's, or lo) keeps everything but our addresses.
      if (created)
        await runIp(['link', 'del', device]).catch((err: Error) =>
          log.warn({ err: err.message }, 'could not remove the anycast interface'),
        );
      else {
        for (const a of addresses) {
          await runIp(['addr', 'del', `${a}/${a.includes(':') ? 128 : 32}`, 'dev', device]).catch((err: Error) =>
            log.warn({ err: err.message }, 'could not remove an anycast address'),
          );
        }
      }
      log.info({ interface: device, addresses }, 'anycast addresses removed from this host');
    },
  };
}
