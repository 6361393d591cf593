// A failed probe is retried once, at once, before it counts as a failure. One lost SYN, a reset
// from a restarting worker or a dropped datagram is noise on any real network; counted as a
// failure it walks a healthy PoP toward `fall`. At 20% independent loss with fall 3, three
// failures in a row come every ~155 probes (2.5 min at a 1 s interval); with the retry a
// probe fails at 4% and the run takes ~16,000 probes (4.5 h). A dead edge still goes down after
// exactly `fall` probes; each of them just costs two attempts (up to 2 × timeout).
import type { Probe, ProbeResult } from './checks/types.js';
import type { ProbeSettings } from '../common/health.js';

export interface ConfirmedResult extends ProbeResult {
  /** 1, or 2 when the first attempt failed. */
  readonly attempts: 1 | 2;
}

export type ConfirmedProbe = (...args: Parameters<Probe<ProbeSettings>>) => Promise<ConfirmedResult>;

export function confirmed(probe: Probe<ProbeSettings>): ConfirmedProbe {
  return async (target, settings, signal) => {
    const first = await probe(target, settings, signal);
    if (first.ok || signal?.aborted) return { ...first, attempts: 1 };
    return { ...(await probe(target, settings, signal)), attempts: 2 };
  };
}
