// A failed probe is retried once before it counts as a failure. One lost SYN, a reset from a
// restarting worker or a dropped datagram is noise on any real network; counted as a failure it
// walks a healthy PoP toward `fall`. At 20% independent loss with fall 3, three failures in a
// row come every ~155 probes (2.5 min at a 1 s interval); with the retry a probe fails at
// p = 0.2² = 4% and the run takes 1 / (0.96 × 0.04³) ≈ 16,000 probes (4.5 h). A dead edge still
// goes down after exactly `fall` probes.
//
// When the retry starts depends on how the first attempt fails:
// - a fast failure (a refused connection — RST —, a reset, HTTP 503): the retry goes at once. A
//   refused connect is a strong signal, but the retry of one costs a round trip (under 1 ms in
//   a PoP's network, a few ms across one), so skipping it would gain nothing measurable and
//   would give up the protection against a worker restarting in place. RST is not treated apart.
// - a timeout (a silent edge, a lost SYN): a retry after the timeout would make every probe of a
//   silent edge cost 2 × timeout (1 s with the defaults; 3 probes, 3 s, before `fall`). So the
//   retry is *hedged*: when the first attempt has not answered after `hedgeAfter`
//   (hedgeDelay(): 4 × the target's RTT average, within [timeout/5, timeout/2]: 100 ms with the
//   defaults on a LAN), a second one starts beside it; the first success wins and the other is
//   abandoned. A silent edge's probe then costs hedgeAfter + timeout (600 ms), and a healthy
//   edge answers long before 4 × its own RTT, so steady traffic does not grow. The probe still
//   fails only when both attempts fail: p² as above.
//
// Silent edge with the defaults (interval 1 s, fastInterval 250 ms, timeout 500 ms, fall 3):
// the first failing probe starts within an interval of the outage (phase), takes 600 ms, and the
// next ones start at once (they overran their 250 ms) and take 600 ms each: `fall` after
// phase + 1.8 s. Two probers must agree (quorum 2 of 3; the PoP's own is cut off), so the
// later phase of two counts: median √½ ≈ 0.71 s, so ~2.5 s to the DNS answer (was phase + 3 s).
import type { Probe, ProbeResult } from './checks/types.js';
import type { ProbeSettings } from '../common/health-contract.js';

export interface ConfirmedResult extends ProbeResult {
  /** 1, or 2 when the first attempt failed. */
  readonly attempts: 1 | 2;
}

export type ConfirmedProbe = (
  target: Parameters<Probe<ProbeSettings>>[0],
  settings: ProbeSettings,
  signal?: AbortSignal,
  /** Start the retry beside a first attempt still out after this many ms (default: never). */
  hedgeAfter?: number,
) => Promise<ConfirmedResult>;

/** When to hedge a probe: well past what the target usually takes, well before the timeout. */
export function hedgeDelay(timeout: number, rttMs: number | null): number {
  const hi = timeout / 2;
  return rttMs === null ? hi : Math.min(hi, Math.max(timeout / 5, 4 * rttMs));
}

export function confirmed(probe: Probe<ProbeSettings>): ConfirmedProbe {
  return async (target, settings, signal, hedgeAfter = Infinity) => {
    const attempt = () => {
      const own = new AbortController();
      const result = probe(target, settings, signal ? AbortSignal.any([signal, own.signal]) : own.signal);
      return { result, abandon: () => own.abort() };
    };
    const first = attempt();
    let timer: NodeJS.Timeout | undefined;
    const late = Number.isFinite(hedgeAfter)
      ? new Promise<'late'>((resolve) => (timer = setTimeout(resolve, hedgeAfter, 'late')))
      : new Promise<never>(() => {});
    const early = await Promise.race([first.result, late]).finally(() => clearTimeout(timer));
    if (early !== 'late') {
      if (early.ok || signal?.aborted) return { ...early, attempts: 1 };
      return { ...(await probe(target, settings, signal)), attempts: 2 };
    }
    // Hedged: the first success wins; both must fail for the probe to fail.
    const second = attempt();
    const outcome = await new Promise<ConfirmedResult>((resolve) => {
      let failures = 0;
      const settle = (attempts: 1 | 2) => (r: ProbeResult) => {
        if (r.ok || ++failures === 2) resolve({ ...r, attempts });
      };
      void first.result.then(settle(1));
      void second.result.then(settle(2));
    });
    first.abandon();
    second.abandon();
    return outcome;
  };
}
