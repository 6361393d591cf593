// `meridian origin`: the demo origin (a small shop with assets, pages, an API and a cart, each
// with the cache headers a real site sends) in the foreground until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { runUntilStopped } from './run-until-stopped.js';
import { parseHostPort, type HostPort } from '../common/host-port.js';
import { createLogger } from '../common/log.js';
import { startOrigin } from '../origin/server.js';
import { ASSETS } from '../origin/site.js';

const USAGE = 'usage: meridian origin [--listen HOST:PORT]   (default 127.0.0.1:8081)\n';

export async function runOrigin(args: string[]): Promise<number | undefined> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { listen: { type: 'string', short: 'l', default: '127.0.0.1:8081' } }, strict: true }));
  } catch (e) {
    process.stderr.write(`meridian origin: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  let listen: HostPort;
  try {
    listen = parseHostPort(values.listen);
  } catch (e) {
    process.stderr.write(`meridian origin: --listen: ${(e as Error).message}\n`);
    return 2;
  }
  const log = createLogger({ service: 'origin' });
  const origin = await startOrigin({ listen, log });
  log.info({ url: origin.url, assets: ASSETS.map((a) => a.path), pages: ['/', '/about'], api: ['/api/products', '/api/products/42', '/api/cart'] }, 'meridian origin serving');
  return runUntilStopped(origin);
}
