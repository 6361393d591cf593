// Whether `up` can run a config's announcers here, and what it says when it cannot: one line per
// reason, the announcers concerned left out, everything else planned as before.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { anycastPreflight, type AnycastHost } from './anycast-preflight.js';
import { planFor, type Plan } from './plan.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HYBRID = join(ROOT, 'config', 'hybrid.yaml');
const opts = { proberPort: 8090, controlListen: { host: '127.0.0.1', port: 8054 } };

/** A machine with everything an announcer needs, but what `over` takes away. */
function host(over: Partial<AnycastHost> = {}): AnycastHost {
  return { netAdmin: async () => true, has: () => true, bird: async () => undefined, ...over };
}
const names = (plan: Plan): string[] => plan.processes.map((p) => p.name);

describe('anycastPreflight', () => {
  it('without root: one line naming the addresses and the lab, no announcer, the rest unchanged', async () => {
    const plan = await planFor(HYBRID, opts);
    const { plan: left, notes } = await anycastPreflight(plan, host({ netAdmin: async () => false }));
    expect(notes).toEqual([
      'anycast: not started — needs root (CAP_NET_ADMIN) to add 198.51.100.53, 198.51.100.80, 2001:db8:100::53 and 2001:db8:100::80 to a dummy interface (mrd-anycast); try anycast in the lab instead: sudo npm run lab:anycast -- up',
    ]);
    expect(left.anycast).toEqual([]);
    expect(names(left)).toEqual(names(plan).filter((n) => !n.startsWith('anycast')));
    expect(left.dns).toEqual(plan.dns);
    expect(left.listeners.some((l) => l.what.includes('anycast'))).toBe(false);
  });

  it('names the missing commands and their packages', async () => {
    const plan = await planFor(HYBRID, opts);
    const { plan: left, notes } = await anycastPreflight(plan, host({ has: (c) => c === 'ip' }));
    expect(notes).toEqual(['anycast: not started — needs `unshare`, `nsenter` on PATH (apt-get install util-linux)']);
    expect(left.anycast).toEqual([]);
  });

  it('a PoP whose BIRD does not answer is left out with the command that starts it; one announcer per host', async () => {
    const plan = await planFor(HYBRID, opts);
    const { plan: left, notes } = await anycastPreflight(
      plan,
      host({ bird: async (socket) => (socket.includes('fra') ? 'ENOENT' : undefined) }),
    );
    expect(notes).toContain(
      "anycast fra: not started — BIRD does not answer on /run/bird/fra.ctl (ENOENT); start BIRD 2 with this PoP's config: " +
        'node bin/meridian.js anycast --config config/hybrid.yaml --pop fra --print-bird-config > fra.conf && bird -c fra.conf -s /run/bird/fra.ctl',
    );
    expect(notes).toContain(
      "anycast sin: not started — iad's announcer takes this host's mrd-anycast and mrd-lease interfaces, and there is one of each per host (the lab runs each PoP in a network namespace of its own)",
    );
    expect(left.anycast.map((a) => a.pop)).toEqual(['iad']);
    expect(names(left).filter((n) => n.startsWith('anycast'))).toEqual(['anycast iad']);
  });

  it('the running announcer starts first and the DNS server also answers on its DNS addresses', async () => {
    const plan = await planFor(HYBRID, opts);
    const { plan: left, notes } = await anycastPreflight(plan, host());
    const byName = new Map(left.processes.map((p) => [p.name, p]));
    expect(byName.get('anycast fra')!.stage).toBe(0);
    expect(byName.get('dns')!.args.slice(-6)).toEqual([
      '--listen',
      '127.0.0.1:5353',
      '--listen',
      '198.51.100.53:53',
      '--listen',
      '[2001:db8:100::53]:53',
    ]);
    expect(left.dns.listen.map((l) => l.host)).toEqual(['127.0.0.1', '198.51.100.53', '2001:db8:100::53']);
    // Edges stay on loopback: a prefix with an edge address is never announced by `up`, and it says so.
    expect(notes.filter((n) => n.startsWith('anycast fra'))).toEqual([
      'anycast fra: 198.51.100.0/24 stays withdrawn — its edge address 198.51.100.80 is checked on port 8080, and `up` runs the edges on loopback only',
      'anycast fra: 2001:db8:100::/48 stays withdrawn — its edge address 2001:db8:100::80 is checked on port 8080, and `up` runs the edges on loopback only',
    ]);
  });

  it('a file without anycast: nothing asked, nothing changed', async () => {
    const plan = await planFor(join(ROOT, 'config', 'demo.yaml'), opts);
    const asked: string[] = [];
    const result = await anycastPreflight(
      plan,
      host({
        netAdmin: async () => (asked.push('netAdmin'), true),
        bird: async (s) => (asked.push(s), undefined),
      }),
    );
    expect(result).toEqual({ plan, notes: [] });
    expect(asked).toEqual([]);
  });

  it('finds out on this machine without throwing (root or not, BIRD or not)', async () => {
    const { notes } = await anycastPreflight(await planFor(HYBRID, opts));
    // /run/bird/*.ctl exist on no test machine: every announcer is left out, for one reason or another.
    expect(notes.length).toBeGreaterThan(0);
    expect(notes.every((n) => /^anycast( \w+)?: not started — /.test(n))).toBe(true);
  });
});
