// `meridian query NAME`: a small dig for machines without one. Asks with EDNS(0), an NSID request
// and optionally a Client Subnet, and shows what an operator of a GeoDNS checks: the answer,
// the ECS scope it holds for, and which server instance gave it.
import { exitFor, parseCommandLine, usageError, type FlagValues } from './flags.js';
import { formatHostPort } from '../common/host-port.js';
import { parseName, parseServer, parseSubnet, parseType, UsageError } from './query/args.js';
import { formatQueryResult, subnetText, type QueryResult } from './query/format.js';
import { BadReply, buildQuery, readReply } from './query/message.js';
import { exchange, NoReply } from './query/transport.js';
import { typeName } from './query/types.js';

export const QUERY_COMMAND = {
  name: 'query',
  usage: `usage: meridian query NAME [TYPE] [--type T] [--subnet NET] [--server HOST:PORT] [--tcp] [--json]
  --type T          record type (A by default): A, AAAA, MX, TXT, SOA, ANY, TYPE65, ...
  --subnet NET      ask as a client in NET (EDNS Client Subnet), e.g. 203.0.113.0/24 or 2001:db8::/48
  --server H:P      the DNS server (default 127.0.0.1:5353; [::1]:5353 for IPv6; port 53 when omitted)
  --tcp             ask over TCP (UDP otherwise, and TCP when the UDP reply is truncated)
  --json            print one JSON document
`,
  flags: {
    type: { type: 'string', short: 't' },
    subnet: { type: 'string', short: 's' },
    server: { type: 'string' },
    tcp: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  positionals: { min: 1, max: 2, what: 'NAME' },
} as const;

const TIMEOUT_MS = 2000;
const TRIES = 2;

export async function runQuery(args: string[]): Promise<number> {
  const line = parseCommandLine(QUERY_COMMAND, args);
  if (line.kind !== 'run') return exitFor(QUERY_COMMAND, line);
  let request;
  try {
    request = checkedRequest(line);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return usageError(QUERY_COMMAND, e.message);
  }
  const spec = { name: request.name, type: request.type, subnet: request.subnet };
  let result: QueryResult;
  try {
    const sent = await exchange(request.server, buildQuery(spec), {
      tcp: request.tcp,
      timeoutMs: TIMEOUT_MS,
      tries: TRIES,
    });
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
  const line = parseCommandLine(QUERY_COMMAND, args);
  if (line.kind !== 'run') throw new UsageError(line.kind === 'usage' ? line.message : 'usage asked for (--help)');
  return checkedRequest(line);
}

function checkedRequest({
  flags,
  positionals,
}: {
  flags: FlagValues<typeof QUERY_COMMAND.flags>;
  positionals: string[];
}) {
  const [name, typeWord] = positionals as [string, string | undefined];
  if (typeWord !== undefined && flags.type !== undefined)
    throw new UsageError(`the type is given twice ('${typeWord}' and --type ${flags.type})`);
  return {
    name: parseName(name),
    type: parseType(typeWord ?? flags.type ?? 'A'),
    subnet: flags.subnet === undefined ? null : parseSubnet(flags.subnet),
    server: parseServer(flags.server ?? '127.0.0.1:5353'),
    tcp: flags.tcp ?? false,
    json: flags.json ?? false,
  };
}
