// System test of anycast on the lab (test/lab/, issue 16): three PoPs (BIRD + announcer + `meridian
// dns` + an edge), three transit routers in separate ASes in a line, a client on each router.
// Real BGP, real BFD, real damping, dual-stack. Needs root, iproute2, dig, curl, iptables,
// ip6tables and bird2: CI runs it, elsewhere it skips with the reason.
//
//   c1        c2        c3
//   r1 ────── r2 ────── r3      AS 65101 — 65102 — 65103
//   pa        pb        pc      AS 65001, 65002, 65003: DNS 198.51.100.53 (/25) and 2001:db8:53::53 (/48),
//                               edge 198.51.100.180 (/25) and 2001:db8:180::180 (/48)
//
// Each case leaves the lab as it found it (every PoP announced, each client on its own PoP), so
// they can run in any order; each waits for that state first.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsNetns } from '../helpers/netns.js';
import { all, needs } from '../helpers/system-tools.js';
import { sleep } from '../helpers/wait-for.js';
import {
  ADDR,
  ADDR6,
  ANYCAST,
  ANYCAST6,
  ASN,
  CATCHMENT_INTERVAL_MS,
  CLIENTS,
  DAMPING,
  HOLD_DOWN_MS,
  NEAREST,
  PREFIX,
  PREFIX6,
  ROUTER_OF,
  ZONE,
  startLab,
  type Client,
  type Family,
  type Lab,
  type Pop,
} from '../lab/anycast-lab.mjs';

/** Its own namespace names: the user's lab (mrd-lab-) and the bench (mrd-alb-) can run beside it. */
const LAB_PREFIX = 'mrd-alt-';
/** A PoP's end of its link: the next hop its router has for the PoP's routes, per family. */
const popAddress = (pop: Pop): string => ADDR.popLink(pop).pop;
const popAddress6 = (pop: Pop): string => ADDR6.popLink(pop).pop;
const FAMILIES: readonly Family[] = [4, 6];
/** The most a healthy-again prefix is held down (DAMPING.maxHoldDownMs), plus rise and BGP. */
const BACK_BOUND_MS = DAMPING.maxHoldDownMs + 8000;

describe(
  'anycast lab: 3 PoPs, 3 transit ASes, 3 clients (system)',
  all(needs('dig', 'ip', 'bird', 'curl', 'iptables', 'ip6tables'), needsNetns()),
  () => {
    let lab: Lab;

    /**
     * Every client on its nearest PoP (DNS, over IPv4 and IPv6), every router's edge routes to its
     * own PoP: where each case starts and ends.
     */
    async function settled(boundMs = BACK_BOUND_MS): Promise<void> {
      for (const family of FAMILIES)
        for (const c of CLIENTS)
          await lab.waitUntil(
            `${c} answered by its nearest PoP ${NEAREST[c]} over IPv${family}`,
            boundMs,
            async () => (await lab.servedBy(c, family)) === NEAREST[c],
          );
      for (const c of CLIENTS) {
        const pop = NEAREST[c];
        for (const [prefix, via] of [
          [PREFIX.edge, popAddress(pop)],
          [PREFIX6.edge, popAddress6(pop)],
        ] as const)
          await lab.waitUntil(
            `${ROUTER_OF[pop]} routes the edge prefix ${prefix} to ${pop}`,
            boundMs,
            async () => (await lab.nextHop(ROUTER_OF[pop], prefix)) === via,
          );
      }
    }

    /** Which PoP answers `client` on each anycast service and family now: { dns4, dns6, edge4, edge6 }. */
    async function catchment(client: Client): Promise<Record<string, string | null>> {
      return {
        dns4: await lab.servedBy(client, 4),
        dns6: await lab.servedBy(client, 6),
        edge4: await lab.edgeServedBy(client, 4),
        edge6: await lab.edgeServedBy(client, 6),
      };
    }
    const everywhere = (pop: Pop) => ({ dns4: pop, dns6: pop, edge4: pop, edge6: pop });

    beforeAll(async () => {
      lab = await startLab({
        prefix: LAB_PREFIX,
        dir: mkdtempSync(join(tmpdir(), 'meridian-anycast-lab-')),
        probers: true,
      });
    }, 180_000);

    afterAll(() => {
      lab?.close();
    }, 30_000);

    it('each client reaches its nearest PoP by AS-path length', async () => {
      await settled(20_000);
      // r1 has every PoP's DNS prefix: its own PoP one AS away, b two, c three; the shortest wins.
      const routes = await lab.routes('r1', PREFIX.dns);
      expect(routes[0]).toEqual({ pop: 'a', path: [ASN.a] });
      expect(routes.slice(1).map((r) => r.path)).toEqual([[ASN.r2, ASN.b]]);
      for (const c of CLIENTS) expect(await lab.servedBy(c)).toBe(NEAREST[c]);
      // The edges too, by the served-by they answer with.
      for (const c of CLIENTS) {
        const r = await lab.exec(c, ['curl', '-s', '-m', '2', `http://${ANYCAST.edge}/`]);
        expect(r.stdout.trim()).toBe(`served by pop-${NEAREST[c]}`);
      }
    }, 60_000);

    it('the probers in the clients report catchment over IPv4 and IPv6: status and explain show c1 → a, c2 → b, c3 → c', async () => {
      await settled(20_000);
      type Landing = { vantage: string; address: string; pop: string | null; stale: boolean };
      const where = (rows: Landing[], c: string, address: string) =>
        rows.find((r) => r.vantage === c && r.address === address && !r.stale)?.pop;
      // Each client's prober asks every anycast address (DNS and edge, each family) every
      // CATCHMENT_INTERVAL_MS and reports to every PoP's DNS server; PoP a's is asked here, from
      // inside its namespace.
      const addresses = [ANYCAST.dns, ANYCAST.edge, ANYCAST6.dns, ANYCAST6.edge];
      await lab.waitUntil(
        'every client on its nearest PoP on every anycast address in the DNS server catchment view',
        10 * CATCHMENT_INTERVAL_MS + 10_000,
        async () => {
          const rows = (await lab.dnsStatus('a')).catchment as Landing[];
          return CLIENTS.every((c) => addresses.every((a) => where(rows, c, a) === NEAREST[c]));
        },
      );
      const control = ['--control', 'http://127.0.0.1:8053'];
      const status = await lab.meridian('a', ['status', ...control]);
      expect(status.stdout).toMatch(/catchment \(which PoP answers each anycast address/);
      const header = status.stdout.split('\n').find((l) => l.startsWith('VANTAGE'));
      for (const a of addresses) expect(header).toContain(a);
      for (const c of CLIENTS) {
        const p = NEAREST[c];
        // One cell per address, each naming the client's nearest PoP.
        expect(status.stdout).toMatch(new RegExp(`^${c}(?: +${p} \\([^)]*\\)){${addresses.length}}$`, 'm'));
      }
      // explain for the anycast pool on www: where each client lands on its edge address, per family.
      const landings = (address: string) =>
        new RegExp(
          `anycast ${address.replaceAll('.', '\\.')}: ` +
            CLIENTS.map((c) => `from ${c} → pop ${NEAREST[c]} \\([^)]* ago\\)`).join(', '),
        );
      const explain = async (type: string) =>
        (await lab.meridian('a', ['explain', `www.${ZONE}`, '10.212.1.2', '--type', type, ...control])).stdout;
      expect(await explain('A')).toMatch(landings(ANYCAST.edge));
      expect(await explain('AAAA')).toMatch(landings(ANYCAST6.edge));
    }, 60_000);

    it('over IPv6 too: each client reaches its nearest PoP on the IPv6 DNS and edge addresses, and www answers AAAA with the anycast edge', async () => {
      await settled(20_000);
      // The IPv6 prefixes take the same paths, over the IPv6 sessions.
      expect((await lab.routes('r1', PREFIX6.dns))[0]).toEqual({ pop: 'a', path: [ASN.a] });
      expect((await lab.routes('r1', PREFIX6.dns)).slice(1).map((r) => r.path)).toEqual([[ASN.r2, ASN.b]]);
      for (const c of CLIENTS) expect(await catchment(c)).toEqual(everywhere(NEAREST[c]));
      // A user's view: dig -6 with NSID, curl to the IPv6 edge literal.
      const dig = await lab.exec('c3', ['dig', '-6', `@${ANYCAST6.dns}`, '+nsid', '+norec', ZONE, 'SOA']);
      expect(dig.stdout).toMatch(/; NSID: .*\("pop-c"\)/);
      const curl = await lab.exec('c2', ['curl', '-g', '-s', '-m', '2', `http://[${ANYCAST6.edge}]/`]);
      expect(curl.stdout.trim()).toBe('served by pop-b');
      // The policy: anycast pool answers each family with its anycast edge address (asked over IPv6).
      const ask = async (type: string) =>
        (await lab.exec('c1', ['dig', `@${ANYCAST6.dns}`, '+short', '+norec', `www.${ZONE}`, type])).stdout.trim();
      expect(await ask('AAAA')).toBe(ANYCAST6.edge);
      expect(await ask('A')).toBe(ANYCAST.edge);
    }, 60_000);

    it("killing the DNS server in c1's PoP moves c1 to the next nearest PoP over IPv4 and IPv6 together; the others stay; revive brings it back after rise + hold-down", async () => {
      await settled();
      const killedAt = performance.now();
      await lab.stop('dns-a', 'SIGKILL');
      // One process serves both addresses: both prefixes go, and c1 moves on both families.
      const moved = await lab.waitUntil(
        'c1 answered by PoP b over IPv4 and IPv6',
        5000,
        async () => (await lab.servedBy('c1', 4)) === 'b' && (await lab.servedBy('c1', 6)) === 'b',
      );
      console.log(
        `anycast lab: c1 answered by PoP b (IPv4 and IPv6) ${moved.ms} ms after the DNS server in a was killed`,
      );
      expect(moved.ms).toBeLessThan(2000);
      for (const family of FAMILIES) {
        expect(await lab.servedBy('c2', family)).toBe('b');
        expect(await lab.servedBy('c3', family)).toBe('c');
      }
      expect(await lab.nextHop('r1', PREFIX6.dns)).not.toBe(popAddress6('a'));
      // Only the DNS prefixes went: a's edge still serves c1, on both families.
      expect(await lab.nextHop('r1', PREFIX.edge)).toBe(popAddress('a'));
      expect(await lab.nextHop('r1', PREFIX6.edge)).toBe(popAddress6('a'));
      expect(await lab.edgeServedBy('c1', 6)).toBe('a');

      await lab.startDns('a');
      // Healthy again after rise, held down by damping (one flap suppresses in the lab) until the
      // hold-down since the kill is over: not back before it.
      const back = await lab.waitUntil(
        'c1 answered by PoP a again, over IPv4 and IPv6',
        BACK_BOUND_MS,
        async () => (await lab.servedBy('c1', 4)) === 'a' && (await lab.servedBy('c1', 6)) === 'a',
      );
      const sinceKill = performance.now() - killedAt;
      console.log(
        `anycast lab: c1 back on PoP a ${Math.round(sinceKill)} ms after the kill (hold-down ${HOLD_DOWN_MS} ms)`,
      );
      expect(sinceKill).toBeGreaterThanOrEqual(HOLD_DOWN_MS - 100);
      expect(back.ms).toBeGreaterThan(0);
    }, 60_000);

    it('a DNS service flapping every 2 s is suppressed: no flap storm at the transit router', async () => {
      await settled();
      const before = await lab.popSessionStats('r1');
      const announcesBefore = await announcements('a');
      const flapsBefore = dnsFlaps(await lab.announcerMetrics('a'));
      // Hung for 1.3 s, answering for 0.7 s: each cycle fails `fall` checks (a timed-out check
      // takes its 200 ms timeout plus the hedge), then passes `rise` (fast interval, 100 ms).
      const CYCLES = 8;
      for (let i = 0; i < CYCLES; i++) {
        lab.pause('dns-a', true);
        await sleep(1300);
        lab.pause('dns-a', false);
        await sleep(700);
      }
      const after = await lab.popSessionStats('r1');
      const metrics = await lab.announcerMetrics('a');
      const flaps = dnsFlaps(metrics) - flapsBefore;
      const updates = after.updates - before.updates;
      const withdraws = after.withdraws - before.withdraws;
      const announced = (await announcements('a')) - announcesBefore;
      console.log(
        `anycast lab: ${CYCLES} flaps of 2 s: ${flaps} flaps counted, r1 received ${updates} updates and ${withdraws} withdrawals from PoP a, the announcer re-announced ${announced} times`,
      );
      // Without damping each cycle would be a withdrawal and an announcement at r1 (16 in all).
      expect(flaps).toBeGreaterThanOrEqual(CYCLES / 2);
      expect(withdraws).toBeGreaterThanOrEqual(1);
      expect(updates + withdraws).toBeLessThanOrEqual(4);
      expect(metrics).toMatch(/^meridian_anycast_suppressed\{prefix="198\.51\.100\.0\/25"[^}]*\} 1$/m);
      // Stable again: back within the longest hold-down.
      await settled();
    }, 90_000);

    it("a silent cut of PoP a's link is caught by BFD; c1 moves to b, and back once the link is restored", async () => {
      await settled();
      const t0 = performance.now();
      await lab.cutLink('a');
      try {
        const moved = await lab.waitUntil('c1 answered by PoP b', 5000, async () => (await lab.servedBy('c1')) === 'b');
        console.log(
          `anycast lab: link cut: c1 answered by PoP b ${moved.ms} ms after the cut (BFD ${3 * 100} ms, hold ${3} s)`,
        );
        // BFD (300 ms) caught it, not the 3 s hold timer; on the IPv6 session as well. Timed at
        // r1's route, not by asking c1: a query sent just before the route moves waits out dig's
        // whole 1 s timeout.
        expect(performance.now() - t0).toBeLessThan(2500);
        expect((await lab.popSessionStats('r1')).state).not.toBe('up');
        await lab.waitUntil('r1 routes the IPv6 DNS prefix away from PoP a', 1000, async () => {
          const hop = await lab.nextHop('r1', PREFIX6.dns);
          return hop !== null && hop !== popAddress6('a');
        });
        expect(await lab.servedBy('c1', 6)).toBe('b');
      } finally {
        await lab.restoreLink('a');
      }
      const back = await lab.waitUntil(
        'c1 answered by PoP a again',
        20_000,
        async () => (await lab.servedBy('c1')) === 'a',
      );
      console.log(`anycast lab: link restored: c1 back on PoP a after ${back.ms} ms (BGP reconnect)`);
      await settled();
    }, 60_000);

    it('SIGKILL of the announcer does not leave a dead route up', async () => {
      await settled();
      await lab.stop('anycast-a', 'SIGKILL');
      // The lease went with the process: BIRD drops the routes, r1 moves to r2's path.
      const moved = await lab.waitUntil(
        'r1 routes DNS away from PoP a',
        3000,
        async () => (await lab.nextHop('r1', PREFIX.dns)) !== popAddress('a'),
      );
      console.log(`anycast lab: announcer SIGKILLed: r1's route via PoP a gone after ${moved.ms} ms`);
      expect(await lab.nextHop('r1', PREFIX.edge)).not.toBe(popAddress('a'));
      expect(await lab.nextHop('r1', PREFIX6.dns)).not.toBe(popAddress6('a'));
      expect(await lab.nextHop('r1', PREFIX6.edge)).not.toBe(popAddress6('a'));
      expect(await lab.servedBy('c1')).toBe('b');
      await lab.startAnnouncer('a');
      await settled();
    }, 60_000);

    it("a long HTTP download from c3 survives PoP b's edge being withdrawn (c3's catchment does not change)", async () => {
      await settled();
      const seconds = 5;
      const download = lab.exec(
        'c3',
        [
          'curl',
          '-s',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code} %{size_download}',
          '-m',
          '20',
          `http://${ANYCAST.edge}/stream?seconds=${seconds}`,
        ],
        30_000,
      );
      await sleep(1500);
      await lab.stop('edge-b', 'SIGKILL');
      await lab.waitUntil(
        "r2's edge route leaves PoP b",
        5000,
        async () => (await lab.nextHop('r2', PREFIX.edge)) !== popAddress('b'),
      );
      // r3 heard about it (b's path is gone from its table) while its best stayed its own PoP.
      await lab.waitUntil(
        'r3 no longer has a path to b',
        5000,
        async () => !(await lab.routes('r3', PREFIX.edge)).some((r) => r.pop === 'b'),
      );
      expect((await lab.routes('r3', PREFIX.edge))[0]?.pop).toBe('c');
      const r = await download;
      expect(r.stdout).toBe(`200 ${seconds * 10 * 64 * 1024}`);
      await lab.startEdge('b');
      await settled();
    }, 60_000);

    it("`meridian pop drain a` withdraws PoP a's routes without a damping penalty (c1 moves to b, the others stay); undrain brings it back after rise, with no hold-down", async () => {
      await settled();
      const flapsBefore = allFlaps(await lab.announcerMetrics('a'));
      /** Whether r1's route to each of PoP a's four prefixes goes via a now. */
      const viaA = async (): Promise<boolean[]> =>
        Promise.all(
          (
            [
              [PREFIX.dns, popAddress('a')],
              [PREFIX.edge, popAddress('a')],
              [PREFIX6.dns, popAddress6('a')],
              [PREFIX6.edge, popAddress6('a')],
            ] as const
          ).map(async ([prefix, via]) => (await lab.nextHop('r1', prefix)) === via),
        );
      // As a user would: `meridian pop drain a --control <PoP a's DNS server>`. The announcer
      // hears it in the reply to its next report (every 200 ms).
      await lab.popCommand('drain', 'a');
      const gone = await lab.waitUntil("r1's routes to all four of a's prefixes leave a", 5000, async () =>
        (await viaA()).every((v) => !v),
      );
      console.log(`anycast lab: drain: r1's routes via a gone ${gone.ms} ms after \`meridian pop drain a\` returned`);
      await lab.waitUntil(
        'c1 on PoP b for DNS and edge, IPv4 and IPv6',
        5000,
        async () => JSON.stringify(await catchment('c1')) === JSON.stringify(everywhere('b')),
      );
      expect(await catchment('c2')).toEqual(everywhere('b'));
      expect(await catchment('c3')).toEqual(everywhere('c'));
      // Planned: no flap counted, nothing suppressed, and the announcer says why.
      const drained = await lab.announcerMetrics('a');
      expect(allFlaps(drained)).toBe(flapsBefore);
      expect(drained).not.toMatch(/^meridian_anycast_suppressed\{[^}]*\} 1$/m);
      const status = await lab.announcerStatus('a');
      expect(status.override).toBe('drain');
      expect(status.prefixes.map((p) => p.reason)).toEqual(
        Array(4).fill('drained by an operator (meridian pop drain)'),
      );

      await lab.popCommand('undrain', 'a');
      // Rise (2 checks, 100-200 ms apart) plus a report interval and BGP: well inside the hold-down
      // one flap would cost (HOLD_DOWN_MS), which undrain must not wait out.
      const back = await lab.waitUntil("r1's routes to all four of a's prefixes back on a", HOLD_DOWN_MS, async () =>
        (await viaA()).every((v) => v),
      );
      console.log(
        `anycast lab: undrain: r1's routes via a back ${back.ms} ms after \`meridian pop undrain a\` returned`,
      );
      await lab.waitUntil(
        'c1 back on PoP a for DNS and edge, IPv4 and IPv6',
        5000,
        async () => JSON.stringify(await catchment('c1')) === JSON.stringify(everywhere('a')),
      );
      expect(allFlaps(await lab.announcerMetrics('a'))).toBe(flapsBefore);
      await settled();
    }, 60_000);

    /** Every prefix's flaps so far, summed, from an announcer's /metrics. */
    function allFlaps(metrics: string): number {
      return [...metrics.matchAll(/^meridian_anycast_flaps_total\{[^}]*\} (\d+)$/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    }

    /** The DNS prefix's flaps so far, from an announcer's /metrics. */
    function dnsFlaps(metrics: string): number {
      return Number(
        /^meridian_anycast_flaps_total\{prefix="198\.51\.100\.0\/25"[^}]*\} (\d+)$/m.exec(metrics)?.[1] ?? NaN,
      );
    }

    /** How many times a PoP's announcer has announced a prefix so far (its log). */
    async function announcements(pop: Pop): Promise<number> {
      const r = await lab.exec(pop, ['grep', '-c', 'announcing anycast prefix', lab.log(`anycast-${pop}`)]);
      return Number(r.stdout.trim() || 0);
    }
  },
);
