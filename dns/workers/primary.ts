// The DNS server with serving workers: this process answers no queries. It forks the workers
// (pool.ts) and keeps what must be one per server (server-wide.ts: PoP health, the control port,
// redirects, reloads); here it pushes health changes and reloads to the workers and gathers
// their resolver counts and counters. The edge's twin is edge/workers/primary.ts.
import type { DnsService } from '../service-contract.js';
import { startServerWide, type DnsSetup } from '../server-wide.js';
import { DnsPool } from './pool.js';

export function startDnsPrimary(setup: DnsSetup): Promise<DnsService> {
  return startServerWide(setup, async ({ health, anycast }) => {
    // One snapshot carries both: workers clear their decisions once for either change.
    const snapshot = () => ({ ...health.snapshot(), anycast: anycast.snapshot() });
    const pool = await DnsPool.start({
      configFile: setup.opts.configFile,
      pop: setup.opts.pop,
      listen: setup.listen,
      count: setup.workers,
      log: setup.log,
      health: snapshot,
    });
    health.onUpdate = () => pool.pushHealth(snapshot());
    anycast.onUpdate = () => pool.pushHealth(snapshot());
    return {
      listeners: pool.listeners,
      reload: () => pool.reload(),
      resolverCounts: () => pool.resolverCounts(),
      metrics: () => pool.metrics(),
      close: () => pool.close(),
    };
  });
}
