// The PoPs' edges: a tiny HTTP server on :80 in each PoP's namespace that answers the probers'
// GET /healthz with 200 and counts them (GET /stats), so that the bench can kill it, restart it and
// see how often it is probed. There is no cache: the failover bench measures health, not the edge.
import { IP, POPS, startIn } from './netns.mjs';

const EDGE_JS = `
const http = require('node:http');
const [host, name] = process.argv.slice(1);
let healthz = 0;
http.createServer((req, res) => {
  if (req.url === '/stats') return res.writeHead(200, { connection: 'close', 'content-type': 'application/json' }).end(JSON.stringify({ healthz }));
  if (req.url === '/healthz') healthz++;
  res.writeHead(req.url === '/healthz' ? 200 : 404, { connection: 'close' }).end('ok\\n');
})
  .listen(80, host, () => console.log('edge ' + name + ' listening'));
process.once('SIGTERM', () => process.exit(0));`;

/** The running edge of each PoP (startIn()'s child), by PoP id. */
export const edges = {};
/** Starts PoP `pop`'s edge in its namespace; resolves once it listens. */
export const startEdgeService = async (pop) =>
  (edges[pop] = await startIn(pop, ['-e', EDGE_JS, IP[pop], pop], /edge \w+ listening/));
/** Health checks every PoP's edge has answered since it started. */
export async function edgeStats() {
  let n = 0;
  for (const pop of POPS) {
    const r = await fetch(`http://${IP[pop]}/stats`, { signal: AbortSignal.timeout(2000) });
    n += (await r.json()).healthz;
  }
  return n;
}
