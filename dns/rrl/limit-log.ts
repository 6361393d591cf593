// One log line when a client network starts being limited, itself limited (at most one per
// network per `everyMs`, `perMinute` in all: ../server/network-log-throttle.ts).
import type { Logger } from '../../common/log.js';
import { keyToText } from '../wire/name.js';
import { typeName } from '../wire/constants.js';
import { clientNetwork, type NetworkPrefixes } from '../server/client-network.js';
import { NetworkLogThrottle } from '../server/network-log-throttle.js';
import { KIND_NAMES, type Kind } from './classify.js';

export class LimitLog {
  private readonly throttle: NetworkLogThrottle;

  constructor(
    private readonly log: Logger,
    everyMs = 60_000,
    perMinute = 20,
  ) {
    this.throttle = new NetworkLogThrottle(everyMs, perMinute);
  }

  /** A bucket of `clientIp`'s network started limiting at `now` (ms). */
  started(
    now: number,
    clientIp: string,
    prefixes: NetworkPrefixes,
    kind: Kind,
    name: string,
    qtype: number,
    logOnly: boolean,
  ): void {
    const line = this.throttle.take(now, () => clientNetwork(clientIp, prefixes));
    if (line === undefined) return;
    this.log.warn(
      {
        network: line.network,
        kind: KIND_NAMES[kind],
        ...(name !== '' ? { name: keyToText(name) } : {}),
        ...(qtype !== 0 ? { qtype: typeName(qtype) } : {}),
        ...(logOnly ? { logOnly: true } : {}),
        ...(line.leftOut > 0 ? { linesLeftOut: line.leftOut } : {}),
      },
      logOnly
        ? 'response rate limit exceeded by a client network (dns.rrl.logOnly: still answered)'
        : 'rate-limiting responses to a client network (dns.rrl)',
    );
  }
}
