import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { resolveParams } from '../params.ts';
import type { Observation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance, scalarObservations } from '../../testing/conformance.ts';
import { matchDetections, rng, runRiverBatch } from '../../../../../tests/reference/river.ts';
import { ddm } from './index.ts';

describeConformance(ddm, { params: { min_points: 3 }, name: 'conformance: ddm' });
describeConformance(ddm, {
  params: { min_points: 2, warning_level: 1, drift_level: 1.5 },
  inputs: scalarObservations({ maxLength: 120, values: fc.constantFrom(0, 1) }),
  name: 'conformance: ddm (0/1 input)',
});

const t0 = 1_700_000_000_000;
const obs = (values: readonly number[]): Observation[] =>
  values.map((value, i) => ({ time: t0 + i * 1000, value, fields: {} }));

function run(raw: Record<string, unknown>, values: readonly number[]) {
  const p = resolveParams(ddm, raw);
  const s = ddm.init(p);
  const out = collectFindings();
  const drifts: number[] = [];
  const warnings: number[] = [];
  const scores: Array<number | null> = [];
  obs(values).forEach((x, i) => {
    const before = out.findings.length;
    scores.push(ddm.step(p, s, x, out, DEFAULT_LABELS));
    for (const f of out.findings.slice(before)) (f.severity === 'warning' ? drifts : warnings).push(i);
  });
  return { drifts, warnings, scores, findings: out.findings };
}

/** 0/1 errors whose rate steps through `rates`, `len` points each. */
function bernoulli(seed: number, rates: readonly number[], len: number): number[] {
  const u = rng(seed);
  return rates.flatMap((r) => Array.from({ length: len }, () => (u() < r ? 1 : 0)));
}

describe('ddm', () => {
  it('is null during warm-up and quiet on a stationary error rate', () => {
    const { drifts, scores } = run({}, bernoulli(1, [0.2], 3000));
    expect(scores.slice(0, 30).every((s) => s === null)).toBe(true);
    expect(scores[30]).not.toBeNull();
    expect(drifts).toEqual([]);
  });

  it('warns, then reports the rise with rates before and after, then restarts', () => {
    const { drifts, warnings, findings, scores } = run({}, bernoulli(2, [0.1, 0.5], 1000));
    // DDM may raise an early false alarm while p_min is still noisy; the real change is at 1000.
    const k = drifts.findIndex((i) => i >= 1000);
    const at = drifts[k]!;
    expect(at).toBeLessThan(1300);
    expect(warnings.some((w) => w > (drifts[k - 1] ?? -1) && w <= at)).toBe(true);
    const f = findings.filter((x) => x.severity === 'warning')[k]!;
    expect(f.reason).toMatch(
      /^flow_m3h error rate rose from 0\.\d+ to 0\.\d+ \(DDM [\d.]+ > [\d.]+ = p_min \+ 3·s_min\)$/,
    );
    expect(Number(f.detail?.rate_after)).toBeGreaterThan(Number(f.detail?.rate_before));
    expect(scores[at]).toBe(1);
    expect(scores[at + 1]).toBeNull();
  });

  it('rejects a drift level not above the warning level, naming the parameter', () => {
    expect(() => ddm.init(resolveParams(ddm, { warning_level: 3, drift_level: 3 }))).toThrow(
      'ddm: /drift_level must exceed warning_level (3), got 3',
    );
  });

  it('treats values ≥ 0.5 as errors', () => {
    const a = run({}, bernoulli(3, [0.1, 0.6], 600));
    const b = run(
      {},
      bernoulli(3, [0.1, 0.6], 600).map((v) => (v ? 0.9 : 0.2)),
    );
    expect(b.drifts).toEqual(a.drifts);
  });

  it('finds the same drifts as River DDM (±50 samples, count ±1)', () => {
    const streams = [21, 22, 23].map((seed) => bernoulli(seed, [0.05, 0.3, 0.1, 0.5], 1500));
    const river = runRiverBatch(
      streams.map((values) => ({
        detector: 'ddm' as const,
        params: { warm_start: 30, warning_threshold: 2, drift_threshold: 3 },
        values,
      })),
    );
    streams.forEach((values, k) => {
      const ours = run({ min_points: 30, warning_level: 2, drift_level: 3 }, values).drifts;
      const theirs = river[k]!.drifts!;
      expect(theirs.length).toBeGreaterThanOrEqual(2);
      expect(Math.abs(ours.length - theirs.length)).toBeLessThanOrEqual(1);
      expect(matchDetections(ours, theirs, 50).matched).toBeGreaterThanOrEqual(Math.min(ours.length, theirs.length));
    });
  });
});
