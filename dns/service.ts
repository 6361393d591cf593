// The DNS service as a whole: load the config, then answer queries from this process
// (`dns.workers` = 1: startSingle below) or from forked workers that this process coordinates as
// their primary (workers/primary.ts). edge/service.ts makes the same choice the same way. Either
// way this process keeps what a server has once (server-wide.ts): PoP health, the control port,
// the redirect listener, reloads and status.
import { availableParallelism } from 'node:os';
import { coresLessOne } from '../common/cores.js';
import { sayDeprecated } from '../common/deprecation.js';
import { createLogger } from '../common/log.js';
import { loadServing } from './server/load-serving.js';
import { startServerWide, type DnsSetup } from './server-wide.js';
import type { DnsService, DnsServiceOptions } from './service-contract.js';
import { loadUdpBatch } from './server/udp-batch.js';
import { startDnsPrimary } from './workers/primary.js';

export type { ReloadResult } from './server/core.js';
export type { DnsService, DnsServiceOptions } from './service-contract.js';

export async function startDnsService(opts: DnsServiceOptions): Promise<DnsService> {
  // The config and its zones, loaded off this thread (server/load-serving.ts) once: this
  // process's DnsCore serves them (a primary's answers explain and redirects).
  const loaded = await loadServing(opts.configFile, { pop: opts.pop });
  const config = loaded.config;
  sayDeprecated(config.deprecated);
  const settings = config.settings;
  const log = opts.log ?? createLogger({ service: 'dns', level: settings.log.level });
  const workerSetting = opts.workers ?? settings.workers;
  const batching = settings.udpBatching === 'auto' && loadUdpBatch() !== null;
  const workers = workerSetting === 'auto' ? autoDnsWorkers(batching) : workerSetting;
  const setup: DnsSetup = { opts, config, loaded, log, listen: opts.listen ?? settings.listen, workers };
  if (workers > 1) return startDnsPrimary(setup);
  return startSingle(setup);
}

/** One process: it answers queries itself, on the listeners its own core opens. */
function startSingle(setup: DnsSetup): Promise<DnsService> {
  return startServerWide(setup, async ({ core }) => {
    await core.listen(setup.listen);
    return { listeners: core.udp.map((l) => l.address) };
  });
}

/**
 * `dns.workers: auto`. With batched UDP one process answers ~145k static QPS on this 2-core
 * machine, and every extra process raises the CPU per query (each wakes for fewer datagrams)
 * while taking a core from the kernel's own network work, so one core is left to it. Through
 * node:dgram (no batching) it takes every core to pass 75k. Figures: bench/README.md.
 */
export function autoDnsWorkers(batching: boolean): number {
  return batching ? coresLessOne() : availableParallelism();
}
