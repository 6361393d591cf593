import { describe, expect, it } from 'vitest';
import { nsidText, popFromNsid } from './catchment.js';

const POPS = ['fra', 'iad', 'a', 'b', 'sin-2'];

describe('NSID names the PoP (nsidText)', () => {
  it('is <serverId>@<pop>, read "ns1 at fra"', () => {
    expect(nsidText('ns1.demo.test', 'fra')).toBe('ns1.demo.test@fra');
    expect(nsidText('dns-7', 'sin-2')).toBe('dns-7@sin-2');
  });

  it('is the serverId alone without a PoP, or when a label of it already names the PoP', () => {
    expect(nsidText('ns1.demo.test', undefined)).toBe('ns1.demo.test');
    expect(nsidText('pop-a', 'a')).toBe('pop-a');
    expect(nsidText('fra', 'fra')).toBe('fra');
    expect(nsidText('ns1.fra.example.net', 'fra')).toBe('ns1.fra.example.net');
    // A label, not a substring: 'frankfurt' does not name 'fra', nor 'pop-ab' 'a'.
    expect(nsidText('frankfurt-1', 'fra')).toBe('frankfurt-1@fra');
    expect(nsidText('pop-ab', 'a')).toBe('pop-ab@a');
  });

  it('reads back as the PoP it was built with', () => {
    for (const [serverId, pop] of [
      ['ns1.demo.test', 'fra'],
      ['pop-a', 'a'],
      ['pop-ab', 'a'],
      ['dns-7', 'sin-2'],
      ['ns1.fra.example.net', 'fra'],
    ] as const)
      expect(popFromNsid(nsidText(serverId, pop), POPS)).toBe(pop);
  });
});

describe('popFromNsid never guesses', () => {
  it('is null for a PoP the config does not have, none named, or two named', () => {
    expect(popFromNsid('ns1@lhr', POPS)).toBeNull();
    expect(popFromNsid('ns1.demo.test', POPS)).toBeNull();
    expect(popFromNsid('a-b', POPS)).toBeNull();
    expect(popFromNsid('', POPS)).toBeNull();
    expect(popFromNsid('ns1@', POPS)).toBeNull();
  });

  it('takes what follows the last @', () => {
    expect(popFromNsid('ops@example@iad', POPS)).toBe('iad');
  });
});
