import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng } from '../simulator/prng.ts';
import {
  binOf,
  chooseK,
  clusterWindows,
  driftBetween,
  findingsOf,
  flagOutlierBins,
  kmeans,
  linearSlope,
  outlierRuns,
  psi,
  quantileSorted,
  rollingMean,
  silhouette,
  standardize,
  summarize,
  type AnalysisResult,
} from './index.ts';
import { Value } from '@sinclair/typebox/value';
import { Anomaly } from '../schema/events.ts';

/** Three well separated 2-D blobs of known centres. */
function blobs(seed: number, perBlob: number): { points: number[][]; truth: number[] } {
  const rng = createRng(seed, 'blobs');
  const centres = [
    [0, 0],
    [10, 0],
    [0, 10],
  ];
  const points: number[][] = [];
  const truth: number[] = [];
  centres.forEach((c, i) => {
    for (let j = 0; j < perBlob; j++) {
      points.push([(c[0] ?? 0) + rng.normal() * 0.5, (c[1] ?? 0) + rng.normal() * 0.5]);
      truth.push(i);
    }
  });
  return { points, truth };
}

describe('summary statistics', () => {
  it('match hand-computed values, percentiles linearly interpolated', () => {
    const s = summarize([4, 1, 3, 2]);
    expect(s.count).toBe(4);
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(s.min).toBe(1);
    expect(s.max).toBe(4);
    expect(s.percentiles.p50).toBe(2.5);
    expect(s.percentiles.p25).toBeCloseTo(1.75, 12);
    expect(quantileSorted([10], 0.99)).toBe(10);
  });
  it('bins cover [lo, hi] with hi in the last bin; a constant series is one bin', () => {
    expect(binOf(0, 0, 10, 10)).toBe(0);
    expect(binOf(9.999, 0, 10, 10)).toBe(9);
    expect(binOf(10, 0, 10, 10)).toBe(9);
    expect(binOf(5, 5, 5, 10)).toBe(0);
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-3, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (lo, w, f) => {
          const b = binOf(lo + w * f, lo, lo + w, 17);
          return Number.isInteger(b) && b >= 0 && b <= 16;
        },
      ),
    );
  });
  it('slope and rolling mean agree with their definitions', () => {
    expect(linearSlope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2, 12);
    expect(linearSlope([1], [1])).toBe(0);
    expect(rollingMean([1, 2, 3, 4], 2)).toEqual([1, 1.5, 2.5, 3.5]);
  });
});

describe('histogram outlier bins', () => {
  it('flags a rare bin far beyond the fences and nothing in the bulk', () => {
    const counts = [30, 400, 500, 60, 0, 0, 0, 0, 0, 2];
    const flagged = flagOutlierBins({ lo: 0, width: 1, counts }, { p01: 0.2, p25: 1.3, p75: 2.6, p99: 3.8 });
    expect(flagged).toEqual([9]);
  });
  it('does not flag a common second level (pump on/off) even with zero IQR', () => {
    const counts = [100, 0, 0, 0, 0, 0, 0, 0, 0, 900];
    expect(flagOutlierBins({ lo: 0, width: 0.1, counts }, { p01: 0, p25: 1, p75: 1, p99: 1 })).toEqual([]);
  });
  it('never flags anything in Gaussian data (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (seed) => {
        const rng = createRng(seed, 'g');
        const xs = Array.from({ length: 2000 }, () => rng.normal());
        const s = summarize(xs);
        const bins = 30;
        const counts = new Array<number>(bins).fill(0);
        for (const x of xs) counts[binOf(x, s.min, s.max, bins)]!++;
        return flagOutlierBins({ lo: s.min, width: (s.max - s.min) / bins, counts }, s.percentiles).length === 0;
      }),
      { numRuns: 30 },
    );
  });
});

describe('drift', () => {
  it('detects a shift of level with the right effect size, and not identical periods', () => {
    const d = driftBetween(
      { count: 100, mean: 10, std: 1 },
      { count: 100, mean: 12, std: 1 },
      [50, 50, 0, 0],
      [0, 0, 50, 50],
    );
    expect(d.effectSize).toBeCloseTo(2, 12);
    expect(d.stdRatio).toBe(1);
    expect(d.psi).toBeGreaterThan(1);
    expect(d.drifted).toBe(true);
    const same = driftBetween(
      { count: 100, mean: 10, std: 1 },
      { count: 100, mean: 10, std: 1 },
      [25, 25, 25, 25],
      [25, 25, 25, 25],
    );
    expect(same).toEqual({ effectSize: 0, stdRatio: 1, psi: 0, drifted: false });
  });
  it('PSI is non-negative and zero only for equal shares (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(1000), { minLength: 3, maxLength: 3 }),
        fc.array(fc.nat(1000), { minLength: 3, maxLength: 3 }),
        (a, b) => {
          const p = psi(a, b);
          return Number.isFinite(p) && p >= -1e-12;
        },
      ),
    );
    expect(psi([1, 2, 3], [2, 4, 6])).toBeCloseTo(0, 12);
  });
  it('does not judge periods with too few points', () => {
    expect(driftBetween({ count: 5, mean: 0, std: 1 }, { count: 5, mean: 9, std: 1 }, [5], [5]).drifted).toBe(false);
  });
});

describe('k-means', () => {
  it('recovers three known blobs and chooses k = 3 by silhouette', () => {
    const { points, truth } = blobs(3, 60);
    const best = chooseK(points, { kMin: 2, kMax: 6, seed: 5 });
    expect(best.k).toBe(3);
    // Same partition as the truth up to relabelling.
    const map = new Map<number, number>();
    best.model.assignment.forEach((a, i) => {
      const t = truth[i] ?? -1;
      if (!map.has(t)) map.set(t, a);
      expect(map.get(t)).toBe(a);
    });
    expect(new Set(map.values()).size).toBe(3);
    expect(best.candidates.map((c) => c.k)).toEqual([2, 3, 4, 5, 6]);
  });
  it('is deterministic under a seed and never worse than one cluster', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.double({ min: -100, max: 100, noNaN: true }), fc.double({ min: -100, max: 100, noNaN: true })),
          { minLength: 3, maxLength: 40 },
        ),
        fc.integer({ min: 1, max: 4 }),
        (pts, k) => {
          const p = pts.map(([x, y]) => [x, y]);
          const a = kmeans(p, k, { seed: 9 });
          const b = kmeans(p, k, { seed: 9 });
          const one = kmeans(p, 1, { seed: 9 });
          return (
            JSON.stringify(a) === JSON.stringify(b) &&
            a.inertia <= one.inertia * (1 + 1e-9) + 1e-9 &&
            a.distances.every(Number.isFinite)
          );
        },
      ),
      { numRuns: 60 },
    );
  });
  it('silhouette is about 1 for far blobs and in [−1, 1] always', () => {
    const { points, truth } = blobs(4, 20);
    const all = points.map((_, i) => i);
    expect(silhouette(points, truth, all)).toBeGreaterThan(0.9);
    const bad = truth.map((_, i) => i % 2);
    const s = silhouette(points, bad, all);
    expect(s).toBeGreaterThanOrEqual(-1);
    expect(s).toBeLessThan(0.2);
  });
  it('rejects ragged and non-finite input with a code', () => {
    expect(() => kmeans([[1, 2], [3]], 2)).toThrow(expect.objectContaining({ code: 'E_ANALYTICS_INPUT' }) as Error);
    expect(() => kmeans([[NaN]], 1)).toThrow(/non-finite/);
  });
  it('standardize gives zero mean and unit spread, and leaves constant columns at 0', () => {
    const { z } = standardize([
      [1, 5],
      [3, 5],
    ]);
    expect(z).toEqual([
      [-1, 0],
      [1, 0],
    ]);
  });
});

describe('clustering windows', () => {
  it('flags a window far from every centroid and a tiny cluster', () => {
    const { points } = blobs(11, 100);
    const windows = points.map((p, i) => ({ time: i * 60_000, values: p }));
    windows.push({ time: 999 * 60_000, values: [40, 40] });
    const c = clusterWindows('s', 'A', 60_000, ['x:mean', 'y:mean'], windows, { seed: 2 });
    expect(c).toBeDefined();
    const flaggedTimes = [
      ...(c?.outliers ?? []).map((p) => p.time),
      ...(c?.tinyClusters ?? []).flatMap((cl) => (c?.points ?? []).filter((p) => p.cluster === cl).map((p) => p.time)),
    ];
    expect(flaggedTimes).toContain(999 * 60_000);
    // The ordinary windows are not outliers.
    expect((c?.outliers ?? []).length).toBeLessThan(5);
  });
});

describe('findings', () => {
  it('are valid batch anomalies with deterministic ids', () => {
    const r: AnalysisResult = {
      engine: 'duckdb',
      from: 0,
      to: 1,
      histogramBins: 2,
      stats: [],
      histograms: [
        {
          site: 's',
          asset: 'A',
          metric: 'm',
          lo: 0,
          hi: 2,
          width: 1,
          counts: [99, 1],
          firstTime: [1704067200000, 1704067260000],
          outlierBins: [1],
        },
      ],
      trends: [],
      drifts: [
        {
          site: 's',
          asset: 'A',
          metric: 'm',
          splitTime: 1704067200000,
          before: { count: 50, mean: 1, std: 1 },
          after: { count: 50, mean: 5, std: 1 },
          effectSize: 4,
          stdRatio: 1,
          psi: 2,
          drifted: true,
        },
      ],
      clusterings: [],
      timingsMs: {},
    };
    const a = findingsOf(r);
    expect(a).toHaveLength(2);
    for (const x of a) {
      expect(Value.Check(Anomaly, x)).toBe(true);
      expect(x.modality).toBe('batch');
    }
    expect(a[0]?.id).toBe('batch:histogram_outlier:s:A:m:1704067260000');
    expect(findingsOf(r)).toEqual(a);
  });
  it('merge flagged bins separated only by empty or flagged bins into one excursion', () => {
    expect(outlierRuns({ counts: [9, 90, 0, 1, 0, 2, 1, 50, 1], outlierBins: [3, 5, 6, 8] })).toEqual([[3, 5, 6], [8]]);
    expect(outlierRuns({ counts: [1, 0, 100], outlierBins: [0] })).toEqual([[0]]);
  });
});

describe('tiny clusters need enough windows', () => {
  it('calls no cluster tiny among fewer than MIN_WINDOWS_FOR_TINY windows', async () => {
    const { clusterWindows, MIN_WINDOWS_FOR_TINY } = await import('./cluster.ts');
    const few = [0, 0.1, 0.2, 5, 5.1, 20].map((v, i) => ({ time: i * 60_000, values: [v, v * 2] }));
    expect(few.length).toBeLessThan(MIN_WINDOWS_FOR_TINY);
    expect(clusterWindows('s', 'a', 60_000, ['x', 'y'], few, { seed: 1 })?.tinyClusters).toEqual([]);
  });
});
