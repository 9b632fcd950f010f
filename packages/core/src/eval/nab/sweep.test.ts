import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { planNabFile } from './plan.ts';
import { NAB_PROFILE_NAMES, NAB_V11_PROFILES } from './profiles.ts';
import { scoreNabFile } from './score-file.ts';
import { createNabSweep, sweepNabThreshold, type NabSweepFile } from './sweep.ts';

// A random file: n rows one second apart, up to three disjoint windows, scores from a coarse grid
// (so ties between rows are common) or arbitrary doubles in [0, 1].
const fileArb = fc
  .record({
    n: fc.integer({ min: 1, max: 60 }),
    cuts: fc.uniqueArray(fc.integer({ min: 0, max: 59 }), { maxLength: 6 }),
    coarse: fc.boolean(),
    seeds: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 60, maxLength: 60 }),
  })
  .map(({ n, cuts, coarse, seeds }): NabSweepFile => {
    const ts = Array.from({ length: n }, (_, i) => i * 1000);
    const c = cuts.filter((x) => x < n).sort((a, b) => a - b);
    const windows: Array<[number, number]> = [];
    for (let k = 0; k + 1 < c.length; k += 2) windows.push([c[k]! * 1000, c[k + 1]! * 1000]);
    const scores = seeds.slice(0, n).map((s) => (coarse ? Math.round(s * 4) / 4 : s));
    return { plan: planNabFile(ts, windows), scores };
  });

function bruteForce(files: readonly NabSweepFile[], profile: (typeof NAB_V11_PROFILES)['standard']): number {
  const candidates = new Set<number>([Number.POSITIVE_INFINITY]);
  for (const f of files) for (const s of Array.from(f.scores)) candidates.add(s);
  let best = -Infinity;
  for (const t of candidates) {
    const total = files.reduce((sum, f) => sum + scoreNabFile(f.plan, f.scores, t, profile).score, 0);
    best = Math.max(best, total);
  }
  return best;
}

describe('exact threshold sweep', () => {
  it('finds the same optimum as trying every distinct score (property)', () => {
    fc.assert(
      fc.property(fc.array(fileArb, { minLength: 1, maxLength: 4 }), fc.constantFrom(...NAB_PROFILE_NAMES), (files, name) => {
        const profile = NAB_V11_PROFILES[name];
        const r = sweepNabThreshold(files, profile);
        expect(r.score).toBeCloseTo(bruteForce(files, profile), 9);
        const direct = files.reduce((s, f) => s + scoreNabFile(f.plan, f.scores, r.threshold, profile).score, 0);
        expect(r.score).toBe(direct);
      }),
      { numRuns: 300 },
    );
  });

  it('returns "detect nothing" (threshold Infinity) when every detection costs', () => {
    const plan = planNabFile([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000], []);
    const r = sweepNabThreshold([{ plan, scores: [0, 0, 0, 0.2, 0.9, 0.3, 0, 0, 0.1, 0] }], NAB_V11_PROFILES.standard);
    expect(r).toEqual({ threshold: Number.POSITIVE_INFINITY, score: 0, detections: 0, candidates: 6 });
  });

  it('picks the threshold that catches a window early without false positives', () => {
    const ts = Array.from({ length: 40 }, (_, i) => i * 1000);
    const plan = planNabFile(ts, [[20_000, 29_000]]);
    const scores = ts.map((_, i) => (i === 22 ? 0.8 : i === 35 ? 0.6 : i === 25 ? 0.7 : 0.1));
    const sweep = createNabSweep([{ plan, scores }]);
    const r = sweep.optimise(NAB_V11_PROFILES.standard);
    expect(r.threshold).toBe(0.8);
    expect(r.detections).toBe(1);
    expect(r.score).toBeCloseTo(sweep.scoreAt(NAB_V11_PROFILES.standard, 0.8), 12);
  });
});
