// One log line when a client network starts being limited, itself limited: a flood from many
// networks must not become a flood of log lines. At most one line per network per `everyMs`,
// and at most `perMinute` lines a minute in all; the next line says how many were left out.
import type { Logger } from '../../common/log.js';
import { keyToText } from '../wire/name.js';
import { typeName } from '../wire/constants.js';
import { clientNetwork, type NetworkPrefixes } from '../server/client-network.js';
import { KIND_NAMES, type Kind } from './classify.js';

/** Networks remembered for `everyMs`; past this many, the ones logged longest ago are forgotten. */
const MAX_REMEMBERED = 1000;

export class LimitLog {
  private readonly lastByNetwork = new Map<string, number>();
  private minuteStart = 0;
  private linesThisMinute = 0;
  private leftOut = 0;

  constructor(
    private readonly log: Logger,
    private readonly everyMs = 60_000,
    private readonly perMinute = 20,
  ) {}

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
    if (now - this.minuteStart >= 60_000) {
      this.minuteStart = now;
      this.linesThisMinute = 0;
    }
    // The cheap check first: under a flood from many networks, nothing is made for a line not written.
    if (this.linesThisMinute >= this.perMinute) {
      this.leftOut++;
      return;
    }
    const network = clientNetwork(clientIp, prefixes);
    const last = this.lastByNetwork.get(network);
    if (last !== undefined && now - last < this.everyMs) return;
    this.remember(network, now);
    this.linesThisMinute++;
    const leftOut = this.leftOut;
    this.leftOut = 0;
    this.log.warn(
      {
        network,
        kind: KIND_NAMES[kind],
        ...(name !== '' ? { name: keyToText(name) } : {}),
        ...(qtype !== 0 ? { qtype: typeName(qtype) } : {}),
        ...(logOnly ? { logOnly: true } : {}),
        ...(leftOut > 0 ? { linesLeftOut: leftOut } : {}),
      },
      logOnly
        ? 'response rate limit exceeded by a client network (dns.rrl.logOnly: still answered)'
        : 'rate-limiting responses to a client network (dns.rrl)',
    );
  }

  private remember(network: string, now: number): void {
    this.lastByNetwork.delete(network);
    this.lastByNetwork.set(network, now);
    // A Map iterates in insertion order: the first is the one logged longest ago.
    if (this.lastByNetwork.size > MAX_REMEMBERED) {
      const oldest = this.lastByNetwork.keys().next().value!;
      this.lastByNetwork.delete(oldest);
    }
  }
}
