/**
 * eddm: the Early Drift Detection Method (Baena-García et al. 2006) on a stream of 0/1 error
 * indicators (a value ≥ 0.5 counts as an error). It watches the distance between consecutive
 * errors: while a model improves or holds, the mean distance p' and its standard deviation s'
 * grow; when errors bunch up, p' + 2s' falls below its maximum.
 *
 * At each error (after `min_points` values and `min_errors` errors), level = (p' + 2s') / max(p' + 2s').
 * level < alpha → warning zone; level < beta → drift, then the detector starts afresh.
 * Score = (1 − level) / (1 − beta) clamped to [0,1] (1 at the drift level); it changes only at
 * errors, so between errors the last score is repeated.
 *
 * @example
 * const p = resolveParams(eddm, { alpha: 0.95, beta: 0.9 });
 * const s = eddm.init(p);
 * eddm.step(p, s, { time, value: wasWrong ? 1 : 0, fields: {} }, out, labels);
 * // "classifier_error errors closer together: mean distance fell from 12 to 4.1 (EDDM level 0.87 < 0.9)"
 */
import { Type, type Static } from '@sinclair/typebox';
import { clamp01, fmt, type DetectorDef, type Observation } from '../contract.ts';
import { ParamError } from '../params.ts';

export const EddmParams = Type.Object(
  {
    min_points: Type.Integer({
      minimum: 0,
      default: 30,
      description: 'Warm-up: values since the last reset before the level is checked.',
    }),
    min_errors: Type.Integer({
      minimum: 1,
      default: 30,
      description:
        'Warm-up: errors since the last reset before a warning or drift can be declared (score null until then).',
    }),
    alpha: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.95,
      description: 'Warning level: (p′+2s′)/max below this enters the warning zone.',
    }),
    beta: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.9,
      description: 'Drift level: (p′+2s′)/max below this declares a drift; must not exceed alpha.',
    }),
  },
  { additionalProperties: false },
);
export type EddmParams = Static<typeof EddmParams>;

export interface EddmState {
  /** Values and errors since the last reset; index of the last error (0 = none). */
  n: number;
  errors: number;
  lastError: number;
  /** Welford mean and sum of squared deviations of the distances between errors. */
  distMean: number;
  distM2: number;
  /** Maximum of p′ + 2s′ and the mean distance at that maximum (0 before the first error). */
  max: number;
  meanAtMax: number;
  inWarning: boolean;
  /** Last score given, repeated between errors; null during warm-up. */
  score: number | null;
  drifts: number;
}

function fresh(drifts: number): EddmState {
  return {
    n: 0,
    errors: 0,
    lastError: 0,
    distMean: 0,
    distM2: 0,
    max: 0,
    meanAtMax: 0,
    inWarning: false,
    score: null,
    drifts,
  };
}

export const eddm: DetectorDef<typeof EddmParams, EddmState, Observation> = {
  type: 'eddm',
  summary: 'Errors bunching up in a 0/1 error stream (Early Drift Detection Method, Baena-García et al. 2006).',
  params: EddmParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: classifier_early_drift
  type: eddm
  select: { metric: classifier_error }
  params: { alpha: 0.95, beta: 0.9, min_errors: 30 }
`,
  init(p) {
    if (!(p.beta <= p.alpha)) {
      throw new ParamError('eddm', [{ path: '/beta', message: `must not exceed alpha (${p.alpha}), got ${p.beta}` }]);
    }
    return fresh(0);
  },
  step(p, s, x, out, labels) {
    s.n += 1;
    if (!(x.value >= 0.5)) return s.score;
    s.errors += 1;
    const dist = s.n - s.lastError;
    s.lastError = s.n;
    const d = dist - s.distMean;
    s.distMean += d / s.errors;
    s.distM2 += d * (dist - s.distMean);
    if (s.n <= p.min_points) return s.score;
    // Sample standard deviation (n − 1), as in the published method's running estimate.
    const sd = s.errors > 1 ? Math.sqrt(s.distM2 / (s.errors - 1)) : 0;
    const p2s = s.distMean + 2 * sd;
    if (p2s > s.max) {
      s.max = p2s;
      s.meanAtMax = s.distMean;
      s.inWarning = false;
      if (s.errors > p.min_errors) s.score = 0;
      return s.score;
    }
    if (s.errors <= p.min_errors) return s.score;
    const level = p2s / s.max;
    s.score = p.beta < 1 ? clamp01((1 - level) / (1 - p.beta)) : level < 1 ? 1 : 0;
    if (level < p.beta) {
      out.finding({
        severity: 'warning',
        reason: `${labels.metric} errors closer together: mean distance fell from ${fmt(s.meanAtMax)} to ${fmt(s.distMean)} (EDDM level ${fmt(level)} < ${fmt(p.beta)})`,
        detail: {
          level,
          beta: p.beta,
          mean_distance_before: s.meanAtMax,
          mean_distance: s.distMean,
          errors: s.errors,
          points: s.n,
        },
      });
      const score = s.score;
      Object.assign(s, fresh(s.drifts + 1));
      return score;
    }
    if (level < p.alpha) {
      if (!s.inWarning) {
        s.inWarning = true;
        out.finding({
          severity: 'info',
          reason: `${labels.metric} errors closer together: EDDM warning, level ${fmt(level)} < ${fmt(p.alpha)} (mean distance ${fmt(s.distMean)}, peak ${fmt(s.meanAtMax)})`,
          detail: {
            level,
            alpha: p.alpha,
            mean_distance_before: s.meanAtMax,
            mean_distance: s.distMean,
            errors: s.errors,
            points: s.n,
          },
        });
      }
    } else {
      s.inWarning = false;
    }
    return s.score;
  },
};
