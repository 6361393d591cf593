// `meridian anycast`: runs the anycast announcer of one PoP in the foreground until SIGINT/SIGTERM
// (which withdraw every prefix before exit); `--print-bird-config` prints the BIRD 2 config that
// PoP's BIRD runs with instead.
import { parseArgs } from 'node:util';
import { runUntilStopped } from './run-until-stopped.js';
import { parseHostPort } from '../common/host-port.js';
import { birdConf } from '../anycast/bird-conf.js';
import { loadAnycastConfig } from '../anycast/config.js';
import { startAnycastService } from '../anycast/service.js';

export async function runAnycast(args: string[]): Promise<number | undefined> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      pop: { type: 'string' },
      http: { type: 'string' },
      'print-bird-config': { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.config || !values.pop) {
    process.stderr.write('meridian anycast: --config FILE and --pop ID are required\n');
    return 2;
  }
  if (values['print-bird-config']) {
    const config = await loadAnycastConfig(values.config, values.pop);
    process.stdout.write(birdConf({ pop: config.pop, prefixes: config.prefixes, bgp: config.bgp, leaseInterface: config.lease.interface }));
    return 0;
  }
  const service = await startAnycastService({
    configFile: values.config,
    pop: values.pop,
    ...(values.http ? { http: parseHostPort(values.http) } : {}),
  });
  return runUntilStopped(service);
}
