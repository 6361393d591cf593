import { describe, expect, it } from 'vitest';
import { ResolverTable, resolverNetwork } from './resolvers.js';

describe('resolver networks', () => {
  it('groups IPv4 resolvers by /24 and IPv6 by /48', () => {
    expect(resolverNetwork('198.51.100.53')).toBe('198.51.100.0/24');
    expect(resolverNetwork('::ffff:192.0.2.1')).toBe('192.0.2.0/24');
    expect(resolverNetwork('2001:db8:5:1::53')).toBe('2001:db8:5::/48');
    expect(resolverNetwork('2001:db8::53')).toBe('2001:db8:0::/48');
    expect(resolverNetwork('::1')).toBe('0:0:0::/48');
    expect(resolverNetwork('nonsense')).toBeNull();
  });

  it('ranks networks by query volume and probes their busiest address', () => {
    const t = new ResolverTable();
    for (let i = 0; i < 5; i++) t.record(`198.51.100.${i + 1}`);
    t.record('198.51.100.3');
    t.record('192.0.2.7');
    expect(t.top(10)).toEqual([
      { network: '198.51.100.0/24', sample: '198.51.100.3', queries: 6 },
      { network: '192.0.2.0/24', sample: '192.0.2.7', queries: 1 },
    ]);
    expect(t.top(1)).toHaveLength(1);
  });

  it('stays bounded under a flood of distinct sources', () => {
    const t = new ResolverTable();
    for (let i = 0; i < 20_000; i++)
      t.record(`10.${(i >> 8) & 255}.${i & 255}.1`.replace(/^10\./, `${10 + (i >> 16)}.`));
    expect(t.top(100_000).length).toBeLessThanOrEqual(10_000);
  });
});
