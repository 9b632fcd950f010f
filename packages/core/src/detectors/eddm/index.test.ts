import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { resolveParams } from '../params.ts';
import type { Observation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance, scalarObservations } from '../../testing/conformance.ts';
import { matchDetections, rng, runRiverBatch } from '../../../../../tests/reference/river.ts';
import { eddm } from './index.ts';

describeConformance(eddm, { params: { min_points: 2, min_errors: 2 }, name: 'conformance: eddm' });
describeConformance(eddm, {
  params: { min_points: 0, min_errors: 1, alpha: 0.9, beta: 0.8 },
  inputs: scalarObservations({ maxLength: 120, values: fc.constantFrom(0, 1) }),
  name: 'conformance: eddm (0/1 input)',
});

const t0 = 1_700_000_000_000;
const obs = (values: readonly number[]): Observation[] =>
  values.map((value, i) => ({ time: t0 + i * 1000, value, fields: {} }));

function run(raw: Record<string, unknown>, values: readonly number[]) {
  const p = resolveParams(eddm, raw);
  const s = eddm.init(p);
  const out = collectFindings();
  const drifts: number[] = [];
  const warnings: number[] = [];
  const scores: Array<number | null> = [];
  obs(values).forEach((x, i) => {
    const before = out.findings.length;
    scores.push(eddm.step(p, s, x, out, DEFAULT_LABELS));
    for (const f of out.findings.slice(before)) (f.severity === 'warning' ? drifts : warnings).push(i);
  });
  return { drifts, warnings, scores, findings: out.findings };
}

/** 0/1 errors whose rate steps through `rates`, `len` points each. */
function bernoulli(seed: number, rates: readonly number[], len: number): number[] {
  const u = rng(seed);
  return rates.flatMap((r) => Array.from({ length: len }, () => (u() < r ? 1 : 0)));
}

describe('eddm', () => {
  it('is null until enough errors were seen', () => {
    const values = bernoulli(1, [0.2], 400);
    const { scores, drifts } = run({}, values);
    let errors = 0;
    const firstScored = scores.findIndex((x) => x !== null);
    values.forEach((v, i) => {
      errors += v;
      if (errors <= 30) expect(scores[i]).toBeNull();
      else if (errors === 31 && v === 1) expect(i).toBe(firstScored);
    });
    expect(firstScored).toBeGreaterThan(0);
    expect(drifts.every((d) => d > firstScored)).toBe(true);
  });

  it('reports errors bunching up with the mean distances, then restarts', () => {
    const { drifts, findings, scores } = run({}, bernoulli(2, [0.02, 0.4], 3000));
    const k = drifts.findIndex((i) => i >= 3000);
    const at = drifts[k]!;
    expect(at).toBeLessThan(3300);
    const f = findings.filter((x) => x.severity === 'warning')[k]!;
    expect(f.reason).toMatch(
      /^flow_m3h errors closer together: mean distance fell from [\d.]+ to [\d.]+ \(EDDM level 0\.\d+ < 0\.9\)$/,
    );
    expect(Number(f.detail?.mean_distance)).toBeLessThan(Number(f.detail?.mean_distance_before));
    expect(scores[at]).toBe(1);
    expect(scores[at + 1]).toBeNull();
  });

  it('rejects beta above alpha, naming the parameter', () => {
    expect(() => eddm.init(resolveParams(eddm, { alpha: 0.8, beta: 0.9 }))).toThrow(
      'eddm: /beta must not exceed alpha (0.8), got 0.9',
    );
  });

  it('finds the same drifts as River EDDM (±50 samples, count ±1)', () => {
    const streams = [31, 32, 33].map((seed) => bernoulli(seed, [0.02, 0.3, 0.05, 0.4], 1500));
    const river = runRiverBatch(
      streams.map((values) => ({
        detector: 'eddm' as const,
        params: { warm_start: 30, alpha: 0.95, beta: 0.9 },
        values,
      })),
    );
    streams.forEach((values, k) => {
      const ours = run({ min_points: 30, min_errors: 30, alpha: 0.95, beta: 0.9 }, values).drifts;
      const theirs = river[k]!.drifts!;
      expect(theirs.length).toBeGreaterThanOrEqual(2);
      expect(Math.abs(ours.length - theirs.length)).toBeLessThanOrEqual(1);
      expect(matchDetections(ours, theirs, 50).matched).toBeGreaterThanOrEqual(Math.min(ours.length, theirs.length));
    });
  });
});
