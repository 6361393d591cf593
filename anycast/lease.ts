// The lease: an interface that exists only while this announcer is alive and responsive, which
// every anycast route hangs on (bird-conf.ts: `route P via "<lease>"` with `check link yes`).
// When the interface goes, BIRD drops the routes and BGP withdraws them: a SIGKILLed, crashed or
// hung announcer cannot leave a route up for a service nobody checks any more.
//
// Why this mechanism (the candidates were BFD from the router, a non-persistent TUN device, and
// an interface tied to the process):
// - BFD checks a BFD speaker (BIRD, the host), not the announcer: BIRD would keep answering BFD
//   with the announcer dead. Real BFD stays where it belongs, between BIRD and its neighbours,
//   for silent link failures (bird-conf.ts).
// - A non-persistent TUN device dies with the fd that made it, but making one needs the
//   TUNSETIFF ioctl, which Node cannot issue without a native addon.
// - So the kernel's own lifetime rules do it, with standard tools only: `unshare --net` starts
//   a holder (bash) in a network namespace of its own; one end of a veth pair lives there, the
//   other (the lease interface) here. A namespace is torn down when its last process exits, and
//   a veth pair with it: the lease interface disappears. The holder reads our heartbeats on its
//   stdin (`read -t`): end of file (we died: the kernel closes our end of the pipe, even on
//   SIGKILL) or silence for `timeout` (our event loop hangs: heartbeats come from it, so no
//   watchdog thread is needed to notice) makes it exit. Measured in the lab: the router's route
//   is gone ~25 ms after a SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { readlink } from 'node:fs/promises';
import type { Logger } from '../common/log.js';
import { linkExists, runIp } from './ip-command.js';

/** The lease's far end, inside the holder's namespace. */
const PEER = 'lease';
/** A lapsed lease's namespace is torn down asynchronously: how long a new one waits for the name. */
const NAME_FREE_WAIT_MS = 3000;
/** How long a new holder may take to be in a network namespace of its own (a busy host: ms). */
const NAMESPACE_WAIT_MS = 3000;

export interface LeaseOptions {
  readonly interface: string;
  readonly timeoutMs: number;
  readonly log: Logger;
  /** Called when the lease lapsed without close() (its holder died or timed out): routes are down. */
  readonly onLapse?: (why: string) => void;
}

export interface Lease {
  /** True while the lease interface is up (the holder alive). */
  readonly held: boolean;
  /** Ends the lease (the interface goes, routes on it are withdrawn); resolves once it is gone. */
  release(): Promise<void>;
}

export async function takeLease(opts: LeaseOptions): Promise<Lease> {
  const { log } = opts;
  const name = opts.interface;
  await waitForName(name);
  const seconds = (opts.timeoutMs / 1000).toFixed(3);
  // `read -t` returns non-zero on timeout or end of file: either ends the loop and the holder.
  const holder: ChildProcess = spawn('unshare', ['--net', 'bash', '-c', `while read -r -t ${seconds} _; do :; done`], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let held = false;
  let releasing = false;
  let stderr = '';
  holder.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // A dead holder makes our next heartbeat EPIPE; its exit is what counts.
  holder.stdin!.on('error', () => undefined);
  const exited = new Promise<string>((resolve) => {
    holder.once('exit', (code, signal) => resolve(signal ?? `code ${code}`));
    holder.once('error', (err) => resolve(`cannot start unshare: ${err.message}`));
  });
  const heartbeat = setInterval(() => holder.stdin!.write('\n'), Math.max(25, Math.floor(opts.timeoutMs / 4)));

  let made = false;
  try {
    if (holder.pid === undefined) throw new Error(await exited);
    // `netns PID` puts the peer into whatever namespace PID is in *now*: until `unshare` has made
    // the new one, that is still ours, and the pair would outlive the holder.
    await ownNamespace(holder.pid);
    await runIp(['link', 'add', name, 'type', 'veth', 'peer', 'name', PEER, 'netns', String(holder.pid)]);
    // Ours from here on (a failed add may be another announcer's name: never deleted here).
    made = true;
    await runIp(['--net=/proc/' + holder.pid + '/ns/net', 'ip', 'link', 'set', PEER, 'up'], 'nsenter');
    await runIp(['link', 'set', name, 'up']);
    held = true;
  } catch (e) {
    clearInterval(heartbeat);
    holder.stdin!.end();
    holder.kill('SIGKILL');
    await exited;
    // Whatever was made goes now, not when the namespace is torn down: a pair left behind would
    // refuse every later take ("interface exists"), and the announcer would never hold a lease.
    if (made) await runIp(['link', 'del', name]).catch(() => undefined);
    throw new Error(
      `cannot take the anycast lease on ${name}: ${(e as Error).message}${stderr ? ` (${stderr.trim()})` : ''}`,
    );
  }
  log.info(
    { interface: name, holder: holder.pid, timeoutMs: opts.timeoutMs },
    'lease taken: anycast routes may hang on it',
  );

  void exited.then((why) => {
    clearInterval(heartbeat);
    held = false;
    if (releasing) return;
    log.error({ interface: name, holder: why }, 'lease lapsed: its interface is gone and every anycast route with it');
    opts.onLapse?.(why);
  });

  return {
    get held() {
      return held;
    },
    async release() {
      releasing = true;
      clearInterval(heartbeat);
      holder.stdin!.end();
      const killer = setTimeout(() => holder.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(killer);
      await waitForName(name).catch(() => undefined);
      log.info({ interface: name }, 'lease released');
    },
  };
}

/** Resolves once process `pid` is in a network namespace other than ours. */
async function ownNamespace(pid: number): Promise<void> {
  const ours = await readlink('/proc/self/ns/net');
  const deadline = Date.now() + NAMESPACE_WAIT_MS;
  for (;;) {
    // Fails when the holder is gone (unshare could not run): the caller's error says so.
    const theirs = await readlink(`/proc/${pid}/ns/net`);
    if (theirs !== ours) return;
    if (Date.now() > deadline)
      throw new Error(
        `the lease holder (pid ${pid}) had no network namespace of its own after ${NAMESPACE_WAIT_MS} ms`,
      );
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function waitForName(name: string): Promise<void> {
  const deadline = Date.now() + NAME_FREE_WAIT_MS;
  while (await linkExists(name)) {
    if (Date.now() > deadline) throw new Error(`interface ${name} exists: is another announcer running in this PoP?`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
