import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unavailable } from './preflight.js';

let busy: Server;
let port: number;
beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen({ host: '127.0.0.1', port: 0 }, resolve));
  port = (busy.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

describe('unavailable', () => {
  it('names an address in use, and who wanted it', async () => {
    expect(
      await unavailable([{ host: '127.0.0.1', port, proto: 'tcp', what: 'the demo origin (edge.origin)' }]),
    ).toEqual([
      `tcp 127.0.0.1:${port} for the demo origin (edge.origin): already in use (is \`meridian up\`, or that service, already running?)`,
    ]);
  });

  it('says when the machine lacks the address (macOS has only 127.0.0.1 on loopback)', async () => {
    const [problem] = await unavailable([{ host: '192.0.2.77', port: 8080, proto: 'udp', what: 'x' }]);
    expect(problem).toBe(
      'udp 192.0.2.77:8080 for x: this machine has no address 192.0.2.77 (on macOS: sudo ifconfig lo0 alias 192.0.2.77 up)',
    );
  });

  it('is empty when every address can be bound (and leaves them free)', async () => {
    const free = [
      { host: '127.0.9.1', port, proto: 'tcp' as const, what: 'edge' },
      { host: '127.0.0.1', port, proto: 'udp' as const, what: 'dns' },
    ];
    expect(await unavailable(free)).toEqual([]);
    expect(await unavailable(free)).toEqual([]);
  });
});
