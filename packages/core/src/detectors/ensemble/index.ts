/**
 * ensemble: several detectors judged as one. Each member (any registered detector type with its
 * own params) scores the value; each member score is calibrated against that member's own history
 * on this stream (rarity, see ./calibrate.ts) and mixed with its size as a weighted geometric mean
 * (score^(1-w) · rarity^w); the members are combined by max (or mean); then repeated alerts are
 * suppressed so one anomaly is reported once (a later score must beat a bar that starts at
 * `suppress_raise` times the last reported one and falls to 0 over `suppress_points`). The state
 * holds every member's state, so the ensemble checkpoints like any detector.
 *
 * The definition is built by `createEnsemble(lookup)`, where `lookup(type)` returns a member's
 * definition: the registry passes itself, which avoids an import cycle (registry → ensemble →
 * registry). Member params are resolved (defaults, validation) once per params object.
 *
 * This is the configuration used for the NAB benchmark (docs/nab.md): the defaults are it.
 *
 * @example
 * const ensemble = createEnsemble((type) => detectorRegistry[type]);
 * const p = resolveParams(ensemble, { members: [{ type: 'range_record' }, { type: 'pattern_novelty' }] });
 * const s = ensemble.init(p);
 * ensemble.step(p, s, { time, value: 41.2, fields: {} }, out, labels);
 * // finding: "flow_m3h 41.2: ensemble score 0.81, led by range_record (score 0.83, rarity 0.79): flow_m3h 41.2 is above …"
 */
import { Type, type Static, type TObject } from '@sinclair/typebox';
import { fmt, type DetectorDef, type Finding, type FindingSink, type Observation } from '../contract.ts';
import { resolveParams } from '../params.ts';
import {
  rarityInit,
  rarityStep,
  suppressInit,
  suppressStep,
  type RarityState,
  type SuppressState,
} from './calibrate.ts';

const MemberSpec = Type.Object(
  {
    type: Type.String({ minLength: 1, description: 'Member detector type (a registered `type:`).' }),
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "The member's own params." })),
  },
  { additionalProperties: false },
);

/** The NAB configuration (docs/nab.md): three range breakout views, two pattern scales, one seasonal check. */
export const DEFAULT_MEMBERS: Array<Static<typeof MemberSpec>> = [
  { type: 'range_record', params: { window_points: 5000, min_points: 50, admit_excess: 3 } },
  { type: 'range_record', params: { window_points: 5000, mean_points: 20, admit_excess: 3 } },
  { type: 'range_record', params: { window_points: 5000, mean_points: 50, statistic: 'median', admit_excess: 3 } },
  { type: 'pattern_novelty', params: { block_points: 8, blocks: 6 } },
  { type: 'pattern_novelty', params: { block_points: 16, blocks: 6 } },
  { type: 'seasonal_error', params: { block_points: 6, min_autocorrelation: 0.6, half_excess: 3 } },
];

export const EnsembleParams = Type.Object(
  {
    members: Type.Array(MemberSpec, {
      minItems: 1,
      maxItems: 32,
      default: DEFAULT_MEMBERS,
      description: 'Member detectors: [{ type, params }]; each sees every value.',
    }),
    combine: Type.Union([Type.Literal('max'), Type.Literal('mean')], {
      default: 'max',
      description: 'How calibrated member scores combine: max (any member) or mean (agreement).',
    }),
    calibration_weight: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: 'Weight w of rarity in score^(1-w) · rarity^w per member; 0 = raw member scores, 1 = rarity only.',
    }),
    calibration_bins: Type.Integer({
      minimum: 2,
      maximum: 1000,
      default: 50,
      description: 'Histogram bins over [0,1] used to estimate how rare a member score is.',
    }),
    calibration_horizon_points: Type.Integer({
      minimum: 2,
      default: 2000,
      description:
        'Memory of the rarity histogram in points (exponential forgetting); rarity 1 = unseen in this many points.',
    }),
    calibration_min_points: Type.Integer({
      minimum: 0,
      default: 200,
      description: 'Warm-up of the calibration in points: rarity is 0 until this many scores were seen.',
    }),
    suppress_points: Type.Integer({
      minimum: 0,
      default: 300,
      description:
        'After a score is let through, later ones must beat it (bar falling to 0 over this many points); 0 = off.',
    }),
    suppress_raise: Type.Number({
      minimum: 1,
      default: 1.25,
      description:
        'The suppression bar starts at this multiple of the score let through (capped at 1); > 1 reports a creeping score once.',
    }),
    alert_score: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: 'Scores (after suppression) at or above this raise a finding.',
    }),
  },
  { additionalProperties: false },
);
export type EnsembleParams = Static<typeof EnsembleParams>;

export interface EnsembleState {
  /** One state per member, in `members` order. */
  members: unknown[];
  rarity: RarityState[];
  suppress: SuppressState;
}

/** Looks up a member definition by type; undefined when unknown. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- members are heterogeneous; each is checked by its own schema
export type MemberLookup = (type: string) => DetectorDef<any, any, any> | undefined;

export class EnsembleError extends Error {
  readonly code = 'E_ENSEMBLE_MEMBER';
}

interface ResolvedMember {
  type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see MemberLookup
  def: DetectorDef<any, any, any>;
  params: unknown;
}

class LocalFindings implements FindingSink {
  readonly list: Finding[] = [];
  finding(f: Finding): void {
    this.list.push(f);
  }
}

export function createEnsemble(lookup: MemberLookup): DetectorDef<typeof EnsembleParams, EnsembleState, Observation> {
  // Resolved members per params object: params are immutable once resolved, so this is a pure cache.
  const cache = new WeakMap<EnsembleParams, ResolvedMember[]>();
  const membersOf = (p: EnsembleParams): ResolvedMember[] => {
    let r = cache.get(p);
    if (r !== undefined) return r;
    r = p.members.map((m, i) => {
      const def = lookup(m.type);
      if (def === undefined)
        throw new EnsembleError(`ensemble: members[${i}].type "${m.type}" is not a registered detector type`);
      if (def.input !== 'scalar')
        throw new EnsembleError(
          `ensemble: members[${i}].type "${m.type}" takes ${def.input} input; members must be scalar`,
        );
      try {
        const params: unknown = resolveParams(def as unknown as DetectorDef<TObject, unknown, never>, m.params ?? {});
        return { type: m.type, def, params };
      } catch (cause) {
        throw new EnsembleError(`ensemble: members[${i}] (${m.type}) params: ${(cause as Error).message}`, { cause });
      }
    });
    cache.set(p, r);
    return r;
  };
  const scratch = new LocalFindings();

  return {
    type: 'ensemble',
    summary:
      'Several detectors as one: member scores calibrated by their rarity on the stream, combined, alerts de-duplicated.',
    params: EnsembleParams,
    stateVersion: 1,
    input: 'scalar',
    example: `- id: flow_ensemble
  type: ensemble
  select: { metric: flow_m3h }
  params:
    members:
      - { type: range_record, params: { window_points: 5000 } }
      - { type: pattern_novelty, params: { block_points: 8, blocks: 6 } }
    suppress_points: 300
`,
    init(p) {
      const ms = membersOf(p);
      return {
        members: ms.map((m) => m.def.init(m.params) as unknown),
        rarity: ms.map(() => rarityInit(p.calibration_bins)),
        suppress: suppressInit(),
      };
    },
    step(p, s, x, out, labels) {
      const ms = membersOf(p);
      const w = p.calibration_weight;
      const opts = {
        bins: p.calibration_bins,
        horizonPoints: p.calibration_horizon_points,
        minPoints: p.calibration_min_points,
      };
      let any = false;
      let best = 0;
      let sum = 0;
      let lead = -1;
      let leadRaw = 0;
      let leadRarity = 0;
      let leadFinding: Finding | undefined;
      for (let i = 0; i < ms.length; i++) {
        const m = ms[i]!;
        scratch.list.length = 0;
        const raw: number | null = m.def.step(m.params, s.members[i], x, scratch, labels);
        if (raw !== null) any = true;
        // A member still warming up counts as 0, and its calibration learns that too.
        const a = raw ?? 0;
        const r = rarityStep(s.rarity[i]!, a, opts);
        const c = a > 0 ? Math.pow(a, 1 - w) * Math.pow(r, w) : 0;
        sum += c;
        if (c > best || lead < 0) {
          if (c > best) best = c;
          lead = i;
          leadRaw = a;
          leadRarity = r;
          leadFinding = scratch.list[0];
        }
      }
      if (!any) return null;
      const combined = p.combine === 'max' ? best : sum / ms.length;
      const score = suppressStep(s.suppress, combined > 1 ? 1 : combined, p.suppress_points, p.suppress_raise);
      if (score >= p.alert_score && score > 0 && lead >= 0) {
        const m = ms[lead]!;
        const because = leadFinding === undefined ? '' : `: ${leadFinding.reason}`;
        out.finding({
          severity: score >= 0.9 ? 'critical' : 'warning',
          reason: `${labels.metric} ${fmt(x.value)}: ensemble score ${fmt(score)}, led by ${m.type} (score ${fmt(leadRaw)}, rarity ${fmt(leadRarity)})${because}`,
          detail: {
            value: x.value,
            score,
            member: lead,
            member_type: m.type,
            member_score: leadRaw,
            rarity: leadRarity,
          },
        });
      }
      return score;
    },
  };
}
