// `meridian anycast`: runs the anycast announcer of one PoP in the foreground until SIGINT/SIGTERM
// (which withdraw every prefix before exit); `--print-bird-config` prints the BIRD 2 config that
// PoP's BIRD runs with instead.
import { runUntilStopped } from './run-until-stopped.js';
import { exitFor, hostPortFlag, parseCommandLine, usageError } from './flags.js';
import type { HostPort } from '../common/host-port.js';
import { birdConf } from '../anycast/bird-conf.js';
import { loadAnycastConfig } from '../anycast/config.js';
import { startAnycastService } from '../anycast/service.js';

export const ANYCAST_COMMAND = {
  name: 'anycast',
  usage: `usage: meridian anycast --config FILE --pop ID [--control-listen HOST:PORT] [--print-bird-config]
  --config FILE               the topology file (its anycast: section and PoPs)
  --pop ID                    the PoP whose prefixes this announcer announces through its BIRD
  --control-listen HOST:PORT  serve GET /v1/status, /healthz and /metrics here (off unless set)
  --print-bird-config         print the BIRD 2 config of this PoP and exit
`,
  flags: {
    config: { type: 'string', short: 'c' },
    pop: { type: 'string' },
    'control-listen': { type: 'string' },
    'print-bird-config': { type: 'boolean' },
  },
  required: ['config', 'pop'],
} as const;

export async function runAnycast(args: string[]): Promise<number | undefined> {
  const line = parseCommandLine(ANYCAST_COMMAND, args);
  if (line.kind !== 'run') return exitFor(ANYCAST_COMMAND, line);
  const { flags } = line;
  let controlListen: HostPort | undefined;
  try {
    controlListen =
      flags['control-listen'] === undefined ? undefined : hostPortFlag('control-listen', flags['control-listen']);
  } catch (e) {
    return usageError(ANYCAST_COMMAND, (e as Error).message);
  }
  if (flags['print-bird-config']) {
    const config = await loadAnycastConfig(flags.config!, flags.pop!);
    process.stdout.write(
      birdConf({ pop: config.pop, prefixes: config.prefixes, bgp: config.bgp, leaseInterface: config.lease.interface }),
    );
    return 0;
  }
  const service = await startAnycastService({
    configFile: flags.config!,
    pop: flags.pop!,
    ...(controlListen ? { controlListen } : {}),
  });
  return runUntilStopped(service);
}
