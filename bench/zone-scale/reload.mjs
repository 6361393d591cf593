// The worst query latency while a server reloads its zone (issue 17 item 3): a steady stream of
// UDP queries (RATE per second, names spread over the zone) runs from before the reload is asked
// for until it is done, and every answer's latency is kept. A query without an answer within
// LOST_AFTER_MS counts as lost. Same stream for Meridian and gdnsd.
import { createSocket } from 'node:dgram';
import { HOST, sleep } from '../lib.mjs';
import { ZONE } from './files.mjs';

const RATE = 500;
const LOST_AFTER_MS = 2000;
/** Queries before the reload is asked for, and after it is done: the baseline around it. */
const MARGIN_MS = 500;

/** A DNS query for `h<n>.ZONE A` with id `id`. */
function query(id, n) {
  const labels = [`h${n}`, ...ZONE.split('.')];
  const name = Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.of(l.length), Buffer.from(l, 'ascii')])),
    Buffer.of(0),
  ]);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2); // RD
  head.writeUInt16BE(1, 4);
  return Buffer.concat([head, name, Buffer.of(0, 1, 0, 1)]);
}

/**
 * Sends the stream to `port`, calls `reload()` (resolving once the server has the new zone)
 * after MARGIN_MS, stops MARGIN_MS after it resolves. Returns the worst and p99 latency (ms),
 * the number of queries lost, and how long the reload took.
 */
export async function latencyDuringReload(port, names, reload) {
  const socket = createSocket('udp4');
  const sentAt = new Map();
  const latencies = [];
  socket.on('message', (msg) => {
    const at = sentAt.get(msg.readUInt16BE(0));
    if (at === undefined) return;
    sentAt.delete(msg.readUInt16BE(0));
    latencies.push(performance.now() - at);
  });
  await new Promise((resolve) => socket.bind(0, HOST, resolve));
  let id = 0;
  let sent = 0;
  let lost = 0;
  const send = () => {
    id = (id + 1) & 0xffff;
    const now = performance.now();
    for (const [old, at] of sentAt) {
      if (now - at < LOST_AFTER_MS) break; // in send order: the rest are younger
      sentAt.delete(old);
      lost++;
    }
    sentAt.set(id, now);
    sent++;
    socket.send(query(id, Math.floor(Math.random() * names)), port, HOST);
  };
  // Paced by the clock, not by setInterval's drift: a late tick sends what is due.
  const start = performance.now();
  let stopping = false;
  const pacer = (async () => {
    while (!stopping) {
      const due = Math.floor(((performance.now() - start) / 1000) * RATE);
      while (sent < due) send();
      await sleep(1);
    }
  })();
  await sleep(MARGIN_MS);
  const t0 = performance.now();
  await reload();
  const reloadS = (performance.now() - t0) / 1000;
  await sleep(MARGIN_MS);
  stopping = true;
  await pacer;
  await sleep(LOST_AFTER_MS);
  lost += sentAt.size;
  socket.close();
  latencies.sort((a, b) => a - b);
  return {
    worstMs: latencies.at(-1) ?? NaN,
    p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
    lost,
    sent,
    reloadS,
  };
}
