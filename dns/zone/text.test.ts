import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { TextError, parseTtl, tokenizeLine, unescapeCharString } from './text.js';

const word = (text: string) => ({ text, quoted: false });
const quoted = (text: string) => ({ text, quoted: true });
const bytes = (text: string, isQuoted = true) => [...unescapeCharString({ text, quoted: isQuoted })];

describe('tokenizeLine', () => {
  it('splits on spaces and tabs', () => {
    expect(tokenizeLine('10 mail.demo.test.')).toEqual([word('10'), word('mail.demo.test.')]);
    expect(tokenizeLine(' \t a\t\tb  ')).toEqual([word('a'), word('b')]);
    expect(tokenizeLine('')).toEqual([]);
  });

  it('removes surrounding quotes and keeps spaces and semicolons inside them', () => {
    expect(tokenizeLine('"v=spf1 -all" "second"')).toEqual([quoted('v=spf1 -all'), quoted('second')]);
    expect(tokenizeLine('"v=DKIM1; k=rsa"')).toEqual([quoted('v=DKIM1; k=rsa')]);
    expect(tokenizeLine('""')).toEqual([quoted('')]);
  });

  it('keeps escapes exactly as written', () => {
    expect(tokenizeLine('"say \\"hi\\"" a\\.b \\065\\ c')).toEqual([
      quoted('say \\"hi\\"'),
      word('a\\.b'),
      word('\\065\\ c'),
    ]);
    expect(tokenizeLine('\\# 4 0A000001')).toEqual([word('\\#'), word('4'), word('0A000001')]);
  });

  it('treats ; outside quotes as the start of a comment', () => {
    expect(tokenizeLine('a b ; c d')).toEqual([word('a'), word('b')]);
    expect(tokenizeLine('a;comment')).toEqual([word('a')]);
    expect(tokenizeLine('a\\;b')).toEqual([word('a\\;b')]);
  });

  it('ends a word at a quote, as BIND does', () => {
    expect(tokenizeLine('a"b c"')).toEqual([word('a'), quoted('b c')]);
    expect(tokenizeLine('"a""b"')).toEqual([quoted('a'), quoted('b')]);
  });

  it('rejects parentheses, unterminated quotes and a trailing backslash', () => {
    expect(() => tokenizeLine('( 1 2 )')).toThrow(TextError);
    expect(() => tokenizeLine('a)')).toThrow(/parentheses/);
    expect(() => tokenizeLine('"abc')).toThrow(/unterminated quoted string/);
    expect(() => tokenizeLine('"abc\\"')).toThrow(/unterminated quoted string/);
    expect(() => tokenizeLine('abc\\')).toThrow(/backslash at end/);
  });

  it('allows parentheses inside quotes or escaped', () => {
    expect(tokenizeLine('"(x)" \\(y\\)')).toEqual([quoted('(x)'), word('\\(y\\)')]);
  });

  it('only returns tokens or throws TextError, for any input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        try {
          const toks = tokenizeLine(s);
          for (const t of toks) expect(t.quoted || t.text.length > 0).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(TextError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips quoted strings made of arbitrary escaped text', () => {
    const escape = (s: string) => s.replace(/[\\"]/g, (c) => `\\${c}`);
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' }).filter((s) => !/[\r\n]/.test(s))), (strs) => {
        const toks = tokenizeLine(strs.map((s) => `"${escape(s)}"`).join(' '));
        expect(toks.map((t) => new TextDecoder().decode(unescapeCharString(t)))).toEqual(strs);
      }),
    );
  });
});

describe('parseTtl', () => {
  it('reads plain seconds', () => {
    expect(parseTtl('0')).toBe(0);
    expect(parseTtl('300')).toBe(300);
    expect(parseTtl('2147483647')).toBe(2147483647);
  });

  it('reads BIND units in any case and combination', () => {
    expect(parseTtl('1h')).toBe(3600);
    expect(parseTtl('2d')).toBe(172800);
    expect(parseTtl('1W')).toBe(604800);
    expect(parseTtl('1w2d3h4m5s')).toBe(604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
    expect(parseTtl('1H30M')).toBe(5400);
    expect(parseTtl('90s')).toBe(90);
  });

  it('rejects anything else', () => {
    for (const bad of ['', ' 300', '300 ', '-1', '+5', '1.5', '0x10', 'h', '1h30', '1y', 'ten', '1h 2m']) {
      expect(() => parseTtl(bad), bad).toThrow(TextError);
    }
  });

  it('rejects TTLs above 2^31-1', () => {
    expect(() => parseTtl('2147483648')).toThrow(/larger than 2147483647/);
    expect(() => parseTtl('99999999999999999999999')).toThrow(TextError);
    expect(() => parseTtl('3551w')).toThrow(TextError); // 3551 weeks is just over 2^31 seconds
  });
});

describe('unescapeCharString', () => {
  it('turns \\DDD into a byte and \\X into X', () => {
    expect(bytes('a\\065b')).toEqual([0x61, 0x41, 0x62]);
    expect(bytes('\\000\\255')).toEqual([0, 255]);
    expect(bytes('\\"\\\\\\;\\ ')).toEqual([...Buffer.from('"\\; ')]);
    expect(bytes('\\1234')).toEqual([123, 0x34]);
  });

  it('encodes other text as UTF-8, escaped or not', () => {
    expect(bytes('é')).toEqual([0xc3, 0xa9]);
    expect(bytes('\\é')).toEqual([0xc3, 0xa9]);
    expect(bytes('\\😀', false)).toEqual([0xf0, 0x9f, 0x98, 0x80]);
    expect(bytes('')).toEqual([]);
  });

  it('does not enforce the 255-byte limit', () => {
    expect(bytes('x'.repeat(300))).toHaveLength(300);
  });

  it('rejects bad escapes', () => {
    expect(() => bytes('\\256')).toThrow(/above 255/);
    expect(() => bytes('\\12')).toThrow(/three digits/);
    expect(() => bytes('\\1a3')).toThrow(/three digits/);
    expect(() => bytes('abc\\')).toThrow(/backslash at end/);
  });

  it('maps every byte written as \\DDD back to itself', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (arr) => {
        const text = [...arr].map((b) => `\\${String(b).padStart(3, '0')}`).join('');
        expect([...unescapeCharString({ text, quoted: true })]).toEqual([...arr]);
      }),
    );
  });
});
