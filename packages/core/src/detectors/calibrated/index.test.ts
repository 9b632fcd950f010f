import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ParamError, resolveParams } from '../params.ts';
import type { Observation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance, scalarObservations } from '../../testing/conformance.ts';
import { detectorRegistry } from '../registry.ts';
import { rollingZScore } from '../rolling_zscore/index.ts';
import { CalibratedState, createCalibrated, type CalibratedParams } from './index.ts';

const calibrated = createCalibrated((type) => detectorRegistry[type]);

describeConformance(calibrated, {
  stateSchema: CalibratedState,
  params: {
    detector: { type: 'rolling_zscore', params: { window_points: 8, min_points: 3 } },
    min_points: 5,
    bins: 10,
  },
  name: 'conformance: calibrated (rolling_zscore)',
});
describeConformance(calibrated, {
  stateSchema: CalibratedState,
  numRuns: 50,
  params: {
    detector: { type: 'threshold_duration', params: { high: 5, duration_secs: 3 } },
    min_points: 3,
    alert_likelihood: 0.5,
  },
  name: 'conformance: calibrated (threshold_duration, with ticks)',
});
describeConformance(calibrated, {
  stateSchema: CalibratedState,
  numRuns: 40,
  name: 'conformance: calibrated (random params and wrapped types)',
  params: { detector: { type: 'ema_baseline' } },
  randomParams: fc.record({
    detector: fc.constantFrom(
      { type: 'ema_baseline', params: { min_points: 2 } },
      { type: 'seasonal_baseline', params: { profile: 'hour_of_day', min_points: 2, min_visits: 1 } },
      { type: 'count_rate' },
      { type: 'page_hinkley' },
    ),
    horizon_points: fc.constantFrom(10, 100, 5000),
    bins: fc.integer({ min: 2, max: 60 }),
    min_points: fc.integer({ min: 1, max: 20 }),
    alert_likelihood: fc.constantFrom(0, 0.3, 0.9),
  }),
});

const t0 = 1_700_000_000_000;

/** Deterministic noise in [-0.5, 0.5) (LCG), so tests do not depend on Math.random. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff - 0.5;
  };
}

function runAll(p: CalibratedParams, xs: readonly Observation[]) {
  const s = calibrated.init(p);
  const out = collectFindings();
  const scores = xs.map((x) => calibrated.step(p, s, x, out, DEFAULT_LABELS));
  return { scores, findings: out.findings, state: s };
}

describe('calibrated: params', () => {
  it('rejects an unknown wrapped type at resolveParams, naming /detector/type', () => {
    expect(() => resolveParams(calibrated, { detector: { type: 'nope' } })).toThrow(
      'calibrated: /detector/type "nope" is not a registered detector type',
    );
  });

  it('rejects a vector detector (only scalar detectors can be wrapped)', () => {
    expect(() => resolveParams(calibrated, { detector: { type: 'half_space_trees' } })).toThrow(
      /\/detector\/type "half_space_trees" takes vector input/,
    );
  });

  it("reports the wrapped detector's param problems (schema and cross-field) under /detector/params", () => {
    let err: unknown;
    try {
      resolveParams(calibrated, { detector: { type: 'threshold_duration', params: { high: 1, low: 2 } } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParamError);
    expect((err as ParamError).problems).toEqual([
      { path: '/detector/params/low', message: 'must be below high (1), got 2' },
    ]);
    expect(() =>
      resolveParams(calibrated, { detector: { type: 'rolling_zscore', params: { window_points: 'x' } } }),
    ).toThrow(/\/detector\/params\/window_points/);
  });
});

describe('calibrated: behaviour', () => {
  it('is null while the calibration warms up, then gives likelihoods in [0,1]', () => {
    const p = resolveParams(calibrated, {
      detector: { type: 'ema_baseline', params: { min_points: 2 } },
      min_points: 10,
    });
    const noise = lcg(1);
    const xs = Array.from({ length: 40 }, (_, i) => ({ time: t0 + i * 1000, value: 10 + noise(), fields: {} }));
    const { scores } = runAll(p, xs);
    // ema_baseline scores from point 3; 10 of its scores calibrate before the first likelihood.
    expect(scores.slice(0, 12).every((s) => s === null)).toBe(true);
    expect(scores.slice(12).every((s) => s !== null && s >= 0 && s <= 1)).toBe(true);
  });

  it('makes scores comparable: the same raw deviation is rare on a quiet stream and common on a noisy one', () => {
    // Two detectors with very different raw scales on the same stream: a tight z threshold (raw scores
    // near 1 all the time) and a loose one. After calibration, a spike ranks top for both.
    const noise = lcg(7);
    const xs = Array.from({ length: 3000 }, (_, i) => ({
      time: t0 + i * 1000,
      value: 30 + 2 * noise() + (i === 2999 ? 25 : 0),
      fields: {},
    }));
    const tight = resolveParams(calibrated, {
      detector: { type: 'rolling_zscore', params: { window_points: 60, threshold_z: 0.2 } },
    });
    const loose = resolveParams(calibrated, {
      detector: { type: 'rolling_zscore', params: { window_points: 60, threshold_z: 8 } },
    });
    const a = runAll(tight, xs).scores;
    const b = runAll(loose, xs).scores;
    const rawTight = resolveParams(rollingZScore, { window_points: 60, threshold_z: 0.2 });
    const s = rollingZScore.init(rawTight);
    const raws = xs.map((x) => rollingZScore.step(rawTight, s, x, collectFindings(), DEFAULT_LABELS) ?? 0);
    const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
    // Raw: the tight detector calls ordinary noise anomalous (median raw score well above 0.5).
    expect(median(raws.slice(100, 2999))).toBeGreaterThan(0.7);
    // Calibrated: ordinary points are unremarkable for both, and the spike is near 1 for both.
    expect(median(a.slice(200, 2999).map((x) => x ?? 0))).toBeLessThan(0.3);
    expect(median(b.slice(200, 2999).map((x) => x ?? 0))).toBeLessThan(0.3);
    expect(a.at(-1)).toBeGreaterThan(0.75);
    expect(b.at(-1)).toBeGreaterThan(0.75);
  });

  it("passes the wrapped detector's findings on with the likelihood; alert_likelihood filters them", () => {
    const base = {
      detector: { type: 'threshold_duration', params: { high: 10, duration_secs: 0 } },
      min_points: 5,
      horizon_points: 10,
    };
    const xs = [1, 2, 1, 2, 1, 2, 1, 2, 50, 1].map((v, i) => ({ time: t0 + i * 1000, value: v, fields: {} }));
    const all = runAll(resolveParams(calibrated, base), xs);
    expect(all.findings.map((f) => f.severity)).toEqual(['warning', 'info']);
    expect(all.findings[0]!.reason).toMatch(/^flow_m3h 50 m3\/h > 10 for 0 s \(likelihood [\d.]+\)$/);
    expect(all.findings[0]!.detail?.likelihood).toBeGreaterThan(0.5);
    const strict = runAll(resolveParams(calibrated, { ...base, alert_likelihood: 1 }), xs);
    // After 8 points the warning's likelihood is -ln(1/9)/ln(10) < 1; the info finding still passes.
    expect(strict.findings.map((f) => f.severity)).toEqual(['info']);
  });
});

/**
 * Reference: the likelihood recomputed directly from the whole history of raw scores of the wrapped
 * detector: p = (Σ weights of earlier scores in a bin ≥ this one's + 1) / (Σ all weights + 1),
 * weight keep^(age in points), likelihood = -ln p / ln horizon, clipped to [0,1].
 */
function reference(p: CalibratedParams, raws: Array<number | null>): Array<number | null> {
  const keep = 1 - 1 / p.horizon_points;
  const bin = (x: number) => Math.min(p.bins - 1, Math.max(0, Math.floor(x * p.bins)));
  const seen: number[] = [];
  return raws.map((raw) => {
    if (raw === null) return null;
    let tot = 0;
    let atLeast = 0;
    seen.forEach((y, j) => {
      const w = Math.pow(keep, seen.length - 1 - j);
      tot += w;
      if (bin(y) >= bin(raw)) atLeast += w;
    });
    seen.push(raw);
    if (seen.length <= p.min_points) return null;
    if (!(raw > 0)) return 0;
    const r = -Math.log((atLeast + 1) / (tot + 1)) / Math.log(p.horizon_points);
    return Math.min(1, Math.max(0, r));
  });
}

describe('calibrated: reference', () => {
  it('agrees with a direct recomputation of the tail probability on random data', () => {
    const arb = fc.record({
      horizon_points: fc.constantFrom(10, 50, 1000),
      bins: fc.integer({ min: 2, max: 40 }),
      min_points: fc.integer({ min: 1, max: 10 }),
      window_points: fc.integer({ min: 3, max: 10 }),
    });
    fc.assert(
      fc.property(
        arb,
        scalarObservations({ maxLength: 120, values: fc.double({ min: -50, max: 50, noNaN: true }) }),
        ({ window_points, ...r }, xs) => {
          const inner = { window_points, min_points: 2 };
          const p = resolveParams(calibrated, { ...r, detector: { type: 'rolling_zscore', params: inner } });
          const rawP = resolveParams(rollingZScore, inner);
          const rs = rollingZScore.init(rawP);
          const raws = xs.map((x) => rollingZScore.step(rawP, rs, x, collectFindings(), DEFAULT_LABELS));
          const want = reference(p, raws);
          runAll(p, xs).scores.forEach((g, i) => {
            const w = want[i];
            if (w === null || w === undefined) expect(g, `point ${i}`).toBeNull();
            else expect(g, `point ${i}`).toBeCloseTo(w, 9);
          });
        },
      ),
      { numRuns: 100 },
    );
  });
});
