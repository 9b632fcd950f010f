import { describe, it, expect } from 'vitest';
import { NabError } from './errors.ts';
import { nabProbation, planNabFile } from './plan.ts';

const sig = (p: number): number => (p > 3 ? -1 : 2 / (1 + Math.exp(5 * p)) - 1);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i * 1000);

describe('nabProbation', () => {
  it('is 15% of the rows, capped at 750', () => {
    expect(nabProbation(20)).toBe(3);
    expect(nabProbation(4032)).toBe(604);
    expect(nabProbation(22695)).toBe(750);
  });
});

describe('planNabFile', () => {
  it('maps rows to windows by inclusive timestamp limits', () => {
    const plan = planNabFile(range(20), [[10_000, 13_000]]);
    expect(plan.windows).toEqual([{ start: 10_000, end: 13_000, first: 10, last: 13, width: 4, scored: true }]);
    expect([...plan.rowWindow.slice(8, 16)]).toEqual([-1, -1, 0, 0, 0, 0, -1, -1]);
  });

  it('gives window rows their TP worth, earliest best and right edge zero', () => {
    const plan = planNabFile(range(20), [[10_000, 13_000]]);
    expect(plan.rowWorth[10]).toBeCloseTo(1, 12); // left edge: p = -1, worth exactly 1 after scaling
    expect(plan.rowWorth[11]).toBeCloseTo(sig(-3 / 4) / sig(-1), 12);
    expect(plan.rowWorth[13]).toBeCloseTo(sig(-1 / 4) / sig(-1), 12);
  });

  it('weights rows outside windows by distance from the preceding window, -1 before any', () => {
    const plan = planNabFile(range(30), [[10_000, 13_000]]);
    expect(plan.rowWorth[5]).toBe(-1);
    expect(plan.rowWorth[14]).toBeCloseTo(sig(1 / 3), 12);
    expect(plan.rowWorth[16]).toBeCloseTo(sig(1), 12);
    expect(plan.rowWorth[29]).toBe(-1); // 16/3 > 3
  });

  it('marks windows wholly inside the probationary period as not scored', () => {
    const plan = planNabFile(range(100), [[2_000, 4_000], [50_000, 60_000]]);
    expect(plan.probation).toBe(15);
    expect(plan.windows.map((w) => w.scored)).toEqual([false, true]);
  });

  it('accepts duplicated timestamps (NAB has DST repeats) and sorts windows', () => {
    const ts = [0, 1000, 2000, 2000, 2000, 3000, 4000];
    const plan = planNabFile(ts, [[3000, 4000], [2000, 2000]]);
    expect(plan.windows.map((w) => [w.first, w.last])).toEqual([[2, 4], [5, 6]]);
  });

  it('rejects overlapping windows and windows with gaps, with code E_NAB_WINDOWS', () => {
    const codeOf = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof NabError ? e.code : 'other';
      }
      return undefined;
    };
    expect(codeOf(() => planNabFile(range(20), [[1000, 5000], [5000, 8000]]))).toBe('E_NAB_WINDOWS');
    expect(codeOf(() => planNabFile(range(20), [[5000, 1000]]))).toBe('E_NAB_WINDOWS');
    expect(codeOf(() => planNabFile([0, 5000, 1000, 6000], [[4000, 7000]]))).toBe('E_NAB_WINDOWS');
    expect(codeOf(() => planNabFile([0, Number.NaN], []))).toBe('E_NAB_INPUT');
  });
});
