/**
 * calibrated: wraps any scalar detector and turns its raw scores into an anomaly likelihood in
 * [0,1] that means the same for every detector and every stream: how rare a raw score at least this
 * high has been among this key's recent scores. The tail probability p comes from a histogram of
 * past raw scores with exponential forgetting (`horizon_points`); the likelihood is
 * -ln(p) / ln(horizon_points), so 0.5 means "seen about once in √horizon points" and 1 means "not
 * seen in a horizon's worth of points" (the rarity of ../ensemble/calibrate.ts, reused here).
 * A z-score detector that fires all day on a noisy signal thus scores low, and a threshold that is
 * never crossed scores high the first time, so detectors of different kinds can be compared,
 * thresholded alike or combined.
 *
 * Findings of the wrapped detector are passed on with the likelihood added to their reason; with
 * `alert_likelihood` > 0 only those of points at least that rare are (info findings, e.g. "back
 * below", always pass). Ticks are scored against the histogram without learning from it, so the
 * runtime's once-a-second ticks do not swamp the calibration.
 *
 * The definition is built by `createCalibrated(lookup)`; the registry passes its own lookup (as for
 * the ensemble), which avoids an import cycle.
 *
 * @example
 * const calibrated = createCalibrated((type) => detectorRegistry[type]);
 * const p = resolveParams(calibrated, { detector: { type: 'rolling_zscore', params: { window_points: 60 } } });
 * const s = calibrated.init(p);
 * calibrated.step(p, s, { time, value: 41.2, fields: {} }, out, labels); // likelihood in [0,1] or null
 * // finding: "flow_m3h 41.2 is 5.1σ above its 60-point mean 30 (likelihood 0.93)"
 */
import { Type, type Static, type TObject } from '@sinclair/typebox';
import {
  fmt,
  type DetectorDef,
  type Finding,
  type FindingSink,
  type Observation,
  type ParamProblem,
} from '../contract.ts';
import { ParamError, resolveParams } from '../params.ts';
import { rarityInit, rarityStep, type RarityOptions, type RarityState } from '../ensemble/calibrate.ts';

export const CalibratedParams = Type.Object(
  {
    detector: Type.Object(
      {
        type: Type.String({ minLength: 1, description: 'The wrapped detector type (a registered `type:`).' }),
        params: Type.Optional(
          Type.Record(Type.String(), Type.Unknown(), { description: "The wrapped detector's own params." }),
        ),
      },
      { additionalProperties: false, description: 'The detector whose raw scores are calibrated: { type, params }.' },
    ),
    horizon_points: Type.Integer({
      minimum: 10,
      maximum: 10_000_000,
      default: 2000,
      description:
        'Calibration memory in scores (exponential forgetting): likelihood 1 = no score this high in about this many points.',
    }),
    bins: Type.Integer({
      minimum: 2,
      maximum: 1000,
      default: 50,
      description: 'Histogram bins over [0,1] of raw scores used to estimate tail probabilities.',
    }),
    min_points: Type.Integer({
      minimum: 1,
      default: 100,
      description: 'Warm-up in scores of the wrapped detector: the likelihood is null until this many were calibrated.',
    }),
    alert_likelihood: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0,
      description:
        "Pass on the wrapped detector's warning/critical findings only when the likelihood reaches this; 0 passes all.",
    }),
  },
  { additionalProperties: false },
);
export type CalibratedParams = Static<typeof CalibratedParams>;

const RarityStateSchema = Type.Object(
  {
    h: Type.Array(Type.Number({ minimum: 0 }), { description: 'Decayed counts of past raw scores per bin.' }),
    tot: Type.Number({ minimum: 0, description: 'Decayed total count.' }),
    n: Type.Integer({ minimum: 0, description: 'Raw scores calibrated.' }),
  },
  { additionalProperties: false },
);

/** The wrapped detector's state is checked by its own schema; here it is opaque. */
export const CalibratedState = Type.Object(
  {
    inner: Type.Unknown({ description: "The wrapped detector's state." }),
    rarity: RarityStateSchema,
  },
  { additionalProperties: false },
);
export interface CalibratedState {
  inner: unknown;
  rarity: RarityState;
}

/** Looks up a detector definition by type; undefined when unknown. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the wrapped detector is any registered type
export type DetectorLookup = (type: string) => DetectorDef<any, any, any> | undefined;

interface Resolved {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see DetectorLookup
  def: DetectorDef<any, any, any>;
  params: unknown;
  /** Built once per params object, so a step allocates nothing. minPoints 0: our warm-up is null, not 0. */
  rarity: RarityOptions;
}

class LocalFindings implements FindingSink {
  readonly list: Finding[] = [];
  finding(f: Finding): void {
    this.list.push(f);
  }
}

/** Tail probability of `score` under the histogram, as rarityStep computes it, without learning it. */
function rarityPeek(c: RarityState, score: number, horizonPoints: number, minPoints: number): number {
  if (c.n < minPoints || !(score > 0)) return 0;
  const bins = c.h.length;
  const b = Math.min(bins - 1, Math.max(0, Math.floor(score * bins)));
  let atLeast = 0;
  for (let j = b; j < bins; j++) atLeast += c.h[j] ?? 0;
  const r = -Math.log((atLeast + 1) / (c.tot + 1)) / Math.log(horizonPoints);
  return r > 1 ? 1 : r > 0 ? r : 0;
}

export function createCalibrated(
  lookup: DetectorLookup,
): DetectorDef<typeof CalibratedParams, CalibratedState, Observation> {
  /** Problems with the wrapped detector, with paths inside this detector's params. */
  const problemsOf = (p: CalibratedParams): { resolved?: Resolved; problems: ParamProblem[] } => {
    const def = lookup(p.detector.type);
    if (def === undefined)
      return {
        problems: [{ path: '/detector/type', message: `"${p.detector.type}" is not a registered detector type` }],
      };
    if (def.input !== 'scalar')
      return {
        problems: [
          {
            path: '/detector/type',
            message: `"${p.detector.type}" takes ${def.input} input; only scalar detectors can be wrapped`,
          },
        ],
      };
    try {
      const params: unknown = resolveParams(
        def as unknown as DetectorDef<TObject, unknown, never>,
        p.detector.params ?? {},
      );
      const rarity = { bins: p.bins, horizonPoints: p.horizon_points, minPoints: 0 };
      return { resolved: { def, params, rarity }, problems: [] };
    } catch (err) {
      if (!(err instanceof ParamError)) throw err;
      return { problems: err.problems.map((q) => ({ path: `/detector/params${q.path}`, message: q.message })) };
    }
  };
  // Resolved wrapped detector per params object: params are immutable once resolved, so this is a pure cache.
  const cache = new WeakMap<CalibratedParams, Resolved>();
  const resolvedOf = (p: CalibratedParams): Resolved => {
    let r = cache.get(p);
    if (r !== undefined) return r;
    const { resolved, problems } = problemsOf(p);
    if (resolved === undefined) throw new ParamError('calibrated', problems);
    r = resolved;
    cache.set(p, r);
    return r;
  };
  const scratch = new LocalFindings();

  /** Passes on the wrapped detector's findings of this call, the likelihood added to each. */
  const forward = (p: CalibratedParams, likelihood: number | null, out: FindingSink): void => {
    for (const f of scratch.list) {
      if (f.severity !== 'info' && p.alert_likelihood > 0 && !(likelihood !== null && likelihood >= p.alert_likelihood))
        continue;
      const l = likelihood === null ? 'calibrating' : `likelihood ${fmt(likelihood)}`;
      out.finding({
        severity: f.severity,
        reason: `${f.reason} (${l})`,
        detail: likelihood === null ? { ...f.detail } : { ...f.detail, likelihood },
      });
    }
  };

  return {
    type: 'calibrated',
    summary: 'Wraps a detector and turns its raw scores into a comparable anomaly likelihood in [0,1] (tail rarity).',
    params: CalibratedParams,
    stateVersion: 1,
    input: 'scalar',
    example: `- id: flow_z_likelihood
  type: calibrated
  select: { metric: flow_m3h }
  params:
    detector: { type: rolling_zscore, params: { window_points: 60 } }
    horizon_points: 2000
    alert_likelihood: 0.9
`,
    validate: (p) => problemsOf(p).problems,
    init(p) {
      const r = resolvedOf(p);
      return { inner: r.def.init(r.params) as unknown, rarity: rarityInit(p.bins) };
    },
    step(p, s, x, out, labels) {
      const r = resolvedOf(p);
      scratch.list.length = 0;
      const raw: number | null = r.def.step(r.params, s.inner, x, scratch, labels);
      let likelihood: number | null = null;
      if (raw !== null) {
        // rarityStep's own warm-up returns 0; ours returns null instead, so a cold calibration is not read as "normal".
        const rarity = rarityStep(s.rarity, raw, r.rarity);
        if (s.rarity.n > p.min_points) likelihood = raw > 0 ? rarity : 0;
      }
      if (scratch.list.length > 0) forward(p, likelihood, out);
      return likelihood;
    },
    tick(p, s, now, out, labels) {
      const r = resolvedOf(p);
      if (r.def.tick === undefined) return null;
      scratch.list.length = 0;
      const raw: number | null = r.def.tick(r.params, s.inner, now, scratch, labels);
      const likelihood =
        raw === null || s.rarity.n <= p.min_points ? null : rarityPeek(s.rarity, raw, p.horizon_points, 0);
      if (scratch.list.length > 0) forward(p, likelihood, out);
      return likelihood;
    },
  };
}
