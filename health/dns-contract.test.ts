// The prober against the real DNS server (in-process): its reports are accepted (schema, token,
// sequence) and a killed edge really moves the DNS answer, and back.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_TOKEN_ENV } from '../common/control-token.js';
import { startDnsService, type DnsService } from '../dns/server/service.js';
import { decode, encodeQuery, udpExchange } from '../test/helpers/dns-client.js';
import { startProber, type Prober } from './service.js';
import { capturedLog, localHttp, waitFor, type LocalHttp } from './test-helpers.js';

const INTERVAL = 150;
const TOKEN = 'contract-token';
const savedToken = process.env[CONTROL_TOKEN_ENV];

let fra: LocalHttp;
let iad: LocalHttp;
let dns: DnsService;
let prober: Prober;

const config = (reportTo: string[]) => `
health: { interval: ${INTERVAL}, timeout: 100, rise: 2, fall: 2, reportTo: ${JSON.stringify(reportTo)} }
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

beforeAll(async () => {
  process.env[CONTROL_TOKEN_ENV] = TOKEN;
  const ok = (_req: unknown, res: { end(body: string): void }) => res.end('ok\n');
  fra = await localHttp(ok);
  iad = await localHttp(ok);
  const loopback = { host: '127.0.0.1', port: 0 };
  dns = await startDnsService({ configFile: writeFile(config([])), listen: [loopback], http: loopback, log: capturedLog().log });
  prober = await startProber({ configFile: writeFile(config([dns.control.url])), pop: 'fra', log: capturedLog().log });
});

afterAll(async () => {
  if (savedToken === undefined) delete process.env[CONTROL_TOKEN_ENV];
  else process.env[CONTROL_TOKEN_ENV] = savedToken;
  await prober?.close();
  await dns?.close();
  await Promise.all([fra?.stop(), iad?.stop()]);
});

async function answer(): Promise<unknown[]> {
  const reply = await udpExchange(dns.udp[0]!.address, encodeQuery(1, 'www.example.test'));
  return reply ? decode(reply).answers.map((a) => a.data) : [];
}

interface Vote {
  vantage: string;
  up: boolean | null;
  detail?: string;
}
async function votesFor(pop: string): Promise<Vote[]> {
  const body = (await (await fetch(`${dns.control.url}/v1/health`)).json()) as { pops: { pop: string; votes: Vote[] }[] };
  return body.pops.find((p) => p.pop === pop)?.votes ?? [];
}

describe('prober → real DNS server', () => {
  it('is accepted and steers answers away from a dead edge and back', async () => {
    await waitFor(() => prober.status().reportTo[0]!.lastDeliveredAt !== null, INTERVAL + 500, 'a delivered report');
    expect(prober.status().reportTo[0]!.lastError).toBeNull();
    expect(await votesFor('iad')).toEqual([expect.objectContaining({ vantage: 'fra', up: true })]);
    expect(await answer()).toEqual(['192.0.2.20']);

    await iad.stop();
    const deadline = 3 * INTERVAL + 600;
    await waitFor(async () => (await answer())[0] === '192.0.2.30', deadline, 'the answer to move to fra');
    expect(await votesFor('iad')).toEqual([expect.objectContaining({ vantage: 'fra', up: false, detail: expect.stringMatching(/ECONNREFUSED/) })]);

    await iad.start();
    await waitFor(async () => (await answer())[0] === '192.0.2.20', deadline, 'the answer to move back to iad');
    expect(prober.status().reportTo[0]!.lastError).toBeNull();
  });
});
