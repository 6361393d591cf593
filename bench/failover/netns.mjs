// The network the failover bench runs in: a bridge, the DNS server and three PoPs each in its own
// network namespace, processes started inside them, and its removal. A small copy of
// test/helpers/netns.ts: bench scripts are plain JS.
import { spawn, spawnSync } from 'node:child_process';
import { ROOT, track } from '../lib.mjs';

// Own names and addresses (the system test uses mrd-fo- and 10.200/16): both can run at once.
export const PREFIX = 'mrd-bf-';
export const IP = { bridge: '10.201.0.1', dns: '10.201.0.2', a: '10.201.0.11', b: '10.201.0.12', c: '10.201.0.13' };
export const POPS = ['a', 'b', 'c'];

export function ip(...a) {
  const r = spawnSync('ip', a, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout;
}
export const ipQuiet = (...a) => spawnSync('ip', a, { encoding: 'utf8' });

/**
 * Removes every namespace and link named PREFIX*, killing what still runs in those namespaces.
 * Synchronous: safe in 'exit' (where lib.mjs's handler, installed first, has already killed the
 * processes this script started).
 */
export function removeTopology() {
  const namespaces = (ipQuiet('netns', 'list').stdout ?? '')
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n) => n?.startsWith(PREFIX));
  for (const ns of namespaces) {
    // Left by an earlier run of this bench that crashed: ours by name.
    for (const pid of (ipQuiet('netns', 'pids', ns).stdout ?? '').split(/\s+/).filter((p) => /^\d+$/.test(p))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  const links = (ipQuiet('-o', 'link', 'show').stdout ?? '')
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n) => n?.startsWith(PREFIX));
  for (const l of links) ipQuiet('link', 'del', l);
  forgetBridgedTraffic();
  for (const ns of namespaces) ipQuiet('netns', 'del', ns);
}

// Docker sets iptables' FORWARD policy to DROP and leaves bridge-nf-call-iptables on: frames
// between our namespaces would be dropped while dockerd runs (as test/helpers/netns.ts says).
// One ACCEPT rule for traffic within our bridge, removed with it.
const BRIDGE_RULE = ['FORWARD', '-i', `${PREFIX}br`, '-o', `${PREFIX}br`, '-j', 'ACCEPT'];
function forgetBridgedTraffic() {
  for (const cmd of ['iptables', 'ip6tables']) {
    for (let i = 0; i < 10; i++) if (spawnSync(cmd, ['-w', '-D', ...BRIDGE_RULE]).status !== 0) break;
  }
}

/** A bridge in the root namespace, and one namespace per key of IP (the DNS server, each PoP) on it. */
export function createTopology() {
  removeTopology();
  const br = `${PREFIX}br`;
  for (const cmd of ['iptables', 'ip6tables']) spawnSync(cmd, ['-w', '-I', ...BRIDGE_RULE]);
  ip('link', 'add', br, 'type', 'bridge');
  ip('link', 'set', br, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0');
  ip('addr', 'add', `${IP.bridge}/16`, 'dev', br);
  ip('link', 'set', br, 'up');
  for (const key of ['dns', ...POPS]) {
    const ns = `${PREFIX}${key}`;
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('link', 'add', `${ns}-h`, 'type', 'veth', 'peer', 'name', `${ns}-n`, 'netns', ns);
    ip('link', 'set', `${ns}-h`, 'master', br);
    ip('link', 'set', `${ns}-h`, 'up');
    ip('-n', ns, 'addr', 'add', `${IP[key]}/16`, 'dev', `${ns}-n`);
    ip('-n', ns, 'link', 'set', `${ns}-n`, 'up');
  }
}

/** Starts `node ...args` in namespace `key`; resolves once a line matches `ready`. */
export function startIn(key, nodeArgs, ready, env = {}) {
  const child = spawn('ip', ['netns', 'exec', `${PREFIX}${key}`, process.execPath, ...nodeArgs], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  child.lines = [];
  return new Promise((resolveReady, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${key}: not ready within 10 s:\n${child.lines.slice(-20).join('\n')}`)),
      10_000,
    );
    let buf = '';
    const onData = (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        child.lines.push(line);
        if (child.lines.length > 500) child.lines.shift();
        if (ready.test(line)) {
          clearTimeout(timer);
          resolveReady(child);
        }
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${key}: exited (${code ?? sig}) before it was ready:\n${child.lines.slice(-20).join('\n')}`));
    });
  });
}
