// `meridian edge`: runs the edge cache of one PoP in the foreground until SIGINT/SIGTERM.
import { runUntilStopped } from './run-until-stopped.js';
import { exitFor, hostPortFlag, parseCommandLine, sayDeprecatedFlags, usageError } from './flags.js';
import type { HostPort } from '../common/host-port.js';
import { parseWorkersFlag, type WorkersSetting } from '../common/workers.js';
import { startEdgeService } from '../edge/service.js';

export const EDGE_COMMAND = {
  name: 'edge',
  usage: `usage: meridian edge --config FILE --pop ID [--listen HOST:PORT] [--control-listen HOST:PORT] [--workers N|auto]
  --config FILE               the topology file (its edge: section and PoPs)
  --pop ID                    the PoP whose edge this is
  --listen HOST:PORT          the proxy listener (default: the PoP's edge URL)
  --control-listen HOST:PORT  the HTTP control port (overrides edge.control.listen; off unless set)
  --workers N|auto            serving processes (overrides edge.workers; auto: one per core less one, at least one)
  (--control is the deprecated spelling of --control-listen)
`,
  flags: {
    config: { type: 'string', short: 'c' },
    pop: { type: 'string' },
    listen: { type: 'string', short: 'l' },
    'control-listen': { type: 'string', was: ['control'] },
    workers: { type: 'string', short: 'w' },
  },
  required: ['config', 'pop'],
} as const;

export async function runEdge(args: string[]): Promise<number | undefined> {
  const line = parseCommandLine(EDGE_COMMAND, args);
  if (line.kind !== 'run') return exitFor(EDGE_COMMAND, line);
  sayDeprecatedFlags(line);
  const { flags } = line;
  let listen: HostPort | undefined;
  let controlListen: HostPort | undefined;
  try {
    listen = flags.listen === undefined ? undefined : hostPortFlag('listen', flags.listen);
    controlListen =
      flags['control-listen'] === undefined ? undefined : hostPortFlag('control-listen', flags['control-listen']);
  } catch (e) {
    return usageError(EDGE_COMMAND, (e as Error).message);
  }
  let workers: WorkersSetting | undefined;
  if (flags.workers !== undefined) {
    const parsed = parseWorkersFlag(flags.workers);
    if (!parsed.ok) return usageError(EDGE_COMMAND, parsed.message);
    workers = parsed.workers;
  }
  const edge = await startEdgeService({
    configFile: flags.config!,
    pop: flags.pop!,
    ...(listen ? { listen } : {}),
    ...(controlListen ? { controlListen } : {}),
    ...(workers !== undefined ? { workers } : {}),
  });
  return runUntilStopped(edge);
}
