// `meridian dns`: runs the DNS service in the foreground until SIGINT/SIGTERM; SIGHUP reloads.
import { parseArgs } from 'node:util';
import { runUntilStopped } from './run-until-stopped.js';
import { parseHostPort } from '../common/host-port.js';
import { startDnsService } from '../dns/service.js';
import { workersSetting } from '../dns/config.js';

export async function runDns(args: string[]): Promise<number | undefined> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      listen: { type: 'string', multiple: true, short: 'l' },
      http: { type: 'string' },
      workers: { type: 'string', short: 'w' },
    },
    strict: true,
  });
  if (!values.config) {
    process.stderr.write('meridian dns: --config FILE is required\n');
    return 2;
  }
  let workers: number | 'auto' | undefined;
  if (values.workers !== undefined) {
    const parsed = workersSetting.safeParse(values.workers === 'auto' ? 'auto' : Number(values.workers));
    if (!parsed.success) {
      process.stderr.write(`meridian dns: --workers '${values.workers}': expected 'auto' or a whole number from 1 to 64\n`);
      return 2;
    }
    workers = parsed.data;
  }
  // Installed before the service announces itself: a SIGHUP's default action is to terminate,
  // and one sent right after the ready line must reload, not kill. One that arrives before the
  // service exists has nothing to reload (the file is being read for the first time anyway).
  let service: Awaited<ReturnType<typeof startDnsService>> | undefined;
  process.on('SIGHUP', () => void service?.reload());
  service = await startDnsService({
    configFile: values.config,
    ...(values.listen ? { listen: values.listen.map(parseHostPort) } : {}),
    ...(values.http ? { http: parseHostPort(values.http) } : {}),
    ...(workers !== undefined ? { workers } : {}),
  });
  return runUntilStopped(service);
}
