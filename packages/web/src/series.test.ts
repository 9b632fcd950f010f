import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { capRows, columns, fromPoints, lowerBound, trimBefore, upsert } from './series.ts';

describe('chart columns', () => {
  it('appends in order, merges equal times into one row and fills other series with null', () => {
    const d = columns(2);
    upsert(d, 10, 0, 1);
    upsert(d, 10, 1, 0.5);
    upsert(d, 11, 1, 0.7);
    expect(d).toEqual([
      [10, 11],
      [1, null],
      [0.5, 0.7],
    ]);
  });

  it('inserts out-of-order points at their time', () => {
    const d = columns(1);
    upsert(d, 10, 0, 1);
    upsert(d, 30, 0, 3);
    upsert(d, 20, 0, 2);
    expect(d).toEqual([
      [10, 20, 30],
      [1, 2, 3],
    ]);
  });

  it('rejects an unknown series index', () => {
    expect(() => upsert(columns(1), 1, 3, 1)).toThrow(/series 3 out of range/);
  });

  it('keeps times sorted and columns the same length for any insertion order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 2 }), fc.double({ noNaN: true })),
          { maxLength: 200 },
        ),
        (pts) => {
          const d = columns(3);
          for (const [t, s, v] of pts) upsert(d, t, s, v);
          const xs = d[0];
          for (let i = 1; i < xs.length; i++) expect(xs[i]!).toBeGreaterThan(xs[i - 1]!);
          for (const col of d) expect(col.length).toBe(xs.length);
          expect(new Set(xs).size).toBe(new Set(pts.map((p) => p[0])).size);
        },
      ),
    );
  });

  it('trims rows before a time and caps the row count', () => {
    const d = columns(1);
    for (let t = 0; t < 10; t++) upsert(d, t, 0, t * 2);
    trimBefore(d, 4);
    expect(d[0]).toEqual([4, 5, 6, 7, 8, 9]);
    expect(d[1]).toEqual([8, 10, 12, 14, 16, 18]);
    capRows(d, 2);
    expect(d).toEqual([
      [8, 9],
      [16, 18],
    ]);
  });

  it('finds the lower bound', () => {
    expect(lowerBound([1, 3, 5], 0)).toBe(0);
    expect(lowerBound([1, 3, 5], 3)).toBe(1);
    expect(lowerBound([1, 3, 5], 4)).toBe(2);
    expect(lowerBound([1, 3, 5], 9)).toBe(3);
  });

  it('aligns keyed points, converting ms to s', () => {
    const pts = [
      { k: 'b', t: 2000, v: 0.2 },
      { k: 'a', t: 1000, v: 0.1 },
      { k: 'a', t: 2000, v: 0.3 },
    ];
    const { keys, data } = fromPoints(
      pts,
      (p) => p.k,
      (p) => p.t,
      (p) => p.v,
    );
    expect(keys).toEqual(['b', 'a']);
    expect(data).toEqual([
      [1, 2],
      [null, 0.2],
      [0.1, 0.3],
    ]);
  });
});
