import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RecentIds } from './recent-ids.ts';

/** The behaviour it replaces: a Set that drops its oldest insertion beyond the capacity. */
function reference(capacity: number): { add(id: string): boolean; has(id: string): boolean; size(): number } {
  const s = new Set<string>();
  return {
    add(id) {
      if (s.has(id)) return false;
      s.add(id);
      if (s.size > capacity) s.delete(s.values().next().value!);
      return true;
    },
    has: (id) => s.has(id),
    size: () => s.size,
  };
}

describe('RecentIds', () => {
  it('refuses an id it holds and forgets the oldest beyond its capacity', () => {
    const ids = new RecentIds(2);
    expect(ids.add('a')).toBe(true);
    expect(ids.add('a')).toBe(false);
    expect(ids.add('b')).toBe(true);
    expect(ids.add('c')).toBe(true);
    expect([ids.has('a'), ids.has('b'), ids.has('c'), ids.size]).toEqual([false, true, true, 2]);
    expect(ids.add('a')).toBe(true); // forgotten, so new again
  });

  it('agrees with a trimmed Set on any sequence, ids re-added after eviction included', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 200 }),
        (capacity, seq) => {
          const ids = new RecentIds(capacity);
          const ref = reference(capacity);
          for (const x of seq) {
            const id = `e${x}`;
            expect(ids.add(id)).toBe(ref.add(id));
            expect(ids.size).toBe(ref.size());
          }
          for (let x = 0; x < 10; x++) expect(ids.has(`e${x}`)).toBe(ref.has(`e${x}`));
        },
      ),
    );
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new RecentIds(0)).toThrow(/positive integer, got 0/);
  });
});
