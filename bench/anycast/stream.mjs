#!/usr/bin/env node
// A client of the anycast bench, run inside a client namespace: sends `--rate` DNS queries a second
// (SOA, with NSID) to the anycast address until SIGTERM, and notes which PoP answered each. On
// stdout: a line `switch <epoch ms> <server id>` whenever the answering PoP changes (the bench
// waits on these), and at the end one line `result <json>`: per query its send time (epoch ms),
// and the server id that answered it or null (no answer within `--timeout` ms: lost).
//
//   ip netns exec mrd-alb-c1 node bench/anycast/stream.mjs --server 198.51.100.53 --rate 200
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';
import dnsPacket from 'dns-packet';

const { values } = parseArgs({
  options: {
    server: { type: 'string', default: '198.51.100.53' },
    name: { type: 'string', default: 'lab.test' },
    rate: { type: 'string', default: '200' },
    timeout: { type: 'string', default: '1000' },
  },
});
const RATE = Number(values.rate);
const TIMEOUT_MS = Number(values.timeout);
const now = () => performance.timeOrigin + performance.now();

/** Per query: [sent at (epoch ms), answered by (server id) or null]. Index = sequence number. */
const sent = [];
let lastServer;
const socket = createSocket('udp4');

const query = (id) =>
  dnsPacket.encode({
    type: 'query',
    id,
    flags: 0,
    questions: [{ type: 'SOA', name: values.name }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [{ code: 3, data: Buffer.alloc(0) }] }],
  });

socket.on('message', (msg) => {
  const at = now();
  let packet;
  try {
    packet = dnsPacket.decode(msg);
  } catch {
    return;
  }
  const opt = packet.additionals?.find((a) => a.type === 'OPT');
  const nsid = opt?.options?.find((o) => o.code === 3)?.data?.toString('utf8') ?? '?';
  // Ids wrap at 65536: the newest query with this id (at 200/s, ids repeat every 5 minutes).
  for (let seq = sent.length - 1; seq >= 0 && seq >= sent.length - 65536; seq--) {
    if ((seq & 0xffff) !== packet.id) continue;
    const q = sent[seq];
    if (q[1] === null && at - q[0] <= TIMEOUT_MS) q[1] = nsid;
    break;
  }
  if (nsid !== lastServer) {
    lastServer = nsid;
    process.stdout.write(`switch ${Math.round(at)} ${nsid}\n`);
  }
});
socket.on('error', () => undefined);

// A steady schedule (not setInterval's drift): query k goes out at start + k / RATE.
const start = now();
let timer;
function tick() {
  const due = Math.floor(((now() - start) * RATE) / 1000) + 1;
  while (sent.length < due) {
    const seq = sent.length;
    sent.push([now(), null]);
    socket.send(query(seq & 0xffff), 53, values.server);
  }
  timer = setTimeout(tick, 1000 / RATE);
}
tick();

process.once('SIGTERM', () => {
  clearTimeout(timer);
  // The last queries get their full timeout to be answered.
  setTimeout(() => {
    process.stdout.write(`result ${JSON.stringify(sent.map(([t, by]) => [Math.round(t * 10) / 10, by]))}\n`);
    socket.close();
    process.exit(0);
  }, TIMEOUT_MS);
});
