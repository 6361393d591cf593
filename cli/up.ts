// `meridian up --config FILE`: the whole CDN of a topology file on this machine (origin, DNS
// server, an edge and a prober per PoP), supervised, until Ctrl-C. See local/up.ts.
import { parseArgs } from 'node:util';
import { parseHostPort, type HostPort } from '../common/host-port.js';
import { up } from '../local/up.js';

export const DEFAULT_UP_CONTROL = '127.0.0.1:8054';
const DEFAULT_PROBER_PORT = '8090';

const USAGE = `usage: meridian up --config FILE [--control HOST:PORT] [--prober-port N] [--verbose] [--logs DIR]
  --control HOST:PORT  up's control API (processes, pop kill/revive); default ${DEFAULT_UP_CONTROL}
  --prober-port N      each PoP's prober serves its status on this port of the PoP's address; default ${DEFAULT_PROBER_PORT}
  --verbose            show every log line of every process (default: warnings and health changes)
  --logs DIR           also write each process's full log to DIR/<name>.log
`;

export async function runUp(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string', short: 'c' },
        control: { type: 'string' },
        'prober-port': { type: 'string', default: DEFAULT_PROBER_PORT },
        verbose: { type: 'boolean', short: 'v', default: false },
        logs: { type: 'string' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`meridian up: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.config) {
    process.stderr.write(`meridian up: --config FILE is required\n${USAGE}`);
    return 2;
  }
  let control: HostPort;
  try {
    control = parseHostPort(values.control ?? DEFAULT_UP_CONTROL);
  } catch (e) {
    process.stderr.write(`meridian up: --control: ${(e as Error).message}\n`);
    return 2;
  }
  const proberPort = Number(values['prober-port']);
  if (!/^\d+$/.test(values['prober-port']) || proberPort < 1 || proberPort > 65535) {
    process.stderr.write(`meridian up: --prober-port '${values['prober-port']}': expected a port from 1 to 65535\n`);
    return 2;
  }
  return up({
    configFile: values.config,
    control,
    defaultControl: values.control === undefined,
    proberPort,
    verbose: values.verbose,
    logDir: values.logs,
  });
}
