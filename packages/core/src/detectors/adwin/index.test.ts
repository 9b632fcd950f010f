import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { resolveParams } from '../params.ts';
import type { Observation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance } from '../../testing/conformance.ts';
import { gaussian, matchDetections, rng, runRiverBatch } from '../../../../../tests/reference/river.ts';
import { adwin, type AdwinState } from './index.ts';

describeConformance(adwin, {
  params: { clock: 1, grace_period: 2, min_window_length: 1, max_buckets: 2 },
  name: 'conformance: adwin (clock 1)',
});
describeConformance(adwin, { params: { clock: 4, grace_period: 5, delta: 0.1 }, name: 'conformance: adwin' });

const t0 = 1_700_000_000_000;
const obs = (values: readonly number[]): Observation[] =>
  values.map((value, i) => ({ time: t0 + i * 1000, value, fields: {} }));

function run(raw: Record<string, unknown>, values: readonly number[]) {
  const p = resolveParams(adwin, raw);
  const s = adwin.init(p);
  const out = collectFindings();
  const drifts: number[] = [];
  const scores: Array<number | null> = [];
  obs(values).forEach((x, i) => {
    const before = out.findings.length;
    scores.push(adwin.step(p, s, x, out, DEFAULT_LABELS));
    if (out.findings.length > before) drifts.push(i);
  });
  return { drifts, scores, findings: out.findings, state: s };
}

function steps(seed: number, means: readonly number[], len: number, sd: number): number[] {
  const g = gaussian(rng(seed));
  return means.flatMap((m) => Array.from({ length: len }, () => m + sd * g()));
}

/** Naive sums over the buckets, for checking the running totals. */
function bucketSums(s: AdwinState) {
  let width = 0;
  let total = 0;
  s.levels.forEach((lv, i) => {
    width += lv.tot.length * 2 ** i;
    total += lv.tot.reduce((a, b) => a + b, 0);
  });
  return { width, total };
}

describe('adwin', () => {
  it('keeps an exponential histogram: ≤ max_buckets per level, totals and variance match the raw window', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 2, max: 6 }),
        (xs, mb) => {
          // delta tiny: no change is ever declared, so the window is the whole stream.
          const { state } = run({ max_buckets: mb, delta: 1e-300, clock: 1000 }, xs);
          expect(state.levels.every((lv) => lv.tot.length <= mb && lv.tot.length === lv.vr.length)).toBe(true);
          const sums = bucketSums(state);
          expect(sums.width).toBe(xs.length);
          expect(state.width).toBe(xs.length);
          const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
          expect(state.total).toBeCloseTo(mean * xs.length, 6);
          expect(sums.total).toBeCloseTo(mean * xs.length, 6);
          const ss = xs.reduce((a, b) => a + (b - mean) ** 2, 0);
          expect(Math.abs(state.variance - ss)).toBeLessThan(1e-6 * Math.max(1, ss));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('stays quiet on a stationary stream', () => {
    const { drifts, scores } = run({}, steps(1, [0.2], 5000, 0.1));
    expect(drifts).toEqual([]);
    expect(scores.slice(0, 31).every((s) => s === null)).toBe(true);
    expect(scores[4999]).toBeLessThan(1);
  });

  it('shrinks the window to the new regime and reports means before and after', () => {
    const { drifts, findings, state } = run({}, steps(2, [0.1, 0.5], 1000, 0.1));
    expect(drifts.length).toBeGreaterThanOrEqual(1);
    expect(drifts[0]).toBeGreaterThan(1000);
    expect(drifts[0]).toBeLessThan(1100);
    const f = findings[0]!;
    expect(f.reason).toMatch(
      /^flow_m3h mean rose from 0\.1\d* to 0\.\d+ \(ADWIN \|Δμ\| [\d.]+ > ε [\d.]+; window \d+ → \d+\)$/,
    );
    // Published ADWIN keeps the recent part: at the end the window holds (mostly) the new regime.
    expect(state.total / state.width).toBeCloseTo(0.5, 1);
    expect(state.width).toBeLessThan(1100);
  });

  it('finds the same change points as River ADWIN (±50 samples, count ±1)', () => {
    const streams = [41, 42, 43].map((seed) => steps(seed, [0.1, 0.6, 0.2, 0.7, 0.3], 1000, 0.2));
    const params = { delta: 0.002, clock: 32, max_buckets: 5, min_window_length: 5, grace_period: 10 };
    const river = runRiverBatch(streams.map((values) => ({ detector: 'adwin' as const, params, values })));
    streams.forEach((values, k) => {
      const ours = run(params, values).drifts;
      const theirs = river[k]!.drifts!;
      expect(theirs.length).toBeGreaterThanOrEqual(4);
      expect(Math.abs(ours.length - theirs.length)).toBeLessThanOrEqual(1);
      expect(matchDetections(ours, theirs, 50).matched).toBeGreaterThanOrEqual(Math.min(ours.length, theirs.length));
    });
  });
});
