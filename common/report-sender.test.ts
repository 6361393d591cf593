// The report sender against servers that are slow, wrong or hostile. What each report kind
// carries is tested beside it (prober/reporter.test.ts, anycast/reporter.test.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { capturedLog } from '../test/helpers/captured-log.js';
import { localHttp, type LocalHttp } from '../test/helpers/local-http.js';
import { sleep, waitFor } from '../test/helpers/wait-for.js';
import { startReportSender, type ReportSender, type ReportSenderOptions } from './report-sender.js';

const open: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.stop()));
});

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/** A control port whose every request body is recorded and answered by `handler`. */
async function server(handler: Handler): Promise<LocalHttp & { bodies: string[] }> {
  const bodies: string[] = [];
  const s = await localHttp((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      bodies.push(text);
      handler(req, text, res);
    });
  });
  open.push(s);
  return Object.assign(s, { bodies });
}

function sender<R>(
  opts: Partial<ReportSenderOptions<R>> & Pick<ReportSenderOptions<R>, 'reportTo' | 'readReply'>,
): ReportSender {
  let n = 0;
  const s = startReportSender<R>({
    what: 'test',
    path: '/v1/reports',
    timeout: 1000,
    build: () => JSON.stringify({ n: ++n }),
    log: capturedLog().log,
    ...opts,
  });
  open.push({ stop: () => s.stop() });
  return s;
}

describe('startReportSender', () => {
  it('keeps one delivery in flight per server, and sends a change that came meanwhile as soon as it ends', async () => {
    const held: ServerResponse[] = [];
    const slow = await server((_req, _body, res) => held.push(res));
    const s = sender({ reportTo: [slow.url], readReply: () => null });
    s.send();
    await waitFor(() => slow.bodies.length === 1, 2000, 'first report');
    s.send(); // periodic: skipped, the next one supersedes it
    s.send(true); // a change: must follow
    await sleep(50);
    expect(slow.bodies).toEqual(['{"n":1}']);
    held.splice(0).forEach((r) => r.end('{}'));
    await waitFor(() => slow.bodies.length === 2, 2000, 'the change');
    // The change is a fresh report, built when it goes out.
    expect(slow.bodies[1]).toBe('{"n":2}');
    held.splice(0).forEach((r) => r.end('{}'));
  });

  it('stop(true) lets the last word arrive: the delivery in flight and a change queued behind it', async () => {
    const held: ServerResponse[] = [];
    const slow = await server((_req, _body, res) => held.push(res));
    let state = 'announced';
    const s = startReportSender({
      what: 'test',
      path: '/v1/reports',
      reportTo: [slow.url],
      timeout: 2000,
      build: () => state,
      readReply: () => null,
      log: capturedLog().log,
    });
    s.send();
    await waitFor(() => slow.bodies.length === 1, 2000, 'first report');
    state = 'withdrawn';
    s.send(true);
    const stopped = s.stop(true);
    held.splice(0).forEach((r) => r.end('{}'));
    await waitFor(() => held.length === 1, 2000, 'the last word');
    held[0]!.end('{}');
    await stopped;
    expect(slow.bodies).toEqual(['announced', 'withdrawn']);
    s.send(true); // after stop: nothing
    await sleep(50);
    expect(slow.bodies).toHaveLength(2);
  });

  it('reads at most 4 KiB of a reply and 300 characters of an error, whatever the server sends', async () => {
    const huge = 'x'.repeat(1024 * 1024);
    const big = await server((_req, _body, res) => res.writeHead(200).end(huge));
    const refusing = await server((_req, _body, res) => res.writeHead(403).end(`forbidden ${huge}`));
    const seen: number[] = [];
    const s = sender({
      reportTo: [big.url, refusing.url],
      readReply: (text) => (seen.push(text.length), null),
    });
    s.send();
    await waitFor(() => s.status().every((d) => d.lastDeliveredAt !== null || d.lastError !== null), 2000, 'both');
    expect(seen).toEqual([4096]);
    const [ok, refused] = s.status();
    expect(ok!.lastError).toBeNull();
    expect(refused!.lastError).toMatch(/^HTTP 403: forbidden x+$/);
    expect(refused!.lastError!.length).toBeLessThanOrEqual('HTTP 403: '.length + 300);
  });

  it('a reply the caller rejects is a failed delivery with its reason; the log says so once per window', async () => {
    const wrong = await server((_req, _body, res) => res.writeHead(200).end('<html>not a control port</html>'));
    const { log, lines } = capturedLog();
    const results: (string | undefined)[] = [];
    const s = sender({
      reportTo: [wrong.url],
      log,
      readReply: () => {
        throw new Error('the reply is not a report reply');
      },
      onResult: (_url, reply) => results.push(reply),
    });
    s.send();
    await waitFor(() => results.length === 1, 2000, 'first attempt');
    s.send();
    await waitFor(() => results.length === 2, 2000, 'second attempt');
    expect(results).toEqual([undefined, undefined]);
    expect(s.status()[0]!.lastError).toBe('the reply is not a report reply');
    expect(lines.filter((l) => l.msg === 'test report not delivered')).toHaveLength(1);
  });

  it('sends the bearer token, and a server that never answers costs one timeout, not a stall', async () => {
    const auth: (string | undefined)[] = [];
    const ok = await server((req, _body, res) => (auth.push(req.headers.authorization), res.end('{}')));
    const silent = await server(() => {}); // takes the request, never answers
    const s = sender({ reportTo: [silent.url, ok.url], token: 's3cret', timeout: 200, readReply: () => null });
    s.send();
    await waitFor(() => s.status()[0]!.lastError !== null, 2000, 'the timeout');
    expect(s.status()[0]!.lastError).toBe('timeout after 200 ms');
    expect(s.status()[1]!.lastError).toBeNull();
    expect(auth).toEqual(['Bearer s3cret']);
  });
});
