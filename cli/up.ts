// `meridian up --config FILE`: the whole CDN of a topology file on this machine (origin, DNS
// server, an edge and a prober per PoP), supervised, until Ctrl-C. See local/up.ts.
import { exitFor, hostPortFlag, parseCommandLine, sayDeprecatedFlags, usageError } from './flags.js';
import type { HostPort } from '../common/host-port.js';
import { up } from '../local/up.js';

export const DEFAULT_UP_CONTROL = '127.0.0.1:8054';
const DEFAULT_PROBER_PORT = '8090';

export const UP_COMMAND = {
  name: 'up',
  usage: `usage: meridian up --config FILE [--control-listen HOST:PORT] [--prober-port N] [--verbose] [--logs DIR]
  --control-listen HOST:PORT  up's control API (processes, pop kill/revive); default ${DEFAULT_UP_CONTROL}
  --prober-port N             each PoP's prober serves its status on this port of the PoP's address; default ${DEFAULT_PROBER_PORT}
  --verbose                   show every log line of every process (default: warnings and health changes)
  --logs DIR                  also write each process's full log to DIR/<name>.log
  (--control is the deprecated spelling of --control-listen)
`,
  flags: {
    config: { type: 'string', short: 'c' },
    'control-listen': { type: 'string', was: ['control'] },
    'prober-port': { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
    logs: { type: 'string' },
  },
  required: ['config'],
} as const;

export async function runUp(args: string[]): Promise<number> {
  const line = parseCommandLine(UP_COMMAND, args);
  if (line.kind !== 'run') return exitFor(UP_COMMAND, line);
  sayDeprecatedFlags(line);
  const { flags } = line;
  let controlListen: HostPort;
  try {
    controlListen = hostPortFlag('control-listen', flags['control-listen'] ?? DEFAULT_UP_CONTROL);
  } catch (e) {
    return usageError(UP_COMMAND, (e as Error).message);
  }
  const proberPortText = flags['prober-port'] ?? DEFAULT_PROBER_PORT;
  const proberPort = Number(proberPortText);
  if (!/^\d+$/.test(proberPortText) || proberPort < 1 || proberPort > 65535) {
    return usageError(UP_COMMAND, `--prober-port '${proberPortText}': expected a port from 1 to 65535`);
  }
  return up({
    configFile: flags.config!,
    controlListen,
    defaultControl: flags['control-listen'] === undefined,
    proberPort,
    verbose: flags.verbose ?? false,
    logDir: flags.logs,
  });
}
