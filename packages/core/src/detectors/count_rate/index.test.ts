import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resolveParams } from '../params.ts';
import { squash, type Observation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance, scalarObservations } from '../../testing/conformance.ts';
import { countRate, type CountRateParams, CountRateState } from './index.ts';
import { MEAN_ABS_DEV_TO_SIGMA, zOf } from '../ema_baseline/deviation.ts';

const counts = scalarObservations({
  values: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 5 }), fc.double({ min: -1e3, max: 1e3, noNaN: true })),
});
describeConformance(countRate, {
  stateSchema: CountRateState,
  params: { bucket_secs: 2, min_buckets: 2, threshold_z: 2, silence_secs: 30 },
  inputs: counts,
  name: 'conformance: count_rate (short buckets, silence)',
});
describeConformance(countRate, {
  stateSchema: CountRateState,
  numRuns: 50,
  params: { bucket_secs: 60, min_buckets: 1, clip_z: 0, min_spread: 0, direction: 'down' },
  name: 'conformance: count_rate (dips only)',
});
describeConformance(countRate, {
  stateSchema: CountRateState,
  numRuns: 50,
  params: { bucket_secs: 5, min_buckets: 1, min_spread: 0, silence_secs: 1 },
  inputs: counts,
  name: 'conformance: count_rate (no spread floor)',
});

describeConformance(countRate, {
  stateSchema: CountRateState,
  numRuns: 50,
  name: 'conformance: count_rate (random params)',
  inputs: counts,
  randomParams: fc.record({
    bucket_secs: fc.constantFrom(0.001, 1, 2, 60),
    half_life_buckets: fc.double({ min: 0.3, max: 50, noNaN: true }),
    min_buckets: fc.integer({ min: 1, max: 5 }),
    threshold_z: fc.double({ min: 0.1, max: 8, noNaN: true }),
    clip_z: fc.constantFrom(0, 1, 5),
    min_spread: fc.constantFrom(0, 1),
    direction: fc.constantFrom('both', 'up', 'down'),
    silence_secs: fc.constantFrom(0, 1, 30),
  }),
});

const t0 = 1_700_000_040_000; // a minute boundary
const labels = { ...DEFAULT_LABELS, metric: 'auth failures' };
/** Events at the given second offsets from t0, each counting 1. */
const at = (secs: number[]): Observation[] => secs.map((s) => ({ time: t0 + s * 1000, value: 1, fields: {} }));
/** `n` events per bucket of 60 s for `buckets` buckets. */
const steady = (perBucket: number, buckets: number, from = 0): number[] =>
  Array.from(
    { length: perBucket * buckets },
    (_, i) => from + Math.floor(i / perBucket) * 60 + ((i % perBucket) * 60) / perBucket,
  );

function runAll(p: CountRateParams, xs: readonly Observation[]) {
  const s = countRate.init(p);
  const out = collectFindings();
  const scores = xs.map((x) => countRate.step(p, s, x, out, labels));
  return { scores, findings: out.findings, state: s, out };
}

describe('count_rate behaviour', () => {
  it('is null while warming up', () => {
    const p = resolveParams(countRate, { min_buckets: 3 });
    const { scores } = runAll(p, at(steady(2, 3)));
    expect(scores.every((s) => s === null)).toBe(true);
  });

  it('raises a spike once per bucket, as soon as the count crosses the threshold', () => {
    const p = resolveParams(countRate, { min_buckets: 5 });
    const base = steady(4, 20); // 4 per minute
    const burst = Array.from({ length: 40 }, (_, i) => 20 * 60 + i); // 40 in the 21st minute
    const { findings, scores } = runAll(p, at([...base, ...burst]));
    expect(findings).toHaveLength(1);
    expect(findings[0]!.reason).toMatch(/^auth failures \d+ in 60 s, usually 4 \([\d.]+σ above\)$/);
    expect(scores.at(-1)).toBeGreaterThan(0.5);
  });

  it('raises a dip when a bucket closes far below the baseline', () => {
    const p = resolveParams(countRate, { min_buckets: 5, min_spread: 1 });
    const base = steady(30, 20);
    const { findings } = runAll(p, at([...base, 20 * 60 + 1, 21 * 60 + 1]));
    expect(findings.map((f) => f.reason)).toEqual(['auth failures 1 in 60 s, usually 30 (5.29σ below)']);
  });

  it('tick raises silence once, and an info finding when events resume', () => {
    const p = resolveParams(countRate, { min_buckets: 2, silence_secs: 300, direction: 'up' });
    const { state, out } = runAll(p, at(steady(3, 5)));
    const last = t0 + (4 * 60 + 40) * 1000;
    expect(countRate.tick!(p, state, last + 200_000, out, labels)).toBeLessThan(0.5);
    expect(countRate.tick!(p, state, last + 300_000, out, labels)).toBeGreaterThanOrEqual(0.5);
    expect(countRate.tick!(p, state, last + 400_000, out, labels)).toBeGreaterThan(0.5);
    countRate.step(p, state, { time: last + 500_000, value: 1, fields: {} }, out, labels);
    expect(out.findings.map((f) => [f.severity, f.reason])).toEqual([
      ['warning', 'no auth failures for 300 s'],
      ['info', 'auth failures resumed after 500 s of silence'],
    ]);
  });

  it('a very long gap decays the baseline without looping over every bucket', () => {
    const p = resolveParams(countRate, { bucket_secs: 1, min_buckets: 2 });
    const { state } = runAll(p, at([...steady(10, 5).map((s) => s / 60), 10 * 86_400]));
    expect(state.mean).toBeLessThan(1e-6);
    expect(state.bucketStart).toBe(t0 + 10 * 86_400_000);
  });

  /** Reference (no clipping): group events into buckets naively, then replay bucket by bucket. */
  function reference(p: CountRateParams, xs: readonly Observation[]): Array<number | null> {
    const bms = Math.round(p.bucket_secs * 1000);
    const a = 1 - Math.pow(2, -1 / p.half_life_buckets);
    const bucketOf = (t: number) => Math.floor(t / bms);
    const first = xs.length > 0 ? bucketOf(xs[0]!.time) : 0;
    const countIn = (b: number, uptoIndex: number) =>
      xs.slice(0, uptoIndex + 1).reduce((acc, x) => (bucketOf(x.time) === b ? acc + x.value : acc), 0);
    return xs.map((x, i) => {
      const b = Math.max(bucketOf(x.time), first);
      const prevB = i === 0 ? first : Math.max(bucketOf(xs[i - 1]!.time), first);
      // Baseline state after learning complete buckets first+1 .. upto-1, with dips judged for those closing now.
      let mean = 0,
        dev = 0,
        dw = 0,
        learned = 0,
        dip = 0;
      for (let k = first + 1; k < b; k++) {
        const c = countIn(k, xs.length - 1);
        const spread = Math.max(
          dw > 0 ? (MEAN_ABS_DEV_TO_SIGMA * dev) / dw : 0,
          Math.sqrt(Math.max(0, mean)),
          p.min_spread,
        );
        const zd = -zOf(c, mean, spread);
        if (k >= prevB && learned >= p.min_buckets && zd > 0)
          dip = Math.max(dip, zd === Infinity ? 1 : squash(zd, p.threshold_z));
        if (learned === 0) mean = c;
        else {
          const d = c - mean;
          dev += a * (Math.abs(d) - dev);
          dw += a * (1 - dw);
          mean += a * d;
        }
        learned++;
      }
      if (learned < p.min_buckets) return null;
      const spread = Math.max(
        dw > 0 ? (MEAN_ABS_DEV_TO_SIGMA * dev) / dw : 0,
        Math.sqrt(Math.max(0, mean)),
        p.min_spread,
      );
      const z = zOf(countIn(b, i), mean, spread);
      return Math.max(z === Infinity ? 1 : z > 0 ? squash(z, p.threshold_z) : 0, dip);
    });
  }

  it('agrees with a naive bucketing reference on random data', () => {
    const paramsArb = fc.record({
      bucket_secs: fc.constantFrom(10, 30, 60),
      half_life_buckets: fc.double({ min: 0.5, max: 20, noNaN: true }),
      min_buckets: fc.integer({ min: 1, max: 4 }),
      threshold_z: fc.double({ min: 0.5, max: 6, noNaN: true }),
      min_spread: fc.constantFrom(0, 1),
    });
    const values = fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 4 }));
    fc.assert(
      fc.property(paramsArb, scalarObservations({ values, maxLength: 60 }), (raw, xs) => {
        const p = resolveParams(countRate, { ...raw, clip_z: 0 });
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
