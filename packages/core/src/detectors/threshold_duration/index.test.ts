import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resolveParams, ParamError } from '../params.ts';
import { NO_FINDINGS, squash, type Observation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance, scalarObservations } from '../../testing/conformance.ts';
import { thresholdDuration, type ThresholdDurationParams, ThresholdDurationState } from './index.ts';

describeConformance(thresholdDuration, {
  stateSchema: ThresholdDurationState,
  params: { high: 5, duration_secs: 3, hysteresis: 1 },
  name: 'conformance: threshold_duration (high)',
});
describeConformance(thresholdDuration, {
  stateSchema: ThresholdDurationState,
  numRuns: 50,
  params: { high: 100, low: -2, duration_secs: 0 },
  name: 'conformance: threshold_duration (high+low, no duration)',
});
describeConformance(thresholdDuration, {
  stateSchema: ThresholdDurationState,
  numRuns: 50,
  params: { low: 0, duration_secs: 60, hysteresis: 2, severity: 'critical' },
  name: 'conformance: threshold_duration (low)',
});

describeConformance(thresholdDuration, {
  stateSchema: ThresholdDurationState,
  numRuns: 50,
  name: 'conformance: threshold_duration (random params)',
  params: { high: 5 },
  randomParams: fc
    .record({
      base: fc.integer({ min: -5, max: 5 }),
      width: fc.integer({ min: 1, max: 10 }),
      which: fc.constantFrom('high', 'low', 'both'),
      duration_secs: fc.constantFrom(0, 1, 10, 300),
      hysteresis: fc.constantFrom(0, 0.5, 3),
      excess_half: fc.constantFrom(0, 0.1),
      severity: fc.constantFrom('warning', 'critical'),
    })
    .map(({ base, width, which, ...rest }) => ({
      ...rest,
      ...(which === 'low' ? {} : { high: base }),
      ...(which === 'high' ? {} : { low: base - width }),
    })),
});

const t0 = 1_700_000_000_000;
type Obs = Observation;
const series = (vals: number[], stepMs = 5000): Obs[] =>
  vals.map((value, i) => ({ time: t0 + i * stepMs, value, fields: {} }));

function runAll(p: ThresholdDurationParams, xs: Obs[]) {
  const s = thresholdDuration.init(p);
  const out = collectFindings();
  const perPoint = xs.map((x) => {
    out.clear();
    const score = thresholdDuration.step(p, s, x, out, DEFAULT_LABELS);
    return { score, findings: out.findings.slice() };
  });
  return { perPoint, state: s };
}

describe('threshold_duration behaviour', () => {
  it('raises one finding once the duration is reached and an info one when it clears', () => {
    const p = resolveParams(thresholdDuration, { high: 40, duration_secs: 30, hysteresis: 1 });
    // 5 s steps: above from t=10 s to t=50 s, then 39.5 (inside hysteresis band), then 38.9 (clears).
    const { perPoint } = runAll(p, series([30, 35, 41, 41.2, 42, 41, 41.5, 41.2, 41.2, 41, 39.5, 38.9, 30]));
    const all = perPoint.flatMap((e, i) => e.findings.map((f) => ({ i, ...f })));
    expect(all).toHaveLength(2);
    expect(all[0]).toMatchObject({ i: 8, severity: 'warning', reason: 'flow_m3h 41.2 m3/h > 40 for 30 s' });
    expect(all[1]).toMatchObject({ i: 11, severity: 'info', reason: 'flow_m3h 38.9 m3/h back below 40 after 45 s' });
    expect(perPoint[10]!.score).toBeGreaterThanOrEqual(0.5); // still active in the hysteresis band
    expect(perPoint[12]!.score).toBe(0);
  });

  it('scores rise with time beyond the limit and with the excess', () => {
    const p = resolveParams(thresholdDuration, { high: 10, duration_secs: 20 });
    const a = runAll(p, series([11, 11, 11, 11, 11, 11, 11])).perPoint.map((e) => e.score!);
    for (let i = 1; i < a.length; i++) expect(a[i]).toBeGreaterThan(a[i - 1]!);
    expect(a[3]).toBeLessThan(0.5);
    expect(a[4]).toBeGreaterThanOrEqual(0.5);
    const b = runAll(p, series([20, 20, 20, 20, 20])).perPoint.map((e) => e.score!);
    expect(b[4]).toBeGreaterThan(a[4]!);
  });

  it('short excursions raise nothing', () => {
    const p = resolveParams(thresholdDuration, { low: 2, duration_secs: 60 });
    const { perPoint } = runAll(p, series([5, 1, 1, 5, 1, 5]));
    expect(perPoint.flatMap((e) => e.findings)).toEqual([]);
  });

  it('tick raises the finding when the duration passes with no new reading', () => {
    const p = resolveParams(thresholdDuration, { high: 40, duration_secs: 30 });
    const s = thresholdDuration.init(p);
    const out = collectFindings();
    expect(thresholdDuration.tick!(p, s, t0, out, DEFAULT_LABELS)).toBeNull();
    thresholdDuration.step(p, s, { time: t0, value: 45, fields: {} }, out, DEFAULT_LABELS);
    expect(thresholdDuration.tick!(p, s, t0 + 29_000, out, DEFAULT_LABELS)).toBeLessThan(0.5);
    expect(thresholdDuration.tick!(p, s, t0 + 31_000, out, DEFAULT_LABELS)).toBeGreaterThanOrEqual(0.5);
    expect(out.findings.map((f) => f.reason)).toEqual(['flow_m3h 45 m3/h > 40 for 31 s']);
  });

  it('a jump from above high to below low clears and starts a low excursion', () => {
    const p = resolveParams(thresholdDuration, { high: 10, low: 0, duration_secs: 0 });
    const { perPoint } = runAll(p, series([11, -1]));
    expect(perPoint[1]!.findings.map((f) => f.severity)).toEqual(['info', 'warning']);
    expect(perPoint[1]!.findings[1]!.reason).toBe('flow_m3h -1 m3/h < 0 for 0 s');
  });

  it('rejects params without a limit or with low ≥ high, naming the parameter', () => {
    expect(() => thresholdDuration.init(resolveParams(thresholdDuration, {}))).toThrow(ParamError);
    expect(() => thresholdDuration.init(resolveParams(thresholdDuration, { high: 1, low: 2 }))).toThrow(
      /\/low must be below high/,
    );
  });

  /** Reference (high limit only): recompute from the whole history at every point, by runs. */
  function reference(p: ThresholdDurationParams, xs: Obs[]) {
    const high = p.high!;
    const res: Array<{ active: boolean; alertedNow: boolean; alerted: boolean; cleared: boolean }> = [];
    const startOf = (i: number): number => {
      let r = i;
      while (r >= 0 && xs[r]!.value > high - p.hysteresis) r--;
      for (let j = r + 1; j <= i; j++) if (xs[j]!.value > high) return j;
      return -1;
    };
    xs.forEach((x, i) => {
      const j = startOf(i);
      const active = j >= 0;
      const reached = (k: number) => xs[k]!.time - xs[j]!.time >= p.duration_secs * 1000;
      const alerted = active && reached(i);
      let alertedBefore = false;
      for (let k = j; active && k < i; k++) alertedBefore ||= reached(k);
      const prev = res[i - 1];
      res.push({
        active,
        alertedNow: alerted && !alertedBefore,
        alerted,
        cleared: !active && prev !== undefined && prev.alerted,
      });
    });
    return res;
  }

  it('agrees with a run-based reference on random data', () => {
    const paramsArb = fc.record({
      high: fc.integer({ min: -2, max: 2 }),
      duration_secs: fc.constantFrom(0, 1, 5, 30),
      hysteresis: fc.constantFrom(0, 0.5, 2),
    });
    fc.assert(
      fc.property(
        paramsArb,
        scalarObservations({ values: fc.double({ min: -5, max: 5, noNaN: true }), maxLength: 120 }),
        (raw, xs) => {
          const p = resolveParams(thresholdDuration, raw);
          const got = runAll(p, xs).perPoint;
          const want = reference(p, xs);
          got.forEach((g, i) => {
            const w = want[i]!;
            const sev = g.findings.map((f) => f.severity);
            expect(sev).toEqual([...(w.cleared ? ['info'] : []), ...(w.alertedNow ? ['warning'] : [])]);
            expect(g.score === 0).toBe(!w.active);
            expect(g.score! >= 0.5).toBe(w.alerted);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('threshold_duration score', () => {
  /** The documented score, from the state after the step, written with squash (the hot path writes it out inline). */
  function documentedScore(p: ThresholdDurationParams, s: ThresholdDurationState, now: number): number {
    if (s.side === 0) return 0;
    const limit = s.side > 0 ? (p.high ?? 0) : (p.low ?? 0);
    const held = Math.max(0, now - s.since);
    const dur = p.duration_secs * 1000;
    const half = p.excess_half > 0 ? p.excess_half : Math.max(p.hysteresis, 0.1 * Math.abs(limit), 1e-9);
    const far = squash(Math.max(0, s.side > 0 ? s.last - limit : limit - s.last), half);
    if (!s.alerted) return 0.5 * (0.2 + 0.8 * (dur > 0 ? held / dur : 1)) * (0.5 + 0.5 * far);
    return 0.5 + 0.25 * far + 0.25 * squash(held - dur, Math.max(dur, 1000));
  }

  it('is the documented formula, bit for bit, from step and from tick', () => {
    const paramsArb = fc.record({
      high: fc.integer({ min: 0, max: 3 }),
      low: fc.integer({ min: -3, max: -1 }),
      duration_secs: fc.constantFrom(0, 1, 5, 30),
      hysteresis: fc.constantFrom(0, 0.5, 2),
      excess_half: fc.constantFrom(0, 0.7),
    });
    fc.assert(
      fc.property(
        paramsArb,
        scalarObservations({ values: fc.double({ min: -6, max: 6, noNaN: true }), maxLength: 80 }),
        (raw, xs) => {
          const p = resolveParams(thresholdDuration, raw);
          const s = thresholdDuration.init(p);
          for (const x of xs) {
            const got = thresholdDuration.step(p, s, x, NO_FINDINGS, DEFAULT_LABELS);
            expect(Object.is(got, documentedScore(p, s, x.time))).toBe(true);
            const later = x.time + 2500;
            const ticked = thresholdDuration.tick!(p, s, later, NO_FINDINGS, DEFAULT_LABELS);
            expect(Object.is(ticked, documentedScore(p, s, later))).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('threshold_duration validate hook', () => {
  it('fails at resolveParams (config load), not only at init, naming the parameter', () => {
    const err = (() => {
      try {
        resolveParams(thresholdDuration, { high: 3, low: 3 });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ParamError);
    expect((err as ParamError).problems).toEqual([{ path: '/low', message: 'must be below high (3), got 3' }]);
    expect(() => resolveParams(thresholdDuration, { duration_secs: 5 })).toThrow(
      'threshold_duration: /high set high, low or both',
    );
  });

  it('accepts high only, low only, and low < high', () => {
    for (const raw of [{ high: 1 }, { low: 1 }, { low: -1, high: 1 }])
      expect(thresholdDuration.validate?.(resolveParams(thresholdDuration, raw))).toEqual([]);
  });
});
