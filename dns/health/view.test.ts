import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HealthReport } from '../../common/health.js';
import { createLogger } from '../../common/log.js';
import { FileOverrideStore, stateFileFor, type Override, type OverrideStore } from './overrides.js';
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

function setup(settings: QuorumSettings = SETTINGS) {
  let t = 1_000_000;
  let changes = 0;
  const transitions: string[] = [];
  const view = new HealthView(settings, ['fra', 'iad', 'sin'], new MemoryOverrides(), log, () => changes++, () => t, (pop, to) => transitions.push(`${pop}:${to}`));
  const seqs = new Map<string, number>();
  const report = (vantage: string, down: string[], epoch = 1): ReturnType<HealthView['report']> => {
    const seq = (seqs.get(`${vantage}/${epoch}`) ?? 0) + 1;
    seqs.set(`${vantage}/${epoch}`, seq);
    const r: HealthReport = {
      vantage, epoch, seq, interval: 1000,
      targets: ['fra', 'iad', 'sin'].map((pop) => ({ pop, up: !down.includes(pop), rttMs: 10 })),
      resolvers: [{ network: '198.51.100.0/24', rttMs: 20 }],
    };
    return view.report(r);
  };
  return {
    view, report, transitions,
    advance: (ms: number) => {
      t += ms;
      view.update(settings, ['fra', 'iad', 'sin']);
    },
    changes: () => changes,
    eligible: (pop: string) => view.healthOf(pop)!.eligible,
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
    expect(s.view.healthOf('iad')!.reason).toBe('down: 2 of 3 fresh vantage points see it down (quorum 2)');
    expect(s.transitions).toEqual(['iad:down']);
    expect(s.changes()).toBe(1);
  });

  it('ignores a replayed or reordered report, and accepts a restarted prober (new epoch)', () => {
    const s = setup();
    expect(s.report('fra', [])).toEqual({ accepted: true });
    const r: HealthReport = { vantage: 'fra', epoch: 1, seq: 1, interval: 1000, targets: [{ pop: 'iad', up: false, rttMs: null }], resolvers: [] };
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
    s.report('sin', []); // only this one stays fresh
    s.advance(1500); // fra and iad are now 3.5 s old: stale
    expect(s.eligible('sin')).toBe(true);
    expect(s.view.healthOf('sin')!.reason).toMatch(/0 of 1 fresh/);
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
    expect(s.view.details().find((d) => d.pop === 'fra')).toMatchObject({ verdict: 'down', override: 'drain' });
    s.view.setOverride('fra', null);
    expect(s.eligible('fra')).toBe(false); // back to the reports, which say down
    s.report('iad', []);
    expect(s.eligible('fra')).toBe(true);
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
    expect(() => new FileOverrideStore(file)).toThrow(/x\.state\.json: overrides\.fra: 'sideways' is not one of drain, down/);
    writeFileSync(file, 'nope');
    expect(() => new FileOverrideStore(file)).toThrow(/state file is not JSON/);
  });
});
