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
      workers: { type: 'string', short: 'w' },
    },
    strict: true,
  });
  if (!values.config || !values.pop) {
    process.stderr.write('meridian edge: --config FILE and --pop ID are required\n');
    return 2;
  }
  let workers: number | 'auto' | undefined;
  if (values.workers !== undefined) {
    workers = values.workers === 'auto' ? 'auto' : Number(values.workers);
    if (workers !== 'auto' && !(Number.isInteger(workers) && workers >= 1 && workers <= 64)) {
      process.stderr.write(`meridian edge: --workers expects 'auto' or a whole number from 1 to 64, not '${values.workers}'\n`);
      return 2;
    }
  }
  const edge = await startEdge({
    configFile: values.config,
    pop: values.pop,
    ...(values.listen ? { listen: parseHostPort(values.listen) } : {}),
    ...(values.control ? { control: parseHostPort(values.control) } : {}),
    ...(workers !== undefined ? { workers } : {}),
  });
  return runUntilStopped(edge);
}
