import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../../test/helpers/closed-port.js';
import { settings, target } from '../../test/helpers/probe-settings.js';
import { probe } from './tcp.js';

let server: Server;
let port: number;
let accepted = 0;

beforeAll(async () => {
  server = createServer((socket) => {
    accepted++;
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const tcp = (port?: number) => settings({ type: 'tcp' as const, ...(port !== undefined && { port }) });

describe('tcp check', () => {
  it('passes when the edge accepts a connection, and closes it', async () => {
    const before = accepted;
    const r = await probe(target(`http://127.0.0.1:${port}/`), tcp());
    expect(r).toEqual({ ok: true, rttMs: expect.any(Number) });
    expect(accepted).toBe(before + 1);
  });

  it('uses check.port over the edge URL port', async () => {
    expect((await probe(target(`http://127.0.0.1:${await closedPort()}`), tcp(port))).ok).toBe(true);
  });

  it('fails fast on a closed port', async () => {
    const closed = await closedPort();
    const started = performance.now();
    const r = await probe(target(`http://127.0.0.1:${closed}`), tcp());
    expect(performance.now() - started).toBeLessThan(100);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/ECONNREFUSED/);
  });

  it('reports an aborted probe as failed', async () => {
    const r = await probe(target(`http://127.0.0.1:${port}`), tcp(), AbortSignal.abort());
    expect(r).toMatchObject({ ok: false, detail: 'aborted' });
  });
});
