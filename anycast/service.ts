// `meridian anycast` as a whole: load the PoP's anycast config, connect to BIRD, put the anycast
// addresses on the host, take the lease the routes hang on, then check the local services and
// let the announcer decide. The order matters at start: BIRD is first told to withdraw
// everything (protocols a crashed predecessor left enabled) *before* the lease exists, so no
// route can appear until a check has passed. At close the reverse: withdraw (and wait for
// BIRD's word, bounded), release the lease (a second withdrawal, for a BIRD we could not
// reach), remove the addresses.
import { startControlServer, type ControlServer } from '../common/control-server.js';
import type { HostPort } from '../common/host-port.js';
import { createLogger, type Logger } from '../common/log.js';
import { createRegistry } from '../common/metrics.js';
import { createChecks } from '../prober/checks/index.js';
import { confirmed } from '../prober/confirm.js';
import { startAnnouncer, type Announcer, type PrefixStatus } from './announcer.js';
import { protocolName } from './bird-conf.js';
import { startBirdDriver } from './bird-driver.js';
import { loadAnycastConfig } from './config.js';
import { configureAddresses } from './host-address.js';
import { takeLease, type Lease } from './lease.js';
import { AnycastMetrics } from './metrics.js';
import {
  reportedPrefixes,
  startAnycastReporter,
  type AnycastDestinationStatus,
  type AnycastReporter,
  type Override,
} from './reporter.js';
import { resolveControlToken } from '../common/control-token.js';

/** How long start-up waits for BIRD to confirm everything withdrawn, and close for the withdrawal. */
const SETTLE_MS = 2000;
const LEASE_RETRY_MS = 1000;

export interface AnycastServiceOptions {
  readonly configFile: string;
  readonly pop: string;
  /** Serve GET /v1/status and /metrics here. */
  readonly controlListen?: HostPort;
  readonly log?: Logger;
}

export interface AnycastStatus {
  readonly pop: string;
  readonly birdConnected: boolean;
  readonly leaseHeld: boolean;
  /** The PoP's admin override, as the DNS servers last said (drain and down withdraw). */
  readonly override: Override;
  readonly prefixes: readonly PrefixStatus[];
  /** Where the state is reported (`health.reportTo`), and how that goes. */
  readonly reportTo: readonly AnycastDestinationStatus[];
}

export interface AnycastService {
  readonly control: ControlServer | undefined;
  status(): AnycastStatus;
  close(): Promise<void>;
}

export async function startAnycastService(opts: AnycastServiceOptions): Promise<AnycastService> {
  const config = await loadAnycastConfig(opts.configFile, opts.pop);
  const log = opts.log ?? createLogger({ service: 'anycast' });
  for (const w of config.warnings) log.warn({ file: config.file }, w);
  const registry = createRegistry('anycast');
  const metrics = new AnycastMetrics(
    registry,
    config.prefixes.map((p) => ({ prefix: p.text, addresses: p.addresses.map((a) => a.address) })),
  );
  const driver = startBirdDriver({
    socket: config.bgp.socket,
    protocols: config.prefixes.map(protocolName),
    log,
    onConnection: (up) => metrics.birdConnected(up),
  });
  const cleanup: (() => Promise<void>)[] = [async () => driver.close()];
  const undo = async (): Promise<void> => {
    for (const step of cleanup.splice(0).reverse()) await step();
  };

  let closing = false;
  let lease: Lease | undefined;
  let announcer: Announcer | undefined;
  let reporter: AnycastReporter | undefined;
  let control: ControlServer | undefined;
  try {
    if (!(await driver.settled(SETTLE_MS)))
      log.warn(
        { socket: config.bgp.socket },
        'BIRD not confirmed yet; a BIRD that starts later reads its protocols disabled',
      );
    const addresses = await configureAddresses(
      config.interface,
      config.prefixes.flatMap((p) => p.addresses.map((a) => a.address)),
      log,
    );
    cleanup.push(() => addresses.remove());

    // A lapsed lease (a stall longer than its timeout) is taken again: the routes come back
    // with it if the announcer still wants them.
    const renew = async (): Promise<void> => {
      while (!closing) {
        try {
          lease = await takeLease({
            interface: config.lease.interface,
            timeoutMs: config.lease.timeout,
            log,
            onLapse: onLapse,
          });
          metrics.leaseHeld(true);
          return;
        } catch (err) {
          log.error({ err: (err as Error).message }, 'cannot take the lease; retrying');
          await new Promise((r) => setTimeout(r, LEASE_RETRY_MS));
        }
      }
    };
    const onLapse = (): void => {
      metrics.leaseHeld(false);
      if (!closing) setTimeout(() => void renew(), LEASE_RETRY_MS);
    };
    lease = await takeLease({ interface: config.lease.interface, timeoutMs: config.lease.timeout, log, onLapse });
    metrics.leaseHeld(true);
    cleanup.push(async () => {
      await lease?.release();
      metrics.leaseHeld(false);
    });

    const checks = createChecks();
    cleanup.push(() => checks.close());
    announcer = startAnnouncer({
      pop: config.pop,
      prefixes: config.prefixes,
      damping: config.damping,
      protocolOf: protocolName,
      probe: confirmed(checks.probe),
      announce: (protocol, want) => driver.set(protocol, want),
      log,
      onProbe: (address, ok) => metrics.probed(address, ok),
      onFlap: (prefix) => metrics.flapped(prefix),
    });
    const a = announcer;
    if (config.reportTo.length === 0)
      log.warn(
        { pop: config.pop },
        'health.reportTo is empty: no DNS server hears of this announcer (anycast pools fall back to unicast, drain does not reach it)',
      );
    else {
      // Stopped after the announcer (cleanup runs in reverse): its last report says withdrawn.
      const r = startAnycastReporter({
        pop: config.pop,
        epoch: Date.now(),
        interval: config.reportInterval,
        reportTo: config.reportTo,
        token: resolveControlToken({ env: process.env, tokenFile: config.tokenFile }),
        prefixes: () => reportedPrefixes(a.status()),
        onOverride: (o) => a.setOverride(o),
        log,
      });
      reporter = r;
      a.onChange = () => r.sendNow();
      cleanup.push(() => r.stop());
    }
    cleanup.push(async () => {
      await a.stop();
      if (!(await driver.settled(SETTLE_MS)))
        log.warn(
          { socket: config.bgp.socket },
          'BIRD did not confirm the withdrawal; releasing the lease withdraws anyway',
        );
    });
    metrics.statusFrom(() => a.status());

    if (opts.controlListen) {
      control = await startControlServer({
        ...opts.controlListen,
        routes: [
          { method: 'GET', path: '/v1/status', handle: () => ({ status: 200, body: status() }) },
          { method: 'GET', path: '/healthz', handle: () => ({ status: 200, body: { ok: true } }) },
        ],
        registry,
        log,
      });
      const c = control;
      cleanup.push(() => c.close());
    }
  } catch (e) {
    closing = true;
    await undo();
    throw e;
  }

  const status = (): AnycastStatus => ({
    pop: config.pop,
    birdConnected: driver.connected,
    leaseHeld: lease?.held ?? false,
    override: reporter?.override ?? null,
    prefixes: announcer?.status() ?? [],
    reportTo: reporter?.status() ?? [],
  });

  log.info(
    {
      pop: config.pop,
      prefixes: config.prefixes.map((p) => p.text),
      bird: config.bgp.socket,
      lease: config.lease.interface,
      ...(control && { control: control.url }),
    },
    'meridian anycast running',
  );
  let closed: Promise<void> | undefined;
  return {
    control,
    status,
    close: () =>
      (closed ??= (async () => {
        closing = true;
        await undo();
        log.info({ pop: config.pop }, 'meridian anycast stopped: every prefix withdrawn');
      })()),
  };
}
