// `up.optionalListen`: what `meridian up` does on a machine without an optional listener's
// address (the demo's [::1]:5353 in a Docker container). 192.0.2.77 (TEST-NET-1) stands in for
// the missing address: no machine running these tests has it, while this one may well have ::1.
import { createSocket, type Socket } from 'node:dgram';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { leaveOutMissing } from './optional-listen.js';
import { planFor, type Plan } from './plan.js';
import { unavailable } from './preflight.js';

const DEMO = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'config', 'demo.yaml');
const MISSING = { host: '192.0.2.77', port: 5353 };

/** The demo plan with DNS on `v4` and the missing address, the latter optional when `optional`. */
async function demoPlan(v4: { host: string; port: number }, optional = true): Promise<Plan> {
  const plan = await planFor(DEMO, { proberPort: 8090, controlListen: { host: '127.0.0.1', port: 8054 } });
  const dnsListeners = [v4, MISSING].flatMap((l) =>
    (['udp', 'tcp'] as const).map((proto) => ({ ...l, proto, what: 'the DNS server (dns.listen)' })),
  );
  return {
    ...plan,
    dns: { ...plan.dns, listen: [v4, MISSING] },
    optionalDnsListen: optional ? [MISSING] : [],
    listeners: [...plan.listeners.filter((l) => l.what !== 'the DNS server (dns.listen)'), ...dnsListeners],
  };
}

let held: Socket | undefined;
afterEach(() => {
  held?.close();
  held = undefined;
});

describe('leaveOutMissing', () => {
  it('leaves out an optional listener whose address the machine lacks, says so, and tells the DNS server what remains', async () => {
    const { plan, notes } = await leaveOutMissing(await demoPlan({ host: '127.0.0.1', port: 5353 }));
    expect(notes).toEqual([
      'dns.listen 192.0.2.77:5353 left out: this machine has no address 192.0.2.77; DNS answers on 127.0.0.1:5353 (up.optionalListen)',
    ]);
    expect(plan.dns.listen).toEqual([{ host: '127.0.0.1', port: 5353 }]);
    expect(plan.processes.find((p) => p.role === 'dns')!.args.slice(-2)).toEqual(['--listen', '127.0.0.1:5353']);
    expect(plan.listeners.filter((l) => l.host === MISSING.host)).toEqual([]);
    expect(await unavailable(plan.listeners.filter((l) => l.what === 'the DNS server (dns.listen)'))).toEqual([]);
  });

  it('changes nothing for a listener the config does not mark optional: the preflight names it', async () => {
    const before = await demoPlan({ host: '127.0.0.1', port: 5353 }, false);
    const { plan, notes } = await leaveOutMissing(before);
    expect(notes).toEqual([]);
    expect(plan).toBe(before);
    expect(await unavailable(plan.listeners.filter((l) => l.host === MISSING.host))).toEqual([
      'udp 192.0.2.77:5353 for the DNS server (dns.listen): this machine has no address 192.0.2.77 (on macOS: sudo ifconfig lo0 alias 192.0.2.77 up)',
      'tcp 192.0.2.77:5353 for the DNS server (dns.listen): this machine has no address 192.0.2.77 (on macOS: sudo ifconfig lo0 alias 192.0.2.77 up)',
    ]);
  });

  it('keeps an optional listener whose port is merely taken: that is another server, not a missing address', async () => {
    held = createSocket('udp4');
    await new Promise<void>((r) => held!.bind(0, '127.0.0.1', r));
    const taken = { host: '127.0.0.1', port: held.address().port };
    const before = await demoPlan({ host: '127.0.0.2', port: taken.port });
    const plan = {
      ...before,
      dns: { ...before.dns, listen: [before.dns.listen[0]!, taken] },
      optionalDnsListen: [taken],
    };
    const result = await leaveOutMissing(plan);
    expect(result.notes).toEqual([]);
    expect(result.plan).toBe(plan);
  });

  it('never leaves out the last listener', async () => {
    const before = await demoPlan({ host: '127.0.0.1', port: 5353 });
    const only = { ...before, dns: { ...before.dns, listen: [MISSING] } };
    expect((await leaveOutMissing(only)).plan).toBe(only);
  });
});
