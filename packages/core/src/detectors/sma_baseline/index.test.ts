import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resolveParams } from '../params.ts';
import { NO_FINDINGS, squash, type Observation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance, scalarObservations } from '../../testing/conformance.ts';
import { smaBaseline, type SmaBaselineParams, SmaBaselineState } from './index.ts';
import { judgeDeviation, MEAN_ABS_DEV_TO_SIGMA, zOf } from '../ema_baseline/deviation.ts';

/** Keeps min_points within what the window can hold (otherwise init rejects the params). */
const fitWarmUp = <T extends { min_points: number; window_points: number; window_secs?: number; max_points?: number }>(
  r: T,
): T => ({
  ...r,
  min_points: Math.min(r.min_points, (r.window_secs ?? 0) > 0 ? (r.max_points ?? 10_000) : r.window_points),
});

describeConformance(smaBaseline, {
  stateSchema: SmaBaselineState,
  params: { window_points: 6, min_points: 3, threshold_z: 2 },
  name: 'conformance: sma_baseline (points)',
});
describeConformance(smaBaseline, {
  stateSchema: SmaBaselineState,
  numRuns: 50,
  params: { window_secs: 15, max_points: 5, min_points: 1, clip_z: 0, direction: 'down' },
  name: 'conformance: sma_baseline (seconds)',
});

describeConformance(smaBaseline, {
  stateSchema: SmaBaselineState,
  numRuns: 50,
  name: 'conformance: sma_baseline (random params)',
  randomParams: fc
    .record({
      window_points: fc.integer({ min: 1, max: 10 }),
      window_secs: fc.constantFrom(0, 3, 30),
      max_points: fc.integer({ min: 1, max: 12 }),
      min_points: fc.integer({ min: 1, max: 5 }),
      spread_half_life_points: fc.double({ min: 0.3, max: 50, noNaN: true }),
      threshold_z: fc.double({ min: 0.1, max: 8, noNaN: true }),
      clip_z: fc.constantFrom(0, 1, 5),
      min_spread: fc.constantFrom(0, 0.5),
      direction: fc.constantFrom('both', 'up', 'down'),
    })
    .map(fitWarmUp),
});

const t0 = 1_700_000_000_000;
const series = (vals: number[], stepMs = 1000): Observation[] =>
  vals.map((value, i) => ({ time: t0 + i * stepMs, value, fields: {} }));

function runAll(p: SmaBaselineParams, xs: readonly Observation[]) {
  const s = smaBaseline.init(p);
  const out = collectFindings();
  const scores = xs.map((x) => smaBaseline.step(p, s, x, out, DEFAULT_LABELS));
  return { scores, findings: out.findings, state: s };
}

/** Reference (count window, no clipping): naive window means and explicitly weighted deviations. */
function reference(p: SmaBaselineParams, xs: readonly Observation[]): Array<number | null> {
  const a = 1 - Math.pow(2, -1 / p.spread_half_life_points);
  const vals = xs.map((x) => x.value);
  const centerBefore = (k: number): number => {
    const win = vals.slice(Math.max(0, k - p.window_points), k);
    return win.reduce((s, v) => s + v, 0) / win.length;
  };
  return vals.map((v, k) => {
    if (Math.min(k, p.window_points) < p.min_points || k === 0) return null;
    let num = 0;
    let den = 0;
    for (let i = 1; i < k; i++) {
      const w = a * Math.pow(1 - a, k - 1 - i);
      num += w * Math.abs(vals[i]! - centerBefore(i));
      den += w;
    }
    const spread = Math.max(den > 0 ? (MEAN_ABS_DEV_TO_SIGMA * num) / den : 0, p.min_spread);
    const z = zOf(v, centerBefore(k), spread);
    return Math.abs(z) === Infinity ? 1 : squash(Math.abs(z), p.threshold_z);
  });
}

describe('sma_baseline behaviour', () => {
  it('flags a spike against a time window, naming the window', () => {
    const p = resolveParams(smaBaseline, { window_secs: 600, min_points: 5 });
    const { findings, scores } = runAll(p, series([30, 31, 29, 30, 31, 29, 30, 31, 29, 30, 45]));
    expect(scores.slice(0, 5)).toEqual([null, null, null, null, null]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.reason).toMatch(/^flow_m3h 45 is [\d.]+σ above its 600 s average 30$/);
  });

  it('constant window: 0 for the same value, 1 and a finding for another', () => {
    const p = resolveParams(smaBaseline, { window_points: 5, min_points: 3 });
    const { scores, findings } = runAll(p, series([7, 7, 7, 7, 8]));
    expect(scores).toEqual([null, null, null, 0, 1]);
    expect(findings[0]!.reason).toBe('flow_m3h 8 is above its moving average (constant) 7');
  });

  it('one outlier does not mask the next (clipped learning)', () => {
    const p = resolveParams(smaBaseline, { window_points: 20, min_points: 10 });
    const base = Array.from({ length: 30 }, (_, i) => 30 + (i % 2 === 0 ? 1 : -1));
    const { findings } = runAll(p, series([...base, 500, 31, 29, 500]));
    expect(findings).toHaveLength(2);
  });

  it('agrees with a naive reference on random data', () => {
    const paramsArb = fc
      .record({
        window_points: fc.integer({ min: 1, max: 10 }),
        min_points: fc.integer({ min: 1, max: 5 }),
        spread_half_life_points: fc.double({ min: 0.5, max: 20, noNaN: true }),
        threshold_z: fc.double({ min: 0.5, max: 6, noNaN: true }),
        min_spread: fc.constantFrom(0, 0.1),
      })
      .map(fitWarmUp);
    const values = fc.oneof(fc.double({ min: -100, max: 100, noNaN: true }), fc.integer({ min: -3, max: 3 }));
    fc.assert(
      fc.property(paramsArb, scalarObservations({ values, maxLength: 60 }), (raw, xs) => {
        const p = resolveParams(smaBaseline, { ...raw, clip_z: 0 });
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

describe('sma_baseline hot path', () => {
  // step computes z and the score inline (a call V8 does not inline boxes its doubles); they must
  // be judgeDeviation's, bit for bit, for every direction and clipping (count windows, whose
  // state before the step is the window the value is judged against).
  it('scores exactly as judgeDeviation does from the state before the step', () => {
    const paramsArb = fc
      .record({
        window_points: fc.integer({ min: 1, max: 10 }),
        window_secs: fc.constant(0),
        max_points: fc.integer({ min: 1, max: 12 }),
        min_points: fc.integer({ min: 1, max: 5 }),
        spread_half_life_points: fc.double({ min: 0.3, max: 50, noNaN: true }),
        threshold_z: fc.double({ min: 0.1, max: 8, noNaN: true }),
        clip_z: fc.constantFrom(0, 1, 5),
        min_spread: fc.constantFrom(0, 0.5),
        direction: fc.constantFrom('both' as const, 'up' as const, 'down' as const),
      })
      .map(fitWarmUp);
    const values = fc.oneof(fc.double({ min: -100, max: 100, noNaN: true }), fc.integer({ min: -3, max: 3 }));
    fc.assert(
      fc.property(paramsArb, scalarObservations({ values, maxLength: 60 }), (raw, xs) => {
        const p = resolveParams(smaBaseline, raw);
        const s = smaBaseline.init(p);
        for (const x of xs) {
          const before = structuredClone(s);
          const got = smaBaseline.step(p, s, x, NO_FINDINGS, DEFAULT_LABELS);
          const w = before.w;
          if (w.len >= p.min_points && w.len > 0) {
            const spread = Math.max(
              before.devWeight > 0 ? (MEAN_ABS_DEV_TO_SIGMA * before.dev) / before.devWeight : 0,
              p.min_spread,
            );
            const want = judgeDeviation(p, x.value, w.mean, spread, 'moving average', 0, NO_FINDINGS, DEFAULT_LABELS);
            expect(Object.is(got, want)).toBe(true);
          } else if (w.len === 0) expect(got).toBeNull();
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('sma_baseline validate hook', () => {
  it('rejects at resolveParams a min_points the window can never hold, naming the parameter', () => {
    expect(() => resolveParams(smaBaseline, { window_points: 5, min_points: 6 })).toThrow(
      /sma_baseline: \/min_points must be at most window_points \(5\), got 6/,
    );
    expect(() => resolveParams(smaBaseline, { window_secs: 60, max_points: 4, min_points: 5 })).toThrow(
      /\/min_points must be at most max_points \(4\), got 5/,
    );
  });

  it('accepts min_points equal to the window capacity', () => {
    expect(resolveParams(smaBaseline, { window_points: 5, min_points: 5 }).min_points).toBe(5);
  });
});
