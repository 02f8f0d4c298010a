// The DFS's visited table answers as a Map<number, number> would, for 53-bit
// state hashes of every shape, through growth.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Visited } from '../../src/check/visited.ts';

describe('Visited', () => {
  it('agrees with a Map on random, sequential and high-only hashes, revisits and growth', () => {
    let seed = 1;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (const shape of ['random', 'low', 'high', 'max'] as const) {
      const m = new Map<number, number>();
      const v = new Visited(16);
      const keys: number[] = [];
      for (let i = 0; i < 20_000; i++) {
        let h: number;
        if (keys.length > 0 && rnd() % 3 === 0) h = keys[rnd() % keys.length];
        else {
          if (shape === 'random') h = (rnd() >>> 0) * 0x200000 + (rnd() >>> 11);
          else if (shape === 'low') h = i;
          else if (shape === 'high') h = i * 0x200000;
          else h = Number.MAX_SAFE_INTEGER - i;
          keys.push(h);
        }
        assert.equal(v.get(h), m.get(h) ?? -1);
        const val = rnd() % 5;
        m.set(h, val);
        v.set(h, val);
        assert.equal(v.size, m.size);
      }
      for (const h of keys) assert.equal(v.get(h), m.get(h));
    }
  });
});
