// EDNS Client Subnet for the "routed + ECS" row: the client subnets, the option dnsperf -E sends,
// and the check, before the row is measured, that dnsperf really sends it and Meridian really
// answers per subnet (otherwise the row would not measure what its label says).
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { HOST, run } from '../lib.mjs';
import { DNSPERF_BASE, DNSPERF_CLIENTS, DNSPERF_OUTSTANDING } from './dnsperf.mjs';
import { dig, digInstalled } from './dig.mjs';
import { ROUTED_NAME } from './query-files.mjs';

// Client subnets for the "routed + ECS" row (dnsperf -E sends one ECS option with every query).
// By default only the first: one dnsperf, -c 4 -q 200 like the other rows. Tokyo, because its
// answer (Singapore) differs from the one for 127.0.0.1 without ECS (Frankfurt), so the ECS check
// shows the option really steers. With --ecs-parallel, all four (one per continent), each from its
// own dnsperf process (-c 1 -q 50), in parallel. On 2 cores that costs ~20% more dnsperf CPU per
// query, which the server then lacks: max QPS came out 7-10% lower than with one subnet, and at 40k
// the server saturated (queries queued, ~5 ms average latency instead of <1 ms). Meridian caches
// the decision per client network, so one subnet or four is the same work for it (cache hits).
export const ECS_SUBNETS = [
  { cidr: '203.0.113.0/24', where: 'Tokyo' },
  { cidr: '192.0.2.0/24', where: 'New York' },
  { cidr: '198.51.100.0/24', where: 'Frankfurt' },
  { cidr: '41.0.5.0/24', where: 'Johannesburg' },
];

/**
 * The EDNS Client Subnet option (RFC 7871, code 8) for an IPv4 `cidr`: family 1, source prefix,
 * scope 0, the address cut to the prefix's bytes (more bytes than that is malformed: FORMERR).
 * `data` is the option's payload, `arg` dnsperf's `-E code:hex` form.
 */
export function ecsOption(cidr) {
  const [addr, len] = cidr.split('/');
  const prefix = Number(len);
  const octets = addr.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255)) || !(prefix >= 0 && prefix <= 32)) {
    throw new Error(`bad IPv4 subnet ${cidr}`);
  }
  // dns-packet cuts the address to the prefix's bytes but leaves the bits past the prefix in the
  // last one as they are; RFC 7871 wants them zero.
  const bitsIn = (i) => Math.max(0, Math.min(8, prefix - 8 * i)); // bits of octet i inside the prefix
  const masked = octets.map((o, i) => o & (0xff00 >> bitsIn(i)) & 0xff);
  const encoded = dnsPacket.option.encode({
    code: 'CLIENT_SUBNET',
    family: 1,
    sourcePrefixLength: prefix,
    scopePrefixLength: 0,
    ip: masked.join('.'),
  });
  const data = encoded.subarray(4); // after the option's code and length
  return { cidr, data, arg: `8:${data.toString('hex')}` };
}

/**
 * The subnets and dnsperf processes of the routed + ECS row. One dnsperf with the first subnet,
 * like the other rows (-c 4 -q 200); with `parallel` (--ecs-parallel), one dnsperf per subnet, in
 * parallel, together as many clients and outstanding queries (-c 1 -q 50 each). See ECS_SUBNETS
 * for why one subnet is the default.
 */
export function ecsRow(parallel) {
  const list = (parallel ? ECS_SUBNETS : ECS_SUBNETS.slice(0, 1)).map((s) => ({ ...s, ...ecsOption(s.cidr) }));
  const procs = parallel
    ? list.map((e) => [
        '-c',
        String(Math.max(1, Math.floor(DNSPERF_CLIENTS / list.length))),
        '-q',
        String(Math.max(1, Math.floor(DNSPERF_OUTSTANDING / list.length))),
        '-t',
        '1',
        '-E',
        e.arg,
      ])
    : [[...DNSPERF_BASE, '-E', list[0].arg]];
  return { single: !parallel, list, procs };
}

/** The ECS options (code 8) in a decoded message's OPT record. */
const ecsOptions = (msg) =>
  msg.additionals.filter((rr) => rr.type === 'OPT').flatMap((rr) => rr.options.filter((o) => o.code === 8));

/**
 * Before the "routed + ECS" row is measured: for each subnet, dnsperf (with the row's -E option)
 * sends the routed query file once to Meridian through a UDP relay in this process, which keeps
 * the first query and its response. Checks that the query carries exactly the ECS option meant,
 * and that Meridian answered it as a routed name: NOERROR, ECS echoed for the same subnet with a
 * scope > 0, and (when dig is installed) the same A record as `dig +subnet=CIDR`. Returns
 * { ok, lines } — lines describe each subnet, or what went wrong.
 */
export async function checkEcs(meridianPort, file, ecsList) {
  const relay = dgram.createSocket('udp4');
  const upstream = dgram.createSocket('udp4');
  await Promise.all([relay, upstream].map((sock) => new Promise((res) => sock.bind(0, HOST, res))));
  // The relay only forwards bytes; it pairs the response with the query by the message id (the
  // first two bytes, RFC 1035 4.1.1) and leaves decoding to the checks below.
  const messageId = (msg) => msg.readUInt16BE(0);
  let seen = null;
  relay.on('message', (msg, rinfo) => {
    seen ??= { query: Buffer.from(msg), response: null };
    seen.client = rinfo;
    upstream.send(msg, meridianPort, HOST);
  });
  upstream.on('message', (msg) => {
    if (!seen) return;
    if (!seen.response && msg.length >= 2 && messageId(msg) === messageId(seen.query)) seen.response = Buffer.from(msg);
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
      const argv = [
        '-s',
        HOST,
        '-p',
        String(relay.address().port),
        '-d',
        file,
        '-n',
        '1',
        '-c',
        '1',
        '-t',
        '2',
        '-E',
        ecs.arg,
      ];
      const r = await run('dnsperf', argv);
      if (r.code !== 0) {
        fail(`dnsperf ${argv.join(' ')} failed (exit ${r.code}; does this dnsperf support -E?):\n${r.out}${r.err}`);
        break;
      }
      if (!seen?.query) {
        fail(`${ecs.cidr}: the relay saw no query from dnsperf -E ${ecs.arg}`);
        continue;
      }
      const sent = ecsOptions(dnsPacket.decode(seen.query));
      if (sent.length !== 1 || !sent[0].data.equals(ecs.data)) {
        fail(
          `${ecs.cidr}: dnsperf -E ${ecs.arg} sent ECS ${sent.map((o) => o.data.toString('hex')).join(', ') || 'none'}, expected ${ecs.data.toString('hex')}`,
        );
        continue;
      }
      if (!seen.response) {
        fail(`${ecs.cidr}: meridian did not answer the query dnsperf sent`);
        continue;
      }
      const a = dnsPacket.decode(seen.response);
      const got = ecsOptions(a)[0];
      const scope = got && got.data.length >= 4 ? got.scopePrefixLength : NaN;
      const addrs = a.answers.filter((rr) => rr.type === 'A').map((rr) => rr.data);
      let line = `${ecs.cidr} (${ecs.where}): dnsperf sends ECS ${ecs.data.toString('hex')}; meridian answers ${addrs.join(' ') || 'no A'}, ECS scope /${scope}`;
      if (digInstalled()) {
        const d = await dig(meridianPort, ROUTED_NAME, 'A', [`+subnet=${ecs.cidr}`]);
        const dAddrs = d.rrs.filter((rr) => rr.type === 'A').map((rr) => rr.rdata);
        line += ` (dig +subnet: ${dAddrs.join(' ') || 'no A'}, ${d.ecs ?? 'no ECS'})`;
        if (dAddrs.sort().join() !== [...addrs].sort().join()) {
          fail(`${line}: dig and dnsperf get different answers`);
          continue;
        }
      }
      // The echo must name the subnet sent (family, source prefix, address: all but the scope).
      const sameSubnet =
        got &&
        got.data.subarray(0, 3).equals(ecs.data.subarray(0, 3)) &&
        got.data.subarray(4).equals(ecs.data.subarray(4));
      if (a.rcode !== 'NOERROR' || !addrs.length || !sameSubnet || !(scope > 0)) {
        fail(
          `${line}: not a routed answer to this subnet (rcode ${a.rcode}, ECS ${got ? got.data.toString('hex') : 'missing'})`,
        );
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
