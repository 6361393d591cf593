// Loads what a DNS server serves from its config file: the config, and its zones compiled.
// A big zone (a million records) takes seconds to parse and compile and leaves hundreds of
// megabytes of garbage, and a big topology's YAML (1,000 PoPs, 10,000 routed names) a second or
// more to parse; done on the serving thread, queries would wait on it and on its collection
// (issue 17). So a worker thread (load-thread-main.ts) parses the file once and hands the parsed
// data over, which this thread checks (the config without the zones' records), while the thread
// goes on to read the zones' records and compile them, handing the packed zones over without a
// copy. Both work from the one text read, so they cannot disagree.
//
// Run from the TypeScript sources (the tests), there is no built thread entry to start: the
// zones are then read and compiled here, in slices (compile.ts), as the thread would.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../../common/config-file.js';
import { dropZoneRecords, loadDnsConfig, type DnsConfig, type DnsConfigOverrides } from '../config.js';
import { compileZonesInSlices } from '../zone/compile.js';
import { takeOver } from '../zone/zone-handover.js';
import type { Route, Zone } from '../zone/zone.js';
import { routeIndexOf } from '../answer/templates.js';
import type { FromLoadThread, ToLoadThread } from './load-thread-messages.js';

export interface Serving {
  /** The config, without its zones' records (the compiled zones hold them). */
  readonly config: DnsConfig;
  readonly zones: Map<string, Zone>;
  readonly recordCount: number;
  /** The routed names answered by their own name, when the loading thread worked them out. */
  readonly routeIndex?: ReadonlyMap<string, Route>;
}

const THREAD_ENTRY = new URL('./load-thread-main.js', import.meta.url);

export async function loadServing(file: string, overrides: Pick<DnsConfigOverrides, 'pop'> = {}): Promise<Serving> {
  if (!existsSync(fileURLToPath(THREAD_ENTRY))) return loadHere(file, overrides);
  const thread = startLoadThread({ file, pop: overrides.pop });
  try {
    const config = await loadDnsConfig(file, { ...overrides, zoneRecords: false, raw: await thread.read });
    const compiled = await thread.compiled;
    const zones = takeOver(compiled.zones);
    return {
      config,
      zones,
      recordCount: compiled.recordCount,
      routeIndex: routeIndexOf(zones, compiled.routeKeys),
    };
  } finally {
    // Gone already when it compiled; stopped when this thread found the config wrong first.
    void thread.worker.terminate();
  }
}

async function loadHere(file: string, overrides: Pick<DnsConfigOverrides, 'pop'>): Promise<Serving> {
  const config = await loadDnsConfig(file, overrides);
  const zones = await compileZonesInSlices(config.zones);
  const recordCount = config.zones.reduce((n, z) => n + z.records.length, 0);
  dropZoneRecords(config);
  return { config, zones, recordCount };
}

interface LoadThread {
  readonly worker: Worker;
  /** The config file as the thread parsed it. */
  readonly read: Promise<unknown>;
  readonly compiled: Promise<Extract<FromLoadThread, { kind: 'compiled' }>>;
}

function startLoadThread(job: ToLoadThread): LoadThread {
  const worker = new Worker(THREAD_ENTRY, { workerData: job });
  let settleRead!: { resolve: (raw: unknown) => void; reject: (e: Error) => void };
  let settleCompiled!: {
    resolve: (m: Extract<FromLoadThread, { kind: 'compiled' }>) => void;
    reject: (e: Error) => void;
  };
  const read = new Promise<unknown>((resolve, reject) => (settleRead = { resolve, reject }));
  const compiled = new Promise<Extract<FromLoadThread, { kind: 'compiled' }>>(
    (resolve, reject) => (settleCompiled = { resolve, reject }),
  );
  // Whichever is not awaited when the other fails must not be an unhandled rejection.
  read.catch(() => undefined);
  compiled.catch(() => undefined);
  const fail = (err: Error): void => {
    settleRead.reject(err);
    settleCompiled.reject(err);
  };
  worker.on('message', (m: FromLoadThread) => {
    if (m.kind === 'read') settleRead.resolve(m.raw);
    else if (m.kind === 'compiled') settleCompiled.resolve(m);
    else fail(m.name === 'ConfigError' ? new ConfigError(m.message) : new Error(m.message));
  });
  worker.once('error', fail);
  worker.once('exit', (code) => fail(new Error(`the zone loading thread exited (code ${code}) without an answer`)));
  return { worker, read, compiled };
}
