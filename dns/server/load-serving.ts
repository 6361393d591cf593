// Loads what a DNS server serves from its config file: the config, and its zones compiled.
// A big zone (a million records) takes seconds to parse and compile and leaves hundreds of
// megabytes of garbage; done on the serving thread, queries would wait on it and on its
// collection (issue 17). So a worker thread (load-thread-main.ts) reads the zones' records and
// compiles them, and hands the packed zones over without a copy, while this thread reads the
// rest of the config. The two read the same file: a reload that races an edit of it is refused
// if they disagree on the zones, and the server keeps serving what it had.
//
// Run from the TypeScript sources (the tests), there is no built thread entry to start: the
// zones are then read and compiled here, in slices (compile.ts), as the thread would.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../../common/config-file.js';
import { dropZoneRecords, loadDnsConfig, type DnsConfig, type DnsConfigOverrides } from '../config.js';
import { compileZonesInSlices } from '../zone/compile.js';
import { keyToText } from '../wire/name.js';
import { takeOver } from '../zone/zone-handover.js';
import type { Zone } from '../zone/zone.js';
import type { FromLoadThread, ToLoadThread } from './load-thread-messages.js';

export interface Serving {
  /** The config, without its zones' records (the compiled zones hold them). */
  readonly config: DnsConfig;
  readonly zones: Map<string, Zone>;
  readonly recordCount: number;
}

const THREAD_ENTRY = new URL('./load-thread-main.js', import.meta.url);

export async function loadServing(file: string, overrides: Pick<DnsConfigOverrides, 'pop'> = {}): Promise<Serving> {
  if (!existsSync(fileURLToPath(THREAD_ENTRY))) return loadHere(file, overrides);
  // Both at once; a config error is reported by both, and this thread's word is the one thrown.
  const [config, compiled] = await Promise.all([
    loadDnsConfig(file, { ...overrides, zoneRecords: false }),
    compileInThread({ file, pop: overrides.pop }),
  ]);
  const zones = takeOver(compiled.zones);
  const apexes = (keys: Iterable<string>) => [...keys].sort().map(keyToText).join(', ');
  const wanted = apexes(config.zones.map((z) => z.origin.key));
  if (wanted !== apexes(zones.keys()))
    throw new ConfigError(`${file}: changed while it was being loaded (zones ${wanted}); load it again`);
  return { config, zones, recordCount: compiled.recordCount };
}

async function loadHere(file: string, overrides: Pick<DnsConfigOverrides, 'pop'>): Promise<Serving> {
  const config = await loadDnsConfig(file, overrides);
  const zones = await compileZonesInSlices(config.zones);
  const recordCount = config.zones.reduce((n, z) => n + z.records.length, 0);
  dropZoneRecords(config);
  return { config, zones, recordCount };
}

function compileInThread(job: ToLoadThread): Promise<Extract<FromLoadThread, { ok: true }>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(THREAD_ENTRY, { workerData: job });
    let settled = false;
    worker.once('message', (reply: FromLoadThread) => {
      settled = true;
      if (reply.ok) resolve(reply);
      else reject(reply.name === 'ConfigError' ? new ConfigError(reply.message) : new Error(reply.message));
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the zone loading thread exited (code ${code}) without an answer`));
    });
  });
}
