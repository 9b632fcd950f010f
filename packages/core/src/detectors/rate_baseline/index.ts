/**
 * rate_baseline: a signal whose rate of change departs from its usual rate. The rate is the
 * least-squares slope of the readings in the last `window_secs`; its usual value and spread are
 * learned per key (exponentially weighted). Keyed by operating mode (`mode_signals` naming the
 * valves and pumps that fill and drain a tank), this is a mass-balance check that needs no plant
 * model: with the inlet open and the outlet pump running a tank rises at its usual rate, so a
 * level that stays put (a spoofed or replayed transmitter) or moves the wrong way is flagged,
 * even though each reading alone is plausible.
 *
 * A gap longer than `max_gap_secs` (the key's mode was left and re-entered, or the sensor was
 * silent) empties the window, so a slope never spans two episodes. Slopes that deviate (beyond
 * `threshold_z` in the judged direction) are not learned and others are clipped at `clip_z`, so
 * a lasting fault does not teach the baseline to accept it.
 *
 * Score: squash(|z|, threshold_z), 0.5 at the threshold; null while warming up.
 *
 * @example
 * - id: tank-mass-balance
 *   type: rate_baseline
 *   select: { kind: reading, asset: T-101, metric: level_mm }
 *   mode_signals: [MV-101/state, P-101/state]
 *   params: { window_secs: 30, threshold_z: 5, min_spread: 0.2, duration_secs: 10 }
 * # finding: "level_mm changes at 0.02 mm/s for 12 s; usually 1.5 ± 0.2 mm/s here (z -7.1)"
 */
import { Type, type Static } from '@sinclair/typebox';
import { fmt, squash, type DetectorDef, type ParamProblem } from '../contract.ts';

export const RateBaselineParams = Type.Object(
  {
    window_secs: Type.Number({
      exclusiveMinimum: 0,
      default: 30,
      description: 'The rate is the least-squares slope of the readings of the last this many seconds (event time).',
    }),
    min_window_points: Type.Integer({
      minimum: 3,
      default: 10,
      description: 'Readings the window must hold before its slope is used (learned or judged).',
    }),
    max_window_points: Type.Integer({
      minimum: 3,
      maximum: 3600,
      default: 300,
      description: 'Bound on the readings kept in the window (the oldest are dropped first).',
    }),
    max_gap_secs: Type.Number({
      exclusiveMinimum: 0,
      default: 10,
      description: 'A gap between readings longer than this (s) starts a new window: slopes never span two episodes.',
    }),
    memory_points: Type.Integer({
      minimum: 1,
      default: 600,
      description: 'The usual rate and its spread are averaged over about this many slopes (exponential weights).',
    }),
    min_points: Type.Integer({
      minimum: 1,
      default: 60,
      description: 'Warm-up: slopes learned before the key is judged.',
    }),
    threshold_z: Type.Number({
      exclusiveMinimum: 0,
      default: 5,
      description: 'A deviation counts at this many standard deviations of the learned rate; score is 0.5 there.',
    }),
    clip_z: Type.Number({
      minimum: 0,
      default: 3,
      description:
        'Slopes beyond this many σ are clipped before the baseline learns them (0 disables clipping); deviating ones (threshold_z) are not learned.',
    }),
    release_z: Type.Number({
      minimum: 0,
      default: 3,
      description:
        'A deviation ends when it falls below this many σ (hysteresis: a fault hovering at the threshold stays one deviation, and is not learned).',
    }),
    min_spread: Type.Number({
      minimum: 0,
      default: 0,
      description:
        'Floor for the σ of the rate, in value units per second (episode-to-episode variation one key sees too rarely to learn).',
    }),
    duration_secs: Type.Number({
      minimum: 0,
      default: 10,
      description: 'How long (event time, s) the deviation must last before a finding.',
    }),
    direction: Type.Union([Type.Literal('both'), Type.Literal('up'), Type.Literal('down')], {
      default: 'both',
      description: 'Which deviations count: both, up (faster rise / slower fall) or down.',
    }),
    severity: Type.Union([Type.Literal('warning'), Type.Literal('critical')], {
      default: 'warning',
      description: 'Severity of the finding.',
    }),
  },
  { additionalProperties: false },
);
export type RateBaselineParams = Static<typeof RateBaselineParams>;

export const RateBaselineState = Type.Object(
  {
    /** Window: event times (ms) and values, oldest first. */
    t: Type.Array(Type.Number()),
    v: Type.Array(Type.Number()),
    n: Type.Integer({ minimum: 0, description: 'Slopes learned (capped at memory_points).' }),
    mean: Type.Number({ description: 'Usual rate, value units per second.' }),
    variance: Type.Number({ minimum: 0, description: 'Exponentially weighted variance of the rate.' }),
    since: Type.Number({ description: 'Event time (ms) the current deviation began; -1 when none.' }),
    alerted: Type.Boolean({ description: 'The finding for the current deviation was raised.' }),
  },
  { additionalProperties: false },
);
export type RateBaselineState = Static<typeof RateBaselineState>;

/** Least-squares slope in value units per second, or null when the times do not spread. */
export function windowSlope(t: readonly number[], v: readonly number[]): number | null {
  const n = t.length;
  if (n < 2) return null;
  const t0 = t[0]!;
  let st = 0;
  let sv = 0;
  for (let i = 0; i < n; i++) {
    st += (t[i]! - t0) / 1000;
    sv += v[i]!;
  }
  const mt = st / n;
  const mv = sv / n;
  let stt = 0;
  let stv = 0;
  for (let i = 0; i < n; i++) {
    const dt = (t[i]! - t0) / 1000 - mt;
    stt += dt * dt;
    stv += dt * (v[i]! - mv);
  }
  if (!(stt > 1e-9)) return null;
  const slope = stv / stt;
  return Number.isFinite(slope) ? slope : null;
}

function clear(s: RateBaselineState): void {
  s.t.length = 0;
  s.v.length = 0;
  s.since = -1;
  s.alerted = false;
}

export const rateBaseline: DetectorDef<typeof RateBaselineParams, RateBaselineState> = {
  type: 'rate_baseline',
  summary:
    'A rate of change (windowed slope) away from its learned usual rate; keyed by operating mode, a mass-balance check on tank levels.',
  params: RateBaselineParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: tank-mass-balance
  type: rate_baseline
  select: { kind: reading, asset: T-101, metric: level_mm }
  mode_signals: [MV-101/state, P-101/state]
  params: { window_secs: 30, threshold_z: 5, min_spread: 0.2, duration_secs: 10 }`,
  validate(p): ParamProblem[] {
    const problems: ParamProblem[] = [];
    if (p.min_window_points > p.max_window_points) {
      problems.push({
        path: '/min_window_points',
        message: `must be at most max_window_points (${p.max_window_points}), got ${p.min_window_points}`,
      });
    }
    if (p.release_z > p.threshold_z)
      problems.push({
        path: '/release_z',
        message: `must be at most threshold_z (${p.threshold_z}), got ${p.release_z}`,
      });
    return problems;
  },
  init: () => ({ t: [], v: [], n: 0, mean: 0, variance: 0, since: -1, alerted: false }),
  step(p, s, x, out, labels) {
    const last = s.t.length > 0 ? s.t[s.t.length - 1]! : undefined;
    if (last !== undefined && x.time - last > p.max_gap_secs * 1000) clear(s);
    s.t.push(x.time);
    s.v.push(x.value);
    const horizon = x.time - p.window_secs * 1000;
    let drop = 0;
    while (drop < s.t.length - 1 && s.t[drop]! < horizon) drop++;
    if (s.t.length - drop > p.max_window_points) drop = s.t.length - p.max_window_points;
    if (drop > 0) {
      s.t.splice(0, drop);
      s.v.splice(0, drop);
    }
    if (s.t.length < p.min_window_points) return null;
    const slope = windowSlope(s.t, s.v);
    if (slope === null) return null;

    const warm = s.n >= p.min_points;
    const sigma = Math.max(Math.sqrt(s.variance), p.min_spread);
    const diff = slope - s.mean;
    const z = sigma > 0 ? diff / sigma : diff === 0 ? 0 : diff > 0 ? Infinity : -Infinity;
    const signed = p.direction === 'up' ? z : p.direction === 'down' ? -z : Math.abs(z);
    let score: number | null = null;
    if (warm) {
      score = Number.isFinite(signed) ? squash(Math.max(0, signed), p.threshold_z) : signed > 0 ? 1 : 0;
      if (signed >= p.threshold_z || (s.since >= 0 && signed >= p.release_z)) {
        if (s.since < 0) s.since = x.time;
        const held = x.time - s.since;
        if (!s.alerted && held >= p.duration_secs * 1000) {
          s.alerted = true;
          const unit = labels.unit ? ` ${labels.unit}/s` : '/s';
          out.finding({
            severity: p.severity,
            reason: `${labels.metric} changes at ${fmt(slope)}${unit} for ${fmt(held / 1000)} s; usually ${fmt(s.mean)} ± ${fmt(sigma)}${unit} here (z ${Number.isFinite(z) ? fmt(z) : String(z)})`,
            detail: { rate: slope, usual_rate: s.mean, sigma, held_secs: held / 1000 },
          });
        }
      } else {
        if (s.alerted) {
          out.finding({
            severity: 'info',
            reason: `${labels.metric} changes at its usual rate again (${fmt(slope)} after ${fmt((x.time - s.since) / 1000)} s)`,
          });
        }
        s.since = -1;
        s.alerted = false;
      }
    }

    // Learn only from slopes that do not count as deviating, clipped once warm: even clipped,
    // a lasting fault fed back at clip_z σ would inflate the spread until it hid itself.
    if (s.since >= 0) return score;
    let learned = slope;
    if (warm && p.clip_z > 0 && sigma > 0)
      learned = s.mean + Math.max(-p.clip_z, Math.min(p.clip_z, diff / sigma)) * sigma;
    s.n = Math.min(p.memory_points, s.n + 1);
    const alpha = 1 / s.n;
    const d = learned - s.mean;
    s.mean += alpha * d;
    s.variance = (1 - alpha) * (s.variance + alpha * d * d);
    return score;
  },
};
