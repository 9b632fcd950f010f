import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { resolveParams } from '../params.ts';
import type { VectorObservation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance } from '../../testing/conformance.ts';
import { auc, gaussian, rng, runRiverBatch, spearman } from '../../../../../tests/reference/river.ts';
import {
  halfSpaceTrees,
  HalfSpaceTreesInputError,
  type HalfSpaceTreesParams,
  type HalfSpaceTreesState,
} from './index.ts';

describeConformance(halfSpaceTrees, {
  params: { n_trees: 3, height: 3, window_size: 4 },
  name: 'conformance: half_space_trees',
});
describeConformance(halfSpaceTrees, {
  params: { n_trees: 2, height: 1, window_size: 1, seed: 7, threshold: 0.5 },
  name: 'conformance: half_space_trees (tiny)',
});

const t0 = 1_700_000_000_000;
const obs = (rows: ReadonlyArray<readonly number[]>): VectorObservation[] =>
  rows.map((values, i) => ({ time: t0 + i * 1000, values, fields: {} }));

function run(raw: Record<string, unknown>, rows: ReadonlyArray<readonly number[]>) {
  const p = resolveParams(halfSpaceTrees, raw);
  const s = halfSpaceTrees.init(p);
  const out = collectFindings();
  const scores = obs(rows).map((x) => halfSpaceTrees.step(p, s, x, out, DEFAULT_LABELS));
  return { p, s, scores, findings: out.findings };
}

/** Eager textbook version over the same trees: separate score and learn walks, full swap per window. */
function naiveScores(
  p: HalfSpaceTreesParams,
  trees: HalfSpaceTreesState,
  rows: ReadonlyArray<readonly number[]>,
): Array<number | null> {
  const inner = 2 ** p.height - 1;
  const nodes = 2 * inner + 1;
  const latest = new Array<number>(p.n_trees * nodes).fill(0);
  let ref: number[] | null = null;
  let count = 0;
  let typical = 0;
  let scored = 0;
  const path = (t: number, x: readonly number[]) => {
    const js = [0];
    let j = 0;
    for (let k = 0; k < p.height; k++) {
      j = x[trees.splits[2 * (t * inner + j)]!]! < trees.splits[2 * (t * inner + j) + 1]! ? 2 * j + 1 : 2 * j + 2;
      js.push(j);
    }
    return js.map((n) => t * nodes + n);
  };
  return rows.map((x) => {
    let score: number | null = null;
    if (ref) {
      let total = 0;
      for (let t = 0; t < p.n_trees; t++) {
        const ns = path(t, x);
        const k = ns.findIndex((n, d) => d === p.height || ref![n]! <= 0.1 * p.window_size);
        total += ref[ns[k]!]! * 2 ** k;
      }
      const tw = p.n_trees * p.window_size;
      const lq = Math.log2(total / tw + 1 / tw);
      scored = Math.min(scored + 1, 4 * p.window_size);
      if (scored === 1) typical = lq;
      score = 1 / (1 + 2 ** (lq - typical));
      typical += (lq - typical) / scored;
    }
    for (let t = 0; t < p.n_trees; t++) for (const n of path(t, x)) latest[n]! += 1;
    if (++count === p.window_size) {
      ref = latest.slice();
      latest.fill(0);
      count = 0;
    }
    return score;
  });
}

/** A 3-d cluster in [0,1]^3 with `outliers` points spread uniformly far from it. */
function clusterWithOutliers(seed: number, n: number, outlierRate: number) {
  const u = rng(seed);
  const g = gaussian(u);
  const labels: Array<0 | 1> = [];
  const rows = Array.from({ length: n }, () => {
    if (u() < outlierRate) {
      labels.push(1);
      // Uniform in the cube but outside the cluster's core.
      for (;;) {
        const x = [u(), u(), u()];
        if (x.some((v) => Math.abs(v - 0.5) > 0.3)) return x;
      }
    }
    labels.push(0);
    return [0.5 + 0.06 * g(), 0.5 + 0.06 * g(), 0.4 + 0.04 * g()].map((v) => Math.min(1, Math.max(0, v)));
  });
  return { rows, labels };
}

describe('half_space_trees', () => {
  it('is null until a reference window exists: one window with limits, two when learning them', () => {
    const { rows } = clusterWithOutliers(1, 40, 0);
    const given = run(
      {
        n_trees: 4,
        height: 4,
        window_size: 10,
        limits: [
          [0, 1],
          [0, 1],
          [0, 1],
        ],
      },
      rows,
    ).scores;
    expect(given.findIndex((x) => x !== null)).toBe(10);
    const learned = run({ n_trees: 4, height: 4, window_size: 10 }, rows).scores;
    expect(learned.findIndex((x) => x !== null)).toBe(20);
  });

  it('agrees with an eager textbook implementation over the same trees (lazy window swap)', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 3 })
          .chain((d) =>
            fc.array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: d, maxLength: d }), {
              minLength: 1,
              maxLength: 120,
            }),
          ),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 5 }),
        (rows, w, h) => {
          const limits = rows[0]!.map(() => [0, 1]);
          const { p, s, scores } = run({ n_trees: 3, height: h, window_size: w, limits }, rows);
          const expected = naiveScores(p, s, rows);
          expect(scores.length).toBe(expected.length);
          scores.forEach((x, i) =>
            x === null ? expect(expected[i]).toBeNull() : expect(x).toBeCloseTo(expected[i]!, 12),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is deterministic under seed; another seed grows other trees', () => {
    const { rows } = clusterWithOutliers(2, 300, 0.02);
    const a = run({ seed: 5, window_size: 50 }, rows);
    const b = run({ seed: 5, window_size: 50 }, rows);
    const c = run({ seed: 6, window_size: 50 }, rows);
    expect(b.scores).toEqual(a.scores);
    expect(c.s.splits).not.toEqual(a.s.splits);
    expect(a.s.seed).toBe(5);
  });

  it('rejects a vector of another length with a stable code, and bad limits', () => {
    const p = resolveParams(halfSpaceTrees, { window_size: 2 });
    const s = halfSpaceTrees.init(p);
    halfSpaceTrees.step(p, s, { time: t0, values: [1, 2], fields: {} }, collectFindings(), DEFAULT_LABELS);
    let err: unknown;
    try {
      halfSpaceTrees.step(p, s, { time: t0 + 1, values: [1], fields: {} }, collectFindings(), DEFAULT_LABELS);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HalfSpaceTreesInputError);
    expect((err as HalfSpaceTreesInputError).code).toBe('E_HST_DIMS');
    expect((err as Error).message).toBe('half_space_trees: input has 1 features, expected 2 like the first input');
    expect(() =>
      halfSpaceTrees.init(
        resolveParams(halfSpaceTrees, {
          limits: [
            [0, 1],
            [3, 3],
          ],
        }),
      ),
    ).toThrow(/\/limits\/1 expected lo < hi/);
  });

  it('scores injected outliers high and raises findings for them', () => {
    const { rows, labels } = clusterWithOutliers(3, 3000, 0.02);
    const { scores, findings } = run({ n_trees: 25, height: 10, window_size: 250, threshold: 0.9 }, rows);
    const idx = scores.map((x, i) => (x === null ? -1 : i)).filter((i) => i >= 0);
    expect(
      auc(
        idx.map((i) => scores[i]!),
        idx.map((i) => labels[i]!),
      ),
    ).toBeGreaterThan(0.95);
    // Scores are relative to the typical mass: normal points sit near 0.5, outliers near 1.
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
    expect(median(idx.filter((i) => labels[i] === 0).map((i) => scores[i]!))).toBeGreaterThan(0.35);
    expect(median(idx.filter((i) => labels[i] === 0).map((i) => scores[i]!))).toBeLessThan(0.65);
    expect(median(idx.filter((i) => labels[i] === 1).map((i) => scores[i]!))).toBeGreaterThan(0.9);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0]!.reason).toMatch(
      /^flow_m3h \[[-\d., e]+\] lies in a sparse region: [\d.e-]+ × the typical mass over the last 250 points \(Half-Space Trees score [\d.]+ ≥ 0\.9\)$/,
    );
  });

  it('ranks points like River HalfSpaceTrees and separates outliers as well (AUC > 0.9 both)', () => {
    const { rows, labels } = clusterWithOutliers(4, 3000, 0.03);
    // River needs ~1 min to grow 25 trees of height 15 (bench/hst covers that size); height 8 is its default.
    const cfg = { n_trees: 25, height: 8, window_size: 250 };
    const limits = [
      [0, 1],
      [0, 1],
      [0, 1],
    ];
    const [river] = runRiverBatch([{ detector: 'hst', params: { ...cfg, seed: 1 }, values: rows }]);
    const ours = run({ ...cfg, seed: 1, limits }, rows).scores;
    // Both score from index window_size on (River gives 0 before its first window).
    const idx = ours.map((_, i) => i).filter((i) => i >= cfg.window_size);
    const a = idx.map((i) => ours[i]!);
    const b = idx.map((i) => river!.scores![i]!);
    const y = idx.map((i) => labels[i]!);
    expect(spearman(a, b)).toBeGreaterThan(0.8);
    expect(auc(a, y)).toBeGreaterThan(0.9);
    expect(auc(b, y)).toBeGreaterThan(0.9);
  });
});
