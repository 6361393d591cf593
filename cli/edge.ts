// `meridian edge`: runs the edge cache of one PoP in the foreground until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { runUntilStopped } from './run-until-stopped.js';
import { parseHostPort } from '../common/host-port.js';
import { startEdge } from '../edge/service.js';

export async function runEdge(args: string[]): Promise<number | undefined> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      pop: { type: 'string' },
      listen: { type: 'string', short: 'l' },
      control: { type: 'string' },
    },
    strict: true,
  });
  if (!values.config || !values.pop) {
    process.stderr.write('meridian edge: --config FILE and --pop ID are required\n');
    return 2;
  }
  const edge = await startEdge({
    configFile: values.config,
    pop: values.pop,
    ...(values.listen ? { listen: parseHostPort(values.listen) } : {}),
    ...(values.control ? { control: parseHostPort(values.control) } : {}),
  });
  return runUntilStopped(edge);
}
