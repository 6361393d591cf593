// The decision, per anycast prefix: announce while every local service behind it is healthy
// (the prober's checks, each through rise/fall) and damping does not hold it down; withdraw at
// once otherwise. Each address is checked on the prober's scheduler (fast while in transition);
// a prefix is re-decided when one of its addresses flips or its hold-down ends. What to tell
// BIRD goes to the driver (`set`), which owns the connection.
//
// An operator's drain (or down) withdraws every prefix at once and counts as no flap: it is
// planned, and damping is for a service that cannot make up its mind. A service failing while
// drained adds no penalty either (no route was up to flap). Undrain re-announces after `rise`
// fresh passing checks, as at start: whatever maintenance did to the service, it earns the route
// again before it pulls in traffic.
//
// A prefix covers all its addresses of this PoP: with one of them failing it is withdrawn,
// since half-serving a prefix would blackhole the failed service's traffic here. Give DNS and
// edge addresses prefixes of their own when they should fail over apart.
import type { ProbeSettings } from '../common/health-contract.js';
import type { Logger } from '../common/log.js';
import type { ConfirmedProbe } from '../prober/confirm.js';
import { hedgeDelay } from '../prober/confirm.js';
import { Hysteresis } from '../prober/hysteresis.js';
import { startScheduler, type Scheduler, type Task } from '../prober/scheduler.js';
import type { AnycastAddress, AnycastPrefix } from './config.js';
import type { DampingSettings } from './config-schema.js';
import { Damping, type DampingState } from './damping.js';

export interface AddressStatus {
  readonly address: string;
  readonly serves: 'dns' | 'edge';
  readonly up: boolean;
  readonly lastDetail: string | null;
}

export interface PrefixStatus {
  readonly prefix: string;
  readonly protocol: string;
  readonly announced: boolean;
  /** Why it is announced or not, in words. */
  readonly reason: string;
  readonly damping: DampingState;
  readonly addresses: readonly AddressStatus[];
}

export interface AnnouncerOptions {
  readonly pop: string;
  readonly prefixes: readonly AnycastPrefix[];
  readonly damping: DampingSettings;
  /** BIRD protocol name of a prefix. */
  readonly protocolOf: (prefix: AnycastPrefix) => string;
  readonly probe: ConfirmedProbe;
  /** Tells BIRD; never throws. */
  readonly announce: (protocol: string, announce: boolean) => void;
  readonly log: Logger;
  readonly onProbe?: (address: string, ok: boolean) => void;
  readonly onFlap?: (prefix: string) => void;
  readonly now?: () => number;
}

export interface Announcer {
  status(): PrefixStatus[];
  /** The PoP's admin override (from the DNS servers): drain and down withdraw everything. */
  setOverride(override: 'drain' | 'down' | null): void;
  /** Called after any prefix was re-decided (the reporter sends at once). */
  onChange: (() => void) | undefined;
  /** Stops checking and withdraws every prefix (through `announce`). */
  stop(): Promise<void>;
}

interface AddressState {
  readonly config: AnycastAddress;
  readonly hysteresis: Hysteresis;
  lastDetail: string | undefined;
}

interface PrefixState {
  readonly config: AnycastPrefix;
  readonly protocol: string;
  readonly addresses: AddressState[];
  readonly damping: Damping;
  healthy: boolean;
  /** Since start or undrain: not announced before `rise` passing checks, whatever the state before. */
  awaitingRise: string | undefined;
  announced: boolean;
  reason: string;
  holdTimer: NodeJS.Timeout | undefined;
}

export function startAnnouncer(opts: AnnouncerOptions): Announcer {
  const { log } = opts;
  const now = opts.now ?? Date.now;
  let stopped = false;
  let override: 'drain' | 'down' | null = null;
  let onChange: (() => void) | undefined;

  const prefixes: PrefixState[] = opts.prefixes.map((config) => ({
    config,
    protocol: opts.protocolOf(config),
    addresses: config.addresses.map((a) => {
      const hysteresis = new Hysteresis(a.settings.rise, a.settings.fall);
      // Fail closed, unlike the prober: an announcement pulls in a whole region's traffic, so
      // it is earned by `rise` passing checks, never assumed at start.
      hysteresis.up = false;
      return { config: a, hysteresis, lastDetail: undefined };
    }),
    damping: new Damping(opts.damping),
    healthy: false,
    awaitingRise: `waiting for ${config.addresses[0]?.settings.rise ?? 1} passing checks (rise)`,
    announced: false,
    reason: `waiting for ${config.addresses[0]?.settings.rise ?? 1} passing checks (rise)`,
    holdTimer: undefined,
  }));

  const decide = (p: PrefixState): void => {
    if (p.holdTimer) clearTimeout(p.holdTimer);
    p.holdTimer = undefined;
    const t = now();
    const healthy = !stopped && p.addresses.every((a) => a.hysteresis.up);
    if (healthy) p.awaitingRise = undefined;
    if (p.healthy && !healthy && !stopped && override === null) {
      p.damping.flap(t);
      opts.onFlap?.(p.config.text);
    }
    p.healthy = healthy;
    const hold = healthy ? p.damping.holdDownMs(t) : 0;
    const want = healthy && hold === 0 && override === null;
    const down = p.addresses
      .filter((a) => !a.hysteresis.up)
      .map((a) => `${a.config.serves} ${a.config.address}${a.lastDetail ? ` (${a.lastDetail})` : ''}`);
    const before = p.reason;
    p.reason = stopped
      ? 'announcer stopping'
      : override === 'drain'
        ? 'drained by an operator (meridian pop drain)'
        : override === 'down'
          ? 'marked down by an operator'
          : !healthy && p.awaitingRise !== undefined
            ? p.awaitingRise
            : !healthy
              ? `service down: ${down.join(', ')}`
              : hold > 0
                ? `held down by damping for ${Math.ceil(hold / 1000)} s (penalty ${Math.round(p.damping.penalty(t))} above reuse ${opts.damping.reuse})`
                : 'healthy';
    if (hold > 0 && override === null) {
      p.holdTimer = setTimeout(() => decide(p), hold);
      // Once per hold-down, not at every re-decision inside it.
      if (!before.startsWith('held down'))
        log.warn(
          { pop: opts.pop, prefix: p.config.text, reason: p.reason, ...p.damping.snapshot(t) },
          'service healthy again; prefix held down by damping',
        );
    }
    if (want === p.announced) return void (before !== p.reason && onChange?.());
    p.announced = want;
    const fields = { pop: opts.pop, prefix: p.config.text, reason: p.reason, ...p.damping.snapshot(t) };
    if (want) log.info(fields, 'announcing anycast prefix');
    else log.warn(fields, 'withdrawing anycast prefix');
    opts.announce(p.protocol, want);
    onChange?.();
  };

  const setOverride = (next: 'drain' | 'down' | null): void => {
    if (next === override || stopped) return;
    const lifted = override !== null && next === null;
    override = next;
    for (const p of prefixes) {
      if (lifted) {
        // Earned again by `rise` fresh passing checks, like at start; not a flap.
        p.healthy = false;
        p.awaitingRise = `undrained: waiting for ${p.addresses[0]?.config.settings.rise ?? 1} passing checks (rise)`;
        for (const a of p.addresses) {
          a.hysteresis.up = false;
          a.hysteresis.consecutiveSuccesses = 0;
        }
      }
      decide(p);
    }
  };

  const tasks: Task[] = prefixes.flatMap((p) =>
    p.addresses.map((a): Task => {
      const settings: ProbeSettings =
        a.config.settings.check.type === 'dns'
          ? { ...a.config.settings, check: { ...a.config.settings.check, port: a.config.port } }
          : a.config.settings;
      const host = a.config.family === 6 ? `[${a.config.address}]` : a.config.address;
      const target = { pop: opts.pop, edge: new URL(`http://${host}:${a.config.port}`) };
      return {
        id: a.config.address,
        interval: settings.interval,
        nextInterval: () => (a.hysteresis.inTransition ? settings.fastInterval : settings.interval),
        async run(signal) {
          const result = await opts.probe(target, settings, signal, hedgeDelay(settings.timeout, a.hysteresis.rttMs));
          if (signal.aborted) return;
          opts.onProbe?.(a.config.address, result.ok);
          a.lastDetail = result.detail;
          if (a.hysteresis.record(result.ok, result.rttMs)) {
            const to = a.hysteresis.up ? 'up' : 'down';
            log[to === 'up' ? 'info' : 'warn'](
              { address: a.config.address, serves: a.config.serves, to, detail: result.detail },
              `local ${a.config.serves} service ${to}`,
            );
            decide(p);
          }
        },
      };
    }),
  );
  const scheduler: Scheduler = startScheduler(tasks, {
    concurrency: Math.max(1, tasks.length),
    onError: (task, err) => log.error({ err, address: task.id }, 'check failed unexpectedly'),
  });

  return {
    status: () => {
      const t = now();
      return prefixes.map((p) => ({
        prefix: p.config.text,
        protocol: p.protocol,
        announced: p.announced,
        reason: p.reason,
        damping: p.damping.snapshot(t),
        addresses: p.addresses.map((a) => ({
          address: a.config.address,
          serves: a.config.serves,
          up: a.hysteresis.up,
          lastDetail: a.lastDetail ?? null,
        })),
      }));
    },
    setOverride,
    get onChange() {
      return onChange;
    },
    set onChange(fn) {
      onChange = fn;
    },
    async stop() {
      stopped = true;
      await scheduler.stop();
      for (const p of prefixes) decide(p);
    },
  };
}
