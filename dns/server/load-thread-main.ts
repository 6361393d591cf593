// The worker thread of load-serving.ts: reads the config with its zone records, compiles the
// zones and hands them over packed. Everything the parse leaves behind (a million records'
// strings and objects) lives and dies in this thread's heap: the serving thread never collects
// it, so queries do not wait on that collection, and its memory goes back with the thread.
import { parentPort, workerData } from 'node:worker_threads';
import { loadDnsConfig } from '../config.js';
import { compileZones } from '../zone/compile.js';
import { handOver } from '../zone/zone-handover.js';
import type { FromLoadThread, ToLoadThread } from './load-thread-messages.js';

async function main(port: NonNullable<typeof parentPort>, job: ToLoadThread): Promise<void> {
  let reply: FromLoadThread;
  let transfer: ArrayBuffer[] = [];
  try {
    const config = await loadDnsConfig(job.file, { pop: job.pop });
    const zones = compileZones(config.zones);
    const handed = handOver(zones);
    transfer = handed.transfer;
    reply = {
      ok: true,
      zones: handed.data,
      recordCount: config.zones.reduce((n, z) => n + z.records.length, 0),
    };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    reply = { ok: false, name: err.name, message: err.message };
  }
  port.postMessage(reply, transfer);
}

if (parentPort) void main(parentPort, workerData as ToLoadThread);
