// `meridian origin`: the demo origin (a small shop with assets, pages, an API and a cart, each
// with the cache headers a real site sends) in the foreground until SIGINT/SIGTERM.
import { runUntilStopped } from './run-until-stopped.js';
import { exitFor, hostPortFlag, parseCommandLine, usageError } from './flags.js';
import type { HostPort } from '../common/host-port.js';
import { createLogger } from '../common/log.js';
import { startOrigin } from '../origin/server.js';
import { ASSETS } from '../origin/site.js';

const DEFAULT_LISTEN = '127.0.0.1:8081';

export const ORIGIN_COMMAND = {
  name: 'origin',
  usage: `usage: meridian origin [--listen HOST:PORT]   (default ${DEFAULT_LISTEN})\n`,
  flags: { listen: { type: 'string', short: 'l' } },
} as const;

export async function runOrigin(args: string[]): Promise<number | undefined> {
  const line = parseCommandLine(ORIGIN_COMMAND, args);
  if (line.kind !== 'run') return exitFor(ORIGIN_COMMAND, line);
  let listen: HostPort;
  try {
    listen = hostPortFlag('listen', line.flags.listen ?? DEFAULT_LISTEN);
  } catch (e) {
    return usageError(ORIGIN_COMMAND, (e as Error).message);
  }
  const log = createLogger({ service: 'origin' });
  const origin = await startOrigin({ listen, log });
  log.info(
    {
      url: origin.url,
      assets: ASSETS.map((a) => a.path),
      pages: ['/', '/about'],
      api: ['/api/products', '/api/products/42', '/api/cart'],
    },
    'meridian origin serving',
  );
  return runUntilStopped(origin);
}
