/** windowAppend and windowEvictBefore (the hot-path forms used by rolling_zscore) against windowPush and windowEvictUpTo. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { windowAppend, windowEvictBefore, windowEvictUpTo, windowInit, windowPush } from './window.ts';

describe('windowAppend (the fused hot path) is windowPush, bit for bit', () => {
  it('count windows: same values, mean, M2 and recompute schedule for any stream', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 12 }),
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 120 }),
        (cap, xs) => {
          const a = windowInit(cap, false);
          const b = windowInit(cap, false);
          xs.forEach((value, i) => {
            windowPush(a, i, value, cap);
            windowAppend(b, { time: i, value }, cap);
            // toEqual compares numbers with Object.is: the same bits, not just close.
            expect(b).toEqual(a);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('time windows (growth, eviction by time, the max_points cap): the same as windowEvictUpTo + windowPush', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 40 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.double({ min: -1e3, max: 1e3, noNaN: true })), {
          minLength: 1,
          maxLength: 150,
        }),
        (maxPoints, windowSecs, steps) => {
          const a = windowInit(maxPoints, true);
          const b = windowInit(maxPoints, true);
          let time = 0;
          for (const [dt, value] of steps) {
            time += dt;
            windowEvictUpTo(a, time - windowSecs * 1000);
            windowPush(a, time, value, maxPoints);
            windowEvictBefore(b, { time }, { window_secs: windowSecs });
            windowAppend(b, { time, value }, maxPoints);
            expect(b).toEqual(a);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps its arrays packed after growth (a holey array boxes the doubles read from it)', () => {
    const w = windowInit(1000, true);
    for (let i = 0; i < 100; i++) windowAppend(w, { time: i, value: i / 3 }, 1000);
    expect(w.vals.length).toBe(128);
    // Packed: every index up to the length is an own property.
    expect(Object.keys(w.vals).length).toBe(w.vals.length);
    expect(Object.keys(w.times).length).toBe(w.times.length);
  });
});
