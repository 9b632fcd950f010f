import { describe, it, expect } from 'vitest';
import { NabError } from './errors.ts';
import { NAB_V11_PROFILES, parseNabProfiles } from './profiles.ts';

const file = {
  standard: { CostMatrix: { tpWeight: 1.0, fnWeight: 1.0, fpWeight: 0.11, tnWeight: 1.0 } },
  reward_low_FP_rate: { CostMatrix: { tpWeight: 1.0, fnWeight: 1.0, fpWeight: 0.22, tnWeight: 1.0 } },
  reward_low_FN_rate: { CostMatrix: { tpWeight: 1.0, fnWeight: 2.0, fpWeight: 0.11, tnWeight: 1.0 } },
};

describe('parseNabProfiles', () => {
  it("reads NAB's profiles.json shape", () => {
    expect(parseNabProfiles(file)).toEqual(NAB_V11_PROFILES);
  });

  it('names the file and the problem when a weight is wrong', () => {
    const bad = { ...file, standard: { CostMatrix: { tpWeight: 1, fnWeight: 'x', fpWeight: 0.11 } } };
    expect(() => parseNabProfiles(bad, 'cfg/profiles.json')).toThrow(/cfg\/profiles\.json: \/standard\/CostMatrix\/fnWeight/);
  });

  it('rejects a file missing one of the three profiles, with code E_NAB_PROFILE', () => {
    const { reward_low_FN_rate: _dropped, ...partial } = file;
    try {
      parseNabProfiles(partial);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(NabError);
      expect((e as NabError).code).toBe('E_NAB_PROFILE');
      expect((e as NabError).message).toContain('reward_low_FN_rate');
    }
  });
});
