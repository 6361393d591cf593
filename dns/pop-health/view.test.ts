import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HealthReport } from '../../common/health-contract.js';
import { createLogger, type Logger } from '../../common/log.js';
import { capturedLog } from '../../test/helpers/captured-log.js';
import { FileOverrideStore, stateFileFor, type Override, type OverrideStore } from './overrides.js';
import { FileVerdictStore, verdictsFileFor, type VerdictStore } from './verdicts.js';
import { HealthView, type QuorumSettings } from './view.js';

const log = createLogger({ service: 'test', level: 'silent' });
const SETTINGS: QuorumSettings = { quorum: 'majority', staleAfterIntervals: 3, grace: 10_000 };

class MemoryOverrides implements OverrideStore {
  private readonly m = new Map<string, Override>();
  get(pop: string) {
    return this.m.get(pop) ?? null;
  }
  set(pop: string, o: Override | null) {
    if (o) this.m.set(pop, o);
    else this.m.delete(pop);
  }
  all() {
    return Object.fromEntries(this.m);
  }
}

function setup(settings: QuorumSettings = SETTINGS, opts: { store?: VerdictStore; log?: Logger; t?: number } = {}) {
  let t = opts.t ?? 1_000_000;
  let changes = 0;
  const transitions: string[] = [];
  const view = new HealthView(
    settings,
    ['fra', 'iad', 'sin'],
    new MemoryOverrides(),
    opts.log ?? log,
    () => changes++,
    () => t,
    (pop, to) => transitions.push(`${pop}:${to}`),
    opts.store,
  );
  const seqs = new Map<string, number>();
  const report = (vantage: string, down: string[], epoch = 1): ReturnType<HealthView['report']> => {
    const seq = (seqs.get(`${vantage}/${epoch}`) ?? 0) + 1;
    seqs.set(`${vantage}/${epoch}`, seq);
    const r: HealthReport = {
      vantage,
      epoch,
      seq,
      interval: 1000,
      targets: ['fra', 'iad', 'sin'].map((pop) => ({ pop, up: !down.includes(pop), rttMs: 10 })),
      resolvers: [{ network: '198.51.100.0/24', rttMs: 20 }],
    };
    return view.report(r);
  };
  return {
    view,
    report,
    transitions,
    now: () => t,
    advance: (ms: number) => {
      t += ms;
      view.update(settings, ['fra', 'iad', 'sin']);
    },
    changes: () => changes,
    eligible: (pop: string) => view.healthOf(pop)!.eligible,
    reason: (pop: string) => view.healthOf(pop)!.reason,
  };
}

describe('quorum health view', () => {
  it('counts every PoP up before any report arrives', () => {
    const s = setup();
    expect(s.eligible('fra')).toBe(true);
    expect(s.view.healthOf('fra')!.reason).toBe('up: no reports yet');
  });

  it('takes a PoP out only when a majority of fresh vantage points sees it down', () => {
    const s = setup();
    s.report('iad', []);
    s.report('sin', []);
    s.report('fra', ['iad']);
    expect(s.eligible('iad')).toBe(true); // one prober's view of three is not enough
    s.report('sin', ['iad']);
    expect(s.eligible('iad')).toBe(false);
    expect(s.reason('iad')).toBe('down: 2 of 3 expected vantage points see it down (3 report, quorum 2)');
    expect(s.transitions).toEqual(['iad:down']);
    expect(s.changes()).toBe(1);
  });

  it('ignores a replayed or reordered report, and accepts a restarted prober (new epoch)', () => {
    const s = setup();
    expect(s.report('fra', [])).toEqual({ accepted: true });
    const r: HealthReport = {
      vantage: 'fra',
      epoch: 1,
      seq: 1,
      interval: 1000,
      targets: [{ pop: 'iad', up: false, rttMs: null }],
      resolvers: [],
    };
    expect(s.view.report(r)).toMatchObject({ accepted: false });
    expect(s.view.report({ ...r, epoch: 0, seq: 99 })).toMatchObject({ accepted: false });
    expect(s.view.report({ ...r, epoch: 2, seq: 1 })).toEqual({ accepted: true });
  });

  it('stops counting a report once it is older than staleAfterIntervals × its interval', () => {
    const s = setup();
    s.report('fra', ['sin']);
    s.report('iad', ['sin']);
    s.report('sin', []);
    expect(s.eligible('sin')).toBe(false);
    s.advance(2000);
    s.report('fra', ['sin']);
    s.report('sin', []); // iad falls silent
    expect(s.eligible('sin')).toBe(false);
    s.advance(1500); // iad's report is now 3.5 s old: stale, so it no longer votes
    expect(s.reason('sin')).toBe(
      'down: 2 of 3 expected vantage points report, 1 sees it down, quorum 2: last verdict held for the grace period',
    );
    s.report('iad', []); // back, and it sees sin up: 1 down vote of 3 cannot be a quorum
    expect(s.eligible('sin')).toBe(true);
    expect(s.reason('sin')).toBe('up: 1 of 3 expected vantage points see it down (3 report, quorum 2)');
  });

  it('holds the last verdict for the grace period without fresh reports, then fails open', () => {
    const s = setup();
    s.report('fra', ['sin']);
    s.report('iad', ['sin']);
    expect(s.eligible('sin')).toBe(false);
    s.advance(5000); // stale, within grace
    expect(s.eligible('sin')).toBe(false);
    expect(s.view.healthOf('sin')!.reason).toMatch(/last verdict held/);
    s.advance(9000); // past grace
    expect(s.eligible('sin')).toBe(true);
    expect(s.view.healthOf('sin')!.reason).toMatch(/fail open/);
  });

  it('serves measured RTTs to resolver networks only from fresh reports', () => {
    const s = setup();
    s.report('fra', []);
    expect(s.view.measuredRttMs('fra', '198.51.100.0/24')).toBe(20);
    expect(s.view.measuredRttMs('iad', '198.51.100.0/24')).toBeUndefined();
    s.advance(3500);
    expect(s.view.measuredRttMs('fra', '198.51.100.0/24')).toBeUndefined();
  });

  it('honours a fixed quorum number', () => {
    const s = setup({ ...SETTINGS, quorum: 1 });
    s.report('fra', ['iad']);
    s.report('sin', []);
    expect(s.eligible('iad')).toBe(false);
  });

  it('lets an operator drain or down a PoP whatever the reports say, and return it with auto', () => {
    const s = setup();
    s.view.setOverride('fra', 'drain');
    expect(s.view.healthOf('fra')).toEqual({ eligible: false, reason: 'drained by an operator (still monitored)' });
    s.report('iad', ['fra']);
    s.report('sin', ['fra']);
    expect(s.view.details().find((d) => d.pop === 'fra')).toMatchObject({ verdict: 'down', override: 'drain' });
    s.view.setOverride('fra', null);
    expect(s.eligible('fra')).toBe(false); // back to the reports, which say down
    s.report('iad', []);
    s.report('fra', []);
    expect(s.eligible('fra')).toBe(true);
  });
});

describe('quorum over the expected vantage points', () => {
  it('lets no single report decide: one prober alone neither takes a PoP out nor brings one back', () => {
    const s = setup();
    s.report('fra', ['sin']);
    expect(s.eligible('sin')).toBe(true);
    expect(s.reason('sin')).toBe(
      'up: 1 of 3 expected vantage points report, 1 sees it down, quorum 2: no verdict yet (up until a quorum decides)',
    );
    s.report('iad', ['sin']);
    expect(s.eligible('sin')).toBe(false);
  });

  it('counts only the vantage points in health.vantagePoints, and their majority', () => {
    const s = setup({ ...SETTINGS, vantagePoints: ['fra', 'iad'] });
    expect(s.report('sin', ['iad'])).toEqual({
      accepted: false,
      reason: "vantage 'sin' is not listed in health.vantagePoints",
    });
    s.report('fra', ['iad']);
    expect(s.eligible('iad')).toBe(true);
    s.report('iad', ['iad']);
    expect(s.eligible('iad')).toBe(false);
    expect(s.reason('iad')).toBe('down: 2 of 2 expected vantage points see it down (2 report, quorum 2)');
    expect(s.view.details()[0]!.votes.map((v) => v.vantage)).toEqual(['fra', 'iad']);
  });

  it('with a fixed quorum of 1, takes a PoP out on one vote and brings it back only when every vantage point sees it up', () => {
    const s = setup({ ...SETTINGS, quorum: 1 });
    s.report('fra', ['iad']);
    expect(s.eligible('iad')).toBe(false);
    s.report('fra', []);
    s.report('iad', []);
    expect(s.eligible('iad')).toBe(false); // sin has not said yet, and its vote alone would take it out
    s.report('sin', []);
    expect(s.eligible('iad')).toBe(true);
  });

  it('does not freeze when probers die for good: 2 of 3 gone, verdicts hold for the grace period, then fail open', () => {
    const s = setup();
    for (const v of ['fra', 'iad', 'sin']) s.report(v, ['sin']);
    expect(s.eligible('sin')).toBe(false);
    // iad's and sin's probers die; fra's keeps reporting sin down every second.
    for (let i = 0; i < 12; i++) {
      s.advance(1000);
      s.report('fra', ['sin']);
    }
    // Their reports went stale after 3 s; 1 of 3 cannot be a majority, so the verdict held for
    // the 10 s grace from the last quorum...
    expect(s.eligible('sin')).toBe(false);
    expect(s.reason('sin')).toMatch(
      /^down: 1 of 3 expected vantage points report, 1 sees it down, quorum 2: last verdict held/,
    );
    for (let i = 0; i < 2; i++) {
      s.advance(1000);
      s.report('fra', ['sin']);
    }
    // ...and then fails open, as with no probers at all.
    expect(s.eligible('sin')).toBe(true);
    expect(s.reason('sin')).toBe(
      'up: 1 of 3 expected vantage points report, 1 sees it down, quorum 2, for longer than the grace period (fail open)',
    );
    expect(s.eligible('fra')).toBe(true);
  });
});

describe('verdicts across a restart', () => {
  const stateDir = () => mkdtempSync(join(tmpdir(), 'meridian-verdicts-'));

  it('keeps a PoP that was down out of the answers after a restart until a quorum sees it up', () => {
    const store = new FileVerdictStore(verdictsFileFor(join(stateDir(), 'demo.yaml')));
    const before = setup(SETTINGS, { store });
    before.report('fra', ['sin']);
    before.report('iad', ['sin']);
    expect(before.eligible('sin')).toBe(false);
    expect(JSON.parse(readFileSync(store.file, 'utf8')).verdicts.sin).toMatchObject({ up: false });

    // The server restarts 2 s later (a new view over the same file).
    const after = setup(SETTINGS, { store, t: before.now() + 2000 });
    expect(after.eligible('sin')).toBe(false); // from the first second, before any report
    expect(after.eligible('fra')).toBe(true);
    after.report('sin', []); // the first prober to report sees sin up: 1 of 3 decides nothing
    expect(after.eligible('sin')).toBe(false);
    expect(after.reason('sin')).toBe(
      `down: 1 of 3 expected vantage points report, 0 see it down, quorum 2: verdict from before the restart held (down since ${new Date(before.now()).toISOString()})`,
    );
    after.report('fra', []);
    expect(after.eligible('sin')).toBe(true);
    expect(after.transitions).toEqual(['sin:up']);
  });

  it('keeps a healthy PoP in after a restart when the first report sees it down', () => {
    const store = new FileVerdictStore(verdictsFileFor(join(stateDir(), 'demo.yaml')));
    const before = setup(SETTINGS, { store });
    for (const v of ['fra', 'iad', 'sin']) before.report(v, []);
    const after = setup(SETTINGS, { store, t: before.now() + 2000 });
    after.report('iad', ['fra']);
    expect(after.eligible('fra')).toBe(true);
  });

  it('refreshes the saved verdicts every quarter of the grace period, so a long-standing one survives a restart', () => {
    const store = new FileVerdictStore(verdictsFileFor(join(stateDir(), 'demo.yaml')));
    const before = setup(SETTINGS, { store });
    for (let i = 0; i < 60; i++) {
      before.report('fra', ['sin']);
      before.report('iad', ['sin']);
      before.advance(1000);
    }
    // Down for a minute, far longer than the 10 s grace: still down after a restart.
    const after = setup(SETTINGS, { store, t: before.now() + 1000 });
    expect(after.eligible('sin')).toBe(false);
  });

  it('ignores saved verdicts older than the grace period: they would have failed open by now', () => {
    const store = new FileVerdictStore(verdictsFileFor(join(stateDir(), 'demo.yaml')));
    const before = setup(SETTINGS, { store });
    before.report('fra', ['sin']);
    before.report('iad', ['sin']);
    const { log: captured, lines } = capturedLog();
    const after = setup(SETTINGS, { store, log: captured, t: before.now() + SETTINGS.grace + 1 });
    expect(after.eligible('sin')).toBe(true);
    expect(after.reason('sin')).toBe('up: no reports yet');
    expect(lines.find((l) => String(l.msg).startsWith('health verdicts from before the restart'))).toMatchObject({
      restored: {},
      ignored: ['fra', 'iad', 'sin'],
    });
  });

  it('starts without saved verdicts when the file is missing or corrupt, saying why', () => {
    const file = verdictsFileFor(join(stateDir(), 'demo.yaml'));
    const { log: captured, lines } = capturedLog();
    expect(setup(SETTINGS, { store: new FileVerdictStore(file), log: captured }).eligible('sin')).toBe(true);
    writeFileSync(file, 'nope');
    const s = setup(SETTINGS, { store: new FileVerdictStore(file), log: captured });
    expect(s.eligible('sin')).toBe(true);
    expect(lines.find((l) => l.msg === 'cannot use the saved health verdicts; starting without them')).toMatchObject({
      file,
      error: expect.stringMatching(/^not JSON/),
    });
    writeFileSync(file, '{"verdicts": {"sin": {"up": "no"}}}');
    expect(new FileVerdictStore(file).load()).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^verdicts\.sin\.up: /),
    });
    // It is rewritten whole with the next verdicts.
    s.report('fra', ['sin']);
    s.report('iad', ['sin']);
    expect(new FileVerdictStore(file).load()).toMatchObject({ ok: true, verdicts: { sin: { up: false } } });
  });

  it('keeps serving when the verdicts cannot be saved, and says so once', () => {
    const { log: captured, lines } = capturedLog();
    const s = setup(SETTINGS, {
      store: new FileVerdictStore(join(stateDir(), 'missing-dir', 'x.verdicts.state.json')),
      log: captured,
    });
    s.report('fra', ['sin']);
    s.report('iad', ['sin']);
    s.report('iad', []);
    s.report('sin', []);
    expect(s.eligible('sin')).toBe(true);
    expect(
      lines.filter((l) => l.msg === 'cannot save health verdicts; a restart will start without them'),
    ).toHaveLength(1);
  });
});

describe('override state file', () => {
  it('persists overrides next to the config and reads them back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-state-'));
    const file = stateFileFor(join(dir, 'demo.yaml'));
    expect(file).toBe(join(dir, 'demo.state.json'));
    new FileOverrideStore(file).set('fra', 'drain');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ overrides: { fra: 'drain' } });
    expect(new FileOverrideStore(file).get('fra')).toBe('drain');
  });

  it('refuses a state file it cannot understand, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-state-'));
    const file = join(dir, 'x.state.json');
    writeFileSync(file, '{"overrides": {"fra": "sideways"}}');
    expect(() => new FileOverrideStore(file)).toThrow(
      /x\.state\.json: overrides\.fra: 'sideways' is not one of drain, down/,
    );
    writeFileSync(file, 'nope');
    expect(() => new FileOverrideStore(file)).toThrow(/state file is not JSON/);
  });
});

describe('checked CNAME members in the health view', () => {
  function memberSetup() {
    let t = 1_000_000;
    const overrides = new MemoryOverrides();
    const transitions: string[] = [];
    const subjects = { pops: ['fra', 'iad', 'sin'], members: ['other'] };
    const view = new HealthView(
      SETTINGS,
      subjects,
      overrides,
      log,
      () => {},
      () => t,
      (id, to) => transitions.push(`${id}:${to}`),
    );
    const seqs = new Map<string, number>();
    const report = (vantage: string, down: string[]) => {
      const seq = (seqs.get(vantage) ?? 0) + 1;
      seqs.set(vantage, seq);
      return view.report({
        vantage,
        epoch: 1,
        seq,
        interval: 1000,
        targets: ['fra', 'iad', 'sin', 'other'].map((pop) => ({ pop, up: !down.includes(pop), rttMs: 10 })),
        resolvers: [],
      });
    };
    return {
      view,
      overrides,
      report,
      transitions,
      advance: (ms: number) => ((t += ms), view.update(SETTINGS, subjects)),
    };
  }

  it('judges a member by a quorum of the PoP vantage points, and never takes it as a vantage point', () => {
    const s = memberSetup();
    expect(s.view.expectedVantagePoints()).toEqual(['fra', 'iad', 'sin']);
    expect(
      s.view.report({ vantage: 'other', epoch: 1, seq: 1, interval: 1000, targets: [], resolvers: [] }),
    ).toMatchObject({ accepted: false });
    s.report('fra', ['other']);
    expect(s.view.healthOf('other')!.eligible).toBe(true); // one vantage point of three
    s.report('iad', ['other']);
    expect(s.view.healthOf('other')).toEqual({
      eligible: false,
      reason: 'down: 2 of 3 expected vantage points see it down (2 report, quorum 2)',
    });
    expect(s.transitions).toEqual(['other:down']);
    const detail = s.view.details().find((d) => d.pop === 'other')!;
    expect(detail).toMatchObject({ kind: 'member', verdict: 'down', override: null });
    expect(detail.votes.map((v) => `${v.vantage}:${v.up}`)).toEqual(['fra:false', 'iad:false']);
    expect(s.view.details().find((d) => d.pop === 'fra')!.kind).toBe('pop');
    s.report('fra', []);
    s.report('sin', []);
    expect(s.view.healthOf('other')!.eligible).toBe(true);
  });

  it('fails open for a member whose reports stop, after staleness and grace', () => {
    const s = memberSetup();
    s.report('fra', ['other']);
    s.report('iad', ['other']);
    expect(s.view.healthOf('other')!.eligible).toBe(false);
    s.advance(3_001);
    expect(s.view.healthOf('other')!.reason).toMatch(
      /^down: no fresh reports .* last verdict held for the grace period$/,
    );
    s.advance(10_000);
    expect(s.view.healthOf('other')!.eligible).toBe(true);
    expect(s.view.healthOf('other')!.reason).toMatch(/fail open/);
  });

  it('takes drain, down and auto overrides by member id', () => {
    const s = memberSetup();
    expect(s.view.knows('other')).toBe(true);
    expect(s.view.knows('mars')).toBe(false);
    s.view.setOverride('other', 'drain');
    expect(s.view.healthOf('other')).toEqual({ eligible: false, reason: 'drained by an operator (still monitored)' });
    expect(s.view.details().find((d) => d.pop === 'other')!.override).toBe('drain');
    s.view.setOverride('other', 'down');
    expect(s.view.healthOf('other')!.reason).toBe('marked down by an operator');
    s.view.setOverride('other', null);
    expect(s.view.healthOf('other')!.eligible).toBe(true);
  });

  it('forgets a member the config no longer checks', () => {
    const s = memberSetup();
    s.view.update(SETTINGS, { pops: ['fra', 'iad', 'sin'], members: [] });
    expect(s.view.healthOf('other')).toBeUndefined();
    expect(s.view.knows('other')).toBe(false);
  });
});
