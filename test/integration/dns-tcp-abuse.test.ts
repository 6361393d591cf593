// TCP under abuse (RFC 7766 §10) against the real `meridian dns` process: one network opening
// many slow connections gets only its share, each of them is closed once it sits on part of a
// length prefix, and clients from other networks are answered throughout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, encodeQuery, frame, TcpClient } from '../helpers/dns-client.js';
import { query } from '../helpers/dig.js';
import { metricValue } from '../helpers/metric-value.js';
import { scrapeMetrics } from '../helpers/control-client.js';
import { startServer, type RunningServer } from '../helpers/spawn-dns.js';
import { needs } from '../helpers/system-tools.js';
import { sleep } from '../helpers/wait-for.js';

const CONFIG = `
dns:
  tcp: { idleTimeout: 5000, maxConnections: 100, maxConnectionsPerNetwork: 4, readTimeout: 1000 }
zones:
  - name: example.test
    soa: { mname: ns1.example.test., rname: hostmaster.example.test., serial: 1, minimum: 300 }
    ns: [ns1.example.test.]
    records:
      - { name: ns1, type: A, value: 192.0.2.1 }
      - { name: www, type: A, value: 192.0.2.10 }
`;

let server: RunningServer;
beforeAll(async () => {
  server = await startServer(CONFIG);
});
afterAll(async () => {
  await server?.stop();
});

describe('TCP under abuse', () => {
  it(
    'many slow connections from one /24 get dns.tcp.maxConnectionsPerNetwork, are closed after dns.tcp.readTimeout, and others are still served',
    needs('dig'),
    async () => {
      const slow: TcpClient[] = [];
      try {
        // Ten connections from 127.0.0.0/24, each holding one byte of a length prefix.
        for (let i = 0; i < 10; i++) {
          const c = new TcpClient(server, { localAddress: `127.0.0.${10 + i}` });
          slow.push(c);
          await c.connected.catch(() => undefined);
          c.socket.write(Buffer.from([0]), () => undefined);
        }
        // Meanwhile another network is answered, over TCP (dig -b picks the source address).
        const other = await query(server, ['-b', '127.0.1.1', '+tcp', 'www.example.test', 'A']);
        expect(other.status).toBe('NOERROR');
        expect(other.answer.map((r) => r.data)).toEqual(['192.0.2.10']);

        await Promise.race([Promise.all(slow.map((c) => c.closedPromise)), sleep(3000)]);
        expect(slow.every((c) => c.closed && c.messages.length === 0)).toBe(true);
        const metrics = await scrapeMetrics(server);
        expect(metricValue(metrics, 'meridian_dns_tcp_connections_refused_network_total')).toBe(6);
        expect(metricValue(metrics, 'meridian_dns_tcp_read_timeouts_total')).toBe(4);
      } finally {
        for (const c of slow) c.destroy();
      }

      // With the slow ones gone, their network is served again.
      const back = new TcpClient(server, { localAddress: '127.0.0.10' });
      try {
        await back.connected;
        await back.write(frame(encodeQuery(7, 'www.example.test', 'A')));
        const [reply] = await back.waitFor(1);
        expect(decode(reply!).answers.map((a) => a.data)).toEqual(['192.0.2.10']);
      } finally {
        back.destroy();
      }
    },
  );
});
