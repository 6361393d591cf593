import { describe, expect, it } from 'vitest';
import { parseLine, ReplyReader } from './bird-reply.js';

describe('BIRD control replies', () => {
  it('reads the welcome and a one-line reply', () => {
    const r = new ReplyReader();
    expect(r.push('0001 BIRD 2.0.12 ready.\n0011 meridian_a: enabled\n')).toEqual([
      { ok: true, code: 1, lines: [{ code: 1, text: 'BIRD 2.0.12 ready.' }] },
      { ok: true, code: 11, lines: [{ code: 11, text: 'meridian_a: enabled' }] },
    ]);
  });

  it('joins multi-line replies, space continuations included, across chunk boundaries', () => {
    const r = new ReplyReader();
    expect(r.push('2002-Name       Proto      Table      State  Since         Info\n1002-device1    Devi')).toEqual([]);
    const [reply] = r.push('ce     ---        up     20:53:41.415\n meridian_x Static master4 down\n0000 \n');
    expect(reply).toEqual({
      ok: true,
      code: 0,
      lines: [
        { code: 2002, text: 'Name       Proto      Table      State  Since         Info' },
        { code: 1002, text: 'device1    Device     ---        up     20:53:41.415' },
        { code: 1002, text: 'meridian_x Static master4 down' },
        { code: 0, text: '' },
      ],
    });
  });

  it('turns 8xxx and 9xxx into errors with their message, and skips spontaneous printouts', () => {
    const r = new ReplyReader();
    expect(r.push('+Reconfigured\n9001 syntax error, unexpected CF_SYM_UNDEFINED\n8003 No protocols match\n')).toEqual([
      {
        ok: false,
        code: 9001,
        lines: [{ code: 9001, text: 'syntax error, unexpected CF_SYM_UNDEFINED' }],
        message: 'syntax error, unexpected CF_SYM_UNDEFINED',
      },
      { ok: false, code: 8003, lines: [{ code: 8003, text: 'No protocols match' }], message: 'No protocols match' },
    ]);
  });

  it('classifies lines without throwing on garbage', () => {
    expect(parseLine('0010 x: already enabled')).toEqual({
      kind: 'line',
      code: 10,
      text: 'x: already enabled',
      last: true,
    });
    expect(parseLine('1002-x')).toEqual({ kind: 'line', code: 1002, text: 'x', last: false });
    expect(parseLine('12 nonsense')).toEqual({ kind: 'invalid', text: '12 nonsense' });
    expect(parseLine('')).toEqual({ kind: 'invalid', text: '' });
  });
});
