import { describe, it, expect } from 'vitest';
import { resolveParams } from '../params.ts';
import type { Observation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance } from '../../testing/conformance.ts';
import { gaussian, matchDetections, rng, runRiverBatch } from '../../../../../tests/reference/river.ts';
import { pageHinkley } from './index.ts';

describeConformance(pageHinkley, { params: { threshold: 5, min_points: 3 }, name: 'conformance: page_hinkley (both)' });
describeConformance(pageHinkley, {
  params: { threshold: 2, min_points: 1, direction: 'up', alpha: 0.9 },
  name: 'conformance: page_hinkley (up)',
});

const t0 = 1_700_000_000_000;
const obs = (values: readonly number[]): Observation[] =>
  values.map((value, i) => ({ time: t0 + i * 1000, value, fields: {} }));

function run(raw: Record<string, unknown>, values: readonly number[]) {
  const p = resolveParams(pageHinkley, raw);
  const s = pageHinkley.init(p);
  const out = collectFindings();
  const drifts: number[] = [];
  const scores: Array<number | null> = [];
  obs(values).forEach((x, i) => {
    const before = out.findings.length;
    scores.push(pageHinkley.step(p, s, x, out, DEFAULT_LABELS));
    if (out.findings.length > before) drifts.push(i);
  });
  return { drifts, scores, findings: out.findings };
}

/** Gaussian errors whose mean steps through `means`, `len` points each. */
function steps(seed: number, means: readonly number[], len: number, sd: number): number[] {
  const g = gaussian(rng(seed));
  return means.flatMap((m) => Array.from({ length: len }, () => m + sd * g()));
}

describe('page_hinkley', () => {
  it('stays quiet on a stationary stream and scores below 1', () => {
    const { drifts, scores } = run({}, steps(1, [0.1], 3000, 0.05));
    expect(drifts).toEqual([]);
    expect(scores.slice(0, 29).every((s) => s === null)).toBe(true);
    expect(Math.max(...scores.map((s) => s ?? 0))).toBeLessThan(1);
  });

  it('reports a rise in the error mean with the before/after means, then restarts', () => {
    const { drifts, findings, scores } = run({ threshold: 20 }, steps(2, [0.1, 0.5], 500, 0.05));
    expect(drifts.length).toBe(1);
    expect(drifts[0]).toBeGreaterThan(500);
    expect(drifts[0]).toBeLessThan(600);
    const f = findings[0]!;
    expect(f.reason).toMatch(/^flow_m3h mean rose from 0\.1\d* to 0\.\d+ \(Page-Hinkley [\d.]+ > 20\)$/);
    expect(f.detail?.mean_before).toBeCloseTo(0.1, 1);
    expect(scores[drifts[0]!]).toBe(1);
    // Restarted: warming up again right after the detection.
    expect(scores[drifts[0]! + 1]).toBeNull();
  });

  it('honours direction: a fall is ignored by "up" and found by "down"', () => {
    const values = steps(3, [0.5, 0.1], 400, 0.05);
    expect(run({ threshold: 20, direction: 'up' }, values).drifts).toEqual([]);
    const down = run({ threshold: 20, direction: 'down' }, values);
    expect(down.drifts.length).toBe(1);
    expect(down.findings[0]!.reason).toContain('mean fell from 0.5');
  });

  it('finds the same change points as River PageHinkley (±50 samples, count ±1)', () => {
    const streams = [11, 12, 13].map((seed) => steps(seed, [0.1, 0.6, 0.1, 0.7, 0.2], 800, 0.1));
    const river = runRiverBatch(
      streams.map((values) => ({
        detector: 'page_hinkley' as const,
        params: { delta: 0.005, threshold: 50, alpha: 0.9999, min_instances: 30, mode: 'both' },
        values,
      })),
    );
    streams.forEach((values, k) => {
      const ours = run(
        { delta: 0.005, threshold: 50, alpha: 0.9999, min_points: 30, direction: 'both' },
        values,
      ).drifts;
      const theirs = river[k]!.drifts!;
      expect(theirs.length).toBeGreaterThanOrEqual(3);
      expect(Math.abs(ours.length - theirs.length)).toBeLessThanOrEqual(1);
      expect(matchDetections(ours, theirs, 50).matched).toBeGreaterThanOrEqual(Math.min(ours.length, theirs.length));
    });
  });
});
