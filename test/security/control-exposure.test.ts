// Issue 19, item 6: a control port's mutating endpoints (reload, drain, health reports, purge)
// are open to whoever reaches the port when no token is set. The real `meridian dns` and
// `meridian edge` processes (built CLI: `npm run build` first) refuse to start with such a port
// beyond loopback, and say at start-up when a loopback port is open to every local user.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { writeConfigDir } from '../helpers/config-dir.js';
import { edgeConfig } from '../helpers/edge-config.js';
import { runMeridian } from '../helpers/meridian-process.js';
import { spawnEdge } from '../helpers/spawned-edge.js';
import { startServer } from '../helpers/spawn-dns.js';
import { startOrigin, type TestOrigin } from '../helpers/test-origin.js';

const DNS_CONFIG = `
zones:
  - name: example.test
    soa: { mname: ns1.example.test., rname: admin.example.test. }
    ns: [ns1.example.test.]
    records: [{ name: ns1, type: A, value: 192.0.2.1 }]
`;

const OPEN_LINE = 'control server listening; no control token: its mutating endpoints are open to every local user';

function configFile(yaml: string): string {
  const { dir, configPath } = writeConfigDir(yaml);
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return configPath;
}

describe('meridian dns: the control port without a token', () => {
  it.each(['0.0.0.0:0', '[::]:0'])('refuses to start on %s, saying why and how to fix it', async (at) => {
    const run = await runMeridian(
      ['dns', '--config', configFile(DNS_CONFIG), '--listen', '127.0.0.1:0', '--control-listen', at],
      15_000,
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).not.toContain('meridian dns serving');
    expect(run.stderr).toContain(`control port ${at} is not on loopback and has no token`);
    expect(run.stderr).toContain('POST /v1/pops/override');
    expect(run.stderr).toContain('MERIDIAN_CONTROL_TOKEN or dns.control.tokenFile');
    expect(run.stderr).toContain('dns.control.listen or --control-listen');
  });

  it('refuses with workers too, and for an address in the config file', async () => {
    const yaml = `dns:\n  control: { listen: "0.0.0.0:0" }\n${DNS_CONFIG}`;
    const run = await runMeridian(
      ['dns', '--config', configFile(yaml), '--listen', '127.0.0.1:0', '--workers', '2'],
      15_000,
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('control port 0.0.0.0:0 is not on loopback and has no token');
  });

  it('starts beyond loopback with a token, and says so', async () => {
    const server = await startServer(DNS_CONFIG, {
      controlListen: '0.0.0.0:0',
      env: { MERIDIAN_CONTROL_TOKEN: 't0k' },
    });
    try {
      const line = server.stdout.find((l) => l.includes('control server listening'));
      expect(JSON.parse(line!)).toMatchObject({ msg: 'control server listening', mutating: 'token required' });
    } finally {
      await server.stop();
    }
  });

  it('says at start-up that a loopback port without a token is open to every local user', async () => {
    const server = await startServer(DNS_CONFIG);
    try {
      const line = server.stdout.find((l) => l.includes('control server listening'));
      expect(JSON.parse(line!)).toMatchObject({ msg: OPEN_LINE, mutating: 'open to local users' });
    } finally {
      await server.stop();
    }
  });
});

describe('meridian edge: the control port without a token', () => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startOrigin((_req, res) => void res.writeHead(200).end('ok'));
  });
  afterAll(async () => {
    await origin?.stop();
  });

  it.each([1, 2])('with %i worker(s), refuses to start on 0.0.0.0', async (workers) => {
    const run = await runMeridian(
      [
        'edge',
        '--config',
        configFile(edgeConfig(origin.url)),
        '--pop',
        'fra',
        '--listen',
        '127.0.0.1:0',
        '--control-listen',
        '0.0.0.0:0',
        '--workers',
        String(workers),
      ],
      20_000,
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('control port 0.0.0.0:0 is not on loopback and has no token');
    expect(run.stderr).toContain('POST /v1/purge');
    expect(run.stderr).toContain('MERIDIAN_CONTROL_TOKEN or edge.control.tokenFile');
    expect(run.stderr).toContain('edge.control.listen or --control-listen');
  });

  it('says at start-up that a loopback port without a token is open to every local user', async () => {
    const edge = await spawnEdge(origin.url, 1);
    try {
      const line = edge.output.find((l) => l.includes('control server listening'));
      expect(JSON.parse(line!)).toMatchObject({ msg: OPEN_LINE, mutating: 'open to local users' });
    } finally {
      await edge.stop();
    }
  });
});
