import { describe, it, expect } from 'vitest';
import { planNabFile } from './plan.ts';
import { NAB_V11_PROFILES } from './profiles.ts';
import { scoreNabFile } from './score-file.ts';
import { NabError } from './errors.ts';

const sig = (p: number): number => (p > 3 ? -1 : 2 / (1 + Math.exp(5 * p)) - 1);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i * 1000);
const { standard } = NAB_V11_PROFILES;

describe('scoreNabFile', () => {
  // 20 rows, probation 3, one window on rows 10..13 (W = 4, R = 13).
  const plan = planNabFile(range(20), [[10_000, 13_000]]);
  const scoresWith = (hits: Record<number, number>): number[] => range(20).map((_, i) => hits[i] ?? 0);

  it('scores a hand-worked file: earliest TP, FP before and after the window, probation ignored', () => {
    const scores = scoresWith({ 1: 0.9, 5: 0.8, 11: 0.7, 12: 0.95, 16: 0.6 });
    const r = scoreNabFile(plan, scores, 0.5, standard);
    const expected = 1 * (sig(-3 / 4) / sig(-1)) + 0.11 * -1 + 0.11 * sig(3 / 3);
    expect(r.score).toBeCloseTo(expected, 12);
    expect(r).toMatchObject({ tp: 2, fn: 2, fp: 2, tn: 11, windowsDetected: 1, windowsMissed: 0 });
  });

  it('counts a detection exactly at the threshold, and charges a missed window -fnWeight', () => {
    const scores = scoresWith({ 10: 0.5 });
    expect(scoreNabFile(plan, scores, 0.5, standard).score).toBeCloseTo(1, 12);
    const missed = scoreNabFile(plan, scores, 0.51, NAB_V11_PROFILES.reward_low_FN_rate);
    expect(missed.score).toBe(-2);
    expect(missed.windowsMissed).toBe(1);
  });

  it('adds up every false positive', () => {
    const one = scoreNabFile(plan, scoresWith({ 4: 1 }), 0.5, standard).score;
    const three = scoreNabFile(plan, scoresWith({ 4: 1, 5: 1, 6: 1 }), 0.5, standard).score;
    expect(one).toBeCloseTo(-1 - 0.11, 12);
    expect(three).toBeCloseTo(-1 - 0.33, 12);
  });

  it('rejects a score array of the wrong length or with NaN', () => {
    expect(() => scoreNabFile(plan, [0, 1], 0.5, standard)).toThrow(NabError);
    expect(() => scoreNabFile(plan, scoresWith({ 7: Number.NaN }), 0.5, standard)).toThrow(/row 7/);
  });
});
