// Cross-checks from the servers' own counters after the load: did they count hits, and only hits?
import http from 'node:http';
import { HOST, run } from '../lib.mjs';
import { REQUEST_TIMEOUT_MS } from './http.mjs';

/** Meridian's meridian_edge_requests_total by `cache` label, from its control port's /metrics; { error } if unreadable. */
export async function meridianCounters(controlPort) {
  try {
    const text = await new Promise((res, rej) => {
      const req = http.get({ host: HOST, port: controlPort, path: '/metrics', agent: false }, (r) => {
        let b = '';
        r.setEncoding('utf8').on('data', (d) => (b += d));
        r.on('end', () => res(b));
        r.on('error', rej);
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('metrics timed out')));
      req.on('error', rej);
    });
    const counts = {};
    for (const m of text.matchAll(/^meridian_edge_requests_total\{[^}]*cache="(\w+)"[^}]*\}\s+([\d.e+]+)$/gm))
      counts[m[1]] = Number(m[2]);
    return counts;
  } catch (e) {
    return { error: e.message };
  }
}

/** Varnish's request, hit, miss, backend and thread counters from varnishstat; { error } if unreadable. */
export async function varnishCounters(dir) {
  const fields = ['MAIN.client_req', 'MAIN.cache_hit', 'MAIN.cache_miss', 'MAIN.backend_req', 'MAIN.threads'];
  const r = await run('varnishstat', ['-n', dir, '-1', ...fields.flatMap((f) => ['-f', f])], {
    timeoutMs: 10_000,
  }).catch((e) => ({ code: -1, out: '', err: e.message }));
  if (r.code !== 0) return { error: (r.err || `exit ${r.code}`).trim() };
  const counts = {};
  for (const m of r.out.matchAll(/^MAIN\.(\w+)\s+(\d+)/gm)) counts[m[1]] = Number(m[2]);
  return counts;
}
