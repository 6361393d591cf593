// Before `up` starts announcers: can this machine run them? An announcer needs CAP_NET_ADMIN
// (root) to put the anycast addresses on a dummy interface and to make its lease interface,
// `ip`, `unshare` and `nsenter` for both, and its PoP's BIRD 2 answering on the control socket.
// A laptop running the demo has none of that, and that must not stop the rest of the CDN: each
// missing piece is one line saying what is missing and what to do, the announcers it concerns
// are left out of the plan, and everything else starts as usual.
import { accessSync, constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { delimiter, join, relative } from 'node:path';
import { formatHostPort } from '../common/host-port.js';
import type { AnycastPlan, Plan } from './plan.js';

/** What anycast-preflight asks of this machine (a fake in unit tests). */
export interface AnycastHost {
  /** True when this process has CAP_NET_ADMIN (root has it). */
  netAdmin(): Promise<boolean>;
  /** True when `command` is an executable on PATH. */
  has(command: string): boolean;
  /** Undefined when BIRD answers on `socket`, else why not (ENOENT, ECONNREFUSED, …). */
  bird(socket: string): Promise<string | undefined>;
}

export interface AnycastTrimmed {
  /** The plan without the announcers that cannot run. */
  readonly plan: Plan;
  /** One line per reason an announcer is left out, and per announcer that will not announce. */
  readonly notes: readonly string[];
}

/** The commands an announcer runs, and the package that has them. */
const COMMANDS = { ip: 'iproute2', unshare: 'util-linux', nsenter: 'util-linux' } as const;
const LAB = 'try anycast in the lab instead: sudo npm run lab:anycast -- up';
const BIRD_TIMEOUT_MS = 1000;
/** CAP_NET_ADMIN's bit in /proc/PID/status CapEff (linux/capability.h). */
const CAP_NET_ADMIN = 12n;

export async function anycastPreflight(plan: Plan, host: AnycastHost = thisHost): Promise<AnycastTrimmed> {
  if (plan.anycast.length === 0) return { plan, notes: [] };
  const notes: string[] = [];
  const leaveOutAll = (): AnycastTrimmed => ({ plan: without(plan, plan.anycast), notes });

  if (!(await host.netAdmin())) {
    const { interface: dummy } = plan.anycast[0]!;
    notes.push(
      `anycast: not started — needs root (CAP_NET_ADMIN) to add ${addressList(plan.anycast)} to a dummy interface (${dummy}); ${LAB}`,
    );
    return leaveOutAll();
  }
  const missing = Object.keys(COMMANDS).filter((c) => !host.has(c)) as (keyof typeof COMMANDS)[];
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((c) => COMMANDS[c]))].join(' ');
    notes.push(
      `anycast: not started — needs ${missing.map((c) => `\`${c}\``).join(', ')} on PATH (apt-get install ${packages})`,
    );
    return leaveOutAll();
  }

  const near = relative(process.cwd(), plan.configFile);
  const file = near === '' || near.startsWith('..') ? plan.configFile : near;
  const left: AnycastPlan[] = [];
  let first: AnycastPlan | undefined;
  for (const a of plan.anycast) {
    const why = await host.bird(a.socket);
    if (why !== undefined) {
      notes.push(
        `anycast ${a.pop}: not started — BIRD does not answer on ${a.socket} (${why}); start BIRD 2 with this PoP's config: ` +
          `node bin/meridian.js anycast --config ${file} --pop ${a.pop} --print-bird-config > ${a.pop}.conf && bird -c ${a.pop}.conf -s ${a.socket}`,
      );
      left.push(a);
    } else if (first) {
      // Every announcer of a file makes the same two interfaces: two on one host would take each other's.
      notes.push(
        `anycast ${a.pop}: not started — ${first.pop}'s announcer takes this host's ${a.interface} and ${a.leaseInterface} interfaces, ` +
          'and there is one of each per host (the lab runs each PoP in a network namespace of its own)',
      );
      left.push(a);
    } else first = a;
  }
  if (!first) return { plan: without(plan, left), notes };
  notes.push(...unserved(plan, first));
  return { plan: servedOnAnycast(without(plan, left), first), notes };
}

/**
 * The DNS server also answers on the started announcer's DNS addresses, so the announcer's
 * checks (which ask the anycast address itself) can pass and routed clients get an answer.
 * The announcer then starts first (stage 0): the addresses must be on the host before the DNS
 * server binds them; until the DNS server serves, its checks fail and nothing is announced.
 */
function servedOnAnycast(plan: Plan, a: AnycastPlan): Plan {
  const extra = a.addresses.filter((x) => x.serves === 'dns').map((x) => ({ host: x.address, port: x.port }));
  if (extra.length === 0) return plan;
  const listen = [...plan.dns.listen, ...extra];
  return {
    ...plan,
    dns: { ...plan.dns, listen },
    processes: plan.processes.map((p) => {
      if (p.name === a.name) return { ...p, stage: 0 };
      if (p.role !== 'dns') return p;
      // --listen replaces dns.listen: keep the file's listeners (or those optional-listen.ts left).
      const own = p.args.includes('--listen') ? [] : plan.dns.listen;
      return { ...p, args: [...p.args, ...[...own, ...extra].flatMap((l) => ['--listen', formatHostPort(l)])] };
    }),
  };
}

/**
 * A prefix with an address whose check asks an address:port nothing `up` starts listens on
 * (`up` runs the edges on loopback): the announcer runs, but keeps that prefix withdrawn. Said
 * before start, so a route that never appears is no mystery.
 */
function unserved(plan: Plan, a: AnycastPlan): string[] {
  return a.addresses
    .filter((x) => x.serves === 'edge')
    .map(
      (x) =>
        `anycast ${a.pop}: ${x.prefix} stays withdrawn — its edge address ${x.address} is checked on port ${x.port}, and \`up\` runs the edges on loopback only`,
    );
}

function without(plan: Plan, out: readonly AnycastPlan[]): Plan {
  if (out.length === 0) return plan;
  const names = new Set(out.map((a) => a.name));
  const controls = new Set(out.map((a) => a.control));
  return {
    ...plan,
    anycast: plan.anycast.filter((a) => !names.has(a.name)),
    processes: plan.processes.filter((p) => !names.has(p.name)),
    listeners: plan.listeners.filter((l) => !controls.has(`http://${l.host}:${l.port}`)),
  };
}

/** '198.51.100.53, 198.51.100.80 and 2001:db8:100::53' (each once, whichever PoPs serve it). */
function addressList(anycast: readonly AnycastPlan[]): string {
  const all = [...new Set(anycast.flatMap((a) => a.addresses.map((x) => x.address)))];
  return all.length === 1 ? all[0]! : `${all.slice(0, -1).join(', ')} and ${all.at(-1)}`;
}

const thisHost: AnycastHost = {
  async netAdmin() {
    try {
      const status = await readFile('/proc/self/status', 'utf8');
      const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
      return eff !== undefined && ((BigInt(`0x${eff}`) >> CAP_NET_ADMIN) & 1n) === 1n;
    } catch {
      // No /proc (macOS): no dummy interfaces, no network namespaces either.
      return false;
    }
  },
  has: (command) =>
    (process.env.PATH ?? '').split(delimiter).some((dir) => {
      try {
        accessSync(join(dir || '.', command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    }),
  bird: (socket) =>
    new Promise((resolve) => {
      const s = createConnection({ path: socket });
      const done = (why: string | undefined): void => {
        s.destroy();
        resolve(why);
      };
      s.setTimeout(BIRD_TIMEOUT_MS, () => done(`no welcome within ${BIRD_TIMEOUT_MS} ms`));
      // BIRD greets every client with `0001 BIRD 2.x ready.`
      s.once('data', (d) => done(/^0001 /.test(d.toString()) ? undefined : 'not a BIRD control socket'));
      s.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    }),
};
