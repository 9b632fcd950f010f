import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resolveParams, ParamError } from '../params.ts';
import type { Observation } from '../contract.ts';
import { collectFindings, describeConformance } from '../../testing/conformance.ts';
import { rateBaseline, RateBaselineState, windowSlope } from './index.ts';
import { createRng } from '../../simulator/prng.ts';

describeConformance(rateBaseline, {
  params: { window_secs: 20, min_window_points: 3, min_points: 5, duration_secs: 2 },
  stateSchema: RateBaselineState,
  name: 'conformance: rate_baseline',
});
describeConformance(rateBaseline, {
  params: {
    window_secs: 60,
    min_window_points: 4,
    min_points: 3,
    min_spread: 0.5,
    direction: 'down',
    duration_secs: 0,
    clip_z: 0,
    release_z: 0,
  },
  stateSchema: RateBaselineState,
  name: 'conformance: rate_baseline (down, floor, no clipping)',
});

const T0 = Date.UTC(2026, 0, 1);
const LABELS = { key: 'plant-a/T-101|mode=1,1', metric: 'level_mm', unit: 'mm' };

/** A tank filling at `rate` mm/s with gaussian sensor noise, one reading per second. */
function filling(from: number, seconds: number, start: number, rate: number, noise: () => number): Observation[] {
  return Array.from({ length: seconds }, (_, i) => ({
    time: T0 + (from + i) * 1000,
    value: start + rate * i + noise(),
    fields: {},
  }));
}

function run(raw: Record<string, unknown>, xs: readonly Observation[]) {
  const p = resolveParams(rateBaseline, raw);
  const s = rateBaseline.init(p);
  const out = collectFindings();
  const scores = xs.map((x) => rateBaseline.step(p, s, x, out, LABELS));
  return { scores, findings: out.findings, state: s };
}

describe('windowSlope', () => {
  it('is the least-squares slope per second, whatever the offset of the times', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -50, max: 50, noNaN: true }),
        fc.double({ min: -1e4, max: 1e4, noNaN: true }),
        fc.integer({ min: 2, max: 50 }),
        (rate, b, n) => {
          const t = Array.from({ length: n }, (_, i) => T0 + i * 1500);
          const v = t.map((x) => b + (rate * (x - T0)) / 1000);
          expect(windowSlope(t, v)).toBeCloseTo(rate, 6);
        },
      ),
    );
    expect(windowSlope([T0, T0], [1, 2])).toBeNull();
    expect(windowSlope([T0], [1])).toBeNull();
  });
});

describe('rate_baseline', () => {
  const rng = createRng(3, 'rate-test');
  const noise = () => 2 * rng.normal();
  const params = { window_secs: 30, min_points: 60, threshold_z: 4, min_spread: 0.2, duration_secs: 10 };

  it('stays quiet on normal fills and flags a level that stops rising while the inlet is open (spoofing)', () => {
    // Two normal fill episodes of the same mode (separated by a gap: the mode was left), then a
    // third whose transmitter reads a plausible constant value with noise.
    const xs = [
      ...filling(0, 200, 500, 1.4, noise),
      ...filling(500, 200, 500, 1.2, noise),
      ...filling(1000, 120, 470, 0, () => 1.5 * rng.normal()),
    ];
    const { findings, scores } = run(params, xs);
    const alarms = findings.filter((f) => f.severity !== 'info');
    expect(alarms).toHaveLength(1);
    const at = scores.findIndex((s, i) => i >= 400 && s !== null && s >= 0.5);
    // Judged once the new window holds min_window_points, then held for duration_secs.
    expect(at).toBeGreaterThanOrEqual(400 + 9);
    expect(at).toBeLessThan(400 + 30);
    expect(alarms[0]!.reason).toMatch(
      /^level_mm changes at -?[\d.e-]+ mm\/s for \d+ s; usually 1\.\d+ ± 0\.\d+ mm\/s here \(z -\d+(\.\d+)?\)$/,
    );
    expect(alarms[0]!.detail?.usual_rate).toBeGreaterThan(1.1);
    // Not learned: the usual rate is still a fill rate after the whole spoofed stretch.
    expect(run(params, xs).state.mean).toBeGreaterThan(1.1);
  });

  it('does not mix episodes: a gap longer than max_gap_secs empties the window', () => {
    const xs = [...filling(0, 100, 500, 1.5, () => 0), ...filling(1000, 20, 650, 1.5, () => 0)];
    const { state, findings } = run({ ...params, min_points: 10 }, xs);
    expect(findings).toEqual([]);
    expect(state.t[0]).toBe(T0 + 1000 * 1000);
    expect(state.mean).toBeCloseTo(1.5, 9);
  });

  it('honours direction and warms up before judging', () => {
    const xs = [...filling(0, 100, 0, 1, () => 0), ...filling(100, 60, 100, 5, () => 0)];
    const up = run({ ...params, min_points: 20, direction: 'down' }, xs);
    expect(up.findings).toEqual([]);
    const both = run({ ...params, min_points: 20 }, xs);
    expect(both.findings.filter((f) => f.severity === 'warning')).toHaveLength(1);
    expect(run({ ...params, min_points: 1000 }, xs).scores.every((s) => s === null)).toBe(true);
  });

  it('rejects inconsistent params with the parameter named', () => {
    expect(() => resolveParams(rateBaseline, { min_window_points: 50, max_window_points: 10 })).toThrow(ParamError);
    expect(() => resolveParams(rateBaseline, { threshold_z: 2, release_z: 3 })).toThrow(
      /\/release_z must be at most threshold_z/,
    );
  });
});
