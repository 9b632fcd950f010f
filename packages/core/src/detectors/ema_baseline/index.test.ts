import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resolveParams } from '../params.ts';
import { squash, type Observation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance, scalarObservations } from '../../testing/conformance.ts';
import { emaBaseline, type EmaBaselineParams, EmaBaselineState } from './index.ts';
import { MEAN_ABS_DEV_TO_SIGMA, zOf } from './deviation.ts';

describeConformance(emaBaseline, {
  stateSchema: EmaBaselineState,
  params: { half_life_points: 4, min_points: 3, threshold_z: 2 },
  name: 'conformance: ema_baseline (points)',
});
describeConformance(emaBaseline, {
  stateSchema: EmaBaselineState,
  numRuns: 50,
  params: { half_life_secs: 10, min_points: 2, clip_z: 0, direction: 'up', min_spread: 0.1 },
  name: 'conformance: ema_baseline (seconds, no clip)',
});

describeConformance(emaBaseline, {
  stateSchema: EmaBaselineState,
  numRuns: 50,
  name: 'conformance: ema_baseline (random params)',
  randomParams: fc.record({
    half_life_points: fc.double({ min: 0.3, max: 50, noNaN: true }),
    half_life_secs: fc.constantFrom(0, 1, 60),
    min_points: fc.integer({ min: 1, max: 5 }),
    threshold_z: fc.double({ min: 0.1, max: 8, noNaN: true }),
    clip_z: fc.constantFrom(0, 1, 5),
    min_spread: fc.constantFrom(0, 0.5),
    direction: fc.constantFrom('both', 'up', 'down'),
  }),
});

const t0 = 1_700_000_000_000;
const series = (vals: number[], stepMs = 1000): Observation[] =>
  vals.map((value, i) => ({ time: t0 + i * stepMs, value, fields: {} }));

function runAll(p: EmaBaselineParams, xs: readonly Observation[]) {
  const s = emaBaseline.init(p);
  const out = collectFindings();
  const scores = xs.map((x) => emaBaseline.step(p, s, x, out, DEFAULT_LABELS));
  return { scores, findings: out.findings, state: s };
}

/** Reference (per-point smoothing, no clipping): the EMA written out as explicit weighted sums. */
function reference(p: EmaBaselineParams, xs: readonly Observation[]): Array<number | null> {
  const a = 1 - Math.pow(2, -1 / p.half_life_points);
  const vals = xs.map((x) => x.value);
  // mean after learning points 0..k: (1-a)^k x0 + sum_{i=1..k} a (1-a)^(k-i) x_i
  const meanAfter = (k: number): number => {
    let m = Math.pow(1 - a, k) * vals[0]!;
    for (let i = 1; i <= k; i++) m += a * Math.pow(1 - a, k - i) * vals[i]!;
    return m;
  };
  return vals.map((v, k) => {
    if (k === 0 || k < p.min_points) return null;
    // spread before point k: weighted mean of |x_i - mean_(i-1)| for i = 1..k-1, normalised by its weights.
    let num = 0;
    let den = 0;
    for (let i = 1; i < k; i++) {
      const w = a * Math.pow(1 - a, k - 1 - i);
      num += w * Math.abs(vals[i]! - meanAfter(i - 1));
      den += w;
    }
    const spread = Math.max(den > 0 ? (MEAN_ABS_DEV_TO_SIGMA * num) / den : 0, p.min_spread);
    const z = zOf(v, meanAfter(k - 1), spread);
    return Math.abs(z) === Infinity ? 1 : squash(Math.abs(z), p.threshold_z);
  });
}

describe('ema_baseline behaviour', () => {
  it('warms up, then flags a spike with a readable reason', () => {
    const p = resolveParams(emaBaseline, { min_points: 5 });
    const { scores, findings } = runAll(p, series([30, 31, 29, 30, 31, 29, 30, 31, 29, 30, 45]));
    expect(scores.slice(0, 5)).toEqual([null, null, null, null, null]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.reason).toMatch(/^flow_m3h 45 is [\d.]+σ above its EMA baseline 30(\.\d+)?$/);
  });

  it('clipping keeps a single spike from dragging the baseline', () => {
    const base = Array.from({ length: 40 }, (_, i) => 30 + (i % 2 === 0 ? 1 : -1));
    const withClip = runAll(resolveParams(emaBaseline, { half_life_points: 5 }), series([...base, 1000])).state.mean;
    const noClip = runAll(resolveParams(emaBaseline, { half_life_points: 5, clip_z: 0 }), series([...base, 1000])).state
      .mean;
    expect(Math.abs(withClip - 30)).toBeLessThan(2);
    expect(noClip).toBeGreaterThan(100);
  });

  it('adopts a lasting level shift', () => {
    const p = resolveParams(emaBaseline, { half_life_points: 5 });
    const vals = Array.from({ length: 200 }, (_, i) => (i < 50 ? 30 : 60) + (i % 2 === 0 ? 1 : -1));
    const { scores } = runAll(p, series(vals));
    expect(scores[50]).toBeGreaterThan(0.5);
    expect(scores.at(-1)).toBeLessThan(0.5);
  });

  it('time half-life: a long gap forgets more than a short one', () => {
    const p = resolveParams(emaBaseline, { half_life_secs: 60, clip_z: 0 });
    const s1 = runAll(p, [
      { time: t0, value: 0, fields: {} },
      { time: t0 + 60_000, value: 10, fields: {} },
    ]).state;
    expect(s1.mean).toBeCloseTo(5, 9);
  });

  it('agrees with explicit weighted sums on random data', () => {
    const paramsArb = fc.record({
      half_life_points: fc.double({ min: 0.5, max: 20, noNaN: true }),
      min_points: fc.integer({ min: 1, max: 5 }),
      threshold_z: fc.double({ min: 0.5, max: 6, noNaN: true }),
      min_spread: fc.constantFrom(0, 0.1),
    });
    const values = fc.oneof(fc.double({ min: -100, max: 100, noNaN: true }), fc.integer({ min: -3, max: 3 }));
    fc.assert(
      fc.property(paramsArb, scalarObservations({ values, maxLength: 60 }), (raw, xs) => {
        const p = resolveParams(emaBaseline, { ...raw, clip_z: 0 });
        const got = runAll(p, xs).scores;
        const want = reference(p, xs);
        got.forEach((g, i) => {
          const r = want[i]!;
          if (r === null) expect(g).toBeNull();
          else expect(Math.abs(g! - r)).toBeLessThan(1e-6);
        });
      }),
      { numRuns: 100 },
    );
  });
});
