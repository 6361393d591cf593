// A registry per service instead of prom-client's global one: tests (and a laptop run with
// every role in one process) can create many without "metric already registered" clashes.
import { collectDefaultMetrics, Registry } from 'prom-client';

export type { Registry } from 'prom-client';

export function createRegistry(service: string): Registry {
  const registry = new Registry();
  // Every series carries the service, so one Prometheus job can scrape all roles of a PoP.
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
