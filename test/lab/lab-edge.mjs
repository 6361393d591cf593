#!/usr/bin/env node
// The lab's small edge, one per PoP on the anycast edge addresses: enough to be checked by the
// announcer (GET /healthz), to say which PoP served a request (`x-served-by` and the body, and
// with --pop Cache-Status `meridian-<pop>` as a real edge names it: what the probers' catchment
// reads), and to serve a long download (GET /stream?seconds=N: 64 KiB every 100 ms for N
// seconds, then `x-bytes`-many bytes in all, so a client can tell a cut one).
// One process serves every --listen (the IPv4 and the IPv6 anycast address), so killing it
// takes both down together, as with a real edge.
//
//   node test/lab/lab-edge.mjs --listen 198.51.100.180:80 --listen [2001:db8:180::180]:80 --name pop-a [--pop a]
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { listen: { type: 'string', multiple: true }, name: { type: 'string' }, pop: { type: 'string' } },
});
/** HOST:PORT or [IPv6]:PORT. */
const listens = (values.listen ?? []).map((l) => /^\[?([^\]]+?)\]?:(\d+)$/.exec(l));
if (listens.length === 0 || listens.some((m) => !m) || !values.name) {
  process.stderr.write(
    'usage: node test/lab/lab-edge.mjs --listen HOST:PORT [--listen [IPv6]:PORT] --name NAME [--pop POP]\n',
  );
  process.exit(2);
}
const CHUNK = Buffer.alloc(64 * 1024, 'x');
const MAX_SECONDS = 120;

function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://edge');
  res.setHeader('x-served-by', values.name);
  if (values.pop) res.setHeader('cache-status', `meridian-${values.pop}; detail=lab`);
  if (url.pathname === '/healthz') return res.end('ok\n');
  if (url.pathname === '/stream') {
    const seconds = Math.min(MAX_SECONDS, Math.max(0, Number(url.searchParams.get('seconds')) || 1));
    const chunks = Math.round(seconds * 10);
    res.setHeader('content-length', String(chunks * CHUNK.length));
    let sent = 0;
    const timer = setInterval(() => {
      if (sent === chunks || res.destroyed) {
        clearInterval(timer);
        return res.end();
      }
      res.write(CHUNK);
      sent++;
    }, 100);
    res.once('close', () => clearInterval(timer));
    return;
  }
  res.end(`served by ${values.name}\n`);
}

// A server per address (one server listens once).
const servers = await Promise.all(
  listens.map(([, host, port]) => {
    const server = createServer(handle);
    server.on('clientError', (_err, socket) => socket.destroy());
    return new Promise((resolve) => server.listen(Number(port), host, () => resolve(server)));
  }),
);
process.stdout.write(`lab edge ${values.name} listening on ${values.listen.join(', ')}\n`);
const closeAll = () => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
for (const sig of ['SIGTERM', 'SIGINT']) process.once(sig, () => void closeAll().then(() => process.exit(0)));
