// Plain HTTP clients for tests: no automatic decompression, caching or redirects, so a test sees
// exactly what the edge or origin sent.
import { request as httpRequest } from 'node:http';
import { Agent, request as undiciRequest } from 'undici';

export interface TestResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  header(name: string): string | undefined;
}

// Pooled and roomy: load tests send thousands of requests through it.
const agent = new Agent({ connections: 2048, keepAliveTimeout: 10_000 });

/** One request through a shared connection pool (undici). */
export async function request(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
  body?: string,
): Promise<TestResponse> {
  const res = await undiciRequest(url, { method: method as 'GET', headers, body: body ?? null, dispatcher: agent });
  const text = await res.body.text();
  const h = res.headers as Record<string, string | string[] | undefined>;
  return {
    status: res.statusCode,
    headers: h,
    text,
    header: (name) => {
      const v = h[name.toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : v;
    },
  };
}

export interface FreshResponse {
  readonly status: number;
  readonly text: string;
  readonly cacheStatus: string;
}

/**
 * One request on its own connection (Host: www.test), so a multi-worker edge's round-robin
 * hands consecutive requests to different workers.
 */
export function freshRequest(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<FreshResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method, agent: false, headers: { host: 'www.test', connection: 'close', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text, cacheStatus: String(res.headers['cache-status'] ?? '') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
