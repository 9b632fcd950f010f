import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resolveParams } from '../params.ts';
import type { Observation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance } from '../../testing/conformance.ts';
import { bestPeriod, seasonalError, type SeasonalErrorParams } from './index.ts';

const small = {
  block_points: 2,
  min_lag_blocks: 2,
  max_lag_blocks: 6,
  refresh_blocks: 3,
  window_blocks: 8,
  min_residuals: 2,
};
describeConformance(seasonalError, { params: small, name: 'conformance: seasonal_error (small)' });
describeConformance(seasonalError, {
  numRuns: 50,
  name: 'conformance: seasonal_error (random params)',
  randomParams: fc.record({
    block_points: fc.integer({ min: 1, max: 4 }),
    min_lag_blocks: fc.integer({ min: 2, max: 4 }),
    max_lag_blocks: fc.integer({ min: 4, max: 10 }),
    refresh_blocks: fc.integer({ min: 1, max: 6 }),
    min_autocorrelation: fc.double({ min: -1, max: 1, noNaN: true }),
    window_blocks: fc.integer({ min: 2, max: 12 }),
    min_residuals: fc.integer({ min: 1, max: 6 }),
    half_excess: fc.double({ min: 0.01, max: 5, noNaN: true }),
  }),
});

const t0 = 1_700_000_000_000;
const obs = (i: number, value: number): Observation => ({ time: t0 + i * 60_000, value, fields: {} });
/** Deterministic noise in [-1, 1]. */
const noise = (i: number) => Math.sin(i * 12.9898) * 0.5 + Math.sin(i * 78.233) * 0.5;
/** A daily-like signal: 96 points per period, a peak of 60 above a base of 20 in the middle of each period. */
const daily = (i: number) => 20 + noise(i) + (i % 96 >= 40 && i % 96 < 56 ? 60 : 0);

function runAll(p: SeasonalErrorParams, values: readonly number[]) {
  const s = seasonalError.init(p);
  const out = collectFindings();
  const scores = values.map((v, i) => seasonalError.step(p, s, obs(i, v), out, DEFAULT_LABELS));
  return { scores, findings: out.findings, state: s };
}

/** Naive reference, written from the definition: shortest local ACF peak within 10 % of the best. */
function naivePeriod(xs: readonly number[], minLag: number, maxLag: number, minAcf: number): number {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const c = (lag: number) => {
    let sum = 0;
    for (let i = lag; i < n; i++) sum += (xs[i]! - mean) * (xs[i - lag]! - mean);
    return sum / (n - lag);
  };
  const var0 = c(0);
  const top = Math.min(maxLag, Math.floor(n / 2));
  if (!(var0 > 0) || top < minLag) return 0;
  const r = (lag: number) => (lag < minLag ? -Infinity : lag >= n ? -Infinity : c(lag) / var0);
  const lags = Array.from({ length: top - minLag + 1 }, (_, k) => minLag + k);
  const best = Math.max(...lags.map(r));
  if (best < minAcf) return 0;
  return lags.find((l) => r(l) >= minAcf && r(l) >= 0.9 * best && r(l) >= r(l - 1) && r(l) >= r(l + 1)) ?? 0;
}

/** Deterministic pseudo-random numbers in [-1, 1) (a linear congruential generator). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 31 - 1;
  };
}

describe('seasonal_error behaviour', () => {
  it('finds the period of a periodic signal and none in noise', () => {
    // 96 points per period in blocks of 6 points = 16 blocks.
    const blockMeans = Array.from({ length: 64 }, (_, b) => {
      let s = 0;
      for (let j = 0; j < 6; j++) s += daily(b * 6 + j);
      return s / 6;
    });
    expect(bestPeriod(blockMeans, 4, 30, 0.5)).toBe(16);
    const rnd = lcg(7);
    expect(
      bestPeriod(
        Array.from({ length: 64 }, () => rnd()),
        4,
        30,
        0.5,
      ),
    ).toBe(0);
    expect(bestPeriod([3, 3, 3, 3, 3, 3], 2, 3, 0)).toBe(0);
  });

  it('bestPeriod agrees with a naive reference on random series', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -10, max: 10 }), { minLength: 4, maxLength: 60 }),
        fc.integer({ min: 2, max: 10 }),
        (xs, minLag) => {
          expect(bestPeriod(xs, minLag, minLag + 15, 0.2)).toBe(naivePeriod(xs, minLag, minLag + 15, 0.2));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('scores a missing peak inside the usual range, with a readable reason, and stays quiet otherwise', () => {
    const p = resolveParams(seasonalError, {
      block_points: 6,
      min_lag_blocks: 4,
      max_lag_blocks: 40,
      refresh_blocks: 8,
      min_residuals: 20,
      half_excess: 0.3,
    });
    const n = 96 * 12;
    const missing = (i: number) => (i >= 96 * 10 && i < 96 * 11 ? 20 + noise(i) : daily(i));
    const normal = runAll(
      p,
      Array.from({ length: n }, (_, i) => daily(i)),
    );
    const broken = runAll(
      p,
      Array.from({ length: n }, (_, i) => missing(i)),
    );
    expect(normal.state.period).toBe(16);
    const maxNormal = Math.max(...normal.scores.slice(96 * 6).map((x) => x ?? 0));
    const maxBroken = Math.max(...broken.scores.slice(96 * 10, 96 * 11).map((x) => x ?? 0));
    expect(maxNormal).toBeLessThan(0.3);
    expect(maxBroken).toBeGreaterThan(0.9);
    expect(normal.findings).toHaveLength(0);
    expect(broken.findings[0]!.reason).toMatch(
      /^flow_m3h: block mean [\d.]+ differs from one period \(16 blocks\) earlier by -[\d.]+, [\d.]+ of the usual range beyond it$/,
    );
  });

  it('is null until a period is known, then 0 between blocks', () => {
    const p = resolveParams(seasonalError, {
      block_points: 6,
      min_lag_blocks: 4,
      max_lag_blocks: 40,
      refresh_blocks: 8,
      min_residuals: 5,
    });
    const { scores } = runAll(
      p,
      Array.from({ length: 96 * 4 }, (_, i) => daily(i)),
    );
    expect(scores[0]).toBeNull();
    const firstScored = scores.findIndex((x) => x !== null);
    expect(firstScored).toBeGreaterThan(0);
    expect(scores.slice(firstScored).every((x) => x !== null && x >= 0 && x <= 1)).toBe(true);
  });
});
