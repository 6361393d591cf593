// `meridian dns`: runs the DNS service in the foreground until SIGINT/SIGTERM; SIGHUP reloads.
import { runUntilStopped } from './run-until-stopped.js';
import { exitFor, hostPortFlag, parseCommandLine, sayDeprecatedFlags, usageError } from './flags.js';
import type { HostPort } from '../common/host-port.js';
import { parseWorkersFlag, type WorkersSetting } from '../common/workers.js';
import { startDnsService } from '../dns/service.js';

export const DNS_COMMAND = {
  name: 'dns',
  usage: `usage: meridian dns --config FILE [--pop ID] [--listen HOST:PORT ...] [--control-listen HOST:PORT] [--workers N|auto]
  --config FILE               the topology file (its dns: section and zones)
  --pop ID                    the PoP this server runs in (overrides dns.pop): NSID and CH TXT
                              id.server say SERVERID@ID, so a client sees which PoP answered
  --listen HOST:PORT          UDP and TCP DNS listener, repeatable (overrides dns.listen)
  --control-listen HOST:PORT  the HTTP control port (overrides dns.control.listen; default 127.0.0.1:8053)
  --workers N|auto            serving processes (overrides dns.workers; auto: one per core less one
                              with batched UDP, else one per core)
  (--http is the deprecated spelling of --control-listen)
`,
  flags: {
    config: { type: 'string', short: 'c' },
    pop: { type: 'string' },
    listen: { type: 'string', multiple: true, short: 'l' },
    'control-listen': { type: 'string', was: ['http'] },
    workers: { type: 'string', short: 'w' },
  },
  required: ['config'],
} as const;

export async function runDns(args: string[]): Promise<number | undefined> {
  const line = parseCommandLine(DNS_COMMAND, args);
  if (line.kind !== 'run') return exitFor(DNS_COMMAND, line);
  sayDeprecatedFlags(line);
  const { flags } = line;
  let listen: HostPort[] | undefined;
  let controlListen: HostPort | undefined;
  try {
    listen = flags.listen?.map((l) => hostPortFlag('listen', l));
    controlListen =
      flags['control-listen'] === undefined ? undefined : hostPortFlag('control-listen', flags['control-listen']);
  } catch (e) {
    return usageError(DNS_COMMAND, (e as Error).message);
  }
  let workers: WorkersSetting | undefined;
  if (flags.workers !== undefined) {
    const parsed = parseWorkersFlag(flags.workers);
    if (!parsed.ok) return usageError(DNS_COMMAND, parsed.message);
    workers = parsed.workers;
  }
  // Installed before the service announces itself: a SIGHUP's default action is to terminate,
  // and one sent right after the ready line must reload, not kill. One that arrives before the
  // service exists has nothing to reload (the file is being read for the first time anyway).
  let service: Awaited<ReturnType<typeof startDnsService>> | undefined;
  process.on('SIGHUP', () => void service?.reload());
  service = await startDnsService({
    configFile: flags.config!,
    ...(listen ? { listen } : {}),
    ...(controlListen ? { controlListen } : {}),
    ...(workers !== undefined ? { workers } : {}),
    ...(flags.pop !== undefined ? { pop: flags.pop } : {}),
  });
  return runUntilStopped(service);
}
