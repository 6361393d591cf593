// Response rate limiting on the query path: what a limited client gets over UDP (nothing, or a
// truncated answer at the slip rate), and who is never limited (TCP, a valid server cookie).
import dnsPacket from 'dns-packet';
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { testState } from '../answer/testdata/serving-state.js';
import { ServerCookies } from '../answer/cookies.js';
import { rrlSchema, rrlSettings } from '../rrl/config.js';
import { ResponseLimiter } from '../rrl/limiter.js';
import { metricValue } from '../../test/helpers/metric-value.js';
import { QueryHandler, TCP, UDP, type TransportId } from './handle-query.js';
import { DnsMetrics } from './metrics.js';
import type { BuiltState } from './state.js';

const SECRET = Buffer.from('e5e973e5a6b2a43f48e7dc849e37bfcf', 'hex');
/** RFC 9018 A.1: the client cookie, and the server cookie 198.51.100.100 is given at T1. */
const T1 = 1559731985;
const CLIENT = '2464c4abcf10c957';
const A1 = '010000005cf79f111f8130c3eee29480';

let state: BuiltState;
beforeAll(async () => {
  state = await testState();
});

function setup(rrl: Record<string, unknown> = {}) {
  const registry = new Registry();
  const metrics = new DnsMetrics(registry);
  const settings = rrlSettings(rrlSchema.parse({ responsesPerSecond: 2, slip: 2, ...rrl }));
  const limiter = new ResponseLimiter(settings, { counters: metrics, now: () => 1000 });
  const cookies = new ServerCookies({ kind: 'fixed', key: SECRET }, () => T1 + 60);
  return { handler: new QueryHandler({ ...state, cookies }, metrics, limiter), registry };
}

function query(cookieHex: string | null = CLIENT, name = 'mail.example.test'): Buffer {
  const options = cookieHex === null ? [] : [{ code: 10, data: Buffer.from(cookieHex, 'hex') }];
  return dnsPacket.encode({
    type: 'query',
    id: 7,
    questions: [{ name, type: 'A', class: 'IN' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options } as unknown as dnsPacket.Answer],
  });
}

type Got = 'full' | 'tc' | 'none';
function send(handler: QueryHandler, n: number, msg: Buffer, transport: TransportId = UDP, from = '198.51.100.100') {
  const got: Got[] = [];
  for (let i = 0; i < n; i++) {
    const res = handler.handle(msg, transport, from);
    if (res === null) got.push('none');
    else got.push(dnsPacket.decode(res).flags! & dnsPacket.TRUNCATED_RESPONSE ? 'tc' : 'full');
  }
  return got;
}

describe('QueryHandler.handle with response rate limiting', () => {
  it('over UDP answers the rate, then every slip-th limited query truncated and the rest not at all', () => {
    const { handler } = setup();
    expect(send(handler, 7, query())).toEqual(['full', 'full', 'tc', 'none', 'tc', 'none', 'tc']);
  });

  it('a slipped answer is the question and the OPT alone, its cookie kept, no bigger than the query', () => {
    const { handler } = setup({ responsesPerSecond: 1, slip: 1 });
    const msg = query();
    handler.handle(msg, UDP, '198.51.100.100');
    const res = handler.handle(msg, UDP, '198.51.100.100')!;
    const p = dnsPacket.decode(res);
    expect(p.flags! & dnsPacket.TRUNCATED_RESPONSE).toBeTruthy();
    expect(p.questions).toEqual([{ name: 'mail.example.test', type: 'A', class: 'IN' }]);
    expect(p.answers).toEqual([]);
    expect(p.authorities).toEqual([]);
    expect(p.additionals!.map((r) => r.type)).toEqual(['OPT']);
    const opt = p.additionals![0] as unknown as { options: { code: number; data: Buffer }[] };
    expect(
      opt.options
        .find((o) => o.code === 10)!
        .data.toString('hex')
        .slice(0, 16),
    ).toBe(CLIENT);
    // The server cookie (16 bytes) is all it adds to the query.
    expect(res.length).toBeLessThanOrEqual(msg.length + 16);
  });

  it('never limits TCP', () => {
    const { handler } = setup();
    expect(send(handler, 50, query(), TCP).every((g) => g === 'full')).toBe(true);
  });

  it('never limits a client returning a valid server cookie (it proves the address); counts it exempt', async () => {
    const { handler, registry } = setup();
    expect(send(handler, 50, query(CLIENT + A1)).every((g) => g === 'full')).toBe(true);
    // The same cookie from another address is not valid: BADCOOKIE, itself limited as an error.
    expect(send(handler, 4, query(CLIENT + A1), UDP, '203.0.113.9')).toEqual(['full', 'full', 'tc', 'none']);
    const text = await registry.metrics();
    expect(metricValue(text, 'meridian_dns_rrl_exempt_total', { reason: 'cookie' })).toBe(50);
    expect(metricValue(text, 'meridian_dns_rrl_limited_total', { kind: 'error' })).toBe(2);
  });

  it('limits the errors answering malformed queries too', () => {
    const { handler } = setup({ slip: 0 });
    const bad = Buffer.concat([query(null), Buffer.from([1, 2, 3])]); // trailing garbage after the OPT
    expect(send(handler, 4, bad)).toEqual(['full', 'full', 'none', 'none']);
  });

  it('counts limited, slipped and dropped responses in /metrics, and a slip is not a size truncation', async () => {
    const { handler, registry } = setup();
    send(handler, 7, query(null));
    const text = await registry.metrics();
    expect(metricValue(text, 'meridian_dns_rrl_limited_total', { kind: 'answer' })).toBe(5);
    expect(metricValue(text, 'meridian_dns_rrl_slipped_total')).toBe(3);
    expect(metricValue(text, 'meridian_dns_rrl_dropped_total')).toBe(2);
    expect(metricValue(text, 'meridian_dns_truncated_total')).toBe(0);
    expect(metricValue(text, 'meridian_dns_rrl_limited_networks')).toBe(0); // DnsCore wires this one
  });
});
