// What the server answers for the raw front (server.ts, frontHandler): a plain request the front
// could not answer from storage runs the pipeline without node:http's request and response, and
// an answer that is the stored response is written as the front writes hits. A client must not
// be able to tell: the miss carries the fields the next hit carries, what the upstream said to
// the requester alone (Set-Cookie, its own Cache-Status) still reaches it, HEAD gets no body,
// requests pipelined behind a miss are answered in order, a request the pipeline refuses gets
// its error on a connection that goes on, and a client that leaves mid-miss costs nothing but
// its answer.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { withEdgeAndOrigin } from '../test/helpers/edge-and-origin.js';
import { reply, type TestOrigin } from '../test/helpers/test-origin.js';
import type { TestEdge } from '../test/helpers/test-edge.js';
import { sleep, waitFor } from '../test/helpers/wait-for.js';
import { WHOLE_BODY_BYTES } from './pipeline/whole-body.js';

let origin: TestOrigin;
let edge: TestEdge;

withEdgeAndOrigin((o, e) => ((origin = o), (edge = e)));

interface Answer {
  readonly status: number;
  /** [name, value] in the order written, names as written. */
  readonly fields: [string, string][];
  readonly body: string;
}

const field = (a: Answer, name: string): string | undefined => a.fields.find(([n]) => n.toLowerCase() === name)?.[1];

/** Fields other than those each answer has its own value of. */
const lasting = (a: Answer): [string, string][] =>
  a.fields.filter(([n]) => !['age', 'cache-status', 'date'].includes(n.toLowerCase()));

/** Writes `requests` at once on one connection and reads `heads.length` answers (`true`: to a HEAD). */
async function exchange(requests: string, heads: boolean[]): Promise<Answer[]> {
  const socket = connect(Number(new URL(edge.url).port), '127.0.0.1');
  try {
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
    socket.write(requests);
    const answers: Answer[] = [];
    await waitFor(
      () => {
        while (answers.length < heads.length) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return false;
          const [statusLine, ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
          const fields = lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]) as [
            string,
            string,
          ][];
          const declared = fields.find(([n]) => /^content-length$/i.test(n))?.[1];
          expect(declared, 'every answer here declares its length').toBeDefined();
          const length = heads[answers.length] ? 0 : Number(declared);
          if (buf.length < end + 4 + length) return false;
          answers.push({
            status: Number(statusLine!.split(' ')[1]),
            fields,
            body: buf.subarray(end + 4, end + 4 + length).toString('latin1'),
          });
          buf = buf.subarray(end + 4 + length);
        }
        return true;
      },
      5000,
      `${heads.length} answer(s)`,
    );
    expect(buf.length, 'nothing beyond the answers').toBe(0);
    return answers;
  } finally {
    socket.destroy();
  }
}

/** An origin answer with its Content-Length, so the edge reads it whole (whole-body.ts) rather than streaming it. */
const sized = (headers: Record<string, string>, body: string) =>
  reply(200, { ...headers, 'content-length': String(Buffer.byteLength(body)) }, body);

const get = (path: string, method = 'GET'): string => `${method} ${path} HTTP/1.1\r\nHost: www.test\r\n\r\n`;

describe('answers to plain requests the front does not answer from storage', () => {
  it('a miss carries the fields the next hit carries, in the same order', async () => {
    origin.route(
      '/same',
      sized({ 'cache-control': 'public, max-age=60', 'content-type': 'text/plain', etag: '"v1"' }, 'same body'),
    );
    const [miss] = await exchange(get('/same'), [false]);
    const [hit] = await exchange(get('/same'), [false]);
    expect(miss!.status).toBe(200);
    expect(miss!.body).toBe('same body');
    expect(field(miss!, 'cache-status')).toMatch(/^meridian-fra; fwd=uri-miss; fwd-status=200; stored; ttl=60$/);
    expect(field(hit!, 'cache-status')).toMatch(/^meridian-fra; hit; ttl=/);
    expect(lasting(miss!)).toEqual(lasting(hit!));
    expect(field(miss!, 'age')).toBe('0');
    expect(field(miss!, 'connection')).toBe('keep-alive');
    expect(origin.count('/same')).toBe(1);
  });

  it('what the upstream said to the requester alone still reaches it, and only it', async () => {
    origin.route(
      '/cookie',
      sized({ 'cache-control': 'public, max-age=60', 'set-cookie': 'session=abc', 'cache-status': 'shield; hit' }, 'c'),
    );
    const [miss] = await exchange(get('/cookie'), [false]);
    expect(field(miss!, 'set-cookie')).toBe('session=abc');
    expect(field(miss!, 'cache-status')).toMatch(/^shield; hit, meridian-fra; fwd=uri-miss; fwd-status=200; stored/);
    const [hit] = await exchange(get('/cookie'), [false]);
    expect(field(hit!, 'set-cookie')).toBeUndefined();
    expect(field(hit!, 'cache-status')).toMatch(/^meridian-fra; hit/);
    expect(origin.count('/cookie')).toBe(1);
  });

  it('a HEAD miss gets the head of the stored response and no body; the GET after it is a hit', async () => {
    origin.route('/head', sized({ 'cache-control': 'public, max-age=60' }, 'head body'));
    const [head, hit] = await exchange(get('/head', 'HEAD') + get('/head'), [true, false]);
    expect(head!.status).toBe(200);
    expect(field(head!, 'content-length')).toBe('9');
    expect(field(head!, 'cache-status')).toMatch(/fwd=uri-miss; fwd-status=200; stored/);
    expect(hit!.body).toBe('head body');
    expect(field(hit!, 'cache-status')).toMatch(/; hit;/);
    expect(origin.count('/head')).toBe(1);
  });

  it('requests pipelined behind a miss are answered after it, in order', async () => {
    origin.route('/slow-a', async (_req, res) => {
      await sleep(50);
      res.writeHead(200, { 'cache-control': 'public, max-age=60', 'content-length': '1' }).end('a');
    });
    origin.route('/b', sized({ 'cache-control': 'public, max-age=60' }, 'b'));
    const answers = await exchange(get('/slow-a') + get('/b') + get('/slow-a'), [false, false, false]);
    expect(answers.map((a) => a.body)).toEqual(['a', 'b', 'a']);
    expect(answers.map((a) => field(a, 'cache-status')?.split('; ')[1])).toEqual([
      'fwd=uri-miss',
      'fwd=uri-miss',
      'hit',
    ]);
  });

  it('a request the pipeline refuses gets its error, and the connection goes on', async () => {
    origin.route('/after-error', sized({ 'cache-control': 'public, max-age=60' }, 'fine'));
    const [badHost, loop, after] = await exchange(
      'GET /x HTTP/1.1\r\nHost: bad host!\r\n\r\n' +
        'GET /x HTTP/1.1\r\nHost: www.test\r\nVia: 1.1 meridian-fra\r\n\r\n' +
        get('/after-error'),
      [false, false, false],
    );
    expect(badHost!.status).toBe(400);
    expect(field(badHost!, 'cache-status')).toBe('meridian-fra; detail=bad-request');
    expect(loop!.status).toBe(508);
    expect([after!.status, after!.body]).toEqual([200, 'fine']);
  });

  it('a client that leaves during a miss costs only its answer: the object is stored, the connection closed', async () => {
    origin.route('/left', async (_req, res) => {
      await sleep(80);
      res.writeHead(200, { 'cache-control': 'public, max-age=60', 'content-length': '4' }).end('left');
    });
    const socket: Socket = connect(Number(new URL(edge.url).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(get('/left'));
    await waitFor(() => origin.count('/left') === 1, 5000, 'the origin to be asked');
    socket.destroy();
    await sleep(150);
    const [hit] = await exchange(get('/left'), [false]);
    expect(hit!.body).toBe('left');
    expect(field(hit!, 'cache-status')).toMatch(/; hit;/);
    expect(edge.lines.filter((l) => l.level === 50)).toEqual([]);
  });

  it('a large miss carries the fields the next hit carries too', async () => {
    const body = 'L'.repeat(WHOLE_BODY_BYTES * 3);
    origin.route('/large', sized({ 'cache-control': 'public, max-age=60', 'content-type': 'text/plain' }, body));
    const [miss] = await exchange(get('/large'), [false]);
    const [hit] = await exchange(get('/large'), [false]);
    expect(miss!.body === body).toBe(true);
    expect(field(miss!, 'cache-status')).toMatch(/^meridian-fra; fwd=uri-miss; fwd-status=200; stored; ttl=60$/);
    expect(lasting(miss!)).toEqual(lasting(hit!));
    expect(origin.count('/large')).toBe(1);
  });

  it('a large miss that is slower than the wait streams: the client has its start before the origin sends the rest', async () => {
    const first = 'a'.repeat(WHOLE_BODY_BYTES);
    const rest = 'b'.repeat(WHOLE_BODY_BYTES);
    let sendRest!: () => void;
    const restAllowed = new Promise<void>((resolve) => (sendRest = resolve));
    origin.route('/slow-large', async (_req, res) => {
      res.writeHead(200, { 'cache-control': 'public, max-age=60', 'content-length': String(first.length * 2) });
      res.write(first);
      await restAllowed;
      res.end(rest);
    });
    const socket: Socket = connect(Number(new URL(edge.url).port), '127.0.0.1');
    try {
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
      socket.write(get('/slow-large'));
      // Held here until the edge passes on what it has: an edge that waited for the whole body
      // would never get the rest.
      await waitFor(() => got.includes('\r\n\r\na'), 5000, 'the head and the first bytes');
      expect(got).toMatch(/^HTTP\/1.1 200 /);
      sendRest();
      await waitFor(() => got.endsWith(rest), 5000, 'the rest of the body');
      expect(got.slice(got.indexOf('\r\n\r\n') + 4)).toBe(first + rest);
    } finally {
      sendRest();
      socket.destroy();
    }
    // Stored as it streamed: the next request is a hit.
    const [hit] = await exchange(get('/slow-large'), [false]);
    expect(hit!.body === first + rest).toBe(true);
    expect(field(hit!, 'cache-status')).toMatch(/; hit;/);
    expect(origin.count('/slow-large')).toBe(1);
  });
});
