// The announcer's Prometheus series: per prefix whether it is announced, its damping (penalty,
// suppressed, hold-down, flaps), per address whether the local service is up, and whether BIRD
// and the lease are there. Gauges that change with time (the decaying penalty) are read at
// scrape time from `status`, so a scrape never sees a stale figure.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PrefixStatus } from './announcer.js';

export class AnycastMetrics {
  private readonly probes: Counter<'address' | 'result'>;
  private readonly flaps: Counter<'prefix'>;
  private readonly birdGauge: Gauge;
  private readonly leaseGauge: Gauge;
  private status: () => readonly PrefixStatus[] = () => [];

  constructor(registry: Registry, prefixes: readonly { prefix: string; addresses: readonly string[] }[]) {
    const registers = [registry];
    const status = (): readonly PrefixStatus[] => this.status();
    const perPrefix = (name: string, help: string, value: (p: PrefixStatus) => number): void =>
      void new Gauge({
        name,
        help,
        labelNames: ['prefix'],
        registers,
        collect() {
          for (const p of status()) this.set({ prefix: p.prefix }, value(p));
        },
      });
    perPrefix('meridian_anycast_announced', '1 while this PoP asks BIRD to announce the prefix, else 0', (p) =>
      p.announced ? 1 : 0,
    );
    perPrefix(
      'meridian_anycast_damping_penalty',
      'Flap penalty of the prefix now (decays with the half-life)',
      (p) => p.damping.penalty,
    );
    perPrefix('meridian_anycast_suppressed', '1 while the prefix is suppressed by damping, else 0', (p) =>
      p.damping.suppressed ? 1 : 0,
    );
    perPrefix(
      'meridian_anycast_hold_down_seconds',
      'How long a healthy prefix would still be held down',
      (p) => p.damping.holdDownMs / 1000,
    );
    new Gauge({
      name: 'meridian_anycast_service_up',
      help: '1 when the local service behind an anycast address passes its checks (after rise/fall), else 0',
      labelNames: ['prefix', 'address', 'serves'],
      registers,
      collect() {
        for (const p of status())
          for (const a of p.addresses)
            this.set({ prefix: p.prefix, address: a.address, serves: a.serves }, a.up ? 1 : 0);
      },
    });
    this.flaps = new Counter({
      name: 'meridian_anycast_flaps_total',
      help: 'Withdrawals for a failed service (damping flaps) by prefix',
      labelNames: ['prefix'],
      registers,
    });
    this.probes = new Counter({
      name: 'meridian_anycast_probes_total',
      help: 'Checks of the local services by address and result',
      labelNames: ['address', 'result'],
      registers,
    });
    this.birdGauge = new Gauge({
      name: 'meridian_anycast_bird_connected',
      help: "1 while connected to BIRD's control socket",
      registers,
    });
    this.leaseGauge = new Gauge({
      name: 'meridian_anycast_lease_held',
      help: '1 while the lease interface (routes hang on it) is up',
      registers,
    });
    for (const p of prefixes) {
      this.flaps.inc({ prefix: p.prefix }, 0);
      for (const address of p.addresses) for (const result of ['ok', 'fail']) this.probes.inc({ address, result }, 0);
    }
  }

  statusFrom(fn: () => readonly PrefixStatus[]): void {
    this.status = fn;
  }

  probed(address: string, ok: boolean): void {
    this.probes.inc({ address, result: ok ? 'ok' : 'fail' });
  }

  flapped(prefix: string): void {
    this.flaps.inc({ prefix });
  }

  birdConnected(connected: boolean): void {
    this.birdGauge.set(connected ? 1 : 0);
  }

  leaseHeld(held: boolean): void {
    this.leaseGauge.set(held ? 1 : 0);
  }
}
