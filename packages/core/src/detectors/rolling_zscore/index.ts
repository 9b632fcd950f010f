/**
 * rolling_zscore: how many standard deviations a value lies from the mean of a sliding window
 * of the values before it. The window is the last `window_points` values, or (when
 * `window_secs` > 0) the values of the last `window_secs` seconds, capped at `max_points`.
 * O(1) per update (see ./window.ts). The current value is judged against the window before it
 * joins, so a spike does not dilute its own baseline.
 *
 * Score: squash(|z|, threshold_z), so 0.5 exactly at the threshold. A window with zero spread
 * scores 0 for a value equal to its mean and 1 for any other (there is no finite z).
 *
 * @example
 * const p = resolveParams(rollingZScore, { window_secs: 300, threshold_z: 4 });
 * const s = rollingZScore.init(p);
 * rollingZScore.step(p, s, { time, value: 41.2, fields: {} }, out, labels);
 * // finding: "flow_m3h 41.2 is 5.1σ above its 300 s mean 30"
 */
import { Type, type Static } from '@sinclair/typebox';
import { fmt, type DetectorDef, type FindingSink, type Observation, type StepLabels } from '../contract.ts';
import {
  checkWarmUp,
  warmUpProblems,
  windowAppend,
  windowEvictBefore,
  windowInit,
  SlidingWindowSchema,
  type SlidingWindow,
} from './window.ts';

export const RollingZScoreParams = Type.Object(
  {
    window_points: Type.Integer({
      minimum: 2,
      maximum: 1_000_000,
      default: 60,
      description: 'Window length in points (used when window_secs is 0).',
    }),
    window_secs: Type.Number({
      minimum: 0,
      default: 0,
      description: 'Window length in seconds of event time; 0 means a window of window_points points.',
    }),
    max_points: Type.Integer({
      minimum: 2,
      maximum: 1_000_000,
      default: 10_000,
      description: 'Memory cap for time windows: the oldest points are dropped beyond this many.',
    }),
    min_points: Type.Integer({
      minimum: 2,
      default: 10,
      description: 'Warm-up: points the window must hold before a score is given (null until then).',
    }),
    threshold_z: Type.Number({
      exclusiveMinimum: 0,
      default: 4,
      description: 'A finding is raised when |z| reaches this many standard deviations; score is 0.5 there.',
    }),
    direction: Type.Union([Type.Literal('both'), Type.Literal('up'), Type.Literal('down')], {
      default: 'both',
      description: 'Which deviations count: both, up (above the mean) or down (below it).',
    }),
    min_std: Type.Number({
      minimum: 0,
      default: 0,
      description: 'Floor for the standard deviation, in value units (ignores quantisation noise).',
    }),
  },
  { additionalProperties: false },
);
export type RollingZScoreParams = Static<typeof RollingZScoreParams>;

export const RollingZScoreState = Type.Object({ w: SlidingWindowSchema }, { additionalProperties: false });
export type RollingZScoreState = Static<typeof RollingZScoreState>;

/** Below this (relative to the mean's magnitude) a spread is treated as zero: float residue, not signal. */
const ZERO_SPREAD = 1e-9;

export const rollingZScore: DetectorDef<typeof RollingZScoreParams, RollingZScoreState, Observation> = {
  type: 'rolling_zscore',
  summary: 'Values far from the mean of a sliding window, in standard deviations (z-score).',
  params: RollingZScoreParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: flow_z
  type: rolling_zscore
  select: { metric: flow_m3h }
  params: { window_secs: 300, min_points: 20, threshold_z: 4 }
`,
  validate: warmUpProblems,
  init(p) {
    const timed = p.window_secs > 0;
    checkWarmUp('rolling_zscore', p);
    return { w: windowInit(timed ? p.max_points : p.window_points, timed) };
  },
  step(p, s, x, out, labels) {
    // The hot path makes no call that takes or returns a double unless V8 inlines it (a called
    // function boxes them in fresh HeapNumbers); findings are built out of line, in report().
    const w = s.w;
    const timed = p.window_secs > 0;
    if (timed) windowEvictBefore(w, x, p);
    let score: number | null = null;
    const len = w.len;
    if (len >= p.min_points) {
      const mean = w.mean;
      const std = Math.max(Math.sqrt(len < 2 ? 0 : w.m2 / (len - 1)), p.min_std);
      const dev = x.value - mean;
      const tol = ZERO_SPREAD * Math.max(1, Math.abs(mean));
      // z is +/-Infinity when the window has no spread and the value differs from it.
      const z = std > tol ? dev / std : Math.abs(dev) <= tol ? 0 : dev > 0 ? Infinity : -Infinity;
      const counted = p.direction === 'both' || (p.direction === 'up' ? z > 0 : z < 0);
      const az = counted ? Math.abs(z) : 0;
      // squash(az, threshold_z), written out: a call taking a double must not be left to chance.
      score = az === Infinity ? 1 : az > 0 ? az / (az + p.threshold_z) : 0;
      if (az >= p.threshold_z) report(p, w, x, mean, std, z, az, out, labels);
    }
    windowAppend(w, x, timed ? p.max_points : p.window_points);
    return score;
  },
};

/** The finding for a value at or beyond threshold_z; out of line so the hot path stays small. */
function report(
  p: RollingZScoreParams,
  w: SlidingWindow,
  x: Observation,
  mean: number,
  std: number,
  z: number,
  az: number,
  out: FindingSink,
  labels: StepLabels,
): void {
  const span = p.window_secs > 0 ? `${fmt(p.window_secs)} s` : `${w.len}-point`;
  const side = z > 0 ? 'above' : 'below';
  const reason =
    az === Infinity
      ? `${labels.metric} ${fmt(x.value)} is ${side} its ${span} constant value ${fmt(mean)}`
      : `${labels.metric} ${fmt(x.value)} is ${fmt(az)}σ ${side} its ${span} mean ${fmt(mean)}`;
  const detail: Record<string, number> = { value: x.value, mean, std, points: w.len };
  if (Number.isFinite(z)) detail.z = z;
  out.finding({ severity: az >= 2 * p.threshold_z ? 'critical' : 'warning', reason, detail });
}
