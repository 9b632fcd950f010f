/**
 * ddm: the Drift Detection Method (Gama, Medas, Castillo & Rodrigues 2004) on a stream of 0/1
 * error indicators (a value ≥ 0.5 counts as an error, anything else as a correct prediction).
 *
 * p_i is the error rate since the last reset and s_i = sqrt(p_i(1−p_i)/i) its standard deviation.
 * After `min_points` values, (p_min, s_min) is kept where p_i + s_i was lowest. Warning level:
 * p_i + s_i > p_min + warning_level·s_min; drift level: p_i + s_i > p_min + drift_level·s_min,
 * after which the detector starts afresh (as published: a new model, new statistics).
 *
 * Score = (p_i + s_i − p_min) / (drift_level·s_min) clamped to [0,1]: 1 at the drift level,
 * warning_level/drift_level at the warning level. A finding is raised when the warning zone is
 * entered (info) and at each drift (warning), reason e.g.
 * "model_error error rate rose from 0.1 to 0.42 (DDM 0.45 > 0.31 = p_min + 3·s_min)".
 *
 * @example
 * const p = resolveParams(ddm, { min_points: 30 });
 * const s = ddm.init(p);
 * ddm.step(p, s, { time, value: wasWrong ? 1 : 0, fields: {} }, out, labels);
 */
import { Type, type Static } from '@sinclair/typebox';
import { clamp01, fmt, type DetectorDef, type Observation } from '../contract.ts';
import { ParamError } from '../params.ts';

export const DdmParams = Type.Object(
  {
    min_points: Type.Integer({
      minimum: 1,
      default: 30,
      description: 'Warm-up: values since the last reset before p_min/s_min are tracked (score null until then).',
    }),
    warning_level: Type.Number({
      exclusiveMinimum: 0,
      default: 2,
      description: 'Warning zone starts this many standard deviations (s_min) above p_min.',
    }),
    drift_level: Type.Number({
      exclusiveMinimum: 0,
      default: 3,
      description: 'Drift is declared this many standard deviations (s_min) above p_min; must exceed warning_level.',
    }),
  },
  { additionalProperties: false },
);
export type DdmParams = Static<typeof DdmParams>;

export interface DdmState {
  /** Values and errors since the last reset. */
  n: number;
  errors: number;
  /** Lowest p + s seen after warm-up, and its parts; null before then. */
  pMin: number | null;
  sMin: number;
  /** Set while in the warning zone: n and errors when it was entered. */
  warnAtN: number | null;
  warnAtErrors: number;
  /** Drifts declared so far. */
  drifts: number;
}

export const ddm: DetectorDef<typeof DdmParams, DdmState, Observation> = {
  type: 'ddm',
  summary: 'Rise in a 0/1 error rate (Drift Detection Method, Gama et al. 2004), with a warning zone.',
  params: DdmParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: classifier_drift
  type: ddm
  select: { metric: classifier_error }
  params: { min_points: 30, warning_level: 2, drift_level: 3 }
`,
  init(p) {
    if (!(p.drift_level > p.warning_level)) {
      throw new ParamError('ddm', [
        { path: '/drift_level', message: `must exceed warning_level (${p.warning_level}), got ${p.drift_level}` },
      ]);
    }
    return { n: 0, errors: 0, pMin: null, sMin: 0, warnAtN: null, warnAtErrors: 0, drifts: 0 };
  },
  step(p, s, x, out, labels) {
    s.n += 1;
    if (x.value >= 0.5) s.errors += 1;
    const pi = s.errors / s.n;
    const si = Math.sqrt((pi * (1 - pi)) / s.n);
    if (s.n <= p.min_points) return null;
    if (s.pMin === null || pi + si <= s.pMin + s.sMin) {
      s.pMin = pi;
      s.sMin = si;
    }
    const excess = pi + si - s.pMin;
    const driftBound = s.pMin + p.drift_level * s.sMin;
    // With s_min = 0 (no errors yet at the minimum) any excess at all crosses both levels.
    const score = s.sMin > 0 ? clamp01(excess / (p.drift_level * s.sMin)) : excess > 0 ? 1 : 0;
    if (pi + si > driftBound) {
      const before = s.pMin;
      const recentN = s.warnAtN === null ? 0 : s.n - s.warnAtN;
      // Error rate since the warning zone was entered: Gama et al.'s "new context" estimate.
      const after = recentN > 0 ? (s.errors - s.warnAtErrors) / recentN : pi;
      out.finding({
        severity: 'warning',
        reason: `${labels.metric} error rate rose from ${fmt(before)} to ${fmt(after)} (DDM ${fmt(pi + si)} > ${fmt(driftBound)} = p_min + ${fmt(p.drift_level)}·s_min)`,
        detail: { p: pi, s: si, p_min: s.pMin, s_min: s.sMin, rate_before: before, rate_after: after, points: s.n },
      });
      const drifts = s.drifts + 1;
      Object.assign(s, ddm.init(p), { drifts });
      return score;
    }
    if (pi + si > s.pMin + p.warning_level * s.sMin) {
      if (s.warnAtN === null) {
        s.warnAtN = s.n - 1;
        s.warnAtErrors = s.errors - (x.value >= 0.5 ? 1 : 0);
        out.finding({
          severity: 'info',
          reason: `${labels.metric} error rate ${fmt(pi)} entered the DDM warning zone (${fmt(pi + si)} > p_min + ${fmt(p.warning_level)}·s_min = ${fmt(s.pMin + p.warning_level * s.sMin)})`,
          detail: { p: pi, s: si, p_min: s.pMin, s_min: s.sMin, points: s.n },
        });
      }
    } else {
      s.warnAtN = null;
      s.warnAtErrors = 0;
    }
    return score;
  },
};
