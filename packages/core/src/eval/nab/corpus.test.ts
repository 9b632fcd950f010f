import { describe, it, expect } from 'vitest';
import { scoreNabCorpus, scoreNabCorpusAt, type NabCorpusFile } from './corpus.ts';
import { nabNullScore, nabPerfectScore, normaliseNabScore } from './normalise.ts';
import { planNabFile } from './plan.ts';
import { NAB_V11_PROFILES } from './profiles.ts';

const ts = Array.from({ length: 200 }, (_, i) => i * 60_000);
const windowsA: Array<[number, number]> = [[ts[50]!, ts[69]!], [ts[120]!, ts[139]!]];
const windowsB: Array<[number, number]> = [[ts[150]!, ts[179]!]];
const planA = planNabFile(ts, windowsA);
const planB = planNabFile(ts, windowsB);
const flagRows = (rows: number[]): number[] => ts.map((_, i) => (rows.includes(i) ? 1 : 0));

describe('scoreNabCorpus', () => {
  it('gives the null detector 0 and the perfect detector 100 on every profile', () => {
    const nothing: NabCorpusFile[] = [
      { name: 'a.csv', plan: planA, scores: flagRows([]) },
      { name: 'b.csv', plan: planB, scores: flagRows([]) },
    ];
    const perfect: NabCorpusFile[] = [
      { name: 'a.csv', plan: planA, scores: flagRows([50, 120]) },
      { name: 'b.csv', plan: planB, scores: flagRows([150]) },
    ];
    for (const p of Object.values(scoreNabCorpus(nothing, NAB_V11_PROFILES).perProfile)) expect(p.score).toBe(0);
    for (const p of Object.values(scoreNabCorpus(perfect, NAB_V11_PROFILES).perProfile)) expect(p.score).toBeCloseTo(100, 10);
  });

  it('normalises against null and perfect raw scores', () => {
    const plans = [planA, planB];
    expect(nabNullScore(plans, NAB_V11_PROFILES.reward_low_FN_rate)).toBe(-6);
    expect(nabPerfectScore(plans, NAB_V11_PROFILES.standard)).toBe(3);
    expect(normaliseNabScore(46.634450197137596, -116, 116)).toBeCloseTo(70.101, 3);
  });

  it('agrees with per-file scores at the chosen threshold', () => {
    const files: NabCorpusFile[] = [
      { name: 'a.csv', plan: planA, scores: ts.map((_, i) => (i === 60 ? 0.9 : i === 100 ? 0.7 : (i % 7) / 10)) },
      { name: 'b.csv', plan: planB, scores: ts.map((_, i) => (i === 170 ? 0.95 : (i % 5) / 10)) },
    ];
    const r = scoreNabCorpus(files, NAB_V11_PROFILES);
    const std = r.perProfile.standard;
    const at = scoreNabCorpusAt(files, NAB_V11_PROFILES.standard, std.threshold);
    expect(at.raw).toBeCloseTo(std.raw, 12);
    expect(at.score).toBeCloseTo(std.score, 12);
    expect(r.perFile.map((f) => f.perProfile.standard.score)).toEqual(at.perFile.map((f) => f.score));
    for (const t of [0.3, 0.6, 0.7, 0.9, 0.95]) {
      expect(std.raw).toBeGreaterThanOrEqual(scoreNabCorpusAt(files, NAB_V11_PROFILES.standard, t).raw);
    }
  });
});
