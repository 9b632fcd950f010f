/**
 * NAB application profiles: the weights that turn detections into a score. Weights are data
 * (NAB's `config/profiles.json`); this module validates them and offers NAB v1.1's values.
 *
 * @example
 * const profiles = parseNabProfiles(JSON.parse(text)); // { standard: { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 }, ... }
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { NabError } from './errors.ts';

/** Weights of one profile. Only tp, fp and fn matter for the score (NAB's tnWeight is unused). */
export interface NabProfile {
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
}

export const NAB_PROFILE_NAMES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const;
export type NabProfileName = (typeof NAB_PROFILE_NAMES)[number];
export type NabProfiles = Readonly<Record<NabProfileName, NabProfile>>;

/** NAB v1.1's `config/profiles.json`, for callers without the file (tests, quick checks). */
export const NAB_V11_PROFILES: NabProfiles = {
  standard: { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  reward_low_FP_rate: { tpWeight: 1, fpWeight: 0.22, fnWeight: 1 },
  reward_low_FN_rate: { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
};

const Weight = Type.Number({ minimum: 0 });
const CostMatrixSchema = Type.Object({
  tpWeight: Weight,
  fpWeight: Weight,
  fnWeight: Weight,
  tnWeight: Type.Optional(Weight),
});
const ProfilesFileSchema = Type.Record(Type.String(), Type.Object({ CostMatrix: CostMatrixSchema }));
export type NabProfilesFile = Static<typeof ProfilesFileSchema>;

/**
 * Validates NAB's profiles.json shape and returns the three profiles NAB publishes.
 * `where` names the source in error messages (a file path, usually).
 */
export function parseNabProfiles(raw: unknown, where = 'profiles.json'): NabProfiles {
  if (!Value.Check(ProfilesFileSchema, raw)) {
    const first = [...Value.Errors(ProfilesFileSchema, raw)][0];
    throw new NabError(
      'E_NAB_PROFILE',
      `${where}: ${first ? `${first.path || '/'} ${first.message}` : 'invalid'}; expected { <profile>: { CostMatrix: { tpWeight, fpWeight, fnWeight } } }`,
    );
  }
  const pick = (name: NabProfileName): NabProfile => {
    const entry = raw[name];
    if (!entry) throw new NabError('E_NAB_PROFILE', `${where}: profile "${name}" is missing`);
    const { tpWeight, fpWeight, fnWeight } = entry.CostMatrix;
    return { tpWeight, fpWeight, fnWeight };
  };
  return {
    standard: pick('standard'),
    reward_low_FP_rate: pick('reward_low_FP_rate'),
    reward_low_FN_rate: pick('reward_low_FN_rate'),
  };
}
