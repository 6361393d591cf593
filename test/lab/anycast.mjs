#!/usr/bin/env node
// The anycast lab for users: three PoPs, three transit routers and three clients in network
// namespaces on this machine, real BIRD 2 and BGP everywhere (test/lab/README.md).
//
//   sudo node test/lab/anycast.mjs up       build and start it (after `npm run build`), then return
//   sudo ip netns exec mrd-lab-c1 dig @198.51.100.53 +nsid lab.test SOA    (or @2001:db8:53::53)
//   sudo node test/lab/anycast.mjs status   which PoP each client reaches, what each router has
//   sudo node test/lab/anycast.mjs kill|stop|revive dns-a|edge-a|anycast-a   break a PoP's service, bring it back
//   sudo node test/lab/anycast.mjs cut|restore a    a silent link failure between PoP a and its router
//   sudo node test/lab/anycast.mjs drain|undrain a  `meridian pop drain a` at PoP a's DNS server
//   sudo node test/lab/anycast.mjs down     stop and remove everything (also after a crash)
//
// `npm run lab:anycast -- up` builds first. Its processes keep running after `up` returns; their
// logs, configs and BIRD sockets are in the lab's directory (printed by `up`).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ANYCAST,
  ANYCAST6,
  CLIENTS,
  Lab,
  POPS,
  PREFIX,
  PREFIX6,
  ROUTERS,
  labExists,
  removeLab,
  startLab,
} from './anycast-lab.mjs';

const LAB_PREFIX = 'mrd-lab-';
const DIR = process.env.MERIDIAN_LAB_DIR ?? join(tmpdir(), 'meridian-anycast-lab');
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const USAGE = `usage: node test/lab/anycast.mjs up|down|status|kill NAME|stop NAME|revive NAME|cut POP|restore POP|drain POP|undrain POP
  (as root; files in ${DIR}, or $MERIDIAN_LAB_DIR)`;

function fail(msg, code = 1) {
  process.stderr.write(`lab: ${msg}\n`);
  process.exit(code);
}

const PIDS = join(DIR, 'pids.json');
const readPids = () => (existsSync(PIDS) ? JSON.parse(readFileSync(PIDS, 'utf8')) : {});
const savePids = (lab) =>
  writeFileSync(
    PIDS,
    JSON.stringify(
      { ...readPids(), ...Object.fromEntries(Object.entries(lab.procs).map(([k, p]) => [k, p.pid])) },
      null,
      2,
    ),
  );
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function up() {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js')))
    fail('dist/ is not built: run `npm run build` first (or `npm run lab:anycast -- up`)');
  if (labExists(LAB_PREFIX)) process.stderr.write(`lab: removing the lab already there (${LAB_PREFIX}*)\n`);
  const lab = await startLab({
    prefix: LAB_PREFIX,
    dir: DIR,
    probers: true,
    log: (l) => process.stderr.write(`lab: ${l}\n`),
  });
  savePids(lab);
  const me = 'node test/lab/anycast.mjs';
  console.log(`Anycast lab up, announced by PoPs a, b, c:
  DNS   ${ANYCAST.dns} (${PREFIX.dns}) and ${ANYCAST6.dns} (${PREFIX6.dns})
  edges ${ANYCAST.edge} (${PREFIX.edge}) and ${ANYCAST6.edge} (${PREFIX6.edge})

Try (as root):
  ip netns exec ${LAB_PREFIX}c1 dig @${ANYCAST.dns} +nsid lab.test SOA      # NSID "pop-a": c1's nearest PoP
  ip netns exec ${LAB_PREFIX}c2 dig @${ANYCAST6.dns} +nsid lab.test SOA    # over IPv6: "pop-b"
  ip netns exec ${LAB_PREFIX}c3 curl -s http://${ANYCAST.edge}/               # served by pop-c
  ip netns exec ${LAB_PREFIX}c3 curl -gs http://[${ANYCAST6.edge}]/          # the same over IPv6
  ip netns exec ${LAB_PREFIX}c1 dig @${ANYCAST.dns} +short www.lab.test AAAA  # the anycast pool: ${ANYCAST6.edge}
  ip netns exec ${LAB_PREFIX}r1 birdc -s ${join(DIR, 'r1.ctl')} show route ${PREFIX.dns} all
  ip netns exec ${LAB_PREFIX}pa node bin/meridian.js status   # ends with the catchment table: c1 → a, c2 → b, c3 → c
  ${me} kill dns-a       # c1 moves to PoP b within about a second (IPv4 and IPv6)
  ${me} revive dns-a     # and back after rise plus the damping hold-down
  ${me} cut a            # a silent link failure between PoP a and r1 (BFD notices); restore a
  ${me} drain a          # meridian pop drain a: a's routes withdrawn, no damping; undrain a
  ${me} status

Logs, configs and BIRD sockets: ${DIR}
Stop and remove everything: ${me} down`);
}

async function status(lab) {
  const col = (text) => String(text ?? '-').padEnd(10);
  console.log('The PoP answering each client:');
  console.log(['client', 'DNS IPv4', 'DNS IPv6', 'edge IPv4', 'edge IPv6'].map(col).join('  ').trimEnd());
  for (const c of CLIENTS) {
    const row = [
      await lab.servedBy(c, 4),
      await lab.servedBy(c, 6),
      await lab.edgeServedBy(c, 4),
      await lab.edgeServedBy(c, 6),
    ];
    console.log([c, ...row].map(col).join('  ').trimEnd());
  }
  console.log('');
  for (const r of ROUTERS) {
    for (const p of [...Object.values(PREFIX), ...Object.values(PREFIX6)]) {
      const routes = await lab.routes(r, p);
      const text =
        routes.map((x, i) => `${i === 0 ? 'best ' : ''}pop ${x.pop} [${x.path.join(' ')}]`).join(', ') || 'no route';
      console.log(`${r}  ${p.padEnd(18)}  ${text}`);
    }
  }
  console.log('');
  const pids = readPids();
  console.log(
    Object.entries(pids)
      .map(([name, pid]) => `${name} ${alive(pid) ? 'running' : 'stopped'}`)
      .join(', '),
  );
}

/** `kill NAME` (SIGKILL), `stop NAME` (SIGSTOP: hung), `revive NAME`: dns-a, edge-b, anycast-c. */
async function processCommand(lab, verb, name) {
  const m = /^(dns|edge|anycast)-([abc])$/.exec(name ?? '');
  if (!m) fail(`${verb} needs one of dns-a, edge-a, anycast-a (or b, c)`, 2);
  const pid = readPids()[name];
  if (verb === 'revive') {
    if (pid && alive(pid)) process.kill(pid, 'SIGCONT');
    else await (m[1] === 'dns' ? lab.startDns(m[2]) : m[1] === 'edge' ? lab.startEdge(m[2]) : lab.startAnnouncer(m[2]));
    savePids(lab);
  } else if (pid && alive(pid)) process.kill(pid, verb === 'kill' ? 'SIGKILL' : 'SIGSTOP');
  console.log(`${verb} ${name}: done`);
}

// `status | head` closes our stdout early: not an error worth a stack trace.
process.stdout.on('error', () => process.exit(0));

const [command, arg] = process.argv.slice(2);
if (process.getuid?.() !== 0) fail(`needs root (network namespaces, BIRD, iptables)\n${USAGE}`);
if (command === 'up') await up();
else if (command === 'down') {
  removeLab(LAB_PREFIX, DIR);
  console.log(`anycast lab removed (${LAB_PREFIX}* namespaces and ${DIR})`);
} else if (['status', 'kill', 'stop', 'revive', 'cut', 'restore', 'drain', 'undrain'].includes(command)) {
  if (!labExists(LAB_PREFIX))
    fail(`no anycast lab running (no ${LAB_PREFIX}* namespaces): node test/lab/anycast.mjs up`);
  const lab = new Lab(LAB_PREFIX, DIR);
  if (command === 'status') await status(lab);
  else if (command === 'cut' || command === 'restore') {
    if (!POPS.includes(arg)) fail(`${command} needs a PoP: ${POPS.join(', ')}`, 2);
    await (command === 'cut' ? lab.cutLink(arg) : lab.restoreLink(arg));
    console.log(`${command} ${arg}: done`);
  } else if (command === 'drain' || command === 'undrain') {
    if (!POPS.includes(arg)) fail(`${command} needs a PoP: ${POPS.join(', ')}`, 2);
    // What a user types inside the PoP (with the lab's control token, see README):
    // MERIDIAN_CONTROL_TOKEN=meridian-lab meridian pop drain a --control http://127.0.0.1:8053
    process.stdout.write(await lab.popCommand(command, arg));
  } else await processCommand(lab, command, arg);
} else fail(USAGE, 2);
// The lab's processes are detached: nothing of ours keeps running.
process.exit(0);
