/**
 * sma_baseline: deviation from a simple moving average (a sliding window by points or by
 * seconds, O(1) per update), scaled by a robust spread: an EMA of absolute deviations from the
 * average, bias-corrected and converted to a σ estimate. Unlike rolling_zscore, one outlier does
 * not inflate the spread much, and with `clip_z` the window learns a clipped copy of an outlier.
 *
 * Score: squash(|z|, threshold_z), 0.5 at the threshold.
 *
 * @example
 * const p = resolveParams(smaBaseline, { window_secs: 600, threshold_z: 4 });
 * // finding: "flow_m3h 41.2 is 5.3σ above its 600 s average 30"
 */
import { Type, type Static } from '@sinclair/typebox';
import type { DetectorDef, Observation } from '../contract.ts';
import { MEAN_ABS_DEV_TO_SIGMA, reportDeviation } from '../ema_baseline/deviation.ts';
import { Direction } from '../ema_baseline/index.ts';
import {
  checkWarmUp,
  warmUpProblems,
  windowAppend,
  windowEvictBefore,
  windowInit,
  SlidingWindowSchema,
} from '../rolling_zscore/window.ts';

export const SmaBaselineParams = Type.Object(
  {
    window_points: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 60,
      description: 'Average over this many points (used when window_secs is 0).',
    }),
    window_secs: Type.Number({
      minimum: 0,
      default: 0,
      description: 'Average over this many seconds of event time; 0 means a window of window_points points.',
    }),
    max_points: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 10_000,
      description: 'Memory cap for time windows: the oldest points are dropped beyond this many.',
    }),
    min_points: Type.Integer({
      minimum: 1,
      default: 10,
      description: 'Warm-up: points in the window before a score is given.',
    }),
    spread_half_life_points: Type.Number({
      exclusiveMinimum: 0,
      default: 30,
      description: 'Half-life, in points, of the EMA of absolute deviations used as the spread.',
    }),
    threshold_z: Type.Number({
      exclusiveMinimum: 0,
      default: 4,
      description: 'A finding is raised at this many (robust) standard deviations; score is 0.5 there.',
    }),
    clip_z: Type.Number({
      minimum: 0,
      default: 5,
      description: 'Values beyond this many σ enter the window and the spread clipped to it; 0 disables clipping.',
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
export type SmaBaselineParams = Static<typeof SmaBaselineParams>;

// Listed in a different order from the keys of init's object ON PURPOSE (see the note on
// SlidingWindowSchema): in state order this schema's `properties` object would share V8 hidden
// classes with the state and make dev and devWeight tagged fields that allocate on every store.
export const SmaBaselineState = Type.Object(
  {
    dev: Type.Number({ minimum: 0, description: 'EMA of absolute deviations from the average.' }),
    devWeight: Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'EMA of 1s that corrects the start-up bias of dev.',
    }),
    w: SlidingWindowSchema,
  },
  { additionalProperties: false },
);
export type SmaBaselineState = Static<typeof SmaBaselineState>;

/** Below this (relative to the average's magnitude) a spread is treated as zero, as in zOf. */
const ZERO_SPREAD = 1e-9;

/**
 * The point the window learns (the value, clipped): one object reused for every update, so the
 * value reaches windowAppend without being boxed. A class, not a literal, so its hidden class is
 * its own (no other object's fields can turn its numbers into tagged fields, whose every store
 * would allocate); the fields start as non-integers so V8 represents them as doubles.
 */
class LearnedPoint {
  time = 0.5;
  value = 0.5;
}
const learned = new LearnedPoint();

// One-entry cache of the spread's smoothing factor: expm1 per update is a large share of the
// update budget and a config's half-life never changes. Same expression, so the same bits.
let cachedHalfLife = Number.NaN;
let cachedAlpha = 0;
function spreadAlpha(halfLifePoints: number): number {
  if (halfLifePoints !== cachedHalfLife) {
    cachedAlpha = -Math.expm1(-Math.LN2 / halfLifePoints);
    cachedHalfLife = halfLifePoints;
  }
  return cachedAlpha;
}

export const smaBaseline: DetectorDef<typeof SmaBaselineParams, SmaBaselineState, Observation> = {
  type: 'sma_baseline',
  summary: 'Deviation from a simple moving average, scaled by a robust spread (EMA of absolute deviations).',
  params: SmaBaselineParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: level_sma
  type: sma_baseline
  select: { metric: level_mm }
  params: { window_secs: 600, threshold_z: 4 }
`,
  validate: warmUpProblems,
  init(p) {
    const timed = p.window_secs > 0;
    checkWarmUp('sma_baseline', p);
    return { w: windowInit(timed ? p.max_points : p.window_points, timed), dev: 0, devWeight: 0 };
  },
  step(p, s, x, out, labels) {
    // The hot path makes no call that takes or returns a double unless V8 inlines it (a called
    // function boxes them in fresh HeapNumbers): z is computed here as judgeDeviation does, the
    // finding is built out of line, and the (maybe clipped) value reaches the window through a
    // reused object rather than as an argument.
    const w = s.w;
    const timed = p.window_secs > 0;
    if (timed) windowEvictBefore(w, x, p);
    let score: number | null = null;
    let v = x.value;
    if (w.len > 0) {
      const center = w.mean;
      const spread = Math.max(s.devWeight > 0 ? (MEAN_ABS_DEV_TO_SIGMA * s.dev) / s.devWeight : 0, p.min_spread);
      if (w.len >= p.min_points) {
        // zOf(v, center, spread), written out.
        const dev = v - center;
        const tol = ZERO_SPREAD * Math.max(1, Math.abs(center));
        const z = spread > tol ? dev / spread : Math.abs(dev) <= tol ? 0 : dev > 0 ? Infinity : -Infinity;
        const counted = p.direction === 'both' || (p.direction === 'up' ? z > 0 : z < 0);
        const az = counted ? Math.abs(z) : 0;
        if (az >= p.threshold_z)
          reportDeviation(
            p,
            v,
            center,
            spread,
            timed ? 'average' : 'moving average',
            p.window_secs,
            out,
            labels,
            z,
            az,
          );
        // squash(az, threshold_z), written out.
        score = az === Infinity ? 1 : az > 0 ? az / (az + p.threshold_z) : 0;
        if (p.clip_z > 0 && spread > 0) {
          const lim = p.clip_z * spread;
          v = v > center + lim ? center + lim : v < center - lim ? center - lim : v;
        }
      }
      const alpha = spreadAlpha(p.spread_half_life_points);
      s.dev += alpha * (Math.abs(v - center) - s.dev);
      s.devWeight += alpha * (1 - s.devWeight);
    }
    learned.time = x.time;
    learned.value = v;
    windowAppend(w, learned, timed ? p.max_points : p.window_points);
    return score;
  },
};
