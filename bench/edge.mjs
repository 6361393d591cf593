#!/usr/bin/env node
// Edge bench: cache-hit throughput and latency of Meridian's edge, and of Varnish in front of the
// same origin when varnishd is installed, measured with wrk in the same run over 127.0.0.1.
//
// Prints figures and ratios; it is not a test and never fails because of a number (see
// bench/README.md). It exits non-zero only when it cannot measure at all (wrk missing, dist/ not
// built, a server that does not start or dies during the run).
//
//   npm run bench:edge            (builds first)
//   node bench/edge.mjs [--no-varnish] [--baseline] [--default-only]
//
// "meridian" is the edge as configured by default (edge.workers: auto, one serving process per
// core less one, at least one). For comparison (skip with --default-only), the other choice:
// "meridian-cores" (--workers = every core) when the default is one process, else "meridian-1"
// (--workers 1).
//
// --baseline adds a third server: a bare node:http server answering the same bytes from memory
// (no cache, no pipeline): the ceiling for one Node process on this machine (+ ~22 s).
//
// An origin inside this process serves one 1 KiB object (`Cache-Control: public, max-age=3600`)
// at /obj and counts its requests. Each server is warmed (a miss, then a hit checked by its
// headers), loaded for 2 s unmeasured (JIT and thread pools), then measured three times with
//   wrk -t2 -c50 -d10s --latency http://127.0.0.1:PORT/obj
// the servers alternating (meridian, varnish, meridian, varnish, ...) so drift hits both alike;
// the medians of each server's runs are compared (one run's p99 is mostly scheduling noise on a
// machine that also runs wrk). Around every wrk run: the server's process tree CPU
// (utime+stime from /proc), wrk's own CPU (`times` of its shell), the machine's, and the origin's
// request count (it must not move: every measured request was a hit).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { HOST, busyBefore, busyBeforeText, clockTicks, cleanup, commandExists, fmt1, fmtInt, formatTable, freePort, log, machineText, machineWindow, onCleanup, otherWorkCell, otherWorkLegend, parseFlags, prerequisitesMet, run, runClient, runMain, spawnMeridian, startServer, stopOnSignals, tempDir, treeCpuTicks, waitForPort } from './lib.mjs';

const POP = 'bench';
const OBJECT_PATH = '/obj';
const OBJECT_BYTES = 1024;
const ORIGIN_CACHE_CONTROL = 'public, max-age=3600';

const WRK_THREADS = 2;
const WRK_CONNECTIONS = 50;
const WRK_SECONDS = 10;
const WRK_RUNS = 3; // per server; the figures compared are the medians of the runs
const WARM_LOAD_SECONDS = 2; // unmeasured wrk run before the measured ones
const STARTUP_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 5_000;
const VARNISH_STORAGE = 'malloc,256m';

const TARGET_RPS_RATIO = 0.75; // meridian / varnish hit req/s

const args = parseFlags(['--no-varnish', '--baseline', '--default-only'], 'usage: node bench/edge.mjs [--no-varnish] [--baseline] [--default-only]');
// Processes, servers and temp dirs we own (see lib.mjs) all go away on exit, error, Ctrl-C.
stopOnSignals({ graceMs: 5000 });

const processesText = (n) => (n === 1 ? 'one Node process' : `${n} serving workers`);
const fmt2 = (n) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
const fmtMs = (ms) => (Number.isFinite(ms) ? `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms` : 'n/a');

// ---------------------------------------------------------------------------------------------
// The origin: one 1 KiB cacheable object, every request counted.

function startOrigin(port) {
  const body = Buffer.alloc(OBJECT_BYTES, 'x');
  const counts = { total: 0, byPath: new Map() };
  const srv = http.createServer((req, res) => {
    counts.total++;
    counts.byPath.set(req.url, (counts.byPath.get(req.url) ?? 0) + 1);
    req.resume();
    if (req.url === OBJECT_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': body.length,
        'cache-control': ORIGIN_CACHE_CONTROL,
        'last-modified': 'Sun, 01 Nov 2026 00:00:00 GMT',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'no-store', 'content-length': 10 });
      res.end('not found\n');
    }
  });
  onCleanup(
    () =>
      new Promise((res) => {
        srv.close(() => res());
        srv.closeAllConnections();
      }),
  );
  return new Promise((res, rej) => {
    srv.once('error', rej);
    srv.listen(port, HOST, () => res(counts));
  });
}

// ---------------------------------------------------------------------------------------------
// Servers under test.

function edgeConfigYaml(edgePort, originPort) {
  // The minimum the shared schema wants: one PoP with a location and a service address; the edge
  // section with the origin. No zones, pools or health: the edge does not read them.
  return [
    '# generated by bench/edge.mjs',
    'pops:',
    `  - id: ${POP}`,
    '    name: Bench',
    '    location: { lat: 50.11, lon: 8.68 }',
    `    ipv4: [${HOST}]`,
    `    edge: "http://${HOST}:${edgePort}"`,
    'edge:',
    `  origin: "http://${HOST}:${originPort}"`,
    '',
  ].join('\n');
}

/** `workers`: undefined = the default (edge.workers from the config, i.e. its default). */
async function startMeridianEdge(work, port, controlPort, originPort, workers) {
  const config = join(work, `edge-${port}.yaml`);
  writeFileSync(config, edgeConfigYaml(port, originPort));
  const server = spawnMeridian(['edge', '--config', config, '--pop', POP, '--listen', `${HOST}:${port}`, '--control', `${HOST}:${controlPort}`, ...(workers === undefined ? [] : ['--workers', String(workers)])]);
  await waitForPort(server, port, STARTUP_TIMEOUT_MS);
  return server;
}

async function startVarnish(work, port, originPort) {
  const dir = join(work, 'varnish');
  // -F: foreground (the manager stays our child, the cache process its child). -j none: no
  // privilege-separation jail (we run it as whoever runs the bench, root or not). -T none: no
  // management CLI port. -n: its working dir (VSM for varnishstat) under our temp dir.
  const argv = ['-F', '-j', 'none', '-T', 'none', '-a', `${HOST}:${port}`, '-b', `${HOST}:${originPort}`, '-n', dir, '-s', VARNISH_STORAGE];
  const server = startServer('varnish', 'varnishd', argv);
  server.argv = argv;
  server.dir = dir;
  await waitForPort(server, port, STARTUP_TIMEOUT_MS);
  return server;
}

// The --baseline server: what one Node process does with no cache and no pipeline. It answers
// every request with the bytes Meridian's hit carries (same header fields, same body).
const BASELINE_JS = `
const http = require('node:http');
const [port, size, cacheControl] = process.argv.slice(1);
const body = Buffer.alloc(Number(size), 'x');
http.createServer({ keepAliveTimeout: 5000 }, (req, res) => {
  req.resume();
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': body.length,
    'cache-control': cacheControl,
    'last-modified': 'Sun, 01 Nov 2026 00:00:00 GMT',
    via: '1.1 meridian-bench',
    age: '0',
    'cache-status': 'meridian-bench; hit; ttl=3600',
  });
  res.end(body);
}).listen({ host: '127.0.0.1', port: Number(port), backlog: 4096 });
process.once('SIGTERM', () => process.exit(0));`;

async function startBaseline(port) {
  const server = startServer('node:http', process.execPath, ['-e', BASELINE_JS, String(port), String(OBJECT_BYTES), ORIGIN_CACHE_CONTROL]);
  await waitForPort(server, port, STARTUP_TIMEOUT_MS);
  return server;
}

/** One GET with a fresh connection (no agent, nothing left open); resolves with status, headers and body size. */
function httpGet(port, path) {
  return new Promise((res, rej) => {
    const req = http.request({ host: HOST, port, path, method: 'GET', agent: false, headers: { connection: 'close' } }, (r) => {
      let bytes = 0;
      r.on('data', (d) => (bytes += d.length));
      r.on('end', () => res({ status: r.statusCode, headers: r.headers, bytes }));
      r.on('error', rej);
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`GET ${path} on port ${port}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', rej);
    req.end();
  });
}

/** Bytes on the wire of one keep-alive response to the request wrk sends (status line, headers, body). */
function rawResponseBytes(port, path) {
  return new Promise((res, rej) => {
    const s = net.connect(port, HOST);
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      s.destroy();
      rej(new Error('raw GET timed out'));
    }, REQUEST_TIMEOUT_MS);
    s.on('connect', () => s.write(`GET ${path} HTTP/1.1\r\nHost: ${HOST}:${port}\r\n\r\n`));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(buf.subarray(0, end).toString('latin1').match(/\r\ncontent-length:\s*(\d+)/i)?.[1] ?? NaN);
      if (Number.isFinite(length) && buf.length >= end + 4 + length) {
        clearTimeout(timer);
        s.destroy();
        res({ total: end + 4 + length, head: end + 4 });
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
  });
}

const meridianHit = (h) => /;\s*hit\b/.test(String(h['cache-status'] ?? '').split(',').at(-1) ?? '');
const meridianHitHeader = (h) => `Cache-Status: ${h['cache-status'] ?? '(none)'}`;
const isHit = {
  // Cache-Status (RFC 9211): our member is the last one.
  meridian: meridianHit,
  'meridian-1': meridianHit,
  'meridian-cores': meridianHit,
  // X-Varnish carries two transaction ids when the object came from cache.
  varnish: (h) => /^\d+\s+\d+$/.test(String(h['x-varnish'] ?? '').trim()),
  // No cache: every answer comes from memory.
  'node:http': () => true,
};
const hitHeader = {
  meridian: meridianHitHeader,
  'meridian-1': meridianHitHeader,
  'meridian-cores': meridianHitHeader,
  varnish: (h) => `X-Varnish: ${h['x-varnish'] ?? '(none)'}, Age: ${h.age ?? '(none)'}`,
  'node:http': () => 'no cache, answered from memory',
};

/** A miss that fills the cache, then a request that must be a hit. */
async function warm(name, port, origin) {
  const before = origin.total;
  const first = await httpGet(port, OBJECT_PATH);
  const second = await httpGet(port, OBJECT_PATH);
  const ok = first.status === 200 && second.status === 200 && second.bytes === OBJECT_BYTES && isHit[name](second.headers);
  log(`bench: ${name} warm-up: 1st ${first.status} (${hitHeader[name](first.headers)}), 2nd ${second.status} (${hitHeader[name](second.headers)}) -> ${name === 'node:http' ? (ok ? 'ok' : 'NOT OK') : ok ? 'hit' : 'NOT A HIT'}`);
  return { ok, originRequests: origin.total - before, second };
}

// ---------------------------------------------------------------------------------------------
// wrk.

const UNIT_MS = { us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const durationMs = (v, unit) => Number(v) * (UNIT_MS[unit] ?? NaN);

function parseWrk(out) {
  const num = (re) => {
    const m = out.match(re);
    return m ? Number(m[1]) : NaN;
  };
  const pct = (p) => {
    const m = out.match(new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm'));
    return m ? durationMs(m[1], m[2]) : NaN;
  };
  const avg = out.match(/^\s*Latency\s+([\d.]+)(us|ms|s|m|h)\s/m);
  const errs = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const reqs = out.match(/(\d+) requests in ([\d.]+)(us|ms|s|m|h)/);
  return {
    requests: reqs ? Number(reqs[1]) : NaN,
    seconds: reqs ? durationMs(reqs[2], reqs[3]) / 1000 : NaN,
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    avgMs: avg ? durationMs(avg[1], avg[2]) : NaN,
    p50Ms: pct(50),
    p90Ms: pct(90),
    p99Ms: pct(99),
    socketErrors: errs ? { connect: Number(errs[1]), read: Number(errs[2]), write: Number(errs[3]), timeout: Number(errs[4]) } : { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) || 0,
  };
}

/** One wrk run; under `sh`, whose `times` reports wrk's CPU (see runClient). */
async function wrk(port, seconds) {
  const argv = [`-t${WRK_THREADS}`, `-c${WRK_CONNECTIONS}`, `-d${seconds}s`, '--latency', `http://${HOST}:${port}${OBJECT_PATH}`];
  const r = await runClient('wrk', argv, { timeoutMs: (seconds + 20) * 1000 });
  const res = parseWrk(r.out);
  res.clientCpuSeconds = r.cpuSeconds;
  res.command = `wrk ${argv.join(' ')}`;
  if (r.code !== 0 || !Number.isFinite(res.rps) || !Number.isFinite(res.requests)) {
    throw new Error(`${res.command} failed (exit ${r.code}):\n${r.out}${r.err}`);
  }
  return res;
}

/** One measured wrk run against a server, with CPU and origin accounting around it. */
async function measure(s, origin, clkTck, seconds = WRK_SECONDS) {
  const o0 = origin.total;
  const machine = machineWindow(clkTck);
  const c0 = treeCpuTicks(s.server.pid);
  const r = await wrk(s.port, seconds);
  const c1 = treeCpuTicks(s.server.pid);
  const { wall, otherCores } = machine();
  s.server.assertAlive('wrk');
  r.serverCpuSeconds = (c1.ticks - c0.ticks) / clkTck;
  r.serverPids = c1.pids.length;
  r.cpuMsPer1000 = r.requests > 0 ? (r.serverCpuSeconds * 1e6) / r.requests : NaN;
  r.serverCores = r.serverCpuSeconds / wall;
  r.wrkCores = r.clientCpuSeconds / wall;
  // Whatever the machine did besides the server and wrk (this script and its origin, the idle other
  // server, and anything else running here).
  r.otherCores = otherCores(r.serverCpuSeconds, r.clientCpuSeconds);
  r.originRequests = origin.total - o0;
  const errs = Object.values(r.socketErrors).reduce((a, b) => a + b, 0);
  log(
    `  ${s.name.padEnd(9)} ${fmtInt(r.rps).padStart(8)} req/s, p50 ${fmtMs(r.p50Ms)}, p99 ${fmtMs(r.p99Ms)}, ${fmtInt(r.requests)} requests, ` +
      `non-2xx ${r.non2xx}, socket errors ${errs}, origin requests ${r.originRequests}; server CPU ${fmt2(r.serverCpuSeconds)} s ` +
      `(${fmt1(r.cpuMsPer1000)} ms/1000 req, ${(r.serverCores * 100).toFixed(0)}% of a core), wrk ${(r.wrkCores * 100).toFixed(0)}%, other work ~${Math.max(0, r.otherCores * 100).toFixed(0)}%`,
  );
  return r;
}

const median = (xs) => {
  const a = xs.filter(Number.isFinite).sort((x, y) => x - y);
  if (a.length === 0) return NaN;
  const mid = a.length >> 1;
  return a.length % 2 ? a[mid] : (a[mid - 1] + a[mid]) / 2;
};

/** A server's runs as one row: the median of each figure, and the spread of req/s and p99. */
function summarise(runs) {
  const pick = (f) => runs.map(f);
  return {
    rps: median(pick((r) => r.rps)),
    p99Ms: median(pick((r) => r.p99Ms)),
    cpuMsPer1000: median(pick((r) => r.cpuMsPer1000)),
    rpsRange: [Math.min(...pick((r) => r.rps)), Math.max(...pick((r) => r.rps))],
    p99Range: [Math.min(...pick((r) => r.p99Ms)), Math.max(...pick((r) => r.p99Ms))],
  };
}

const summaryText = (b) =>
  `${fmtInt(b.rps)} req/s [${fmtInt(b.rpsRange[0])}-${fmtInt(b.rpsRange[1])}], p99 ${fmtMs(b.p99Ms)} [${fmtMs(b.p99Range[0])}-${fmtMs(b.p99Range[1])}], ${fmt1(b.cpuMsPer1000)} ms CPU per 1000 requests`;

// ---------------------------------------------------------------------------------------------
// Cross-checks from the servers' own counters.

async function meridianCounters(controlPort) {
  try {
    const text = await new Promise((res, rej) => {
      const req = http.get({ host: HOST, port: controlPort, path: '/metrics', agent: false }, (r) => {
        let b = '';
        r.setEncoding('utf8').on('data', (d) => (b += d));
        r.on('end', () => res(b));
        r.on('error', rej);
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('metrics timed out')));
      req.on('error', rej);
    });
    const counts = {};
    for (const m of text.matchAll(/^meridian_edge_requests_total\{[^}]*cache="(\w+)"[^}]*\}\s+([\d.e+]+)$/gm)) counts[m[1]] = Number(m[2]);
    return counts;
  } catch (e) {
    return { error: e.message };
  }
}

async function varnishCounters(dir) {
  const fields = ['MAIN.client_req', 'MAIN.cache_hit', 'MAIN.cache_miss', 'MAIN.backend_req', 'MAIN.threads'];
  const r = await run('varnishstat', ['-n', dir, '-1', ...fields.flatMap((f) => ['-f', f])], { timeoutMs: 10_000 }).catch((e) => ({ code: -1, out: '', err: e.message }));
  if (r.code !== 0) return { error: (r.err || `exit ${r.code}`).trim() };
  const counts = {};
  for (const m of r.out.matchAll(/^MAIN\.(\w+)\s+(\d+)/gm)) counts[m[1]] = Number(m[2]);
  return counts;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  if (!prerequisitesMet('wrk', 'bench:edge')) return 1;
  const wantVarnish = !args.has('--no-varnish');
  const haveVarnish = wantVarnish && commandExists('varnishd');
  if (wantVarnish && !haveVarnish) log('bench: varnishd not installed (apt-get install varnish); measuring Meridian alone');

  const clkTck = clockTicks();
  const wrkV = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  const wrkVersion = `${wrkV.stdout}${wrkV.stderr}`.match(/wrk (?:\S*\/)?(\d[\w.+~-]*)/)?.[1] ?? '?';
  const varnishVersion = haveVarnish ? (spawnSync('varnishd', ['-V'], { encoding: 'utf8' }).stderr ?? '').match(/varnish-([\d.]+)/)?.[1] ?? '?' : null;

  const loadBefore = os.loadavg();
  const otherCpu = await busyBefore();

  const work = tempDir('meridian-bench-edge-');
  const used = new Set();
  const originPort = await freePort(used);
  const mPort = await freePort(used);
  const mControl = await freePort(used);
  const vPort = haveVarnish ? await freePort(used) : 0;
  const nproc = os.availableParallelism();
  // What edge.workers: auto means here, from the built code itself (prerequisitesMet checked dist/).
  const { autoEdgeWorkers } = await import('../dist/edge/service.js');
  const defaultWorkers = autoEdgeWorkers();
  const otherWorkers = defaultWorkers === 1 ? nproc : 1;
  const otherName = otherWorkers === 1 ? 'meridian-1' : 'meridian-cores';
  const wantOther = !args.has('--default-only') && otherWorkers !== defaultWorkers;
  const sPort = wantOther ? await freePort(used) : 0;
  const sControl = wantOther ? await freePort(used) : 0;
  const wantBaseline = args.has('--baseline');
  const bPort = wantBaseline ? await freePort(used) : 0;

  const origin = await startOrigin(originPort);
  log(`bench: origin on ${HOST}:${originPort} serving ${OBJECT_PATH} (${OBJECT_BYTES} bytes, Cache-Control: ${ORIGIN_CACHE_CONTROL})`);

  log(`bench: starting meridian edge (default workers: auto = ${defaultWorkers}) on ${HOST}:${mPort} (control ${HOST}:${mControl})`);
  const meridian = await startMeridianEdge(work, mPort, mControl, originPort);
  const subjects = [{ name: 'meridian', server: meridian, port: mPort, control: mControl }];
  if (wantOther) {
    log(`bench: starting ${otherName} (--workers ${otherWorkers}) on ${HOST}:${sPort} (control ${HOST}:${sControl})`);
    subjects.push({ name: otherName, server: await startMeridianEdge(work, sPort, sControl, originPort, otherWorkers), port: sPort, control: sControl });
  }
  if (haveVarnish) {
    log(`bench: starting varnishd on ${HOST}:${vPort}`);
    const varnish = await startVarnish(work, vPort, originPort);
    subjects.push({ name: 'varnish', server: varnish, port: vPort });
  }
  if (wantBaseline) {
    log(`bench: starting the node:http baseline on ${HOST}:${bPort}`);
    subjects.push({ name: 'node:http', server: await startBaseline(bPort), port: bPort });
  }
  const varnishSubject = subjects.find((s) => s.name === 'varnish');
  const baselineSubject = subjects.find((s) => s.name === 'node:http');

  for (const s of subjects) {
    s.warm = await warm(s.name, s.port, origin);
    s.bytes = await rawResponseBytes(s.port, OBJECT_PATH).catch(() => ({ total: NaN, head: NaN }));
    s.runs = [];
  }

  // Unmeasured load first (Node's JIT, Varnish's thread pools), then the measured runs, servers
  // alternating. The origin count must not move from here on.
  const originAfterWarm = origin.total;
  for (const s of subjects) {
    log(`bench: ${s.name}: ${WARM_LOAD_SECONDS} s of unmeasured load`);
    s.warmLoad = await wrk(s.port, WARM_LOAD_SECONDS);
    if (s.server.exited()) throw new Error(`${s.name} died during the warm-up load (${s.server.exitText()}):\n${s.server.output()}`);
  }
  const originAfterWarmLoad = origin.total;
  log(`bench: measuring: wrk -t${WRK_THREADS} -c${WRK_CONNECTIONS} -d${WRK_SECONDS}s --latency, ${WRK_RUNS} runs each, servers alternating`);
  for (let i = 0; i < WRK_RUNS; i++) {
    for (const s of subjects) s.runs.push(await measure(s, origin, clkTck));
  }
  for (const s of subjects) {
    s.summary = summarise(s.runs);
    s.originDuringLoad = s.runs.reduce((a, r) => a + r.originRequests, 0);
    if (s.name.startsWith('meridian')) s.counters = await meridianCounters(s.control);
    else if (s.name === 'varnish') s.counters = await varnishCounters(s.server.dir);
  }
  const originDuringAll = origin.total - originAfterWarm;
  const originDuringWarmLoad = originAfterWarmLoad - originAfterWarm;
  await cleanup();

  // ---- report
  const out = [];
  out.push('');
  out.push('Meridian edge bench: cache hits over 127.0.0.1 (wrk, the servers and the origin share this machine)');
  out.push(
    `${machineText()}, wrk ${wrkVersion}` +
      (haveVarnish ? `, varnish ${varnishVersion}` : ''),
  );
  out.push(
    `load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}; ${busyBeforeText(otherCpu)}`,
  );
  out.push(`object: GET ${OBJECT_PATH}, ${OBJECT_BYTES} bytes, Cache-Control: ${ORIGIN_CACHE_CONTROL}, from an origin inside the bench process`);
  out.push(
    `meridian: node bin/meridian.js edge --pop ${POP} (default edge settings: edge.workers auto = ${processesText(defaultWorkers)})` +
      (wantOther ? `; ${otherName}: the same with --workers ${otherWorkers} (${processesText(otherWorkers)})` : '') +
      (varnishSubject ? `; varnish: varnishd ${varnishSubject.server.argv.map((a) => (a.startsWith('/') ? '<tmp>' : a)).join(' ')} (builtin VCL, default thread pools)` : ''),
  );
  if (baselineSubject) {
    out.push('node:http (--baseline): a bare node:http server, one process, answering the same bytes from memory (no cache, no pipeline): the ceiling for one Node process here');
  }
  out.push(`load: wrk -t${WRK_THREADS} -c${WRK_CONNECTIONS} -d${WRK_SECONDS}s --latency, after ${WARM_LOAD_SECONDS} s unmeasured; ${WRK_RUNS} runs per server, alternating; medians compared`);
  for (const s of subjects) {
    out.push(
      `warm-up ${s.name}: ${s.name === 'node:http' ? 'answers 200 with the object' : s.warm.ok ? 'second request was a hit' : 'second request was NOT a hit'} (${hitHeader[s.name](s.warm.second.headers)}); ` +
        `${s.warm.originRequests} origin request(s); response on the wire ${fmtInt(s.bytes.total)} bytes (${fmtInt(s.bytes.head)} of status line and headers)`,
    );
  }
  out.push('');
  const header = ['server', 'req/s', 'p50', 'p90', 'p99', 'avg', 'requests', 'non-2xx', 'sock err', 'origin req', 'CPU ms/1000 req', 'server CPU', 'wrk CPU', 'other work'];
  const rows = [];
  for (const s of subjects) {
    s.runs.forEach((r, i) => {
      const errs = r.socketErrors;
      const errText = errs.connect + errs.read + errs.write + errs.timeout === 0 ? '0' : `c${errs.connect} r${errs.read} w${errs.write} t${errs.timeout}`;
      rows.push([
        `${s.name} #${i + 1}`,
        fmtInt(r.rps),
        fmtMs(r.p50Ms),
        fmtMs(r.p90Ms),
        fmtMs(r.p99Ms),
        fmtMs(r.avgMs),
        fmtInt(r.requests),
        fmtInt(r.non2xx),
        errText,
        fmtInt(r.originRequests),
        fmt1(r.cpuMsPer1000),
        `${(r.serverCores * 100).toFixed(0)}%`,
        `${(r.wrkCores * 100).toFixed(0)}%`,
        otherWorkCell(r.otherCores),
      ]);
    });
  }
  out.push(...formatTable(header, rows, 1));
  out.push('');
  out.push(`each server's figures below are the medians of its ${WRK_RUNS} runs (a single run's p99 moves by tens of per cent with scheduling here, Varnish's too);`);
  out.push('server CPU / wrk CPU = utime+stime over the run (server: its whole process tree) in % of one core;');
  out.push(`other work = the machine's busy CPU minus the server's and wrk's (this script, the idle other server, anything else), +-20% of a core${otherWorkLegend(subjects.flatMap((s) => s.runs.map((r) => r.otherCores)))}`);
  out.push('');

  // Did we measure hits, and only hits?
  for (const s of subjects) {
    if (s.name === 'node:http') continue; // no cache, no origin
    const c = s.counters ?? {};
    const measured = s.runs.reduce((a, r) => a + r.requests, 0) + s.warmLoad.requests;
    let counterText;
    if (c.error) counterText = `own counters unavailable (${c.error})`;
    else if (s.name.startsWith('meridian')) {
      const other = Object.entries(c).filter(([k, v]) => k !== 'hit' && v > 0);
      counterText = `its counters: ${fmtInt(c.hit ?? 0)} hits${other.length ? `, ${other.map(([k, v]) => `${fmtInt(v)} ${k}`).join(', ')}` : ''} (wrk counted ${fmtInt(measured)} under load; it does not count the responses in flight when it stops, nor the warm-up requests)`;
    } else {
      counterText = `its counters: ${fmtInt(c.client_req ?? NaN)} client requests, ${fmtInt(c.cache_hit ?? NaN)} hits, ${fmtInt(c.cache_miss ?? NaN)} misses, ${fmtInt(c.backend_req ?? NaN)} backend requests, ${fmtInt(c.threads ?? NaN)} worker threads (wrk counted ${fmtInt(measured)} under load, without those in flight at its end)`;
    }
    const bad = s.runs.some((r) => r.non2xx > 0 || Object.values(r.socketErrors).some((n) => n > 0));
    out.push(
      `hits only, ${s.name}: origin requests during its measured runs: ${s.originDuringLoad}${s.originDuringLoad === 0 ? ' (all hits)' : '  <-- the origin was asked during the measurement'}` +
        `; ${bad ? 'ERRORS under load (see non-2xx / sock err)' : 'no non-2xx, no socket errors'}; ${counterText}`,
    );
  }
  out.push(`origin requests: ${originDuringWarmLoad} during the unmeasured load, ${originDuringAll} in all after the warm-up requests${originDuringAll === 0 ? ' (the origin saw only the warm-up requests)' : ''}`);
  out.push('');

  const m = subjects[0];
  const other = subjects.find((s) => s.name === otherName);
  out.push(`medians of ${WRK_RUNS} runs (range in brackets):`);
  out.push(`meridian:   ${summaryText(m.summary)} (${processesText(defaultWorkers)})`);
  if (other) out.push(`${other.name}: ${summaryText(other.summary)} (${processesText(otherWorkers)})`);
  if (varnishSubject) {
    const v = varnishSubject;
    const ratio = m.summary.rps / v.summary.rps;
    const cpuRatio = m.summary.cpuMsPer1000 / v.summary.cpuMsPer1000;
    out.push(`varnish:    ${summaryText(v.summary)}`);
    out.push(`target: meridian / varnish hit req/s >= ${TARGET_RPS_RATIO}: ${fmt2(ratio)} (${ratio >= TARGET_RPS_RATIO ? 'meets it' : 'below it'})`);
    out.push(
      `target: meridian p99 no worse than varnish's: ${fmtMs(m.summary.p99Ms)} vs ${fmtMs(v.summary.p99Ms)} = ${fmt2(m.summary.p99Ms / v.summary.p99Ms)}x ` +
        `(${m.summary.p99Ms <= v.summary.p99Ms ? 'meets it' : 'worse'})`,
    );
    out.push(`CPU per request: meridian / varnish = ${Number.isFinite(cpuRatio) ? `${cpuRatio.toFixed(2)}x` : 'n/a'} (no target)`);
    if (other) out.push(`${other.name} (${processesText(otherWorkers)}) / varnish hit req/s = ${fmt2(other.summary.rps / v.summary.rps)}, p99 ${fmt2(other.summary.p99Ms / v.summary.p99Ms)}x; meridian / ${other.name} req/s = ${fmt2(m.summary.rps / other.summary.rps)}`);
  } else {
    out.push('varnish: not measured (varnishd not installed, or --no-varnish); no ratio');
  }
  if (baselineSubject) {
    const b = baselineSubject.summary;
    out.push(
      `node:http baseline: ${fmtInt(b.rps)} req/s, p99 ${fmtMs(b.p99Ms)}, ${fmt1(b.cpuMsPer1000)} ms CPU per 1000 requests; ` +
        `meridian / baseline req/s = ${fmt2(m.summary.rps / b.rps)}, CPU per request ${fmt2(m.summary.cpuMsPer1000 / b.cpuMsPer1000)}x` +
        (varnishSubject ? `; baseline / varnish req/s = ${fmt2(b.rps / varnishSubject.summary.rps)} (what one Node process can reach at best)` : ''),
    );
  }
  out.push('');
  out.push(
    `note: one Node process has one JS thread (at most ~1 core plus libuv/GC threads); with more, node:cluster workers (one JS thread each) ` +
      `serve and a primary hands out connections and coordinates; Varnish is multi-threaded. ` +
      `wrk (-t${WRK_THREADS}) runs on the same ${nproc} cores, so the client takes CPU the servers would otherwise get.`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

runMain(main);
