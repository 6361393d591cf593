// `meridian <service> ...`: one command, one subcommand per service.
import { runDns } from './dns.js';
import { runEdge } from './edge.js';
import { runHealth } from './health.js';
import { runExplain } from './explain.js';
import { runPop } from './pop.js';
import { DEFAULT_UP_CONTROL, runUp } from './up.js';
import { runOrigin } from './origin.js';
import { runStatus } from './status.js';
import { runQuery } from './query.js';
import { CONTROL_URL_ENV, DEFAULT_CONTROL_URL } from '../common/control-defaults.js';
import { runAnycast } from './anycast.js';

const USAGE = `usage: meridian <command> [options]   (meridian <command> --help: that command's options)

servers (each listens where its config section says; --control-listen overrides <section>.control.listen):
  dns --config FILE [--listen HOST:PORT ...] [--control-listen HOST:PORT] [--workers N|auto]
        run the authoritative DNS server (UDP and TCP on each --listen; HTTP control port on --control-listen,
        default 127.0.0.1:8053; --workers: serving processes, default dns.workers = auto: one per core less
        one with batched UDP, else one per core)
  health --config FILE --pop ID [--control-listen HOST:PORT]
        run the health prober of PoP ID: probe every PoP's edge, report to the DNS servers
  edge --config FILE --pop ID [--listen HOST:PORT] [--control-listen HOST:PORT] [--workers N|auto]
        run the edge cache of PoP ID in front of the origin (or its shield PoP);
        --workers: serving processes, default edge.workers = auto, one per core less one (at least one)
  up --config FILE [--control-listen HOST:PORT] [--prober-port N] [--verbose] [--logs DIR]
        the whole CDN on this machine: origin, DNS server, an edge and a prober per PoP (npm start)
  origin [--listen HOST:PORT]
        the demo origin (assets, pages, an API, a cart, with real cache headers); default 127.0.0.1:8081
  anycast --config FILE --pop ID [--control-listen HOST:PORT] [--print-bird-config]
        announce PoP ID's anycast prefixes through its BIRD while the local services are healthy

clients (--control URL: the server's control port; default $${CONTROL_URL_ENV}, else ${DEFAULT_CONTROL_URL}):
  status [--control URL] [--json]
        every PoP at a glance: quorum verdict, answered or why not, votes and RTT, override, edge cache
  explain NAME CLIENT [--type A|AAAA] [--control URL] [--json]
        ask a running DNS server why CLIENT (an address, or a subnet as ECS) gets its answer
  pop drain|undrain|down|auto ID [--control URL]
        admin override on a running DNS server (drained: no new answers, still monitored)
  pop kill|revive ID [--control URL]
        outage drill under \`meridian up\` (URL: up's control API, default http://${DEFAULT_UP_CONTROL}):
        stop a PoP's edge and keep it down, or start it again
  query NAME [TYPE] [--type T] [--subnet NET] [--server HOST:PORT] [--tcp] [--json]
        a small dig: ask a DNS server with EDNS, NSID and optionally a client subnet
  help  show this text

deprecated spellings, still accepted with a warning: dns.http (dns.control.listen); --http of dns and
health, --control of edge and up (--control-listen); pop --up (--control)
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
