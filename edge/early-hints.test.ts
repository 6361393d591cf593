// Issue 18 item 5, end to end: a 103 Early Hints from the origin reaches the client before the
// final response (RFC 9110 §15.2, RFC 8297) and is never stored: a hit sends none, and its
// fields never join the stored response.
import { connect } from 'node:net';
import { request as undiciRequest } from 'undici';
import { describe, expect, it } from 'vitest';
import { withEdgeAndOrigin } from '../test/helpers/edge-and-origin.js';
import type { TestOrigin } from '../test/helpers/test-origin.js';
import type { TestEdge } from '../test/helpers/test-edge.js';
import { sleep } from '../test/helpers/wait-for.js';

let origin: TestOrigin;
let edge: TestEdge;

withEdgeAndOrigin((o, e) => ((origin = o), (edge = e)));

const LINK = '</style.css>; rel=preload; as=style';

/** An origin answer that hints first, then answers after a pause (as one that renders would). */
function hinting(path: string, hints: Record<string, string | string[]>, cacheControl = 'max-age=600'): void {
  origin.route(path, (_req, res) => {
    res.writeEarlyHints(hints);
    setTimeout(() => void res.writeHead(200, { 'cache-control': cacheControl, 'content-length': '4' }).end('page'), 30);
  });
}

interface Seen {
  readonly interim: { statusCode: number; headers: Record<string, string | string[]> }[];
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

async function get(path: string): Promise<Seen> {
  const interim: Seen['interim'] = [];
  const res = await undiciRequest(`${edge.url}${path}`, {
    headers: { host: 'www.test' },
    onInfo: (info) => interim.push(info),
  });
  return { interim, status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

describe('103 Early Hints', () => {
  it('is forwarded on a miss, with our Via, and never stored', async () => {
    hinting('/hinted', { link: LINK, 'x-hint': 'h', connection: 'x-hop', 'x-hop': 'gone' });
    const miss = await get('/hinted');
    expect(miss.interim).toHaveLength(1);
    expect(miss.interim[0]!.statusCode).toBe(103);
    expect(miss.interim[0]!.headers.link).toBe(LINK);
    expect(miss.interim[0]!.headers['x-hint']).toBe('h');
    expect(miss.interim[0]!.headers['x-hop']).toBeUndefined();
    expect(miss.interim[0]!.headers.via).toBe('1.1 meridian-fra');
    expect([miss.status, miss.text]).toEqual([200, 'page']);
    expect(miss.headers.link).toBeUndefined();
    expect(miss.headers['cache-status']).toMatch(/fwd=uri-miss; fwd-status=200; stored/);

    await sleep(15);
    const hit = await get('/hinted');
    expect(hit.headers['cache-status']).toMatch(/; hit;/);
    expect(hit.interim).toEqual([]);
    expect(hit.headers.link).toBeUndefined();
    expect(hit.headers['x-hint']).toBeUndefined();
    expect(origin.count('/hinted')).toBe(1);
  });

  it('reaches a client of a request that is never stored too', async () => {
    hinting('/hinted-no-store', { link: [LINK, '</app.js>; rel=preload; as=script'] }, 'no-store');
    const r = await get('/hinted-no-store');
    expect(r.interim.map((i) => i.statusCode)).toEqual([103]);
    expect(r.interim[0]!.headers.link).toBe(`${LINK}, </app.js>; rel=preload; as=script`);
    expect(r.text).toBe('page');
  });

  it('is not sent to an HTTP/1.0 client (RFC 9110 §15.2)', async () => {
    hinting('/hinted-10', { link: LINK }, 'no-store');
    const socket = connect(Number(new URL(edge.url).port), '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.write('GET /hinted-10 HTTP/1.0\r\nHost: www.test\r\n\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).not.toContain('103');
  });
});
