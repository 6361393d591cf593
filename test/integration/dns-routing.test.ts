// Geo steering through the real server and dig: clients on every continent (as ECS subnets
// from the test GeoIP database) get the PoP a person would expect, with the scope the database
// network justifies; explain tells why.
import { copyFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMmdb } from '../../geo-data/mmdb-writer.js';
import { control } from '../helpers/control-client.js';
import { query } from '../helpers/dig.js';
import { REPO_ROOT } from '../helpers/repo-paths.js';
import { runMeridian } from '../helpers/meridian-process.js';
import { startServer, type RunningServer } from '../helpers/spawn-dns.js';
import { needs } from '../helpers/system-tools.js';

const POP_V4: Record<string, string> = {
  fra: '127.0.1.1',
  iad: '127.0.2.1',
  gru: '127.0.3.1',
  sin: '127.0.4.1',
  syd: '127.0.5.1',
  jnb: '127.0.6.1',
};

describe('geo steering on the demo config', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ file: 'config/demo.yaml' });
  });
  afterAll(() => server?.stop());

  const cases: [string, string, string][] = [
    ['New York', '192.0.2.0/24', 'iad'],
    ['Toronto', '99.224.1.0/24', 'iad'],
    ['Frankfurt', '198.51.100.0/24', 'fra'],
    ['Paris', '2.1.2.0/24', 'fra'],
    ['Buenos Aires', '181.0.5.0/24', 'gru'],
    ['Johannesburg', '41.0.5.0/24', 'jnb'],
    ['Tokyo', '203.0.113.0/24', 'sin'],
    ['Mumbai', '117.192.1.0/24', 'sin'],
    ['Auckland', '49.224.1.0/24', 'syd'],
  ];
  for (const [city, subnet, pop] of cases) {
    it(`answers a client in ${city} (${subnet}) with ${pop}`, needs('dig'), async () => {
      const r = await query(server, ['www.demo.test', 'A', `+subnet=${subnet}`]);
      expect(r.status).toBe('NOERROR');
      expect(r.flags).toContain('aa');
      expect(r.answer.map((a) => a.data)).toEqual([POP_V4[pop]]);
      expect(r.answer[0]!.ttl).toBe(30);
    });
  }

  it('answers AAAA from the chosen PoP for IPv6 clients', needs('dig'), async () => {
    const sydney = await query(server, ['www.demo.test', 'AAAA', '+subnet=2001:db8:5::/48']);
    expect(sydney.answer.map((a) => a.data)).toEqual(['2001:db8:5::1']);
    const dublin = await query(server, ['www.demo.test', 'AAAA', '+subnet=2a00:1450::/32']);
    expect(dublin.answer.map((a) => a.data)).toEqual(['2001:db8:1::1']);
  });

  it(
    'sets the ECS scope to the database network that decided, never beyond the source prefix',
    needs('dig'),
    async () => {
      // 198.51.100.0/24 is one database network: a /32 source is answered for the whole /24.
      expect((await query(server, ['www.demo.test', '+subnet=198.51.100.7/32'])).clientSubnet).toBe(
        '198.51.100.7/32/24',
      );
      // 181.0.0.0/12 is one network (Buenos Aires): a /24 source holds for the /12.
      expect((await query(server, ['www.demo.test', '+subnet=181.0.5.0/24'])).clientSubnet).toBe('181.0.5.0/24/12');
      // A /16 source inside a /24 network: never claim more than the client told us.
      expect((await query(server, ['www.demo.test', '+subnet=198.51.0.0/16'])).clientSubnet).toMatch(
        /^198\.51\.0\.0\/16\/(\d+)$/,
      );
      const scope = Number(
        (await query(server, ['www.demo.test', '+subnet=198.51.0.0/16'])).clientSubnet!.split('/')[2],
      );
      expect(scope).toBeLessThanOrEqual(16);
      expect((await query(server, ['www.demo.test', 'AAAA', '+subnet=2001:db8:5::/56'])).clientSubnet).toBe(
        '2001:db8:5::/56/48',
      );
    },
  );

  it('keeps scope 0 for static names, also with ECS', needs('dig'), async () => {
    expect((await query(server, ['mail.demo.test', '+subnet=192.0.2.0/24'])).clientSubnet).toBe('192.0.2.0/24/0');
  });

  it(
    'uses the resolver address without ECS (the nets override places loopback in Frankfurt)',
    needs('dig'),
    async () => {
      const r = await query(server, ['www.demo.test']);
      expect(r.answer.map((a) => a.data)).toEqual([POP_V4['fra']]);
      expect(r.clientSubnet).toBeNull();
    },
  );

  it('falls back to the pool fallback for clients it cannot locate', needs('dig'), async () => {
    const r = await query(server, ['www.demo.test', '+subnet=10.1.2.0/24']);
    expect(r.answer.map((a) => a.data)).toEqual([POP_V4['fra']]);
  });

  it('follows a CNAME into a routed name and answers wildcard routes with two PoPs', needs('dig'), async () => {
    const docs = await query(server, ['docs.demo.test', '+subnet=203.0.113.0/24']);
    expect(docs.answer.map((a) => `${a.type} ${a.data}`)).toEqual(['CNAME www.demo.test.', `A ${POP_V4['sin']}`]);
    expect(docs.clientSubnet).toBe('203.0.113.0/24/24');
    const img = await query(server, ['Img.CDN.demo.test', '+subnet=192.0.2.0/24']);
    expect(img.answer.map((a) => a.name)).toEqual(['Img.CDN.demo.test.', 'Img.CDN.demo.test.']);
    expect(img.answer.map((a) => a.data)).toEqual([POP_V4['iad'], POP_V4['fra']]);
  });

  it('explains an answer over the control API: location, source, candidates, choice and scope', async () => {
    const res = await control(server, 'GET', '/v1/explain?name=www.demo.test&client=203.0.113.0/24');
    expect(res.status).toBe(200);
    const e = res.json as {
      client: Record<string, unknown>;
      decisions: { chosen: string[]; candidates: { id: string; distanceKm: number }[] }[];
      answer: { data: string }[];
      ecsScope: number;
    };
    expect(e.client).toMatchObject({ network: '203.0.113.0/24', source: 'database', country: 'JP', continent: 'AS' });
    expect(e.decisions[0]!.chosen).toEqual(['sin']);
    expect(e.decisions[0]!.candidates.map((c) => c.id)).toEqual(['sin', 'syd', 'fra', 'iad', 'jnb', 'gru']);
    expect(e.decisions[0]!.candidates[0]!.distanceKm).toBeGreaterThan(5000);
    expect(e.answer.map((a) => a.data)).toEqual([POP_V4['sin']]);
    expect(e.ecsScope).toBe(24);
    expect((await control(server, 'GET', '/v1/explain?name=www.demo.test')).status).toBe(400);
    expect((await control(server, 'GET', '/v1/explain?name=www.demo.test&client=nope')).status).toBe(400);
  });

  it('prints the explanation as a table with `meridian explain`', async () => {
    const r = await runMeridian(['explain', 'www.demo.test', '41.0.5.1', '--control', server.controlUrl]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/located by database .* country ZA, continent AF/);
    expect(r.stdout).toMatch(/→\s+jnb\s+yes/);
    expect(r.stdout).toContain(`www.demo.test. 30 A ${POP_V4['jnb']}`);
  });
});

describe('GeoIP database changes', needs('dig'), () => {
  let server: RunningServer;
  let dbPath: string;
  const config = (db: string) => `
pops:
  - { id: east, location: { lat: 35.68, lon: 139.69 }, ipv4: [192.0.2.10] }
  - { id: west, location: { lat: 40.71, lon: -74.01 }, ipv4: [192.0.2.20] }
pools:
  - { id: p, members: [east, west] }
geo:
  databases: [${db}]
zones:
  - name: example.test
    soa: { mname: ns1.example.test., rname: admin.example.test. }
    ns: [ns1.example.test.]
    records: [{ name: ns1, type: A, value: 192.0.2.1 }]
    routes: [{ name: www, pool: p }]
`;
  const db = (lat: number, lon: number) =>
    writeMmdb([{ network: '198.51.100.0/24', data: { location: { latitude: lat, longitude: lon } } }], {
      databaseType: 'Test-City',
    });

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-geo-'));
    dbPath = join(dir, 'geo.mmdb');
    writeFileSync(dbPath, db(35.68, 139.69)); // Tokyo → east
    server = await startServer(config(dbPath));
  });
  afterAll(() => server?.stop());

  const answerFor = async () =>
    (await query(server, ['www.example.test', '+subnet=198.51.100.0/24'])).answer.map((a) => a.data);

  it('picks up a replaced database without a restart and drops cached decisions', async () => {
    expect(await answerFor()).toEqual(['192.0.2.10']);
    const tmp = `${dbPath}.new`;
    writeFileSync(tmp, db(40.71, -74.01)); // now New York → west
    renameSync(tmp, dbPath);
    const deadline = Date.now() + 8000;
    let seen: string[] = [];
    while (Date.now() < deadline) {
      seen = await answerFor();
      if (seen[0] === '192.0.2.20') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(seen).toEqual(['192.0.2.20']);
  });

  it('refuses a corrupt replacement and keeps answering from the data it had', async () => {
    const before = await answerFor();
    writeFileSync(dbPath, Buffer.from('this is not a MaxMind DB file'));
    await new Promise((r) => setTimeout(r, 2500));
    expect(await answerFor()).toEqual(before);
    expect(server.stdout.join('\n')).toMatch(/GeoIP database update refused/);
  });
});

describe('routing config errors', () => {
  it('refuses a route to an unknown pool and a pool member that is no PoP, naming the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-geo-'));
    const file = join(dir, 'bad.yaml');
    copyFileSync(join(REPO_ROOT, 'geo-data', 'test-city.mmdb'), join(dir, 'db.mmdb'));
    const demo = readFileSync(join(REPO_ROOT, 'config', 'demo.yaml'), 'utf8')
      .replace('members: [fra, iad, gru, sin, syd, jnb]', 'members: [fra, iad, nope]')
      .replace('file: zones/demo.test.extra.zone', '')
      .replace('../geo-data/test-city.mmdb', 'db.mmdb');
    writeFileSync(file, demo);
    const r = await runMeridian([
      'dns',
      '--config',
      file,
      '--listen',
      '127.0.0.1:0',
      '--control-listen',
      '127.0.0.1:0',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/bad\.yaml: pools\[0\]\.members\[2\]: no PoP with id 'nope'/);
  });
});
