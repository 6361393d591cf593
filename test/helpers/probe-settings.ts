// Prober inputs for unit tests: a probe target and probe settings with test-sized timings.
import type { Check, ProbeSettings } from '../../common/health-contract.js';
import type { ProbeTarget } from '../../prober/checks/types.js';

export function target(edge: string, pop = 'test'): ProbeTarget {
  return { pop, edge: new URL(edge) };
}

export function settings<C extends Check>(
  check: C,
  timings: Partial<Omit<ProbeSettings, 'check'>> = {},
): Omit<ProbeSettings, 'check'> & { check: C } {
  return { interval: 1000, fastInterval: 250, timeout: 300, rise: 2, fall: 3, ...timings, check };
}
