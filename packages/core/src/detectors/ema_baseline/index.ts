/**
 * ema_baseline: deviation from an exponentially weighted moving average, scaled by a robust
 * spread (an EMA of absolute deviations, bias-corrected and converted to a σ estimate).
 * Smoothing is per point (`half_life_points`) or per event time (`half_life_secs`), which suits
 * irregular sampling. Deviations beyond `clip_z` are clipped before the baseline learns, so one
 * spike barely moves it while a lasting level shift is still adopted.
 *
 * Score: squash(|z|, threshold_z), 0.5 at the threshold. O(1) time and memory per key.
 *
 * @example
 * const p = resolveParams(emaBaseline, { half_life_secs: 600, threshold_z: 4 });
 * // finding: "flow_m3h 41.2 is 5.3σ above its EMA baseline 30"
 */
import { Type, type Static } from '@sinclair/typebox';
import type { DetectorDef, Observation } from '../contract.ts';
import { judgeDeviation, MEAN_ABS_DEV_TO_SIGMA } from './deviation.ts';

export const Direction = Type.Union([Type.Literal('both'), Type.Literal('up'), Type.Literal('down')], {
  default: 'both',
  description: 'Which deviations count: both, up (above the baseline) or down (below it).',
});

export const EmaBaselineParams = Type.Object(
  {
    half_life_points: Type.Number({
      exclusiveMinimum: 0,
      default: 30,
      description: 'Half-life of the baseline in points (used when half_life_secs is 0).',
    }),
    half_life_secs: Type.Number({
      minimum: 0,
      default: 0,
      description: 'Half-life of the baseline in seconds of event time; 0 means per point (half_life_points).',
    }),
    min_points: Type.Integer({
      minimum: 1,
      default: 10,
      description: 'Warm-up: points learned before a score is given.',
    }),
    threshold_z: Type.Number({
      exclusiveMinimum: 0,
      default: 4,
      description: 'A finding is raised at this many (robust) standard deviations; score is 0.5 there.',
    }),
    clip_z: Type.Number({
      minimum: 0,
      default: 5,
      description:
        'Deviations beyond this many σ are clipped before the baseline learns from them; 0 disables clipping.',
    }),
    min_spread: Type.Number({
      minimum: 0,
      default: 0,
      description: 'Floor for the spread (σ estimate), in value units.',
    }),
    direction: Direction,
  },
  { additionalProperties: false },
);
export type EmaBaselineParams = Static<typeof EmaBaselineParams>;

// The properties are listed in a different order from the keys of init's object ON PURPOSE: V8
// shares hidden classes (and field representations) between plain objects with the same keys in
// the same order, and in state order this schema's `properties` object (schema objects as values)
// made the state's number fields tagged, so each store allocated a HeapNumber (~80 bytes of
// garbage per update). See ../rolling_zscore/stateShapes.test.ts.
export const EmaBaselineState = Type.Object(
  {
    last: Type.Number({ description: 'Event time of the last point learned.' }),
    n: Type.Integer({ minimum: 0, description: 'Points learned (capped).' }),
    mean: Type.Number(),
    dev: Type.Number({ minimum: 0, description: 'EMA of absolute deviations.' }),
    devWeight: Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'EMA of 1s that corrects the start-up bias of dev.',
    }),
  },
  { additionalProperties: false },
);
export type EmaBaselineState = Static<typeof EmaBaselineState>;

const N_CAP = 1e9;

// One-entry cache of the per-point smoothing factor: expm1 is ~10 ns, a third of the update
// budget, and a config's half-life never changes. Same expression, so the same bits.
let cachedHalfLife = Number.NaN;
let cachedAlpha = 0;
function pointAlpha(halfLifePoints: number): number {
  if (halfLifePoints !== cachedHalfLife) {
    cachedAlpha = -Math.expm1(-Math.LN2 / halfLifePoints);
    cachedHalfLife = halfLifePoints;
  }
  return cachedAlpha;
}

export const emaBaseline: DetectorDef<typeof EmaBaselineParams, EmaBaselineState, Observation> = {
  type: 'ema_baseline',
  summary: 'Deviation from an exponentially weighted moving average, scaled by a robust spread.',
  params: EmaBaselineParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: pressure_ema
  type: ema_baseline
  select: { metric: pressure_bar }
  params: { half_life_secs: 600, threshold_z: 4 }
`,
  init: () => ({ n: 0, mean: 0, dev: 0, devWeight: 0, last: 0 }),
  step(p, s, x, out, labels) {
    if (s.n === 0) {
      s.mean = x.value;
      s.n = 1;
      s.last = x.time;
      return null;
    }
    const spread = Math.max(s.devWeight > 0 ? (MEAN_ABS_DEV_TO_SIGMA * s.dev) / s.devWeight : 0, p.min_spread);
    const warm = s.n >= p.min_points;
    const score = warm ? judgeDeviation(p, x.value, s.mean, spread, 'EMA baseline', 0, out, labels) : null;
    const alpha =
      p.half_life_secs > 0
        ? -Math.expm1((-Math.LN2 * Math.max(0, x.time - s.last)) / (p.half_life_secs * 1000))
        : pointAlpha(p.half_life_points);
    let d = x.value - s.mean;
    if (warm && p.clip_z > 0 && spread > 0) {
      const lim = p.clip_z * spread;
      d = d > lim ? lim : d < -lim ? -lim : d;
    }
    s.dev += alpha * (Math.abs(d) - s.dev);
    s.devWeight += alpha * (1 - s.devWeight);
    s.mean += alpha * d;
    s.n = Math.min(s.n + 1, N_CAP);
    s.last = Math.max(s.last, x.time);
    return score;
  },
};
