import { describe, expect, it } from 'vitest';
import { GenerationalCache } from './generational-cache.js';

describe('GenerationalCache', () => {
  it('shows each generation only what was stored under it', () => {
    const cache = new GenerationalCache<string>(10);
    const first = cache.newGeneration();
    cache.set(first, 'k', 'old');
    const second = cache.newGeneration();
    expect(cache.get(second, 'k')).toBeUndefined();
    expect(cache.get(first, 'k')).toBe('old');
    cache.set(second, 'k', 'new');
    expect(cache.get(second, 'k')).toBe('new');
    // The key is one entry: the old generation's value is gone, not served to it as the new one.
    expect(cache.get(first, 'k')).toBeUndefined();
    expect(cache.count(second)).toBe(1);
  });

  it('stays bounded across generations', () => {
    const cache = new GenerationalCache<number>(100);
    for (let g = 0; g < 5; g++) {
      const generation = cache.newGeneration();
      for (let i = 0; i < 80; i++) cache.set(generation, `${g}/${i}`, i);
    }
    expect(cache.size).toBe(100);
  });
});
