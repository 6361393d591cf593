// A loopback port with nothing behind it, for tests of what happens when a connection is
// refused (a dead edge, an unreachable control port).
import { createServer, type AddressInfo } from 'node:net';

/** A loopback port that was free a moment ago (nothing listens on it now). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
