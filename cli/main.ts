// `meridian <service> ...`: one command, one subcommand per service.
import { runDns } from './dns.js';
import { runEdge } from './edge.js';
import { runHealth } from './health.js';
import { runExplain } from './explain.js';
import { runPop } from './pop.js';
import { runUp } from './up.js';
import { runOrigin } from './origin.js';
import { runStatus } from './status.js';
import { runQuery } from './query.js';
import { runAnycast } from './anycast.js';

const USAGE = `usage: meridian <command> [options]

commands:
  dns --config FILE [--listen HOST:PORT ...] [--http HOST:PORT] [--workers N|auto]
        run the authoritative DNS server (UDP and TCP on each --listen; HTTP control port on --http;
        --workers: serving processes, default dns.workers = auto: one per core less one with batched
         UDP, else one per core)
  health --config FILE --pop ID [--http HOST:PORT]
        run the health prober of PoP ID: probe every PoP's edge, report to the DNS servers
  edge --config FILE --pop ID [--listen HOST:PORT] [--control HOST:PORT] [--workers N|auto]
        run the edge cache of PoP ID in front of the origin (or its shield PoP);
        --workers: serving processes, default edge.workers = auto, one per core less one (at least one)
  explain NAME CLIENT [--type A|AAAA] [--control URL] [--json]
        ask a running DNS server why CLIENT (an address, or a subnet as ECS) gets its answer
  up --config FILE [--control HOST:PORT] [--prober-port N] [--verbose] [--logs DIR]
        the whole CDN on this machine: origin, DNS server, an edge and a prober per PoP (npm start)
  origin [--listen HOST:PORT]
        the demo origin (assets, pages, an API, a cart, with real cache headers); default 127.0.0.1:8081
  pop drain|undrain|down|auto ID [--control URL]
        admin override on a running DNS server (drained: no new answers, still monitored)
  pop kill|revive ID [--up URL]
        outage drill under \`meridian up\`: stop a PoP's edge and keep it down, or start it again
  status [--control URL] [--json]
        every PoP at a glance: quorum verdict, answered or why not, votes and RTT, override, edge cache
  query NAME [TYPE] [--type T] [--subnet NET] [--server HOST:PORT] [--tcp] [--json]
        a small dig: ask a DNS server with EDNS, NSID and optionally a client subnet
  anycast --config FILE --pop ID [--http HOST:PORT] [--print-bird-config]
        announce PoP ID's anycast prefixes through its BIRD while the local services are healthy
  help  show this text
`;

export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'dns':
      return runDns(rest);
    case 'health':
      return runHealth(rest);
    case 'edge':
      return runEdge(rest);
    case 'explain':
      return runExplain(rest);
    case 'pop':
      return runPop(rest);
    case 'up':
      return runUp(rest);
    case 'origin':
      return runOrigin(rest);
    case 'status':
      return runStatus(rest);
    case 'query':
      return runQuery(rest);
    case 'anycast':
      return runAnycast(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`meridian: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}
