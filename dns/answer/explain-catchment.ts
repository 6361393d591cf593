// explain for a `policy: anycast` pool also says where each vantage lands on each of its anycast
// addresses (dns/pop-health/catchment-view.ts): an anycast answer is the same for everyone, and
// which PoP then serves a client is the routers' choice, so this is the half of "why did this
// client get that PoP" the DNS server cannot decide but can show.
import type { Landing } from '../pop-health/catchment-view.js';
import type { Explanation } from './explain.js';

type Family = Record<string, unknown> & { addresses: (Record<string, unknown> & { address: string })[] };

/** The explanation with `catchment` on every anycast address of its decisions (copies; the decision is not touched). */
export function withCatchment(e: Explanation, landingsOf: (address: string) => Landing[]): Explanation {
  return {
    ...e,
    decisions: e.decisions.map((d) => {
      const families = d['anycast'] as Family[] | undefined;
      if (!families) return d;
      return {
        ...d,
        anycast: families.map((f) => ({
          ...f,
          addresses: f.addresses.map((a) => ({ ...a, catchment: landingsOf(a.address) })),
        })),
      };
    }),
  };
}
