import { describe, expect, it } from 'vitest';
import type { PopStatus, StatusReport } from './collect.js';
import { bytesText, formatStatus, msText, votesText } from './format.js';

const vote = (vantage: string, up: boolean | null, fresh = true, rttMs: number | null = 5) => ({
  vantage,
  up,
  rttMs,
  fresh,
  ageMs: 400,
});

function pop(over: Partial<PopStatus>): PopStatus {
  return {
    id: 'fra',
    kind: 'pop',
    name: 'Frankfurt',
    enabled: true,
    verdict: 'up',
    answered: true,
    reason: 'up: 0 of 3 expected vantage points see it down (3 report, quorum 2)',
    override: null,
    votes: [],
    rttMs: null,
    edge: null,
    ...over,
  };
}

describe('meridian status table', () => {
  it('marks each vantage point up, down or without a result, and stale ones in parentheses', () => {
    expect(votesText([vote('fra', true), vote('iad', false), vote('gru', null), vote('sin', true, false)])).toBe(
      'fra✓ iad✗ gru? (sin✓)',
    );
    expect(votesText([])).toBe('no reports');
  });

  it('prints sizes and times compactly', () => {
    expect(bytesText(512)).toBe('512 B');
    expect(bytesText(1536)).toBe('1.5 KiB');
    expect(bytesText(256 * 1024 * 1024)).toBe('256.0 MiB');
    expect(msText(0.42)).toBe('0.4 ms');
    expect(msText(87.6)).toBe('88 ms');
  });

  it('gives one aligned row per PoP with verdict, answering, override, votes, RTT, edge and why', () => {
    const report: StatusReport = {
      control: 'http://127.0.0.1:8053',
      serverId: 'ns1.demo.test',
      pops: [
        pop({
          votes: [vote('fra', true, true, 0.4), vote('iad', true, true, 80)],
          rttMs: 40.2,
          edge: {
            url: 'http://127.0.1.1:8080',
            state: 'serving',
            hitRatio: 0.9375,
            objects: 12,
            bytes: 1536,
            error: null,
          },
        }),
        pop({
          id: 'iad',
          name: 'Ashburn',
          answered: false,
          override: 'drain',
          reason: 'drained by an operator (still monitored)',
          edge: {
            url: 'http://127.0.2.1:8080',
            state: 'unreachable',
            hitRatio: null,
            objects: null,
            bytes: null,
            error: 'connection refused',
          },
        }),
        pop({
          id: 'gru',
          name: null,
          verdict: 'down',
          answered: false,
          reason: 'down: 2 of 3 expected vantage points see it down (2 report, quorum 2)',
        }),
        pop({
          id: 'jnb',
          name: 'Johannesburg',
          enabled: false,
          answered: false,
          reason: 'disabled in the config (enabled: false)',
        }),
      ],
    };
    const lines = formatStatus(report).split('\n');
    expect(lines[0]).toBe('DNS server ns1.demo.test at http://127.0.0.1:8053: 4 PoPs, 1 answered, 1 edge unreachable');
    expect(lines.slice(2, 7)).toEqual([
      'POP  NAME          VERDICT  ANSWERED       OVERRIDE  VANTAGE POINTS  RTT    EDGE         HIT    OBJECTS  STORED   WHY',
      'fra  Frankfurt     up       yes            -         fra✓ iad✓       40 ms  serving      93.8%  12       1.5 KiB  up: 0 of 3 expected vantage points see it down (3 report, quorum 2)',
      'iad  Ashburn       up       no             drain     no reports      -      unreachable  -      -        -        drained by an operator (still monitored)',
      'gru                down     no             -         no reports      -      no edge URL  -      -        -        down: 2 of 3 expected vantage points see it down (2 report, quorum 2)',
      'jnb  Johannesburg  up       no (disabled)  -         no reports      -      no edge URL  -      -        -        disabled in the config (enabled: false)',
    ]);
    expect(lines).toContain('edges not read:');
    expect(lines).toContain('  iad: http://127.0.2.1:8080: connection refused');
  });

  it('leaves out the list of unread edges when every edge answered', () => {
    const text = formatStatus({ control: 'http://x', serverId: 'ns1', pops: [pop({})] });
    expect(text).toContain('1 PoP, 1 answered\n');
    expect(text).not.toContain('edges not read');
  });

  it('shows a checked CNAME member as a row with its cname and no edge values', () => {
    const member = pop({
      id: 'other',
      kind: 'member',
      name: 'edge.other-cdn.example.',
      verdict: 'down',
      answered: false,
      reason: 'down: 2 of 3 expected vantage points see it down (2 report, quorum 2)',
    });
    const text = formatStatus({ control: 'http://x', serverId: 'ns1', pops: [pop({}), member] });
    expect(text).toContain('1 PoP, 1 checked CNAME member, 1 answered\n');
    const row = text.split('\n').find((l) => l.startsWith('other (member)'))!;
    expect(row).toMatch(
      /^other \(member\)\s+edge\.other-cdn\.example\.\s+down\s+no\s+-\s+no reports\s+-\s+-\s+-\s+-\s+-\s+down: 2 of 3/,
    );
  });
});
