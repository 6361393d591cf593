// parseName: the plain lower-case path (a key, wire bytes made on first use) and the general one
// give the same names; case is kept where written; what is too long is refused either way.
import { describe, expect, it } from 'vitest';
import { wireToText } from '../wire/name.js';
import { parseName } from './name-text.js';
import { TextError } from './text.js';

const lower = parseName('example.test.', null);
const mixed = parseName('Example.TEST.', null);

describe('parseName', () => {
  it.each([
    ['h1', lower, 'h1.example.test.', '\x02h1\x07example\x04test'],
    ['a-b.c_d.*', lower, 'a-b.c_d.*.example.test.', '\x03a-b\x03c_d\x01*\x07example\x04test'],
    ['www.other.', lower, 'www.other.', '\x03www\x05other'],
    ['Www', lower, 'Www.example.test.', '\x03www\x07example\x04test'],
    ['www', mixed, 'www.Example.TEST.', '\x03www\x07example\x04test'],
    ['a\\.b', lower, 'a\\.b.example.test.', '\x03a.b\x07example\x04test'],
  ])('%s under %o', (text, origin, wireText, key) => {
    const name = parseName(text, origin);
    expect(wireToText(name.wire)).toBe(wireText);
    expect(name.key).toBe(key);
    expect(name.wire.length).toBe(key.length + 1);
  });

  it('refuses a label over 63 octets and a name over 255', () => {
    expect(() => parseName(`${'a'.repeat(64)}.`, null)).toThrow(TextError);
    expect(() => parseName(`${'a'.repeat(63)}.`.repeat(4), null)).toThrow(TextError);
    expect(() => parseName('h1', null)).toThrow(TextError);
  });
});
