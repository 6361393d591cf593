// `meridian health`: runs the prober of one PoP in the foreground until SIGINT/SIGTERM.
import { runUntilStopped } from './run-until-stopped.js';
import { exitFor, hostPortFlag, parseCommandLine, sayDeprecatedFlags, usageError } from './flags.js';
import type { HostPort } from '../common/host-port.js';
import { startProber } from '../prober/service.js';

export const HEALTH_COMMAND = {
  name: 'health',
  usage: `usage: meridian health --config FILE (--pop ID | --vantage NAME) [--control-listen HOST:PORT]
  --config FILE               the topology file (its health: section and PoPs)
  --pop ID                    the PoP this prober runs in (its vantage point)
  --vantage NAME              instead of --pop: a prober placed outside the PoPs (listed in
                              health.catchment.vantages); it measures catchment only: which
                              PoP answers each anycast address from there
  --control-listen HOST:PORT  the HTTP control port: status, /healthz, metrics (overrides
                              health.control.listen; off unless set)
  (--http is the deprecated spelling of --control-listen)
`,
  flags: {
    config: { type: 'string', short: 'c' },
    pop: { type: 'string' },
    vantage: { type: 'string' },
    'control-listen': { type: 'string', was: ['http'] },
  },
  required: ['config'],
} as const;

export async function runHealth(args: string[]): Promise<number | undefined> {
  const line = parseCommandLine(HEALTH_COMMAND, args);
  if (line.kind !== 'run') return exitFor(HEALTH_COMMAND, line);
  sayDeprecatedFlags(line);
  const { flags } = line;
  if ((flags.pop === undefined) === (flags.vantage === undefined))
    return usageError(
      HEALTH_COMMAND,
      "give --pop ID (a PoP's prober) or --vantage NAME (one outside the PoPs), not both",
    );
  let controlListen: HostPort | undefined;
  try {
    controlListen =
      flags['control-listen'] === undefined ? undefined : hostPortFlag('control-listen', flags['control-listen']);
  } catch (e) {
    return usageError(HEALTH_COMMAND, (e as Error).message);
  }
  const prober = await startProber({
    configFile: flags.config!,
    ...(flags.pop !== undefined ? { pop: flags.pop } : { vantage: flags.vantage! }),
    ...(controlListen ? { controlListen } : {}),
  });
  return runUntilStopped(prober);
}
