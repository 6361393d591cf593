#!/usr/bin/env node
// DNS bench: Meridian vs gdnsd, measured with dnsperf in the same run, over UDP on 127.0.0.1.
//
// Prints figures and ratios; it is not a test and never fails because of a number (see
// bench/README.md). It exits non-zero only when it cannot measure at all (dnsperf missing,
// dist/ not built, a server that does not start or dies during the run).
//
//   npm run bench:dns            (builds first)
//   node bench/dns.mjs [--no-gdnsd] [--ecs-parallel]
//
// Query files: "static A" (a static record, both servers), "routed + ECS" (a routed name queried
// with EDNS Client Subnet, dnsperf -E; Meridian only: gdnsd would need its geoip plugin), "mixed"
// (a spread of names and types, no ECS, both servers).
//
// For each server and each query file it measures
//   - max QPS with no lost queries: dnsperf -c 4 -q 200 -l 3, first unthrottled (a ceiling), then
//     a bounded binary search on -Q RATE (at most 8 runs in all) for the highest rate at which
//     dnsperf reports 0 lost and achieves >= 97% of RATE;
//   - CPU per query at a fixed 40k QPS: dnsperf -Q 40000 -l 5, with the server process's
//     utime+stime read from /proc/<pid>/stat before and after.
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { HOST, ROOT, busyBefore, busyBeforeText, clockTicks, cleanup, commandExists, treeCpuTicks, fmt1, fmtInt, formatTable, freePort, log, machineText, machineWindow, mulberry32, otherWorkCell, otherWorkLegend, parseFlags, prerequisitesMet, run, runClient, runMain, spawnMeridian, startServer, stopOnSignals, tempDir, waitReady } from './lib.mjs';

const CONFIG = join(ROOT, 'config', 'demo.yaml');

const DNSPERF_CLIENTS = 4;
const DNSPERF_OUTSTANDING = 200;
const DNSPERF_BASE = ['-c', String(DNSPERF_CLIENTS), '-q', String(DNSPERF_OUTSTANDING), '-t', '1'];
const SEARCH_SECONDS = 3;
const MAX_SEARCH_RUNS = 8; // including the unthrottled one
const ACHIEVED_FRACTION = 0.97;
const CPU_RATE = 40_000;
const CPU_SECONDS = 5;
const STARTUP_TIMEOUT_MS = 10_000;
const TARGET_STATIC_QPS = 75_000;
const TARGET_CPU_RATIO = 2.5;
const TARGET_ROUTED_RATIO = 0.8; // Meridian routed + ECS max QPS / static A max QPS

// Client subnets for the "routed + ECS" row (dnsperf -E sends one ECS option with every query).
// By default only the first: one dnsperf, -c 4 -q 200 like the other rows. Tokyo, because its
// answer (Singapore) differs from the one for 127.0.0.1 without ECS (Frankfurt), so the ECS check
// shows the option really steers. With --ecs-parallel, all four (one per continent), each from its
// own dnsperf process (-c 1 -q 50), in parallel. On 2 cores that costs ~20% more dnsperf CPU per
// query, which the server then lacks: max QPS came out 7-10% lower than with one subnet, and at 40k
// the server saturated (queries queued, ~5 ms average latency instead of <1 ms). Meridian caches
// the decision per client network, so one subnet or four is the same work for it (cache hits).
const ECS_SUBNETS = [
  { cidr: '203.0.113.0/24', where: 'Tokyo' },
  { cidr: '192.0.2.0/24', where: 'New York' },
  { cidr: '198.51.100.0/24', where: 'Frankfurt' },
  { cidr: '41.0.5.0/24', where: 'Johannesburg' },
];

const args = parseFlags(['--no-gdnsd', '--ecs-parallel', '--no-single'], 'usage: node bench/dns.mjs [--no-gdnsd] [--ecs-parallel] [--no-single]');
let haveDig = false;
// Processes and temp dirs we own (see lib.mjs) all go away on exit, error, Ctrl-C.
stopOnSignals();

// ---------------------------------------------------------------------------------------------
// DNS: a minimal query for the readiness probe.

function encodeQuery(id, name, type) {
  const labels = name.replace(/\.$/, '').split('.');
  const parts = [Buffer.from([id >> 8, id & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'ascii'));
  parts.push(Buffer.from([0, type >> 8, type & 0xff, 0, 1]));
  return Buffer.concat(parts);
}

/** Offset just past the (possibly compressed) name at `off`. */
function skipName(buf, off) {
  for (;;) {
    if (off >= buf.length) throw new Error('truncated name');
    const len = buf[off];
    if ((len & 0xc0) === 0xc0) return off + 2;
    off += 1 + len;
    if (len === 0) return off;
  }
}

/** Just enough of a DNS message for the ECS check: rcode, answer RRs, EDNS options. */
function parseMessage(buf) {
  if (buf.length < 12) throw new Error('short message');
  const counts = [4, 6, 8, 10].map((o) => buf.readUInt16BE(o));
  let off = 12;
  for (let i = 0; i < counts[0]; i++) off = skipName(buf, off) + 4;
  const rrs = [];
  for (let i = 0; i < counts[1] + counts[2] + counts[3]; i++) {
    off = skipName(buf, off);
    if (off + 10 > buf.length) throw new Error('truncated RR');
    const type = buf.readUInt16BE(off);
    const rdlen = buf.readUInt16BE(off + 8);
    const rdata = buf.subarray(off + 10, off + 10 + rdlen);
    if (rdata.length !== rdlen) throw new Error('truncated RR');
    rrs.push({ answer: i < counts[1], type, rdata });
    off += 10 + rdlen;
  }
  const opt = rrs.find((rr) => !rr.answer && rr.type === 41);
  const options = [];
  for (let o = 0; opt && o + 4 <= opt.rdata.length; ) {
    const len = opt.rdata.readUInt16BE(o + 2);
    options.push({ code: opt.rdata.readUInt16BE(o), data: opt.rdata.subarray(o + 4, o + 4 + len) });
    o += 4 + len;
  }
  return { id: buf.readUInt16BE(0), qr: (buf[2] & 0x80) !== 0, rcode: buf[3] & 0x0f, answers: rrs.filter((rr) => rr.answer), options };
}

/**
 * The EDNS Client Subnet option (RFC 7871, code 8) for an IPv4 `cidr`: family 1, source prefix,
 * scope 0, the address cut to the prefix's bytes (more bytes than that is malformed: FORMERR).
 * `arg` is dnsperf's `-E code:hex` form.
 */
function ecsOption(cidr) {
  const [addr, len] = cidr.split('/');
  const prefix = Number(len);
  const octets = addr.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255)) || !(prefix >= 0 && prefix <= 32)) {
    throw new Error(`bad IPv4 subnet ${cidr}`);
  }
  const bytes = octets.slice(0, Math.ceil(prefix / 8));
  if (prefix % 8) bytes[bytes.length - 1] &= (0xff << (8 - (prefix % 8))) & 0xff;
  const data = Buffer.from([0, 1, prefix, 0, ...bytes]);
  return { cidr, data, arg: `8:${data.toString('hex')}` };
}

/** Resolves once `port` answers `name` A with a response carrying our id; rejects when the server exits or after timeout. */
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
        if (msg.length >= 12 && msg.readUInt16BE(0) === myId && (msg[2] & 0x80) !== 0) {
          clearTimeout(timer);
          sock.off('message', onMsg);
          res(true);
        }
      };
      sock.on('message', onMsg);
      sock.send(encodeQuery(myId, name, 1), port, HOST);
    });
  };
  try {
    await waitReady(server, `answer ${name} A on ${HOST}:${port}`, timeoutMs, answers);
  } finally {
    sock.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Servers.

async function startMeridian(port, httpPort, workers, config = CONFIG) {
  const server = spawnMeridian(['dns', '--config', config, '--listen', `${HOST}:${port}`, '--http', `${HOST}:${httpPort}`, '--workers', String(workers)]);
  await waitForDns(server, port, 'www.demo.test');
  return server;
}

/** How a running Meridian serves (its /v1/status): workers and how UDP moves. */
async function meridianShape(httpPort) {
  // With workers the control port opens a moment after they answer queries.
  for (let tries = 0; ; tries++) {
    try {
      const status = await (await fetch(`http://${HOST}:${httpPort}/v1/status`)).json();
      return `${status.workers} worker${status.workers === 1 ? '' : 's'}, udp ${status.udp}`;
    } catch (e) {
      if (tries === 50) throw new Error(`meridian's control port ${HOST}:${httpPort} did not answer /v1/status: ${e.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** demo.yaml with `dns.udpBatching: off` (node:dgram), its relative paths made absolute. */
function dgramConfig(dir) {
  const base = dirname(CONFIG);
  const doc = parseYaml(readFileSync(CONFIG, 'utf8'));
  doc.dns = { ...doc.dns, udpBatching: 'off' };
  if (doc.geo?.databases) doc.geo.databases = doc.geo.databases.map((d) => resolve(base, d));
  for (const z of doc.zones) if (z.file) z.file = resolve(base, z.file);
  const file = join(dir, 'demo-dgram.yaml');
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

async function startGdnsd(dir, port) {
  const server = startServer('gdnsd', 'gdnsd', ['-c', dir, 'start']);
  await waitForDns(server, port, 'www.demo.test');
  return server;
}

// ---------------------------------------------------------------------------------------------
// gdnsd configuration generated from config/demo.yaml (+ its master file).

const UNIT = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

function ttlSeconds(v) {
  if (typeof v === 'number') return v;
  const s = String(v).trim().toLowerCase();
  if (/^\d+$/.test(s)) return Number(s);
  let total = 0;
  const re = /(\d+)([smhdw])/gy;
  let m;
  let end = 0;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * UNIT[m[2]];
    end = re.lastIndex;
  }
  if (end !== s.length || end === 0) throw new Error(`cannot read TTL ${JSON.stringify(v)}`);
  return total;
}

function quoteTxt(text) {
  let out = '"';
  for (const b of Buffer.from(String(text), 'utf8')) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${String(b).padStart(3, '0')}`;
  }
  return `${out}"`;
}

function gdnsdZoneText(zone, baseDir, routeLines = []) {
  const origin = zone.name.endsWith('.') ? zone.name : `${zone.name}.`;
  const zoneTtl = zone.ttl === undefined ? 3600 : ttlSeconds(zone.ttl);
  const lines = [`; generated by bench/dns.mjs from ${CONFIG}`, `$ORIGIN ${origin}`, `$TTL ${zoneTtl}`];
  if (zone.soa) {
    const s = zone.soa;
    const soaTtl = s.ttl === undefined ? zoneTtl : ttlSeconds(s.ttl);
    lines.push(
      `@ ${soaTtl} IN SOA ${s.mname} ${s.rname} ${s.serial ?? 1} ${ttlSeconds(s.refresh ?? 7200)} ` +
        `${ttlSeconds(s.retry ?? 3600)} ${ttlSeconds(s.expire ?? 1209600)} ${ttlSeconds(s.minimum ?? 300)}`,
    );
  }
  for (const ns of zone.ns ?? []) lines.push(`@ ${zoneTtl} IN NS ${ns}`);
  for (const rec of zone.records ?? []) {
    const type = String(rec.type).toUpperCase();
    const ttl = rec.ttl === undefined ? zoneTtl : ttlSeconds(rec.ttl);
    for (const value of rec.values ?? [rec.value]) {
      const rdata = type === 'TXT' ? quoteTxt(value) : String(value);
      lines.push(`${rec.name} ${ttl} IN ${type} ${rdata}`);
    }
  }
  if (routeLines.length) lines.push('; routes: what Meridian answers to 127.0.0.1, as static records', ...routeLines);
  if (zone.file) {
    // Inlined last: the master file may set its own $TTL, which must not leak onto the records above.
    lines.push(`; ---- ${zone.file}`, `$ORIGIN ${origin}`, `$TTL ${zoneTtl}`);
    lines.push(readFileSync(resolve(baseDir, zone.file), 'utf8'));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Routed names (`routes:` in the zone, answered per client from a pool of PoPs) have no static
 * equivalent; gdnsd gets, as static A/AAAA records, exactly what Meridian answers to this client
 * (127.0.0.1, no ECS) — the same bytes for the bench's queries, without gdnsd doing the
 * per-query geo choice Meridian does.
 */
async function routeLinesFromMeridian(zone, meridianPort) {
  const origin = zone.name.replace(/\.$/, '');
  const lines = [];
  for (const route of zone.routes ?? []) {
    const probe = (n) => n.replace(/^\*(\.|$)/, 'bench-route-probe$1');
    const rel = route.name === '@' ? '' : route.name;
    const qname = rel.endsWith('.') ? probe(rel) : `${probe(rel)}${rel ? '.' : ''}${origin}`;
    for (const type of ['A', 'AAAA']) {
      for (const rr of await digRecords(meridianPort, qname, type)) {
        if (rr.type === type) lines.push(`${route.name} ${rr.ttl} IN ${type} ${rr.rdata}`);
      }
    }
  }
  return lines;
}

async function writeGdnsdConfig(dir, port, meridianPort) {
  const cfg = parseYaml(readFileSync(CONFIG, 'utf8'));
  mkdirSync(join(dir, 'zones'));
  mkdirSync(join(dir, 'run'));
  mkdirSync(join(dir, 'state'));
  let routes = 0;
  for (const zone of cfg.zones ?? []) {
    const file = zone.name.replace(/\.$/, '');
    const routeLines = await routeLinesFromMeridian(zone, meridianPort);
    routes += (zone.routes ?? []).length;
    writeFileSync(join(dir, 'zones', file), gdnsdZoneText(zone, dirname(CONFIG), routeLines));
  }
  // One UDP thread (Meridian is one Node thread); in-zone CNAME chains completed like Meridian does
  // (gdnsd 3 defaults to answering the CNAME alone, and logs an "error" line when this is set).
  writeFileSync(
    join(dir, 'config'),
    `options => {
  listen => [ ${HOST}:${port} ]
  udp_threads => 1
  tcp_threads => 1
  run_dir => "${join(dir, 'run')}"
  state_dir => "${join(dir, 'state')}"
  experimental_no_chain => false
}
`,
  );
  return { routes };
}

// ---------------------------------------------------------------------------------------------
// Query files.

function randomLabel(rnd, len = 10) {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < len; i++) s += chars[Math.floor(rnd() * chars.length)];
  return s;
}

// A static A record (config/zones/demo.test.extra.zone): the same work for Meridian and gdnsd.
const STATIC_NAME = 'api.demo.test';
const STATIC_LINES = ['api.demo.test A', 'API.Demo.Test A', 'api.DEMO.TEST A', 'Api.demo.test A'];
// A routed name (`routes:` in config/demo.yaml), queried with ECS (the subnets above).
const ROUTED_NAME = 'www.demo.test';
const ROUTED_LINES = ['www.demo.test A', 'WWW.Demo.Test A', 'www.DEMO.TEST A', 'Www.demo.test A'];

// What the "mixed" file is made of: [weight, kind, generator].
const MIXED_KINDS = [
  [10, 'A', () => 'www.demo.test A'],
  [5, 'A', () => 'api.demo.test A'],
  [3, 'A', () => 'mail.demo.test A'],
  [2, 'A', () => 'ns1.demo.test A'],
  [8, 'AAAA', () => 'www.demo.test AAAA'],
  [4, 'AAAA', () => 'api.demo.test AAAA'],
  [3, 'AAAA', () => 'ns1.demo.test AAAA'],
  [10, 'MX', () => 'demo.test MX'],
  [6, 'TXT', () => 'demo.test TXT'],
  [4, 'TXT', () => '_dmarc.demo.test TXT'],
  [15, 'NXDOMAIN', (rnd) => `${randomLabel(rnd)}.demo.test A`],
  [10, 'wildcard', (rnd) => `${randomLabel(rnd)}.cdn.demo.test A`],
  [5, 'wildcard', (rnd) => `${randomLabel(rnd)}.cdn.demo.test AAAA`],
  [5, 'CNAME', () => 'docs.demo.test A'],
  [4, 'CNAME', () => 'status.demo.test A'],
  [3, 'CNAME', () => 'static.demo.test A'],
  [3, 'CNAME', () => 'docs.demo.test CNAME'],
];

function mixedLines(count = 4000) {
  const rnd = mulberry32(0x6d657269);
  const total = MIXED_KINDS.reduce((s, [w]) => s + w, 0);
  const lines = [];
  for (let i = 0; i < count; i++) {
    let x = rnd() * total;
    const kind = MIXED_KINDS.find(([w]) => (x -= w) < 0) ?? MIXED_KINDS[0];
    lines.push(kind[2](rnd));
  }
  return lines;
}

function mixedDescription() {
  const total = MIXED_KINDS.reduce((s, [w]) => s + w, 0);
  const byKind = new Map();
  for (const [w, kind] of MIXED_KINDS) byKind.set(kind, (byKind.get(kind) ?? 0) + w);
  return [...byKind].map(([k, w]) => `${k} ${Math.round((100 * w) / total)}%`).join(', ');
}

// The names checked against both servers with dig before measuring.
const CHECK_QUERIES = [
  ...STATIC_LINES,
  ...new Set(MIXED_KINDS.filter(([, k]) => k !== 'NXDOMAIN' && k !== 'wildcard').map(([, , g]) => g())),
  'nxd-check-7f3a.demo.test A',
  'wild-check-7f3a.cdn.demo.test A',
  'wild-check-7f3a.cdn.demo.test AAAA',
];

// ---------------------------------------------------------------------------------------------
// Answer comparison with dig (ignores TTLs and owner-name case).

async function dig(port, name, type, extra = []) {
  if (!haveDig) throw new Error('dig is not installed (apt-get install bind9-dnsutils)');
  const r = await run('dig', ['+norec', '+tries=1', '+time=2', '+noall', '+comments', '+answer', ...extra, '-p', String(port), `@${HOST}`, name, type]);
  const status = r.out.match(/status: (\w+)/)?.[1] ?? 'NO-ANSWER';
  const aa = /flags:[^;]*\baa\b/.test(r.out);
  const ecs = r.out.match(/CLIENT-SUBNET: (\S+)/)?.[1] ?? null; // address/source/scope
  const rrs = r.out
    .split('\n')
    .filter((l) => l && !l.startsWith(';'))
    .map((l) => {
      const [owner, ttl, cls, rtype, ...rdata] = l.split(/\s+/);
      return { owner: owner.toLowerCase(), ttl: Number(ttl), cls, type: rtype, rdata: rdata.join(' ') };
    });
  return { status, aa, rrs, ecs };
}

async function digRecords(port, name, type) {
  return (await dig(port, name, type)).rrs;
}

async function digAnswer(port, line) {
  const [name, type] = line.split(/\s+/);
  const a = await dig(port, name, type);
  return { status: a.status, aa: a.aa, rrs: a.rrs.map((rr) => `${rr.owner} ${rr.cls} ${rr.type} ${rr.rdata}`).sort() };
}

const answerText = (a) => `${a.status}${a.aa ? ' aa' : ''} [${a.rrs.join('; ')}]`;

async function compareAnswers(mPort, gPort) {
  const diffs = [];
  for (const q of CHECK_QUERIES) {
    const [m, g] = await Promise.all([digAnswer(mPort, q), digAnswer(gPort, q)]);
    if (answerText(m) !== answerText(g)) diffs.push({ q, m: answerText(m), g: answerText(g) });
  }
  return diffs;
}

// ---------------------------------------------------------------------------------------------
// dnsperf.

function parseDnsperf(out) {
  const num = (re) => {
    const m = out.match(re);
    return m ? Number(m[1]) : NaN;
  };
  const size = out.match(/Average packet size:\s+request (\d+), response (\d+)/);
  return {
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    qps: num(/Queries per second:\s+([\d.]+)/),
    runTime: num(/Run time \(s\):\s+([\d.]+)/),
    latency: num(/Average Latency \(s\):\s+([\d.]+)/),
    rcodes: out.match(/Response codes:\s+(.*)/)?.[1]?.trim() ?? '',
    responseBytes: size ? Number(size[2]) : NaN,
  };
}

/**
 * One dnsperf process. dnsperf runs under `sh`, whose `times` reports the CPU dnsperf used (so the
 * CPU runs can tell dnsperf's share of the machine from other work's; see runClient). `opts` are
 * its -c/-q/-t/-E options.
 */
async function dnsperf(server, port, file, seconds, rate, opts = DNSPERF_BASE) {
  const argv = ['-s', HOST, '-p', String(port), '-d', file, '-l', String(seconds), ...opts];
  if (rate) argv.push('-Q', String(rate));
  const r = await runClient('dnsperf', argv);
  const res = parseDnsperf(r.out);
  res.clientCpuSeconds = r.cpuSeconds;
  server.assertAlive('dnsperf');
  if (r.code !== 0 || !Number.isFinite(res.completed) || !Number.isFinite(res.qps)) {
    throw new Error(`dnsperf ${argv.join(' ')} failed (exit ${r.code}):\n${r.out}${r.err}`);
  }
  return res;
}

/** Adds up "NOERROR 123 (100.00%), NXDOMAIN 4 (...)" lines from several dnsperf processes. */
function mergeRcodes(lines) {
  const counts = new Map();
  for (const line of lines) {
    for (const m of line.matchAll(/(\w+) (\d+) \(/g)) counts.set(m[1], (counts.get(m[1]) ?? 0) + Number(m[2]));
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return [...counts].map(([k, n]) => `${k} ${n} (${((100 * n) / total).toFixed(2)}%)`).join(', ');
}

/**
 * One measurement of a query file: its dnsperf processes (`f.procs`, one list of options each)
 * run in parallel, the target rate split evenly between them, and their figures added up: sent,
 * completed, lost, QPS and dnsperf CPU are sums, latency and response size are averages weighted
 * by completed queries, run time the longest.
 */
async function perf(server, port, f, seconds, rate) {
  const n = f.procs.length;
  const rs = await Promise.all(f.procs.map((opts) => dnsperf(server, port, f.path, seconds, rate ? Math.max(1, Math.round(rate / n)) : 0, opts)));
  if (n === 1) return rs[0];
  const sum = (k) => rs.reduce((a, r) => a + r[k], 0);
  const completed = sum('completed');
  const weighted = (k) => (completed > 0 ? rs.reduce((a, r) => a + r[k] * r.completed, 0) / completed : NaN);
  return {
    sent: sum('sent'),
    completed,
    lost: sum('lost'),
    qps: sum('qps'),
    runTime: Math.max(...rs.map((r) => r.runTime)),
    latency: weighted('latency'),
    rcodes: mergeRcodes(rs.map((r) => r.rcodes)),
    responseBytes: weighted('responseBytes'),
    clientCpuSeconds: sum('clientCpuSeconds'),
  };
}

function runLine(label, rate, r) {
  const target = rate ? `Q=${fmtInt(rate)}` : 'unthrottled';
  const lossPct = r.sent ? ((100 * r.lost) / r.sent).toFixed(2) : '0';
  return `  ${label.padEnd(22)} ${target.padEnd(14)} -> ${fmtInt(r.qps).padStart(8)} qps, ${fmtInt(r.lost)} lost (${lossPct}%), avg latency ${(r.latency * 1000).toFixed(2)} ms, ${r.rcodes}`;
}

/** Highest rate with 0 lost and >= 97% of the target achieved; at most MAX_SEARCH_RUNS dnsperf runs. */
async function maxQps(server, port, label, f) {
  const runs = [];
  const first = await perf(server, port, f, SEARCH_SECONDS, 0);
  runs.push({ rate: 0, r: first });
  log(runLine(label, 0, first));
  let best = first.lost === 0 ? { rate: 0, r: first } : null;
  let lo = best ? Math.floor(first.qps) : 0; // highest rate known to pass
  let hi = best ? Math.ceil(first.qps * 1.5) : Math.ceil(first.qps); // first rate assumed to fail
  while (runs.length < MAX_SEARCH_RUNS && hi - lo > Math.max(1000, lo * 0.02)) {
    const rate = Math.round((lo + hi) / 2 / 500) * 500;
    if (rate <= lo || rate >= hi) break;
    const r = await perf(server, port, f, SEARCH_SECONDS, rate);
    runs.push({ rate, r });
    const ok = r.lost === 0 && r.qps >= ACHIEVED_FRACTION * rate;
    log(`${runLine(label, rate, r)}  ${ok ? 'ok' : 'FAIL'}`);
    if (ok) {
      lo = rate;
      if (!best || r.qps > best.r.qps) best = { rate, r };
    } else {
      hi = rate;
    }
  }
  return { best, runs };
}

const ipv4 = (b) => [...b].join('.');

/**
 * Before the "routed + ECS" row is measured: for each subnet, dnsperf (with the row's -E option)
 * sends the routed query file once to Meridian through a UDP relay in this process, which keeps
 * the first query and its response. Checks that the query carries exactly the ECS option meant,
 * and that Meridian answered it as a routed name: NOERROR, ECS echoed for the same subnet with a
 * scope > 0, and (when dig is installed) the same A record as `dig +subnet=CIDR`. Returns
 * { ok, lines } — lines describe each subnet, or what went wrong.
 */
async function checkEcs(meridianPort, file, ecsList) {
  const relay = dgram.createSocket('udp4');
  const upstream = dgram.createSocket('udp4');
  await Promise.all([relay, upstream].map((sock) => new Promise((res) => sock.bind(0, HOST, res))));
  let seen = null;
  relay.on('message', (msg, rinfo) => {
    seen ??= { query: Buffer.from(msg), response: null };
    seen.client = rinfo;
    upstream.send(msg, meridianPort, HOST);
  });
  upstream.on('message', (msg) => {
    if (!seen) return;
    if (!seen.response && msg.length >= 2 && msg.readUInt16BE(0) === seen.query.readUInt16BE(0)) seen.response = Buffer.from(msg);
    relay.send(msg, seen.client.port, seen.client.address);
  });
  const lines = [];
  let ok = true;
  const fail = (msg) => {
    ok = false;
    lines.push(msg);
  };
  try {
    for (const ecs of ecsList) {
      seen = null;
      const argv = ['-s', HOST, '-p', String(relay.address().port), '-d', file, '-n', '1', '-c', '1', '-t', '2', '-E', ecs.arg];
      const r = await run('dnsperf', argv);
      if (r.code !== 0) {
        fail(`dnsperf ${argv.join(' ')} failed (exit ${r.code}; does this dnsperf support -E?):\n${r.out}${r.err}`);
        break;
      }
      if (!seen?.query) {
        fail(`${ecs.cidr}: the relay saw no query from dnsperf -E ${ecs.arg}`);
        continue;
      }
      const q = parseMessage(seen.query);
      const sent = q.options.filter((o) => o.code === 8);
      if (sent.length !== 1 || !sent[0].data.equals(ecs.data)) {
        fail(`${ecs.cidr}: dnsperf -E ${ecs.arg} sent ECS ${sent.map((o) => o.data.toString('hex')).join(', ') || 'none'}, expected ${ecs.data.toString('hex')}`);
        continue;
      }
      if (!seen.response) {
        fail(`${ecs.cidr}: meridian did not answer the query dnsperf sent`);
        continue;
      }
      const a = parseMessage(seen.response);
      const got = a.options.find((o) => o.code === 8);
      const scope = got && got.data.length >= 4 ? got.data[3] : NaN;
      const addrs = a.answers.filter((rr) => rr.type === 1 && rr.rdata.length === 4).map((rr) => ipv4(rr.rdata));
      let line = `${ecs.cidr} (${ecs.where}): dnsperf sends ECS ${ecs.data.toString('hex')}; meridian answers ${addrs.join(' ') || 'no A'}, ECS scope /${scope}`;
      if (haveDig) {
        const d = await dig(meridianPort, ROUTED_NAME, 'A', [`+subnet=${ecs.cidr}`]);
        const dAddrs = d.rrs.filter((rr) => rr.type === 'A').map((rr) => rr.rdata);
        line += ` (dig +subnet: ${dAddrs.join(' ') || 'no A'}, ${d.ecs ?? 'no ECS'})`;
        if (dAddrs.sort().join() !== [...addrs].sort().join()) {
          fail(`${line}: dig and dnsperf get different answers`);
          continue;
        }
      }
      if (a.rcode !== 0 || !addrs.length || !got || !got.data.subarray(0, 3).equals(ecs.data.subarray(0, 3)) || !got.data.subarray(4).equals(ecs.data.subarray(4)) || !(scope > 0)) {
        fail(`${line}: not a routed answer to this subnet (rcode ${a.rcode}, ECS ${got ? got.data.toString('hex') : 'missing'})`);
        continue;
      }
      lines.push(line);
    }
  } finally {
    relay.close();
    upstream.close();
  }
  return { ok, lines };
}

async function cpuPerQuery(server, port, label, f, clkTck) {
  const machine = machineWindow(clkTck);
  // The whole process tree: with workers, the primary's children answer the queries.
  const before = treeCpuTicks(server.pid).ticks;
  const r = await perf(server, port, f, CPU_SECONDS, CPU_RATE);
  const after = treeCpuTicks(server.pid).ticks;
  const { otherCores: others } = machine();
  const cpuSeconds = (after - before) / clkTck;
  const usPerQuery = r.completed > 0 ? (cpuSeconds * 1e6) / r.completed : NaN;
  // Whatever the machine did besides the server and dnsperf (this script, the idle other server,
  // and anything else running here) while the CPU figure was taken.
  const otherCores = others(cpuSeconds, r.clientCpuSeconds);
  log(
    `${runLine(label, CPU_RATE, r)}  cpu ${cpuSeconds.toFixed(2)} s -> ${fmt1(usPerQuery)} µs/query` +
      ` (dnsperf ${r.clientCpuSeconds.toFixed(2)} s, other work ~${Math.max(0, otherCores * 100).toFixed(0)}% of a core)`,
  );
  return { r, cpuSeconds, usPerQuery, corePct: (100 * cpuSeconds) / r.runTime, otherCores };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  if (!prerequisitesMet('dnsperf', 'bench:dns')) return 1;
  const wantGdnsd = !args.has('--no-gdnsd');
  const haveGdnsd = wantGdnsd && commandExists('gdnsd');
  haveDig = commandExists('dig');
  if (wantGdnsd && !haveGdnsd) log('bench: gdnsd not installed (apt-get install gdnsd); measuring Meridian alone');

  const clkTck = clockTicks();
  const dnsperfVersion = spawnSync('dnsperf', ['-h'], { encoding: 'utf8' });
  const gdnsdVersion = haveGdnsd ? spawnSync('gdnsd', ['-h'], { encoding: 'utf8' }) : null;
  const ver = (r, re) => (r ? `${r.stdout}${r.stderr}`.match(re)?.[1] : undefined) ?? '?';

  const otherCpu = await busyBefore();

  const work = tempDir('meridian-bench-dns-');
  // "routed + ECS": one dnsperf with the first subnet, like the other rows (-c 4 -q 200); with
  // --ecs-parallel, one dnsperf per subnet, in parallel, together as many clients and outstanding
  // queries (-c 1 -q 50 each). See ECS_SUBNETS for why one subnet is the default.
  const ecsSingle = !args.has('--ecs-parallel');
  const ecsList = (ecsSingle ? ECS_SUBNETS.slice(0, 1) : ECS_SUBNETS).map((s) => ({ ...s, ...ecsOption(s.cidr) }));
  const ecsProcs = ecsSingle
    ? [[...DNSPERF_BASE, '-E', ecsList[0].arg]]
    : ecsList.map((e) => ['-c', String(Math.max(1, Math.floor(DNSPERF_CLIENTS / ecsList.length))), '-q', String(Math.max(1, Math.floor(DNSPERF_OUTSTANDING / ecsList.length))), '-t', '1', '-E', e.arg]);
  const files = [
    { key: 'static', label: 'static A', path: join(work, 'static-a.txt'), lines: STATIC_LINES, procs: [DNSPERF_BASE] },
    { key: 'routed', label: 'routed + ECS', path: join(work, 'routed-ecs.txt'), lines: ROUTED_LINES, procs: ecsProcs, meridianOnly: true },
    { key: 'mixed', label: 'mixed', path: join(work, 'mixed.txt'), lines: mixedLines(), procs: [DNSPERF_BASE] },
  ];
  for (const f of files) writeFileSync(f.path, `${f.lines.join('\n')}\n`);
  const mixedFile = files.find((f) => f.key === 'mixed');

  const used = new Set();
  const take = () => freePort(used, { udp: true });
  const mPort = await take();
  const mHttp = await take();
  const gPort = haveGdnsd ? await take() : 0;

  // "meridian" is the default (dns.workers: auto, dns.udpBatching: auto). For comparison (skip
  // with --no-single): "meridian-cores", one batched worker per core, and "meridian-dgram", UDP
  // through node:dgram (what runs where the addon was not built) with its default workers.
  const meridian = await startMeridian(mPort, mHttp, 'auto');
  log(`bench: meridian (defaults: ${await meridianShape(mHttp)}) on ${HOST}:${mPort}`);
  const servers = [{ name: 'meridian', server: meridian, port: mPort }];
  if (!args.has('--no-single')) {
    const [cPort, cHttp, dPort, dHttp] = [await take(), await take(), await take(), await take()];
    servers.push({ name: 'meridian-cores', server: await startMeridian(cPort, cHttp, availableParallelism()), port: cPort });
    log(`bench: meridian-cores (${await meridianShape(cHttp)}) on ${HOST}:${cPort}`);
    servers.push({ name: 'meridian-dgram', server: await startMeridian(dPort, dHttp, 'auto', dgramConfig(work)), port: dPort });
    log(`bench: meridian-dgram (${await meridianShape(dHttp)}) on ${HOST}:${dPort}`);
  }
  let routeCount = 0;
  if (haveGdnsd) {
    const gdir = join(work, 'gdnsd');
    mkdirSync(gdir);
    const { routes } = await writeGdnsdConfig(gdir, gPort, mPort);
    routeCount = routes;
    const check = await run('gdnsd', ['-c', gdir, 'checkconf']);
    if (check.code !== 0) throw new Error(`gdnsd checkconf failed on the generated config:\n${check.err}${check.out}`);
    log(`bench: starting gdnsd on ${HOST}:${gPort}`);
    const gdnsd = await startGdnsd(gdir, gPort);
    servers.push({ name: 'gdnsd', server: gdnsd, port: gPort });
  }

  let diffs = null;
  if (haveDig && haveGdnsd) {
    diffs = await compareAnswers(mPort, gPort);
    log(`bench: dig: ${CHECK_QUERIES.length - diffs.length}/${CHECK_QUERIES.length} queries answered the same by both servers (TTLs ignored)`);
    for (const d of diffs) log(`  differs: ${d.q}\n    meridian: ${d.m}\n    gdnsd:    ${d.g}`);
  } else if (haveDig) {
    for (const q of [STATIC_LINES[0], ROUTED_LINES[0]]) log(`bench: dig ${q} -> ${answerText(await digAnswer(mPort, q))}`);
  }

  // The routed + ECS row measures what it claims only if dnsperf sends the ECS option and Meridian
  // answers it per subnet; otherwise the row is left out (and the report says why).
  const ecsCheck = await checkEcs(mPort, files.find((f) => f.key === 'routed').path, ecsList);
  for (const l of ecsCheck.lines) log(`bench: ECS check: ${l}`);
  if (!ecsCheck.ok) log('bench: warning: the ECS check failed; the routed + ECS row is not measured');

  // Measure one server at a time (the other one sits idle).
  const results = new Map();
  for (const { name, server, port } of servers) {
    for (const f of files) {
      if (f.meridianOnly && !name.startsWith('meridian')) continue;
      if (f.key === 'routed' && !ecsCheck.ok) continue;
      const label = `${name} ${f.label}`;
      const search = await maxQps(server, port, label, f);
      const cpu = await cpuPerQuery(server, port, label, f, clkTck);
      results.set(`${name}/${f.key}`, { search, cpu });
    }
  }
  await cleanup();

  // ---- report
  const out = [];
  out.push('');
  out.push('Meridian DNS bench (UDP over 127.0.0.1; dnsperf and the server share this machine)');
  out.push(
    `${machineText()}, ` +
      `dnsperf ${ver(dnsperfVersion, /Version ([\d.]+)/)}${haveGdnsd ? `, gdnsd ${ver(gdnsdVersion, /gdnsd version ([\d.]+)/)} (udp_threads 1)` : ''}`,
  );
  out.push(busyBeforeText(otherCpu));
  out.push(`dnsperf: ${DNSPERF_BASE.join(' ')}; max QPS = highest -Q with 0 lost and >= ${ACHIEVED_FRACTION * 100}% achieved (-l ${SEARCH_SECONDS}, <= ${MAX_SEARCH_RUNS} runs); CPU at -Q ${CPU_RATE} -l ${CPU_SECONDS}`);
  out.push(`query files: static A = ${STATIC_LINES.length} case variants of ${STATIC_NAME} A (a static record, both servers)`);
  out.push(
    `             routed + ECS = ${ROUTED_LINES.length} case variants of ${ROUTED_NAME} A (a routed name) with EDNS Client Subnet, ` +
      (ecsSingle
        ? `ONE client subnet, ${ecsList[0].cidr} (${ecsList[0].where}): dnsperf ${DNSPERF_BASE.join(' ')} -E ${ecsList[0].arg}. ` +
          'Not varied: several dnsperf in parallel (one per subnet; --ecs-parallel) cost more client CPU on 2 cores and lowered the figures'
        : `${ecsList.length} dnsperf in parallel (--ecs-parallel), one per subnet (${ecsList.map((e) => `${e.cidr} ${e.where}`).join(', ')}), each ${ecsProcs[0].slice(0, 6).join(' ')} -E 8:<subnet>, rates split evenly, figures summed; ` +
          'on 2 cores the extra dnsperf processes take CPU from the server, so these figures read low'),
  );
  out.push(`             mixed = ${mixedFile.lines.length} lines: ${mixedDescription()}; no ECS`);
  if (ecsCheck.ok) {
    out.push(`ECS check: each subnet's dnsperf query carries the ECS option meant, and meridian answers it per subnet (scope > 0${haveDig ? ', same A as dig +subnet' : ''})`);
  } else {
    out.push(`ECS check FAILED, routed + ECS not measured: ${ecsCheck.lines.at(-1) ?? '?'}`);
  }
  if (routeCount) {
    out.push(`routes: the zone has ${routeCount} routed name(s) (answered per client from a pool); in the mixed file gdnsd serves Meridian's answer to 127.0.0.1 for them as static records`);
  }
  if (haveGdnsd) {
    out.push('gdnsd has no routed + ECS row: answering per client subnet would need its geoip plugin (and a GeoIP database and map equivalent to Meridian\'s), which this bench does not set up');
  }
  if (diffs) out.push(`answers: ${CHECK_QUERIES.length - diffs.length}/${CHECK_QUERIES.length} check queries identical on both servers (rcode, aa, answer RRs; TTLs ignored)`);
  out.push('');
  const header = ['server', 'queries', 'max QPS (0 lost)', 'at -Q', `CPU µs/query @${CPU_RATE / 1000}k`, 'achieved @40k', 'lost @40k', 'server CPU', 'other work', 'resp bytes'];
  const rows = [];
  for (const { name } of servers) {
    for (const f of files) {
      if (!results.has(`${name}/${f.key}`)) continue;
      const { search, cpu } = results.get(`${name}/${f.key}`);
      const b = search.best;
      rows.push([
        name,
        f.label,
        b ? fmtInt(b.r.qps) : 'none (losses)',
        b ? (b.rate ? fmtInt(b.rate) : 'unthrottled') : '-',
        fmt1(cpu.usPerQuery),
        fmtInt(cpu.r.qps),
        fmtInt(cpu.r.lost),
        `${cpu.corePct.toFixed(0)}% of a core`,
        otherWorkCell(cpu.otherCores),
        fmtInt(cpu.r.responseBytes),
      ]);
    }
  }
  out.push(...formatTable(header, rows, 2));
  out.push('');
  out.push(`other work = CPU used on the machine during the 40k run by anything but the server and dnsperf, in % of a core (+-20%)${otherWorkLegend([...results.values()].map((x) => x.cpu.otherCores))}`);
  out.push('');

  const ms = results.get('meridian/static');
  const msQps = ms.search.best?.r.qps ?? 0;
  out.push(`target: meridian static A >= ${fmtInt(TARGET_STATIC_QPS)} QPS with no loss: ${fmtInt(msQps)} (${msQps >= TARGET_STATIC_QPS ? 'meets it' : 'below it'})`);
  const mr = results.get('meridian/routed');
  if (mr) {
    const mrQps = mr.search.best?.r.qps ?? 0;
    const ratio = msQps ? mrQps / msQps : NaN;
    const cpuRatio = mr.cpu.usPerQuery / ms.cpu.usPerQuery;
    out.push(
      `target: meridian routed + ECS / static A max QPS >= ${TARGET_ROUTED_RATIO.toFixed(2)}: ${fmtInt(mrQps)} / ${fmtInt(msQps)} = ` +
        `${Number.isFinite(ratio) ? ratio.toFixed(2) : 'n/a'} (${ratio >= TARGET_ROUTED_RATIO ? 'meets it' : 'below it'})` +
        `; CPU per query routed / static: ${Number.isFinite(cpuRatio) ? `${cpuRatio.toFixed(2)}x` : 'n/a'}` +
        (ecsSingle ? ` [one ECS subnet, ${ecsList[0].cidr}]` : ' [--ecs-parallel: reads low on 2 cores]'),
    );
  } else {
    out.push('target: meridian routed + ECS / static A max QPS: not measured (the ECS check failed, see above)');
  }
  if (haveGdnsd) {
    for (const f of files) {
      const m = results.get(`meridian/${f.key}`);
      const g = results.get(`gdnsd/${f.key}`);
      if (!m || !g) continue;
      const mq = m.search.best?.r.qps ?? 0;
      const gq = g.search.best?.r.qps ?? 0;
      const cpuRatio = m.cpu.usPerQuery / g.cpu.usPerQuery;
      const cpuText = Number.isFinite(cpuRatio) ? `${cpuRatio.toFixed(1)}x` : 'n/a';
      out.push(`${f.label}: meridian / gdnsd QPS: ${gq ? (mq / gq).toFixed(2) : 'n/a'}`);
      if (f.key === 'static') {
        out.push(`${f.label}: meridian / gdnsd CPU per query: ${cpuText} (target <= ${TARGET_CPU_RATIO}x: ${cpuRatio <= TARGET_CPU_RATIO ? 'meets it' : 'above it'})`);
      } else {
        out.push(`${f.label}: meridian / gdnsd CPU per query: ${cpuText} (not like-for-like: Meridian routes the routed names per query, gdnsd serves them static; the ${TARGET_CPU_RATIO}x target is for static A)`);
      }
    }
    for (const name of ['meridian-cores', 'meridian-dgram']) {
      const other = results.get(`${name}/static`);
      if (other) out.push(`static A: ${name} / gdnsd CPU per query: ${(other.cpu.usPerQuery / results.get('gdnsd/static').cpu.usPerQuery).toFixed(1)}x`);
    }
    out.push('note: gdnsd near ~140k QPS is usually limited by dnsperf on a 2-core machine, not by gdnsd; the CPU ratio is the steadier figure.');
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

runMain(main);
