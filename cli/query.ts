// `meridian query NAME`: a small dig for machines without one. Asks with EDNS(0), an NSID request
// and optionally a Client Subnet, and shows what an operator of a GeoDNS checks: the answer,
// the ECS scope it holds for, and which server instance gave it.
import { parseArgs } from 'node:util';
import { formatHostPort } from '../common/host-port.js';
import { parseName, parseServer, parseSubnet, parseType, UsageError } from './query/args.js';
import { formatQueryResult, subnetText, type QueryResult } from './query/format.js';
import { BadReply, buildQuery, readReply } from './query/message.js';
import { exchange, NoReply } from './query/transport.js';
import { typeName } from './query/types.js';

const USAGE = `usage: meridian query NAME [TYPE] [--type T] [--subnet NET] [--server HOST:PORT] [--tcp] [--json]
  --type T          record type (A by default): A, AAAA, MX, TXT, SOA, ANY, TYPE65, ...
  --subnet NET      ask as a client in NET (EDNS Client Subnet), e.g. 203.0.113.0/24 or 2001:db8::/48
  --server H:P      the DNS server (default 127.0.0.1:5353; [::1]:5353 for IPv6; port 53 when omitted)
  --tcp             ask over TCP (UDP otherwise, and TCP when the UDP reply is truncated)
  --json            print one JSON document
`;

const TIMEOUT_MS = 2000;
const TRIES = 2;

export async function runQuery(args: string[]): Promise<number> {
  let request;
  try {
    request = parseQueryArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`meridian query: ${e.message}\n${USAGE}`);
    return 2;
  }
  const spec = { name: request.name, type: request.type, subnet: request.subnet };
  let result: QueryResult;
  try {
    const sent = await exchange(request.server, buildQuery(spec), { tcp: request.tcp, timeoutMs: TIMEOUT_MS, tries: TRIES });
    result = {
      server: formatHostPort(sent.server),
      transport: sent.transport,
      retriedOverTcp: sent.retriedOverTcp,
      rttMs: Math.round(sent.rttMs * 10) / 10,
      query: { name: request.name, type: typeName(request.type), subnet: request.subnet && subnetText(request.subnet) },
      reply: readReply(sent.reply),
    };
  } catch (e) {
    if (!(e instanceof NoReply || e instanceof BadReply)) throw e;
    process.stderr.write(`meridian query: ${e.message}\n`);
    return 1;
  }
  process.stdout.write(request.json ? `${JSON.stringify(result, null, 2)}\n` : formatQueryResult(result));
  return 0;
}

/** The command line → a checked request; UsageError says what is wrong. */
export function parseQueryArgs(args: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        type: { type: 'string', short: 't' },
        subnet: { type: 'string', short: 's' },
        server: { type: 'string', default: '127.0.0.1:5353' },
        tcp: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  const [name, typeWord, ...extra] = positionals;
  if (name === undefined) throw new UsageError('NAME is missing');
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  if (typeWord !== undefined && values.type !== undefined) throw new UsageError(`the type is given twice ('${typeWord}' and --type ${values.type})`);
  return {
    name: parseName(name),
    type: parseType(typeWord ?? values.type ?? 'A'),
    subnet: values.subnet === undefined ? null : parseSubnet(values.subnet),
    server: parseServer(values.server),
    tcp: values.tcp,
    json: values.json,
  };
}
