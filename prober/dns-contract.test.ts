// The prober against the real DNS server (in-process): its reports are accepted (schema, token,
// sequence) and a killed edge really moves the DNS answer, and back; and the RTTs it measures to
// the resolver networks the DNS server lists really steer the answer.
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_TOKEN_ENV } from '../common/control-token.js';
import { startDnsService, type DnsService } from '../dns/service.js';
import { decode, encodeQuery, udpExchange } from '../test/helpers/dns-client.js';
import { capturedLog } from '../test/helpers/captured-log.js';
import { localHttp, type LocalHttp } from '../test/helpers/local-http.js';
import { localResolver, type LocalResolver } from '../test/helpers/local-resolver.js';
import { waitFor } from '../test/helpers/wait-for.js';
import { startProber, type Prober } from './service.js';

const INTERVAL = 150;
const TOKEN = 'contract-token';
const savedToken = process.env[CONTROL_TOKEN_ENV];

let fra: LocalHttp;
let iad: LocalHttp;
let dns: DnsService;
let prober: Prober;

/** `vantagePoints`: the PoPs whose probers run (the quorum is a majority of them). */
const config = (reportTo: string[], latency = '{}', vantagePoints = ['fra', 'iad']) => `
health: { interval: ${INTERVAL}, timeout: 100, rise: 2, fall: 2, reportTo: ${JSON.stringify(reportTo)}, latency: ${latency}, vantagePoints: ${JSON.stringify(vantagePoints)} }
pops:
  - { id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [192.0.2.30], edge: "${fra.url}" }
  - { id: iad, location: { lat: 39.04, lon: -77.49 }, ipv4: [192.0.2.20], edge: "${iad.url}" }
pools:
  - { id: p, members: [fra, iad] }
geo:
  nets: [{ network: 127.0.0.0/8, location: { lat: 38.9, lon: -77.04 } }]   # clients in Washington: iad is nearest
zones:
  - name: example.test
    soa: { mname: ns1.example.test., rname: admin.example.test. }
    ns: [ns1.example.test.]
    records: [{ name: ns1, type: A, value: 192.0.2.1 }]
    routes: [{ name: www, pool: p, ttl: 10 }]
`;

function writeFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'meridian-contract-')), 'meridian.yaml');
  writeFileSync(file, text);
  return file;
}

const loopback = { host: '127.0.0.1', port: 0 };
const ok = (_req: unknown, res: { end(body: string): void }) => res.end('ok\n');

beforeAll(async () => {
  process.env[CONTROL_TOKEN_ENV] = TOKEN;
  fra = await localHttp(ok);
  iad = await localHttp(ok);
});

afterAll(async () => {
  if (savedToken === undefined) delete process.env[CONTROL_TOKEN_ENV];
  else process.env[CONTROL_TOKEN_ENV] = savedToken;
  await Promise.all([fra?.stop(), iad?.stop()]);
});

async function answer(): Promise<unknown[]> {
  const reply = await udpExchange(dns.listeners[0]!, encodeQuery(1, 'www.example.test'));
  return reply ? decode(reply).answers.map((a) => a.data) : [];
}

/** The answer for a query sent from `source` (another loopback address: another resolver). */
async function answerFrom(source: string): Promise<unknown[]> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve) => socket.bind(0, source, () => resolve()));
    const { host, port } = dns.listeners[0]!;
    const reply = new Promise<Buffer>((resolve) => socket.once('message', resolve));
    socket.send(encodeQuery(2, 'www.example.test'), port, host);
    return decode(await reply).answers.map((a) => a.data);
  } finally {
    socket.close();
  }
}

interface Vote {
  vantage: string;
  up: boolean | null;
  detail?: string;
}
async function votesFor(pop: string): Promise<Vote[]> {
  const body = (await (await fetch(`${dns.control.url}/v1/health`)).json()) as {
    pops: { pop: string; votes: Vote[] }[];
  };
  return body.pops.find((p) => p.pop === pop)?.votes ?? [];
}

describe('prober → real DNS server', () => {
  beforeAll(async () => {
    // One prober, and the DNS server is told so: fra's reports are a quorum of one.
    dns = await startDnsService({
      configFile: writeFile(config([], '{}', ['fra'])),
      listen: [loopback],
      controlListen: loopback,
      workers: 1,
      log: capturedLog().log,
    });
    prober = await startProber({
      configFile: writeFile(config([dns.control.url], '{}', ['fra'])),
      pop: 'fra',
      log: capturedLog().log,
    });
  });
  afterAll(async () => {
    await prober?.close();
    await dns?.close();
  });

  it('is accepted and steers answers away from a dead edge and back', async () => {
    await waitFor(() => prober.status().reportTo[0]!.lastDeliveredAt !== null, INTERVAL + 500, 'a delivered report');
    expect(prober.status().reportTo[0]!.lastError).toBeNull();
    expect(await votesFor('iad')).toEqual([expect.objectContaining({ vantage: 'fra', up: true })]);
    expect(await answer()).toEqual(['192.0.2.20']);

    await iad.stop();
    const deadline = 3 * INTERVAL + 600;
    await waitFor(async () => (await answer())[0] === '192.0.2.30', deadline, 'the answer to move to fra');
    expect(await votesFor('iad')).toEqual([
      expect.objectContaining({ vantage: 'fra', up: false, detail: expect.stringMatching(/ECONNREFUSED/) }),
    ]);

    await iad.start();
    await waitFor(async () => (await answer())[0] === '192.0.2.20', deadline, 'the answer to move back to iad');
    expect(prober.status().reportTo[0]!.lastError).toBeNull();
  });
});

interface Explained {
  decisions: { rankedBy: string; candidates: { id: string; measuredRttMs: number | null; notes: string[] }[] }[];
}

describe('probers measure RTT to resolvers → real DNS server steers by it', () => {
  // The resolver (127.0.0.1, network 127.0.0.0/24) seen from each PoP: 5 ms from fra, 60 ms
  // from iad. Each prober's `latency.port` points at its own stand-in, so the two vantage
  // points measure different paths on one machine.
  let fromFra: LocalResolver;
  let fromIad: LocalResolver;
  const probers: Prober[] = [];

  beforeAll(async () => {
    fromFra = await localResolver({ delayMs: 5 });
    fromIad = await localResolver({ delayMs: 60 });
    dns = await startDnsService({
      configFile: writeFile(config([])),
      listen: [loopback],
      controlListen: loopback,
      workers: 1,
      log: capturedLog().log,
    });
  });
  afterAll(async () => {
    await Promise.all(probers.map((p) => p.close()));
    await dns?.close();
    await Promise.all([fromFra?.stop(), fromIad?.stop()]);
  });

  it('ranks PoPs by the RTTs the probers measured, over distance', async () => {
    // By distance the Washington resolver gets iad; the query also puts it on the resolver list.
    expect(await answer()).toEqual(['192.0.2.20']);
    const listed = (await (await fetch(`${dns.control.url}/v1/resolvers?limit=10`)).json()) as {
      resolvers: { network: string; sample: string }[];
    };
    expect(listed.resolvers).toEqual([expect.objectContaining({ network: '127.0.0.0/24', sample: '127.0.0.1' })]);

    for (const [pop, r] of [
      ['fra', fromFra],
      ['iad', fromIad],
    ] as const) {
      const latency = `{ refresh: 100ms, port: ${r.port}, rate: 20, timeout: 300ms }`;
      probers.push(
        await startProber({ configFile: writeFile(config([dns.control.url], latency)), pop, log: capturedLog().log }),
      );
    }

    const explain = async (): Promise<Explained['decisions'][number]> => {
      const res = await fetch(`${dns.control.url}/v1/explain?name=www.example.test&client=127.0.0.1`);
      return ((await res.json()) as Explained).decisions[0]!;
    };
    await waitFor(
      async () => (await explain()).rankedBy === 'measured-latency',
      3000,
      'explain to rank by measured RTT',
    );
    // A few more probes into the moving averages (the first one includes no set-up, but be fair).
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL));
    const decision = await explain();
    expect(decision.rankedBy).toBe('measured-latency');
    const [first, second] = decision.candidates;
    expect(first).toMatchObject({
      id: 'fra',
      notes: expect.arrayContaining([expect.stringMatching(/^measured RTT .* ms beats iad/)]),
    });
    expect(second!.id).toBe('iad');
    expect(first!.measuredRttMs).toBeGreaterThanOrEqual(4.5);
    expect(first!.measuredRttMs).toBeLessThan(60);
    expect(second!.measuredRttMs).toBeGreaterThanOrEqual(59);
    expect(second!.measuredRttMs! - first!.measuredRttMs!).toBeGreaterThan(20);
    // Real answers follow (from another address of that network: 127.0.0.1's answer is cached).
    expect(await answerFrom('127.0.0.9')).toEqual(['192.0.2.30']);
    for (const p of probers) expect(p.status().reportTo[0]!.lastError).toBeNull();
  });
});
