/**
 * threshold_duration: a value above `high` and/or below `low` for at least `duration_secs`.
 *
 * One finding when the excursion has lasted the duration (not one per point), and one `info`
 * finding when it clears. Hysteresis (value units) stops flapping: once beyond a limit, the value
 * must come back inside by `hysteresis` to clear. Between points the last value is assumed to hold,
 * so `tick` can raise the finding when the duration passes with no new reading.
 *
 * Score: 0 inside the limits; below 0.5 while the excursion is younger than the duration (growing
 * with its age and size); from 0.5 up once it has lasted the duration, growing with how far beyond
 * the limit the value is and how much longer it has lasted.
 *
 * @example
 * const p = resolveParams(thresholdDuration, { high: 40, duration_secs: 30, hysteresis: 1 });
 * // finding after 35 s above: "flow_m3h 41.2 m3/h > 40 for 35 s"
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  fmt,
  type DetectorDef,
  type FindingSink,
  type Observation,
  type ParamProblem,
  type StepLabels,
} from '../contract.ts';
import { ParamError } from '../params.ts';

export const ThresholdDurationParams = Type.Object(
  {
    high: Type.Optional(Type.Number({ description: 'Upper limit in value units; omit for no upper limit.' })),
    low: Type.Optional(Type.Number({ description: 'Lower limit in value units; omit for no lower limit.' })),
    duration_secs: Type.Number({
      minimum: 0,
      default: 30,
      description: 'How long (event time, seconds) the value must stay beyond a limit before a finding.',
    }),
    hysteresis: Type.Number({
      minimum: 0,
      default: 0,
      description: 'Value units: an excursion clears only once the value is back inside the limit by this margin.',
    }),
    excess_half: Type.Number({
      minimum: 0,
      default: 0,
      description:
        'Value units beyond the limit at which the "how far" part of the score is half; 0 = max(hysteresis, 10% of |limit|).',
    }),
    severity: Type.Union([Type.Literal('warning'), Type.Literal('critical')], {
      default: 'warning',
      description: 'Severity of the finding raised when the duration is reached.',
    }),
  },
  { additionalProperties: false },
);
export type ThresholdDurationParams = Static<typeof ThresholdDurationParams>;

// Listed in a different order from the keys of init's object ON PURPOSE (see the note on
// SlidingWindowSchema in ../rolling_zscore/window.ts): in state order this schema's `properties`
// object would share V8 hidden classes with the state and could make since, peak and last tagged
// fields that allocate a HeapNumber on every store. See ../rolling_zscore/stateShapes.test.ts.
export const ThresholdDurationState = Type.Object(
  {
    last: Type.Number({ description: 'Last value seen (tick needs it).' }),
    side: Type.Union([Type.Literal(-1), Type.Literal(0), Type.Literal(1)], {
      description: '1 above high, -1 below low, 0 inside.',
    }),
    since: Type.Number({ description: 'When the current excursion started (event time, ms); 0 when inside.' }),
    alerted: Type.Boolean({ description: 'Whether the current excursion has already raised its finding.' }),
    peak: Type.Number({ description: 'Largest excess beyond the limit in this excursion.' }),
    seen: Type.Boolean({ description: 'Whether any value was seen.' }),
  },
  { additionalProperties: false },
);
export type ThresholdDurationState = Static<typeof ThresholdDurationState>;

/** Cross-field checks (the `validate` hook): at least one limit, and low below high. */
function limitProblems(p: ThresholdDurationParams): ParamProblem[] {
  if (p.high === undefined && p.low === undefined) return [{ path: '/high', message: 'set high, low or both' }];
  if (p.high !== undefined && p.low !== undefined && !(p.low < p.high))
    return [{ path: '/low', message: `must be below high (${p.high}), got ${p.low}` }];
  return [];
}

const limitOf = (p: ThresholdDurationParams, side: number): number => (side > 0 ? (p.high ?? 0) : (p.low ?? 0));
const excessOf = (p: ThresholdDurationParams, side: number, x: number): number =>
  side > 0 ? x - limitOf(p, side) : limitOf(p, side) - x;
const unitText = (l: StepLabels): string => (l.unit ? ` ${l.unit}` : '');

/**
 * Raises the finding once the excursion has lasted the duration, and returns the score at `now`.
 * The common path (no finding due) is kept small enough for V8 to inline into step: a call it
 * does not inline boxes its double argument and result in fresh HeapNumbers, which cost about a
 * quarter of an update. The finding itself is built out of line, in raise().
 */
function evaluate(
  p: ThresholdDurationParams,
  s: ThresholdDurationState,
  now: number,
  out: FindingSink,
  labels: StepLabels,
): number {
  if (s.side === 0) return 0;
  const held = Math.max(0, now - s.since);
  const dur = p.duration_secs * 1000;
  if (!s.alerted && held >= dur) raise(p, s, now, out, labels);
  const limit = s.side > 0 ? (p.high ?? 0) : (p.low ?? 0);
  const half = p.excess_half > 0 ? p.excess_half : Math.max(p.hysteresis, 0.1 * Math.abs(limit), 1e-9);
  // excessOf and squash, written out (same expressions, so the same bits).
  const excess = s.side > 0 ? s.last - limit : limit - s.last;
  const e = excess > 0 ? excess : 0;
  const far = e > 0 ? e / (e + half) : 0;
  // Any active excursion scores above 0 (even at its first point), and below 0.5 until it is due.
  if (!s.alerted) return 0.5 * (0.2 + 0.8 * (dur > 0 ? held / dur : 1)) * (0.5 + 0.5 * far);
  const over = held - dur;
  const overHalf = Math.max(dur, 1000);
  return 0.5 + 0.25 * far + 0.25 * (over > 0 ? over / (over + overHalf) : 0);
}

/** The finding for an excursion that has lasted the duration (once per excursion). */
function raise(
  p: ThresholdDurationParams,
  s: ThresholdDurationState,
  now: number,
  out: FindingSink,
  labels: StepLabels,
): void {
  const limit = limitOf(p, s.side);
  const held = Math.max(0, now - s.since);
  s.alerted = true;
  const op = s.side > 0 ? '>' : '<';
  out.finding({
    severity: p.severity,
    reason: `${labels.metric} ${fmt(s.last)}${unitText(labels)} ${op} ${fmt(limit)} for ${fmt(held / 1000)} s`,
    detail: { value: s.last, limit, held_secs: held / 1000, peak_excess: s.peak },
  });
}

function clear(
  p: ThresholdDurationParams,
  s: ThresholdDurationState,
  x: Observation,
  out: FindingSink,
  labels: StepLabels,
): void {
  if (s.alerted) {
    const limit = limitOf(p, s.side);
    const held = Math.max(0, x.time - s.since);
    out.finding({
      severity: 'info',
      reason: `${labels.metric} ${fmt(x.value)}${unitText(labels)} back ${s.side > 0 ? 'below' : 'above'} ${fmt(limit)} after ${fmt(held / 1000)} s`,
      detail: { value: x.value, limit, held_secs: held / 1000, peak_excess: s.peak },
    });
  }
  s.side = 0;
  s.since = 0;
  s.alerted = false;
  s.peak = 0;
}

export const thresholdDuration: DetectorDef<typeof ThresholdDurationParams, ThresholdDurationState, Observation> = {
  type: 'threshold_duration',
  summary: 'A value beyond a high and/or low limit for at least a duration, with hysteresis.',
  params: ThresholdDurationParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: flow_high
  type: threshold_duration
  select: { metric: flow_m3h }
  params: { high: 40, duration_secs: 30, hysteresis: 1 }
`,
  validate: limitProblems,
  init(p) {
    // Also checked here for callers that skip resolveParams.
    const problems = limitProblems(p);
    if (problems.length > 0) throw new ParamError('threshold_duration', problems);
    return { side: 0, since: 0, alerted: false, peak: 0, last: 0, seen: false };
  },
  step(p, s, x, out, labels) {
    const v = x.value;
    s.last = v;
    s.seen = true;
    if (s.side > 0) {
      if (p.low !== undefined && v < p.low) clear(p, s, x, out, labels);
      else if (v <= (p.high ?? 0) - p.hysteresis) clear(p, s, x, out, labels);
    } else if (s.side < 0) {
      if (p.high !== undefined && v > p.high) clear(p, s, x, out, labels);
      else if (v >= (p.low ?? 0) + p.hysteresis) clear(p, s, x, out, labels);
    }
    if (s.side === 0) {
      if (p.high !== undefined && v > p.high) s.side = 1;
      else if (p.low !== undefined && v < p.low) s.side = -1;
      if (s.side !== 0) s.since = x.time;
    }
    if (s.side !== 0) s.peak = Math.max(s.peak, excessOf(p, s.side, v));
    return evaluate(p, s, x.time, out, labels);
  },
  tick(p, s, now, out, labels) {
    if (!s.seen) return null;
    return evaluate(p, s, now, out, labels);
  },
};
