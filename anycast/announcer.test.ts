import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../common/log.js';
import { parseCidr } from '../common/ip.js';
import type { ConfirmedProbe } from '../prober/confirm.js';
import { startAnnouncer, type Announcer } from './announcer.js';
import type { AnycastPrefix } from './config.js';

const SETTINGS = {
  check: { type: 'dns' as const, name: 'mrd.test', qtype: 'SOA' as const, port: 53 },
  interval: 20,
  fastInterval: 10,
  timeout: 50,
  rise: 2,
  fall: 2,
};
const PREFIX: AnycastPrefix = {
  text: '198.51.100.0/24',
  network: parseCidr('198.51.100.0/24'),
  addresses: [{ address: '198.51.100.53', family: 4, serves: 'dns', port: 53, settings: SETTINGS }],
};
const DAMPING = { penalty: 1000, suppress: 2500, reuse: 750, halfLife: 400, maxHoldDown: 5000 };

async function until(what: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('announcer', () => {
  let announcer: Announcer | undefined;
  afterEach(async () => announcer?.stop());

  function start(healthy: { ok: boolean; probes?: number }) {
    const calls: [string, boolean, number][] = [];
    const probe: ConfirmedProbe = async () => {
      healthy.probes = (healthy.probes ?? 0) + 1;
      return healthy.ok ? { ok: true, rttMs: 1, attempts: 1 } : { ok: false, rttMs: 1, detail: 'refused', attempts: 2 };
    };
    announcer = startAnnouncer({
      pop: 'a',
      prefixes: [PREFIX],
      damping: DAMPING,
      protocolOf: () => 'meridian_p',
      probe,
      announce: (protocol, want) => calls.push([protocol, want, Date.now()]),
      log: createLogger({ service: 'anycast', level: 'silent' }),
    });
    return calls;
  }

  it('announces only after rise passing checks, withdraws at once after fall, and on stop', async () => {
    const healthy = { ok: true };
    const calls = start(healthy);
    expect(announcer!.status()[0]).toMatchObject({ announced: false, reason: 'waiting for 2 passing checks (rise)' });
    await until(() => calls.length === 1);
    expect(calls[0]!.slice(0, 2)).toEqual(['meridian_p', true]);
    healthy.ok = false;
    await until(() => calls.length === 2);
    expect(calls[1]!.slice(0, 2)).toEqual(['meridian_p', false]);
    expect(announcer!.status()[0]).toMatchObject({
      announced: false,
      reason: 'service down: dns 198.51.100.53 (refused)',
      damping: { flaps: 1 },
    });
    healthy.ok = true;
    // One flap: no suppression, back after rise.
    await until(() => calls.length === 3);
    await announcer!.stop();
    expect(calls.map((c) => c[1])).toEqual([true, false, true, false]);
    expect(announcer!.status()[0]!.reason).toBe('announcer stopping');
    announcer = undefined;
  });

  it('holds a flapping prefix down until the penalty decays below reuse', async () => {
    const healthy = { ok: true };
    const calls = start(healthy);
    for (let i = 0; i < 3; i++) {
      await until(() => calls.length === 2 * i + 1);
      healthy.ok = false;
      await until(() => calls.length === 2 * i + 2);
      healthy.ok = true;
    }
    // The third flap suppressed it: healthy again, but held down.
    await until(() => announcer!.status()[0]!.reason.startsWith('held down by damping'));
    const heldAt = Date.now();
    expect(announcer!.status()[0]!.damping.suppressed).toBe(true);
    await until(() => calls.length === 7, 5000);
    expect(Date.now() - heldAt).toBeGreaterThan(200);
    expect(announcer!.status()[0]).toMatchObject({
      announced: true,
      reason: 'healthy',
      damping: { suppressed: false, flaps: 3 },
    });
  });

  it('drain withdraws at once without a flap; undrain re-announces after rise passing checks, unpenalised', async () => {
    const healthy: { ok: boolean; probes?: number } = { ok: true };
    const calls = start(healthy);
    await until(() => calls.length === 1);
    announcer!.setOverride('drain');
    expect(calls.map((c) => c[1])).toEqual([true, false]);
    expect(announcer!.status()[0]).toMatchObject({
      announced: false,
      reason: 'drained by an operator (meridian pop drain)',
      damping: { flaps: 0, penalty: 0 },
    });
    // Maintenance: the service goes down and comes back while drained. No route was up: no flap.
    healthy.ok = false;
    await until(() => announcer!.status()[0]!.addresses[0]!.up === false);
    healthy.ok = true;
    await until(() => announcer!.status()[0]!.addresses[0]!.up === true);
    expect(calls).toHaveLength(2);
    expect(announcer!.status()[0]).toMatchObject({
      reason: 'drained by an operator (meridian pop drain)',
      damping: { flaps: 0, penalty: 0 },
    });
    const probesAtUndrain = healthy.probes!;
    announcer!.setOverride(null);
    expect(announcer!.status()[0]).toMatchObject({
      announced: false,
      reason: 'undrained: waiting for 2 passing checks (rise)',
    });
    await until(() => calls.length === 3);
    expect(calls[2]!.slice(0, 2)).toEqual(['meridian_p', true]);
    expect(healthy.probes! - probesAtUndrain).toBeGreaterThanOrEqual(2);
    expect(announcer!.status()[0]).toMatchObject({
      announced: true,
      reason: 'healthy',
      damping: { flaps: 0, suppressed: false },
    });
  });

  it('marked down by an operator withdraws too, and says so', async () => {
    const calls = start({ ok: true });
    await until(() => calls.length === 1);
    const changes: number[] = [];
    announcer!.onChange = () => changes.push(1);
    announcer!.setOverride('down');
    expect(announcer!.status()[0]).toMatchObject({ announced: false, reason: 'marked down by an operator' });
    expect(changes.length).toBeGreaterThan(0);
  });
});
