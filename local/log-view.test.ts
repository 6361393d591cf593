import { describe, expect, it } from 'vitest';
import { clock, viewLine } from './log-view.js';

const T = new Date(2026, 10, 22, 10, 42, 3).getTime();
const pino = (fields: Record<string, unknown>) =>
  JSON.stringify({ level: 30, time: T, pid: 1, hostname: 'h', service: 'edge', msg: 'x', ...fields });

describe('viewLine', () => {
  it('shows warnings with their fields, quoted only when needed', () => {
    const line = pino({
      level: 40,
      msg: 'upstream unreachable',
      upstream: 'http://127.0.0.1:8081',
      detail: 'connect ECONNREFUSED',
      n: 3,
      ok: false,
    });
    expect(viewLine('edge fra', line, { verbose: false })).toEqual([
      '10:42:03 [edge fra] WARN upstream unreachable upstream=http://127.0.0.1:8081 detail="connect ECONNREFUSED" n=3 ok=false',
    ]);
  });

  it('hides ordinary info lines unless verbose, but shows lifecycle events', () => {
    expect(
      viewLine('edge fra', pino({ msg: 'meridian edge serving', url: 'http://127.0.1.1:8080' }), { verbose: false }),
    ).toEqual([]);
    expect(
      viewLine('edge fra', pino({ msg: 'meridian edge serving', url: 'http://127.0.1.1:8080' }), { verbose: true }),
    ).toEqual(['10:42:03 [edge fra] meridian edge serving url=http://127.0.1.1:8080']);
    expect(
      viewLine('dns', pino({ msg: 'PoP health verdict changed', pop: 'sin', from: 'up', to: 'down' }), {
        verbose: false,
      }),
    ).toEqual(['10:42:03 [dns] PoP health verdict changed pop=sin from=up to=down']);
    expect(viewLine('up', pino({ msg: 'edge sin ready again', lifecycle: true }), { verbose: false })).toEqual([
      '10:42:03 [up] edge sin ready again',
    ]);
    expect(viewLine('dns', pino({ level: 20, msg: 'query' }), { verbose: false })).toEqual([]);
  });

  it('shows an error’s message and a tail of lines below the line', () => {
    const line = pino({
      level: 50,
      msg: 'edge sin exited unexpectedly',
      err: { type: 'Error', message: 'boom', stack: '…' },
      tail: ['Error: boom', '    at x'],
    });
    expect(viewLine('up', line, { verbose: false })).toEqual([
      '10:42:03 [up] ERROR edge sin exited unexpectedly err="boom"',
      '      | Error: boom',
      '      |     at x',
    ]);
  });

  it('can leave the fields out (up’s own lines are whole sentences)', () => {
    const line = pino({
      level: 50,
      msg: 'edge sin exited unexpectedly (code 1); restarting in 0.5 s',
      process: 'edge sin',
      code: 1,
      tail: ['boom'],
    });
    expect(viewLine('up', line, { verbose: false, fields: false })).toEqual([
      '10:42:03 [up] ERROR edge sin exited unexpectedly (code 1); restarting in 0.5 s',
      '      | boom',
    ]);
  });

  it('shows lines that are not JSON as they are, and drops blank ones', () => {
    expect(viewLine('edge fra', 'meridian: cannot listen', { verbose: false })[0]).toMatch(
      /^\d\d:\d\d:\d\d \[edge fra\] meridian: cannot listen$/,
    );
    expect(viewLine('edge fra', '{"not": "pino"', { verbose: false })[0]).toMatch(/\[edge fra\] \{"not": "pino"$/);
    expect(viewLine('edge fra', '   ', { verbose: false })).toEqual([]);
  });

  it('clock is HH:MM:SS', () => {
    expect(clock(T)).toBe('10:42:03');
  });
});
