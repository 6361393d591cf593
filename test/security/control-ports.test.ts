// Issue 12, item 6: a web page in the operator's browser must not be able to call a control
// port. The real `meridian edge` and `meridian dns` processes (built CLI: `npm run build`
// first), attacked with the requests a browser would send for a hostile page — a "simple"
// cross-site POST (text/plain, no preflight) and a DNS-rebinding page (its own name in Host,
// same-origin in its own eyes) — while the operator's own JSON calls keep working.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshRequest } from '../helpers/http-client.js';
import { spawnEdge, type SpawnedEdge } from '../helpers/spawned-edge.js';
import { startOrigin, type TestOrigin } from '../helpers/test-origin.js';
import { waitFor } from '../helpers/wait-for.js';
import { startServer, type RunningServer } from '../helpers/spawn-dns.js';

const EVIL = 'https://evil.example';
const ALL = '{"all":true}';

interface Answer {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

/** Exactly these headers, Host included (what a browser sends is not what fetch in node sends). */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, setHost: false, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The Host a browser sends for `base`: its host:port. */
const hostOf = (base: string): string => new URL(base).host;
/** What a page at evil.example rebound to 127.0.0.1 sends to the control port's port. */
const rebound = (base: string): string => `evil.example:${new URL(base).port}`;

describe('the edge control port', () => {
  let origin: TestOrigin;
  let edge: SpawnedEdge;
  const cached = async (path: string): Promise<boolean> =>
    /; hit;/.test((await freshRequest(edge.url + path)).cacheStatus);
  const warm = async (path: string): Promise<void> => {
    await freshRequest(edge.url + path);
    await waitFor(() => cached(path), 5000, `${path} to be cached`);
  };

  beforeAll(async () => {
    origin = await startOrigin(
      (req, res) => void res.writeHead(200, { 'cache-control': 'max-age=600' }).end(`body of ${req.url}`),
    );
    edge = await spawnEdge(origin.url, 1);
  });
  afterAll(async () => {
    await edge?.stop();
    await origin?.stop();
  });

  it('does not purge for a text/plain POST of {"all":true}, from a page or not', async () => {
    await warm('/obj');
    const host = hostOf(edge.controlUrl);
    // A page's `fetch(url, {method: 'POST', mode: 'no-cors', body})`, as the browser sends it.
    const page = await send(
      edge.controlUrl,
      'POST',
      '/v1/purge',
      { host, 'content-type': 'text/plain;charset=UTF-8', origin: EVIL, 'sec-fetch-site': 'cross-site' },
      ALL,
    );
    expect(page.status).toBe(403);
    // The same without Origin and Sec-Fetch-Site (an older browser, a form relay): still refused.
    const plain = await send(
      edge.controlUrl,
      'POST',
      '/v1/purge',
      { host, 'content-type': 'text/plain;charset=UTF-8' },
      ALL,
    );
    expect(plain.status).toBe(415);
    expect(plain.json.error).toContain('application/json');
    expect(await cached('/obj')).toBe(true);
  });

  it('refuses a rebinding page, on GET and POST', async () => {
    await warm('/rebound');
    const host = rebound(edge.controlUrl);
    const status = await send(edge.controlUrl, 'GET', '/v1/status', { host });
    expect(status.status).toBe(403);
    expect(status.json.error).toContain(`Host '${host}'`);
    expect(status.json.error).toContain('edge.control.allowedHosts');
    // To the rebound page its own origin is same-origin, and it may send JSON.
    const post = await send(
      edge.controlUrl,
      'POST',
      '/v1/purge',
      { host, origin: `http://${host}`, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' },
      ALL,
    );
    expect(post.status).toBe(403);
    expect(await cached('/rebound')).toBe(true);
  });

  it("still purges for the operator's JSON call", async () => {
    await warm('/mine');
    const res = await fetch(`${edge.controlUrl}/v1/purge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `http://www.test/mine` }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ purged: 1, soft: false });
    expect(await cached('/mine')).toBe(false);
  });
});

describe('the DNS server control port', () => {
  let dns: RunningServer;
  const CONFIG = `
dns:
  control: { allowedHosts: [dns.internal] }
pops:
  - { id: tokyo, location: { lat: 35.68, lon: 139.69 }, ipv4: [192.0.2.10] }
  - { id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [192.0.2.30] }
pools:
  - { id: p, members: [tokyo, fra] }
zones:
  - name: example.test
    soa: { mname: ns1.example.test., rname: admin.example.test. }
    ns: [ns1.example.test.]
    records: [{ name: ns1, type: A, value: 192.0.2.1 }]
    routes: [{ name: www, pool: p, ttl: 10 }]
`;
  const override = async (): Promise<unknown> => {
    const pops = (await (await fetch(`${dns.controlUrl}/v1/health`)).json()) as {
      pops: { pop: string; override: unknown }[];
    };
    return pops.pops.find((p) => p.pop === 'tokyo')!.override;
  };
  const lastReload = async (): Promise<unknown> =>
    ((await (await fetch(`${dns.controlUrl}/v1/status`)).json()) as { lastReload: { at: string } }).lastReload.at;
  const DRAIN = JSON.stringify({ pop: 'tokyo', action: 'drain' });

  beforeAll(async () => {
    dns = await startServer(CONFIG);
  });
  afterAll(async () => {
    await dns?.stop();
  });

  it('refuses a cross-site POST to override and reload', async () => {
    const host = hostOf(dns.controlUrl);
    const reloadedAt = await lastReload();
    const pages: Record<string, string>[] = [{ origin: EVIL }, { 'sec-fetch-site': 'cross-site' }, { origin: 'null' }];
    for (const headers of pages) {
      const drain = await send(
        dns.controlUrl,
        'POST',
        '/v1/pops/override',
        { host, 'content-type': 'application/json', ...headers },
        DRAIN,
      );
      expect(drain.status).toBe(403);
      // A form's bodiless POST carries no content type to refuse; its Origin is enough.
      expect((await send(dns.controlUrl, 'POST', '/v1/reload', { host, ...headers })).status).toBe(403);
    }
    expect(
      (await send(dns.controlUrl, 'POST', '/v1/pops/override', { host, 'content-type': 'text/plain' }, DRAIN)).status,
    ).toBe(415);
    expect(await override()).toBeNull();
    expect(await lastReload()).toBe(reloadedAt);
  });

  it('refuses a rebinding Host, and answers to a name in dns.control.allowedHosts', async () => {
    const host = rebound(dns.controlUrl);
    const status = await send(dns.controlUrl, 'GET', '/v1/status', { host });
    expect(status.status).toBe(403);
    expect(status.json.error).toContain('add it to dns.control.allowedHosts');
    const drain = await send(
      dns.controlUrl,
      'POST',
      '/v1/pops/override',
      { host, origin: `http://${host}`, 'content-type': 'application/json' },
      DRAIN,
    );
    expect(drain.status).toBe(403);
    expect(await override()).toBeNull();

    const named = `dns.internal:${new URL(dns.controlUrl).port}`;
    expect((await send(dns.controlUrl, 'GET', '/v1/status', { host: named })).status).toBe(200);
  });

  it("still takes the operator's calls: a JSON override and a bodiless reload", async () => {
    const reloadedAt = await lastReload();
    // `meridian pop drain tokyo` and README's `curl -X POST http://127.0.0.1:8053/v1/reload`.
    const drain = await fetch(`${dns.controlUrl}/v1/pops/override`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: DRAIN,
    });
    expect(drain.status).toBe(200);
    expect(await override()).toBe('drain');
    const reload = await send(dns.controlUrl, 'POST', '/v1/reload', {
      host: hostOf(dns.controlUrl),
      'content-length': '0',
      accept: '*/*',
    });
    expect(reload.status).toBe(200);
    expect(await lastReload()).not.toBe(reloadedAt);
  });
});
