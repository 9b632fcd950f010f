import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resolveParams } from '../params.ts';
import { squash, type Observation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance } from '../../testing/conformance.ts';
import { MEAN_ABS_DEV_TO_SIGMA } from '../ema_baseline/deviation.ts';
import {
  seasonalBaseline,
  SeasonalBaselineState,
  slotName,
  slotOf,
  slotStats,
  type SeasonalBaselineParams,
} from './index.ts';

describeConformance(seasonalBaseline, {
  stateSchema: SeasonalBaselineState,
  params: { profile: 'hour_of_day', min_points: 2, min_visits: 1, threshold_z: 2 },
  name: 'conformance: seasonal_baseline (hour_of_day, quick warm-up)',
});
describeConformance(seasonalBaseline, {
  stateSchema: SeasonalBaselineState,
  numRuns: 40,
  name: 'conformance: seasonal_baseline (random params)',
  randomParams: fc.record({
    profile: fc.constantFrom('hour_of_day', 'day_of_week', 'hour_of_week'),
    utc_offset_mins: fc.integer({ min: -720, max: 840 }),
    half_life_cycles: fc.constantFrom(0.001, 1, 4),
    min_points: fc.integer({ min: 2, max: 4 }),
    min_visits: fc.integer({ min: 1, max: 2 }),
    threshold_z: fc.double({ min: 0.5, max: 6, noNaN: true }),
    clip_z: fc.constantFrom(0, 3, 5),
    min_spread: fc.constantFrom(0, 0.5),
    direction: fc.constantFrom('both', 'up', 'down'),
  }),
});

const HOUR = 3_600_000;
/** 2024-01-02 was a Tuesday; 00:00 UTC. */
const TUE = Date.UTC(2024, 0, 2);

function runAll(p: SeasonalBaselineParams, xs: readonly Observation[]) {
  const s = seasonalBaseline.init(p);
  const out = collectFindings();
  const scores = xs.map((x) => seasonalBaseline.step(p, s, x, out, DEFAULT_LABELS));
  return { scores, findings: out.findings, state: s };
}

describe('seasonal_baseline slots', () => {
  it('maps event time to hour of week in local time, with names', () => {
    const p = resolveParams(seasonalBaseline, {});
    const k = slotOf(p, TUE + 14 * HOUR + 59 * 60_000);
    expect(slotName(p, k)).toBe('Tuesday 14:00');
    expect(slotName(p, slotOf(p, Date.UTC(1970, 0, 1)))).toBe('Thursday 00:00');
    // Before the epoch too (floor modulo).
    expect(slotName(p, slotOf(p, Date.UTC(1969, 11, 31, 23)))).toBe('Wednesday 23:00');
  });

  it('applies utc_offset_mins across a day boundary', () => {
    const p = resolveParams(seasonalBaseline, { utc_offset_mins: 120 });
    expect(slotName(p, slotOf(p, TUE + 23 * HOUR))).toBe('Wednesday 01:00');
    const west = resolveParams(seasonalBaseline, { utc_offset_mins: -300 });
    expect(slotName(west, slotOf(west, TUE + 2 * HOUR))).toBe('Monday 21:00');
  });

  it('hour_of_day and day_of_week profiles have 24 and 7 slots', () => {
    const d = resolveParams(seasonalBaseline, { profile: 'hour_of_day' });
    const w = resolveParams(seasonalBaseline, { profile: 'day_of_week' });
    expect(seasonalBaseline.init(d).slots).toHaveLength(24 * 8);
    expect(seasonalBaseline.init(w).slots).toHaveLength(7 * 8);
    expect(slotName(d, slotOf(d, TUE + 14 * HOUR))).toBe('14:00');
    expect(slotName(w, slotOf(w, TUE + 14 * HOUR))).toBe('Tuesday');
  });
});

describe('seasonal_baseline behaviour', () => {
  /** A daily cycle: 10 at night, 30 from 08:00 to 18:00, sampled every 10 minutes, small noise. */
  const daily = (days: number, noise: () => number): Observation[] => {
    const xs: Observation[] = [];
    for (let t = TUE; t < TUE + days * 24 * HOUR; t += 600_000) {
      const h = Math.floor((t - TUE) / HOUR) % 24;
      xs.push({ time: t, value: (h >= 8 && h < 18 ? 30 : 10) + noise(), fields: {} });
    }
    return xs;
  };
  const wobble = () => {
    let i = 0;
    return () => ((i++ * 7) % 5) * 0.2 - 0.4;
  };

  it('a daytime level is normal by day and anomalous at night, with a reason naming the slot', () => {
    const p = resolveParams(seasonalBaseline, { profile: 'hour_of_day', min_visits: 2, threshold_z: 4 });
    const history = daily(7, wobble());
    const { state } = runAll(p, history);
    const out = collectFindings();
    const day = TUE + 7 * 24 * HOUR + 14 * HOUR;
    const night = TUE + 7 * 24 * HOUR + 3 * HOUR;
    expect(seasonalBaseline.step(p, state, { time: day, value: 30, fields: {} }, out, DEFAULT_LABELS)).toBeLessThan(
      0.3,
    );
    expect(out.findings).toHaveLength(0);
    const score = seasonalBaseline.step(p, state, { time: night, value: 30, fields: {} }, out, DEFAULT_LABELS);
    expect(score).toBeGreaterThan(0.5);
    expect(out.findings).toHaveLength(1);
    expect(out.findings[0]!.reason).toMatch(/^flow_m3h 30 is [\d.]+σ above its usual 10 for 03:00$/);
    expect(out.findings[0]!.severity).toBe('critical');
  });

  it('hour_of_week names the weekday in its reason', () => {
    const p = resolveParams(seasonalBaseline, { min_visits: 2, min_points: 3 });
    const { state } = runAll(p, daily(15, wobble()));
    const out = collectFindings();
    seasonalBaseline.step(
      p,
      state,
      { time: TUE + 14 * 24 * HOUR + 14 * HOUR, value: 60, fields: {} },
      out,
      DEFAULT_LABELS,
    );
    expect(out.findings[0]!.reason).toMatch(/^flow_m3h 60 is [\d.]+σ above its usual 30 for Tuesday 14:00$/);
  });

  it('each slot warms up on its own: null until min_points over min_visits occurrences', () => {
    const p = resolveParams(seasonalBaseline, { profile: 'hour_of_day', min_points: 3, min_visits: 2 });
    const at = (day: number, min: number) => ({
      time: TUE + day * 24 * HOUR + 5 * HOUR + min * 60_000,
      value: 1,
      fields: {},
    });
    // Four points on day 0 (one visit), then one on day 1 (second visit): only the last scores.
    const { scores } = runAll(p, [at(0, 0), at(0, 10), at(0, 20), at(0, 30), at(1, 0)]);
    expect(scores).toEqual([null, null, null, null, 0]);
    // Another slot of the same state is still cold.
    const { state } = runAll(p, [at(0, 0), at(0, 10), at(1, 0), at(1, 10)]);
    expect(seasonalBaseline.step(p, state, at(2, 0), collectFindings(), DEFAULT_LABELS)).toBe(0);
    expect(
      seasonalBaseline.step(
        p,
        state,
        { time: TUE + 9 * HOUR, value: 1, fields: {} },
        collectFindings(),
        DEFAULT_LABELS,
      ),
    ).toBeNull();
  });

  it('forgets with event time: after a level change, the slot adopts the new level', () => {
    const p = resolveParams(seasonalBaseline, { profile: 'hour_of_day', half_life_cycles: 1, min_visits: 1 });
    const pts = (from: number, to: number, v: number) =>
      Array.from({ length: to - from }, (_, d) => ({
        time: TUE + (from + d) * 24 * HOUR + 2 * HOUR,
        value: v + (d % 2) * 0.1,
        fields: {},
      }));
    const { state } = runAll(p, [...pts(0, 20, 10), ...pts(20, 40, 20)]);
    const k = slotOf(p, TUE + 2 * HOUR);
    expect(slotStats(state, k).mean).toBeGreaterThan(19.9);
  });

  it('constant slot: 0 for the same value, 1 for another', () => {
    const p = resolveParams(seasonalBaseline, { profile: 'hour_of_day', min_points: 2, min_visits: 1 });
    const xs = [5, 5, 5, 6].map((v, i) => ({ time: TUE + i * 60_000, value: v, fields: {} }));
    const { scores, findings } = runAll(p, xs);
    expect(scores).toEqual([null, null, 0, 1]);
    expect(findings[0]!.reason).toBe('flow_m3h 6 is above its usual (constant) 5 for 00:00');
  });
});

/**
 * Reference: for each point, the slot's time-decayed weighted mean and weighted mean absolute
 * prediction error recomputed directly from all earlier points of the slot (no clipping).
 */
function reference(p: SeasonalBaselineParams, xs: readonly Observation[]): Array<number | null> {
  const lambda = Math.LN2 / (p.half_life_cycles * (p.profile === 'hour_of_day' ? 1 : 7) * 86_400_000);
  const occurrence = (t: number) =>
    Math.floor((t + p.utc_offset_mins * 60_000) / (p.profile === 'day_of_week' ? 86_400_000 : 3_600_000));
  const hist = new Map<number, Array<{ time: number; value: number; err: number | null; occ: number }>>();
  return xs.map((x) => {
    const k = slotOf(p, x.time);
    const h = hist.get(k) ?? [];
    hist.set(k, h);
    let score: number | null = null;
    let err: number | null = null;
    if (h.length > 0) {
      let sw = 0;
      let sm = 0;
      let dw = 0;
      let dm = 0;
      for (const y of h) {
        const w = Math.exp(-lambda * (x.time - y.time));
        sw += w;
        sm += w * y.value;
        if (y.err !== null) {
          dw += w;
          dm += w * y.err;
        }
      }
      const mean = sm / sw;
      err = Math.abs(x.value - mean);
      const visits = new Set([...h.map((y) => y.occ), occurrence(x.time)]).size;
      if (h.length >= p.min_points && visits >= p.min_visits) {
        const spread = Math.max(dw > 0 ? (MEAN_ABS_DEV_TO_SIGMA * dm) / dw : 0, p.min_spread);
        const tol = 1e-9 * Math.max(1, Math.abs(mean));
        const dev = x.value - mean;
        score = spread > tol ? squash(Math.abs(dev / spread), p.threshold_z) : Math.abs(dev) <= tol ? 0 : 1;
      }
    }
    h.push({ time: x.time, value: x.value, err, occ: occurrence(x.time) });
    return score;
  });
}

describe('seasonal_baseline reference', () => {
  it('agrees with a direct recomputation of each slot on random data', () => {
    const paramsArb = fc.record({
      profile: fc.constantFrom('hour_of_day', 'day_of_week', 'hour_of_week'),
      utc_offset_mins: fc.integer({ min: -720, max: 840 }),
      half_life_cycles: fc.constantFrom(0.05, 0.5, 4),
      min_points: fc.integer({ min: 2, max: 5 }),
      min_visits: fc.integer({ min: 1, max: 3 }),
      threshold_z: fc.double({ min: 0.5, max: 6, noNaN: true }),
      min_spread: fc.constantFrom(0, 0.1),
      clip_z: fc.constant(0),
    });
    // Increasing times with gaps from minutes to a day, so slots get several visits.
    const seriesArb = fc
      .array(
        fc.record({
          gap: fc.oneof(fc.integer({ min: 60_000, max: 3 * HOUR }), fc.integer({ min: 20 * HOUR, max: 30 * HOUR })),
          value: fc.double({ min: -100, max: 100, noNaN: true }),
        }),
        { minLength: 1, maxLength: 150 },
      )
      .map((gs) => {
        let t = TUE;
        return gs.map((g) => ({ time: (t += g.gap), value: g.value, fields: {} }));
      });
    fc.assert(
      fc.property(paramsArb, seriesArb, (raw, xs) => {
        const p = resolveParams(seasonalBaseline, raw);
        const got = runAll(p, xs).scores;
        const want = reference(p, xs);
        got.forEach((g, i) => {
          const w = want[i];
          if (w === null || w === undefined) expect(g, `point ${i}`).toBeNull();
          else expect(g, `point ${i}`).toBeCloseTo(w, 6);
        });
      }),
      { numRuns: 100 },
    );
  });
});
