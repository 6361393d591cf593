import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../common/log.js';
import { startBirdDriver, type BirdDriver } from './bird-driver.js';

/** A stand-in for BIRD's control socket: the welcome, then enable/disable of known protocols. */
class FakeBird {
  readonly commands: string[] = [];
  readonly enabled = new Set<string>();
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly path: string,
    private readonly protocols: readonly string[],
  ) {}

  async start(): Promise<void> {
    this.server = createServer((s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      // The driver may hang up mid-reply (close() at the end of a test): a reset is not a failure here.
      s.on('error', () => undefined);
      s.write('0001 BIRD 2.0.12 ready.\n');
      let buf = '';
      s.on('data', (d) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          this.commands.push(line);
          s.write(this.answer(line));
        }
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.path, r));
  }

  /** BIRD exits or restarts: every session closes, and a restarted BIRD has every protocol disabled again. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server!.close(() => r()));
    this.enabled.clear();
  }

  private answer(line: string): string {
    const [verb, name = ''] = line.split(' ');
    if (!this.protocols.includes(name)) return '8003 No protocols match\n';
    // As BIRD 2 answers: a line per protocol, then 0000.
    if (verb === 'enable')
      return this.enabled.has(name)
        ? `0010-${name}: already enabled\n0000 \n`
        : (this.enabled.add(name), `0011-${name}: enabled\n0000 \n`);
    if (verb === 'disable')
      return this.enabled.delete(name) ? `0009-${name}: disabled\n0000 \n` : `0008-${name}: already disabled\n0000 \n`;
    return '9001 syntax error\n';
  }
}

function capture(): { log: ReturnType<typeof createLogger>; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const log = createLogger({
    service: 'anycast',
    level: 'debug',
    destination: { write: (s: string) => void lines.push(JSON.parse(s)) },
  });
  return { log, lines };
}

async function until(what: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('BIRD driver', () => {
  let dir: string;
  let driver: BirdDriver | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-bird-'));
  });
  afterEach(() => {
    driver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('waits for a BIRD that is not running yet, with one warning, then resyncs', async () => {
    const bird = new FakeBird(join(dir, 'bird.ctl'), ['meridian_a', 'meridian_b']);
    const { log, lines } = capture();
    driver = startBirdDriver({ socket: bird.path, protocols: ['meridian_a', 'meridian_b'], log });
    driver.set('meridian_a', true);
    await new Promise((r) => setTimeout(r, 400));
    expect(lines.filter((l) => l.msg.startsWith("cannot reach BIRD's control socket"))).toHaveLength(1);
    await bird.start();
    expect(await driver.settled(5000)).toBe(true);
    expect([...bird.enabled]).toEqual(['meridian_a']);
    expect(bird.commands.sort()).toEqual(['disable meridian_b', 'enable meridian_a']);
    expect(lines.some((l) => l.msg.startsWith('connected to BIRD'))).toBe(true);
    await bird.stop();
  });

  it('applies changes at once, and after a BIRD restart announces again what should be', async () => {
    const bird = new FakeBird(join(dir, 'bird.ctl'), ['meridian_a']);
    await bird.start();
    const { log, lines } = capture();
    driver = startBirdDriver({ socket: bird.path, protocols: ['meridian_a'], log });
    driver.set('meridian_a', true);
    await until(() => bird.enabled.has('meridian_a'));
    driver.set('meridian_a', false);
    await until(() => !bird.enabled.has('meridian_a'));
    driver.set('meridian_a', true);
    await until(() => bird.enabled.has('meridian_a'));

    await bird.stop();
    await until(() => !driver!.connected);
    expect(lines.some((l) => l.msg.startsWith('BIRD closed its control socket'))).toBe(true);
    await bird.start();
    // The fake records the enable before its reply reaches the driver: wait for the driver's side.
    expect(await driver.settled(5000)).toBe(true);
    expect(bird.enabled.has('meridian_a')).toBe(true);
    expect(driver.confirmed('meridian_a')).toBe(true);
    await bird.stop();
  });

  it('logs a protocol BIRD does not know, and carries on', async () => {
    const bird = new FakeBird(join(dir, 'bird.ctl'), ['meridian_a']);
    await bird.start();
    const { log, lines } = capture();
    driver = startBirdDriver({ socket: bird.path, protocols: ['meridian_a', 'meridian_typo'], log });
    driver.set('meridian_typo', true);
    driver.set('meridian_a', true);
    // The driver may send either command first, and the fake records an enable before the
    // driver reads its reply: wait for the refusal's log line itself, then for the driver's side.
    const refusal = (): { level: number } | undefined =>
      lines.find((l) => l.msg.startsWith("BIRD refused 'enable meridian_typo'"));
    await until(() => refusal() !== undefined);
    expect(refusal()).toMatchObject({ level: 50 });
    await until(() => driver!.confirmed('meridian_a') === true);
    expect(bird.enabled.has('meridian_a')).toBe(true);
    await bird.stop();
  });

  it('rejects a connection to something that is not BIRD, and keeps retrying', async () => {
    const path = join(dir, 'other.ctl');
    const other = createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((r) => other.listen(path, r));
    const { log, lines } = capture();
    driver = startBirdDriver({ socket: path, protocols: ['meridian_a'], log });
    await until(() => lines.some((l) => l.msg.startsWith("cannot reach BIRD's control socket")));
    expect(driver.connected).toBe(false);
    await new Promise<void>((r) => other.close(() => r()));
  });
});
