// `meridian dns`: runs the DNS service in the foreground until SIGINT/SIGTERM; SIGHUP reloads.
import { parseArgs } from 'node:util';
import { runUntilStopped } from './run-until-stopped.js';
import { parseHostPort } from '../common/host-port.js';
import { startDnsService } from '../dns/server/service.js';

export async function runDns(args: string[]): Promise<number | undefined> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      listen: { type: 'string', multiple: true, short: 'l' },
      http: { type: 'string' },
    },
    strict: true,
  });
  if (!values.config) {
    process.stderr.write('meridian dns: --config FILE is required\n');
    return 2;
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
  });
  return runUntilStopped(service);
}
