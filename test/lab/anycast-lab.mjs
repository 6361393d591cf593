// The anycast lab as a module: startLab() builds the network (topology.mjs), writes the configs
// (configs.mjs) and starts every process (BIRD on each router and PoP; per PoP the announcer,
// `meridian dns` and a small edge), then hands back a Lab to look through (which PoP answers a
// client, what a router has) and to break things with (kill, revive, cut a link). The user's
// command (anycast.mjs), the system test (test/system/anycast-lab.test.ts) and the bench
// (bench/anycast.mjs) all run this one lab. Needs root, iproute2, bird2, dig, iptables and
// ip6tables (the lab is dual-stack) and a built dist/ (`npm run build`).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ANNOUNCER_CONTROL,
  ANYCAST,
  ANYCAST6,
  DNS_CONTROL,
  PREFIX,
  PREFIX6,
  ZONE,
  dnsControlUrl,
  popConfigYaml,
  LAB_CONTROL_TOKEN,
  controlTokenFile,
  routerBirdConf,
} from './configs.mjs';
import { execIn, logLines, mustExecIn, spawnIn, stopProcess, waitForLog } from './processes.mjs';
import {
  ADDR,
  ADDR6,
  ASN,
  CLIENTS,
  IFACE,
  POPS,
  ROUTERS,
  ROUTER_OF,
  createTopology,
  labNamespaces,
  removeTopology,
} from './topology.mjs';

export {
  ANYCAST,
  ANYCAST6,
  PREFIX,
  PREFIX6,
  ZONE,
  HOLD_DOWN_MS,
  DAMPING,
  BFD,
  BGP_TIMERS,
  CATCHMENT_INTERVAL_MS,
  serverId,
} from './configs.mjs';
export { ADDR, ADDR6, ASN, CLIENTS, NEAREST, POPS, ROUTERS, ROUTER_OF } from './topology.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MERIDIAN_BIN = join(ROOT, 'bin', 'meridian.js');
const EDGE_SCRIPT = join(ROOT, 'test', 'lab', 'lab-edge.mjs');
/** Generous: node starting on a loaded 2-core machine can take seconds. */
const START_MS = 30_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The namespace name of a key: a router (r1), a client (c1) or a PoP (a → `<prefix>pa`). */
const nsKey = (key) => (POPS.includes(key) ? `p${key}` : key);

/** Removes a lab (processes, namespaces), running or left by a crash; its files too when `dir` is given. */
export function removeLab(prefix, dir) {
  removeTopology(prefix);
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** True while namespaces of a lab with this prefix exist. */
export const labExists = (prefix) => labNamespaces(prefix).length > 0;

export class Lab {
  constructor(prefix, dir) {
    this.prefix = prefix;
    this.dir = dir;
    /** Running processes by name: bird-r1, bird-a, anycast-a, dns-a, edge-a. */
    this.procs = {};
  }

  /** The namespace name of a router, client or PoP (`ip netns exec NAME ...`). */
  ns(key) {
    return `${this.prefix}${nsKey(key)}`;
  }

  exec(key, cmd, timeoutMs) {
    return execIn(this.ns(key), cmd, timeoutMs);
  }

  configFile(pop) {
    return join(this.dir, `p${pop}.yaml`);
  }

  socket(key) {
    return join(this.dir, `${nsKey(key)}.ctl`);
  }

  log(name) {
    return join(this.dir, `${name}.log`);
  }

  // --- processes -----------------------------------------------------------------------------

  startBird(key) {
    const k = nsKey(key);
    const args = ['-f', '-c', join(this.dir, `${k}.conf`), '-s', this.socket(key), '-P', join(this.dir, `${k}.pid`)];
    return (this.procs[`bird-${key}`] = spawnIn(this.ns(key), 'bird', args, this.log(`bird-${key}`)));
  }

  async startAnnouncer(pop) {
    const file = this.log(`anycast-${pop}`);
    // The log is appended to across restarts: only what this process writes counts.
    const from = logLines(file).length - 1;
    const args = [
      MERIDIAN_BIN,
      'anycast',
      '--config',
      this.configFile(pop),
      '--pop',
      pop,
      '--control-listen',
      ANNOUNCER_CONTROL,
    ];
    const p = (this.procs[`anycast-${pop}`] = spawnIn(this.ns(pop), process.execPath, args, file));
    await waitForLog(p, /meridian anycast running/, START_MS, Math.max(0, from));
    return p;
  }

  async startDns(pop) {
    const p = spawnIn(
      this.ns(pop),
      process.execPath,
      [MERIDIAN_BIN, 'dns', '--config', this.configFile(pop)],
      this.log(`dns-${pop}`),
    );
    this.procs[`dns-${pop}`] = p;
    // Its log level is warn (quiet at 200 queries/s): ready is when it answers inside its PoP.
    await this.waitUntil(
      `dns-${pop} answering`,
      START_MS,
      async () => (await this.askDns(pop, ANYCAST.dns)) !== null,
      p,
    );
    return p;
  }

  async startEdge(pop) {
    const file = this.log(`edge-${pop}`);
    const from = Math.max(0, logLines(file).length - 1);
    const p = spawnIn(
      this.ns(pop),
      process.execPath,
      [
        EDGE_SCRIPT,
        '--listen',
        `${ANYCAST.edge}:80`,
        '--listen',
        `[${ANYCAST6.edge}]:80`,
        '--name',
        `pop-${pop}`,
        '--pop',
        pop,
      ],
      file,
    );
    this.procs[`edge-${pop}`] = p;
    await waitForLog(p, /listening/, START_MS, from);
    return p;
  }

  /**
   * A prober outside the PoPs, in client namespace `client` (`meridian health --vantage cN`): it
   * asks every anycast address (DNS and edge, IPv4 and IPv6) who answers from there and reports
   * to every PoP's DNS server.
   */
  async startProber(client) {
    const file = this.log(`health-${client}`);
    const from = Math.max(0, logLines(file).length - 1);
    const config = join(this.dir, 'probers.yaml');
    writeFileSync(config, popConfigYaml(POPS[0], this.dir, POPS.map(dnsControlUrl)));
    const args = [MERIDIAN_BIN, 'health', '--config', config, '--vantage', client];
    const p = (this.procs[`health-${client}`] = spawnIn(this.ns(client), process.execPath, args, file));
    await waitForLog(p, /meridian health probing/, START_MS, from);
    return p;
  }

  /** The DNS server of `pop`'s GET /v1/status (fetched inside the PoP). */
  async dnsStatus(pop) {
    const js = `fetch('${dnsControlUrl(pop)}/v1/status').then((r) => r.text()).then((t) => process.stdout.write(t))`;
    return JSON.parse((await this.exec(pop, [process.execPath, '-e', js], 10_000)).stdout);
  }

  /** Runs `meridian ...args` inside namespace `key` to completion (status, explain). */
  meridian(key, args) {
    return this.exec(key, [process.execPath, MERIDIAN_BIN, ...args], 20_000);
  }

  /** Stops one of the lab's processes (`dns-a`, `anycast-b`, `edge-c`, `bird-r2`) with `signal`. */
  async stop(name, signal = 'SIGTERM') {
    const p = this.procs[name];
    if (!p) throw new Error(`no process '${name}' in the lab`);
    await stopProcess(p, signal);
  }

  /** SIGSTOP / SIGCONT: a hung process, and one that runs again. */
  pause(name, paused) {
    process.kill(this.procs[name].pid, paused ? 'SIGSTOP' : 'SIGCONT');
  }

  // --- looking ---------------------------------------------------------------------------------

  /**
   * Asks `server` from inside namespace `key` with NSID; resolves with the answering server's id
   * (`pop-a`), or null when nothing answered within 1 s.
   */
  async askDns(key, server = ANYCAST.dns) {
    const r = await this.exec(key, ['dig', `@${server}`, '+nsid', '+norec', '+time=1', '+tries=1', ZONE, 'SOA'], 5000);
    return /; NSID: [^(]*\("([^"]*)"\)/.exec(r.stdout)?.[1] ?? null;
  }

  /** Which PoP answers this client's DNS query to the anycast address of `family` (4, 6) now ('a', 'b', 'c'), or null. */
  async servedBy(client, family = 4) {
    const id = await this.askDns(client, family === 6 ? ANYCAST6.dns : ANYCAST.dns);
    return id?.startsWith('pop-') ? id.slice(4) : id;
  }

  /** Which PoP's edge answers this client on the anycast edge address of `family` now ('a', …), or null. */
  async edgeServedBy(client, family = 4) {
    const host = family === 6 ? `[${ANYCAST6.edge}]` : ANYCAST.edge;
    const r = await this.exec(client, ['curl', '-g', '-s', '-m', '1', `http://${host}/`], 5000);
    return /^served by pop-(\S+)/.exec(r.stdout)?.[1] ?? null;
  }

  /** The PoPs (by AS path's origin) a router has a route to `prefix` from, best first, and its best path. */
  async routes(router, prefix = PREFIX.dns) {
    const r = await this.exec(router, ['birdc', '-s', this.socket(router), 'show', 'route', prefix, 'all'], 5000);
    const origins = [...r.stdout.matchAll(/BGP\.as_path:([\d ]*)/g)].map((m) =>
      m[1].trim().split(/\s+/).filter(Boolean),
    );
    const pop = (path) => POPS.find((p) => String(ASN[p]) === path[path.length - 1]) ?? null;
    return origins.map((path) => ({ pop: pop(path), path: path.map(Number) }));
  }

  /** The kernel's next hop on a router for `prefix` (IPv4 or IPv6), or null without a route. */
  async nextHop(router, prefix = PREFIX.dns) {
    const r = await this.exec(router, ['ip', prefix.includes(':') ? '-6' : '-4', 'route', 'show', prefix]);
    return /via (\S+)/.exec(r.stdout)?.[1] ?? null;
  }

  /** A router's import counters for the session with its PoP (BIRD's route change stats). */
  async popSessionStats(router) {
    const r = await this.exec(router, ['birdc', '-s', this.socket(router), 'show', 'protocols', 'all', 'pop'], 5000);
    const row = /Import updates:\s+(\d+)\s+\S+\s+\S+\s+\S+\s+(\d+)/.exec(r.stdout);
    const wd = /Import withdraws:\s+(\d+)\s+\S+\s+\S+\s+\S+\s+(\d+)/.exec(r.stdout);
    return {
      updates: Number(row?.[1] ?? NaN),
      withdraws: Number(wd?.[1] ?? NaN),
      state: /^pop\s+BGP\s+\S+\s+(\S+)/m.exec(r.stdout)?.[1] ?? 'unknown',
    };
  }

  /** The announcer's /metrics (fetched inside the PoP: its control port is on the PoP's loopback). */
  async announcerMetrics(pop) {
    return this.fetchInPop(pop, `http://${ANNOUNCER_CONTROL}/metrics`);
  }

  /** The announcer's GET /v1/status (override, and per prefix announced and why), parsed. */
  async announcerStatus(pop) {
    return JSON.parse(await this.fetchInPop(pop, `http://${ANNOUNCER_CONTROL}/v1/status`));
  }

  async fetchInPop(pop, url) {
    const js = `fetch(${JSON.stringify(url)}).then((r) => r.text()).then((t) => process.stdout.write(t))`;
    return (await this.exec(pop, [process.execPath, '-e', js], 10_000)).stdout;
  }

  /**
   * `meridian pop ACTION POP` (drain, undrain, down, auto) as a user runs it, against the PoP's
   * own DNS server's control port (its announcer reports there and hears the override in the
   * reply). Resolves with the command's output; rejects when it fails.
   */
  async popCommand(action, pop) {
    const cmd = [
      'env',
      `MERIDIAN_CONTROL_TOKEN=${LAB_CONTROL_TOKEN}`,
      process.execPath,
      MERIDIAN_BIN,
      'pop',
      action,
      pop,
      '--control',
      `http://${DNS_CONTROL}`,
    ];
    const r = await this.exec(pop, cmd, 30_000);
    if (r.code !== 0) throw new Error(`meridian pop ${action} ${pop} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Polls `get` every 50 ms until it resolves truthy; throws after `boundMs` (or when `proc` exits) with the last value. */
  async waitUntil(what, boundMs, get, proc) {
    const t0 = performance.now();
    let last;
    while (performance.now() - t0 < boundMs) {
      if (proc && (proc.child.exitCode !== null || proc.child.signalCode !== null))
        throw new Error(`${what}: ${proc.logFile}'s process exited`);
      last = await get();
      if (last) return { value: last, ms: Math.round(performance.now() - t0) };
      await sleep(50);
    }
    throw new Error(`${what}: not within ${boundMs} ms (last ${JSON.stringify(last)})`);
  }

  // --- breaking --------------------------------------------------------------------------------

  /**
   * A silent link failure between a PoP and its router: the router drops everything on that link
   * (iptables in the router's namespace), while both ends stay up, as a dead transceiver or a
   * stuck switch between them would look. Only BFD or the BGP hold timer can notice.
   */
  async cutLink(pop) {
    for (const tables of ['iptables', 'ip6tables'])
      for (const rule of linkRules()) await mustExecIn(this.ns(ROUTER_OF[pop]), [tables, '-w', '-I', ...rule]);
  }

  async restoreLink(pop) {
    for (const tables of ['iptables', 'ip6tables'])
      for (const rule of linkRules()) await execIn(this.ns(ROUTER_OF[pop]), [tables, '-w', '-D', ...rule]);
  }

  /** Stops everything and removes the namespaces (and the lab's files, unless `keepFiles`). */
  close({ keepFiles = false } = {}) {
    removeLab(this.prefix, keepFiles ? undefined : this.dir);
  }
}

const linkRules = () => [
  ['INPUT', '-i', IFACE.toPop, '-j', 'DROP'],
  ['OUTPUT', '-o', IFACE.toPop, '-j', 'DROP'],
  ['FORWARD', '-i', IFACE.toPop, '-j', 'DROP'],
  ['FORWARD', '-o', IFACE.toPop, '-j', 'DROP'],
];

/**
 * Builds and starts a lab: namespaces named `<prefix>r1` … `<prefix>c3`, files (configs, BIRD
 * sockets, one log per process) in `dir`. Resolves once every PoP's DNS server and edge answer
 * inside their PoPs and every router has a route from its own PoP; throws (after removing the
 * lab) when something does not start.
 */
export async function startLab({ prefix = 'mrd-lab-', dir, log = () => undefined, probers = false } = {}) {
  if (!dir) throw new Error('startLab needs a dir for its configs, sockets and logs');
  removeLab(prefix, dir);
  mkdirSync(dir, { recursive: true });
  const lab = new Lab(prefix, dir);
  try {
    log(`network: routers ${ROUTERS.join(', ')}, PoPs ${POPS.join(', ')}, clients ${CLIENTS.join(', ')}`);
    createTopology(prefix);
    for (const r of ROUTERS) writeFileSync(join(dir, `${r}.conf`), routerBirdConf(r));
    writeFileSync(controlTokenFile(dir), `${LAB_CONTROL_TOKEN}\n`, { mode: 0o600 });
    for (const pop of POPS) {
      writeFileSync(lab.configFile(pop), popConfigYaml(pop, dir));
      const printed = await execIn(
        lab.ns(pop),
        [
          process.execPath,
          MERIDIAN_BIN,
          'anycast',
          '--config',
          lab.configFile(pop),
          '--pop',
          pop,
          '--print-bird-config',
        ],
        START_MS,
      );
      if (printed.code !== 0)
        throw new Error(`meridian anycast --print-bird-config failed (${printed.code}): ${printed.stderr}`);
      writeFileSync(join(dir, `p${pop}.conf`), printed.stdout);
    }
    log('BIRD on every router and PoP');
    for (const key of [...ROUTERS, ...POPS]) lab.startBird(key);
    // The announcer first: it puts the anycast addresses on the host, which the servers bind.
    log('meridian anycast, meridian dns and an edge in every PoP');
    await Promise.all(POPS.map((pop) => lab.startAnnouncer(pop)));
    await Promise.all(POPS.map((pop) => Promise.all([lab.startDns(pop), lab.startEdge(pop)])));
    log('waiting for every PoP to be announced (rise) and BGP to spread it');
    for (const r of ROUTERS) {
      const own = POPS.find((p) => ROUTER_OF[p] === r);
      for (const [prefixes, via] of [
        [PREFIX, ADDR.popLink(own).pop],
        [PREFIX6, ADDR6.popLink(own).pop],
      ]) {
        for (const prefixText of Object.values(prefixes)) {
          await lab.waitUntil(
            `${r} routes ${prefixText} to its own PoP`,
            START_MS,
            async () => (await lab.nextHop(r, prefixText)) === via,
          );
        }
      }
    }
    if (probers) {
      log('a catchment prober in every client (meridian health --vantage)');
      await Promise.all(CLIENTS.map((c) => lab.startProber(c)));
    }
  } catch (e) {
    lab.close({ keepFiles: true });
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n(the lab's logs are in ${dir})`);
  }
  return lab;
}
