// HTTP redirect steering: the HTTP client's own address picks the PoP, by the same chain as DNS.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../helpers/spawn-dns.js';

const CONFIG = `
dns:
  redirect: { listen: "127.0.0.1:0", pool: p, ttl: 20 }
pops:
  - { id: tokyo, location: { lat: 35.68, lon: 139.69 }, ipv4: [192.0.2.10], edge: "http://edge-tokyo.example.test:8080/base/" }
  - { id: nyc, location: { lat: 40.71, lon: -74.01 }, ipv4: [192.0.2.20], edge: "http://edge-nyc.example.test" }
pools:
  - { id: p, members: [nyc, tokyo] }
geo:
  nets:
    - { network: 127.0.0.2/32, location: { lat: 34.69, lon: 135.50 } }
    - { network: 127.0.0.3/32, location: { lat: 42.36, lon: -71.06 } }
zones:
  - name: example.test
    soa: { mname: ns1.example.test., rname: admin.example.test. }
    ns: [ns1.example.test.]
    records: [{ name: ns1, type: A, value: 192.0.2.1 }]
`;

function get(
  port: number,
  path: string,
  localAddress: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress, method }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP redirect steering', () => {
  let server: RunningServer;
  let port: number;
  beforeAll(async () => {
    server = await startServer(CONFIG);
    const line = server.stdout.find((l) => l.includes('"redirect"'));
    port = Number(/127\.0\.0\.1:(\d+)\/r\//.exec(line ?? '')?.[1]);
    expect(port).toBeGreaterThan(0);
  });
  afterAll(() => server?.stop());

  it('redirects a client in Osaka to the Tokyo edge, keeping path and query', async () => {
    const r = await get(port, '/r/video/a.mp4?x=1', '127.0.0.2');
    expect(r.status).toBe(302);
    expect(r.headers['location']).toBe('http://edge-tokyo.example.test:8080/base/video/a.mp4?x=1');
    expect(r.headers['x-meridian-pop']).toBe('tokyo');
    expect(r.headers['cache-control']).toBe('private, max-age=20');
  });

  it('redirects a client in Boston to the New York edge', async () => {
    const r = await get(port, '/r/index.html', '127.0.0.3');
    expect(r.headers['location']).toBe('http://edge-nyc.example.test/index.html');
  });

  it('answers HEAD too, and refuses other methods and paths with a reason', async () => {
    expect((await get(port, '/r/x', '127.0.0.2', 'HEAD')).status).toBe(302);
    expect((await get(port, '/r/x', '127.0.0.2', 'POST')).status).toBe(405);
    expect((await get(port, '/elsewhere', '127.0.0.2')).status).toBe(404);
  });
});
