// `meridian health`: runs the prober of one PoP in the foreground until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { runUntilStopped } from './run-until-stopped.js';
import { parseHostPort } from '../common/host-port.js';
import { startProber } from '../prober/service.js';

export async function runHealth(args: string[]): Promise<number | undefined> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      pop: { type: 'string' },
      http: { type: 'string' },
    },
    strict: true,
  });
  if (!values.config || !values.pop) {
    process.stderr.write('meridian health: --config FILE and --pop ID are required\n');
    return 2;
  }
  const prober = await startProber({
    configFile: values.config,
    pop: values.pop,
    ...(values.http ? { http: parseHostPort(values.http) } : {}),
  });
  return runUntilStopped(prober);
}
