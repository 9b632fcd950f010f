/**
 * page_hinkley: the Page-Hinkley test (Page 1954; with the forgetting factor of Mouss et al. 2004)
 * for a change in the mean of a stream, typically a model's prediction error.
 *
 * For each value x_t (mean x̄_t of the values since the last reset, x_t included):
 *   up:   m_t = alpha·m_{t-1} + (x_t − x̄_t − delta),  PH_up   = m_t − min m
 *   down: M_t = alpha·M_{t-1} + (x_t − x̄_t + delta),  PH_down = max M − M_t
 * A change is declared when PH > threshold (lambda) after `min_points` values; the test then
 * starts afresh with the next value. Score = PH / threshold clamped to [0,1] (1 = at the threshold).
 *
 * The index where m reached its minimum is the change-point estimate: the means before and after
 * it make the reason ("error mean rose from 0.1 to 0.42 (Page-Hinkley 55 > 50)").
 *
 * @example
 * const p = resolveParams(pageHinkley, { threshold: 50, direction: 'up' });
 * const s = pageHinkley.init(p);
 * pageHinkley.step(p, s, { time, value: err, fields: {} }, out, labels);
 */
import { Type, type Static } from '@sinclair/typebox';
import { clamp01, fmt, type DetectorDef, type FindingSink, type Observation, type StepLabels } from '../contract.ts';

export const PageHinkleyParams = Type.Object(
  {
    delta: Type.Number({
      minimum: 0,
      default: 0.005,
      description: 'Magnitude of change tolerated, in value units (the drift allowance subtracted each step).',
    }),
    threshold: Type.Number({
      exclusiveMinimum: 0,
      default: 50,
      description: 'Detection threshold lambda on the cumulative deviation, in value units.',
    }),
    alpha: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.9999,
      description: 'Forgetting factor applied to the cumulative sum each step (1 = no forgetting).',
    }),
    min_points: Type.Integer({
      minimum: 1,
      default: 30,
      description: 'Warm-up: values seen since the last reset before a change can be declared (score null until then).',
    }),
    direction: Type.Union([Type.Literal('both'), Type.Literal('up'), Type.Literal('down')], {
      default: 'both',
      description: 'Which changes count: both (two-sided), up (mean rises) or down (mean falls).',
    }),
  },
  { additionalProperties: false },
);
export type PageHinkleyParams = Static<typeof PageHinkleyParams>;

export interface PageHinkleyState {
  /** Values since the last reset. */
  n: number;
  /** Sum of values since the last reset. */
  sum: number;
  /** Cumulative sums for the upward (m) and downward (M) tests. */
  up: number;
  down: number;
  /** min m / max M so far; null before the first value (no ±Infinity in JSON state). */
  upMin: number | null;
  downMax: number | null;
  /** n and sum at the step where upMin / downMax were reached (change-point estimates). */
  upAtN: number;
  upAtSum: number;
  downAtN: number;
  downAtSum: number;
  /** Changes declared so far (reported in finding details). */
  changes: number;
}

function fresh(s: PageHinkleyState, changes: number): PageHinkleyState {
  s.n = 0;
  s.sum = 0;
  s.up = 0;
  s.down = 0;
  s.upMin = null;
  s.downMax = null;
  s.upAtN = 0;
  s.upAtSum = 0;
  s.downAtN = 0;
  s.downAtSum = 0;
  s.changes = changes;
  return s;
}

function report(
  p: PageHinkleyParams,
  s: PageHinkleyState,
  side: 'up' | 'down',
  stat: number,
  x: Observation,
  out: FindingSink,
  labels: StepLabels,
): void {
  const atN = side === 'up' ? s.upAtN : s.downAtN;
  const atSum = side === 'up' ? s.upAtSum : s.downAtSum;
  // Mean before the estimated change point and mean after it (the latter always has ≥ 1 value).
  const before = atN > 0 ? atSum / atN : s.sum / s.n;
  const after = s.n > atN ? (s.sum - atSum) / (s.n - atN) : x.value;
  const verb = side === 'up' ? 'rose' : 'fell';
  out.finding({
    severity: 'warning',
    reason: `${labels.metric} mean ${verb} from ${fmt(before)} to ${fmt(after)} (Page-Hinkley ${fmt(stat)} > ${fmt(p.threshold)})`,
    detail: {
      statistic: stat,
      threshold: p.threshold,
      mean_before: before,
      mean_after: after,
      points: s.n,
      change_points_ago: s.n - atN,
      changes: s.changes + 1,
    },
  });
}

export const pageHinkley: DetectorDef<typeof PageHinkleyParams, PageHinkleyState, Observation> = {
  type: 'page_hinkley',
  summary: 'Change in the mean of a stream (e.g. a model error) by the Page-Hinkley cumulative test.',
  params: PageHinkleyParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: flow_model_drift
  type: page_hinkley
  select: { metric: flow_model_error }
  params: { delta: 0.005, threshold: 50, min_points: 30, direction: up }
`,
  init() {
    return fresh({} as PageHinkleyState, 0);
  },
  step(p, s, x, out, labels) {
    s.n += 1;
    s.sum += x.value;
    const dev = x.value - s.sum / s.n;
    s.up = p.alpha * s.up + dev - p.delta;
    s.down = p.alpha * s.down + dev + p.delta;
    // Ties move the estimate forward: the latest point where the sum was lowest.
    if (s.upMin === null || s.up <= s.upMin) {
      s.upMin = s.up;
      s.upAtN = s.n;
      s.upAtSum = s.sum;
    }
    if (s.downMax === null || s.down >= s.downMax) {
      s.downMax = s.down;
      s.downAtN = s.n;
      s.downAtSum = s.sum;
    }
    if (s.n < p.min_points) return null;
    const phUp = p.direction === 'down' ? 0 : s.up - s.upMin;
    const phDown = p.direction === 'up' ? 0 : s.downMax - s.down;
    const stat = Math.max(phUp, phDown);
    const score = clamp01(stat / p.threshold);
    if (stat > p.threshold) {
      report(p, s, phUp >= phDown ? 'up' : 'down', stat, x, out, labels);
      // Published behaviour: after a detection the test restarts from scratch.
      fresh(s, s.changes + 1);
    }
    return Number.isFinite(score) ? score : 1;
  },
};
