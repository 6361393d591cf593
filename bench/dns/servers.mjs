// The DNS servers under test: Meridian (the defaults, and the variants the table compares) and
// gdnsd, each started on free loopback ports and waited for until it answers a query.
import dgram from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import dnsPacket from 'dns-packet';
import { parse as parseYaml } from 'yaml';
import { HOST, ROOT, spawnMeridian, startServer, waitReady } from '../lib.mjs';

/** The configuration both servers serve (gdnsd's is generated from it). */
export const CONFIG = join(ROOT, 'config', 'demo.yaml');

const STARTUP_TIMEOUT_MS = 10_000;
// A name both servers answer: the readiness probe.
const READY_NAME = 'www.demo.test';

/**
 * Resolves once `port` answers `name` A with a response carrying our id; rejects when the server
 * exits or after the timeout. Each query waits up to 200 ms for its answer and has a new id, so a
 * late answer to an earlier one does not count.
 */
async function waitForDns(server, port, name, timeoutMs = STARTUP_TIMEOUT_MS) {
  const sock = dgram.createSocket('udp4');
  await new Promise((res) => sock.bind(0, HOST, res));
  let id = 1;
  const answers = () => {
    id = (id + 1) & 0xffff;
    const myId = id;
    return new Promise((res) => {
      const timer = setTimeout(() => {
        sock.off('message', onMsg);
        res(false);
      }, 200);
      const onMsg = (msg) => {
        let reply;
        try {
          reply = dnsPacket.decode(msg);
        } catch {
          return; // not a DNS message: not an answer
        }
        if (reply.id === myId && reply.type === 'response') {
          clearTimeout(timer);
          sock.off('message', onMsg);
          res(true);
        }
      };
      sock.on('message', onMsg);
      sock.send(dnsPacket.encode({ type: 'query', id: myId, questions: [{ type: 'A', name }] }), port, HOST);
    });
  };
  try {
    await waitReady(server, `answer ${name} A on ${HOST}:${port}`, timeoutMs, answers);
  } finally {
    sock.close();
  }
}

/** `meridian dns` on `port` (control on `httpPort`) with `workers` (a number or "auto"); resolves once it answers. */
export async function startMeridian(port, httpPort, workers, config = CONFIG) {
  const server = spawnMeridian([
    'dns',
    '--config',
    config,
    '--listen',
    `${HOST}:${port}`,
    '--control-listen',
    `${HOST}:${httpPort}`,
    '--workers',
    String(workers),
  ]);
  await waitForDns(server, port, READY_NAME);
  return server;
}

/** How a running Meridian serves (its /v1/status): workers and how UDP moves. */
export async function meridianShape(httpPort) {
  // With workers the control port opens a moment after they answer queries.
  for (let tries = 0; ; tries++) {
    try {
      const status = await (await fetch(`http://${HOST}:${httpPort}/v1/status`)).json();
      return `${status.workers} worker${status.workers === 1 ? '' : 's'}, udp ${status.udp}`;
    } catch (e) {
      if (tries === 50)
        throw new Error(`meridian's control port ${HOST}:${httpPort} did not answer /v1/status: ${e.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * `dns.rrl` for the bench (`--rrl=on|off`). On: the server's response rate limiting, with rates
 * so high (a million a second per name and client network) that dnsperf, one loopback client
 * sending the same few names, is never limited: every answer pays for the whole check
 * (classify, hash, bucket), and none is dropped, so the figures say what the check costs. Not
 * `exempt: [127.0.0.0/8]`, which would skip the check before most of its work.
 */
export function rrlFor(mode) {
  return mode === 'off' ? { enabled: false } : { enabled: true, responsesPerSecond: 1_000_000 };
}

/**
 * demo.yaml with `dns` settings over its own (`udpBatching: off`, `rrl`), written to `dir/name`
 * with its relative paths made absolute.
 */
export function benchConfig(dir, name, dns) {
  const base = dirname(CONFIG);
  const doc = parseYaml(readFileSync(CONFIG, 'utf8'));
  doc.dns = { ...doc.dns, ...dns };
  if (doc.geo?.databases) doc.geo.databases = doc.geo.databases.map((d) => resolve(base, d));
  for (const z of doc.zones) if (z.file) z.file = resolve(base, z.file);
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

/** demo.yaml with `dns.udpBatching: off` (node:dgram) and `rrl`. */
export function dgramConfig(dir, rrl) {
  return benchConfig(dir, 'demo-dgram.yaml', { udpBatching: 'off', rrl });
}

/** gdnsd in the foreground from config dir `dir` (see gdnsd-config.mjs); resolves once it answers on `port`. */
export async function startGdnsd(dir, port) {
  const server = startServer('gdnsd', 'gdnsd', ['-c', dir, 'start']);
  await waitForDns(server, port, READY_NAME);
  return server;
}
