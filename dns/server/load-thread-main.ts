// The worker thread of load-serving.ts: reads the config file (YAML: a big topology's takes a
// second or more to parse), hands the parsed data over at once so the serving thread checks the
// same text without parsing it, then reads the zones' records, compiles them and hands them over
// packed. Everything the parse leaves behind (a million records' strings and objects) lives and
// dies in this thread's heap: the serving thread never collects it, so queries do not wait on
// that collection, and its memory goes back with the thread.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { readYamlFile } from '../../common/config-file.js';
import { loadDnsConfig } from '../config.js';
import { routeIndexKeys } from '../answer/templates.js';
import { compileZones } from '../zone/compile.js';
import { handOver } from '../zone/zone-handover.js';
import type { FromLoadThread, ToLoadThread } from './load-thread-messages.js';

/**
 * Lowest CPU priority for this thread alone (Linux: a thread's id is a pid to setpriority), so
 * that on a busy machine the serving thread is never the one kept waiting for a core while the
 * load goes on; elsewhere nothing changes.
 */
function yieldCpuToServing(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    if (Number.isInteger(tid)) setPriority(tid, 19);
  } catch {
    // No /proc/thread-self (not Linux), or not allowed: the load just competes as before.
  }
}

async function main(port: NonNullable<typeof parentPort>, job: ToLoadThread): Promise<void> {
  const send = (message: FromLoadThread, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
  try {
    const raw = await readYamlFile(job.file);
    send({ kind: 'read', raw });
    const config = await loadDnsConfig(job.file, { pop: job.pop, raw });
    const zones = compileZones(config.zones);
    // Resolving every routed name is work for this thread too (the serving thread only looks them up).
    const routeKeys = routeIndexKeys(zones);
    const handed = handOver(zones);
    const recordCount = config.zones.reduce((n, z) => n + z.records.length, 0);
    send({ kind: 'compiled', zones: handed.data, recordCount, routeKeys }, handed.transfer);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    send({ kind: 'failed', name: err.name, message: err.message });
  }
}

if (parentPort) {
  yieldCpuToServing();
  void main(parentPort, workerData as ToLoadThread);
}
