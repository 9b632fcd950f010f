import { describe, it, expect } from 'vitest';
import { auc, matchDetections, rng, runRiver, RiverUnavailableError, spearman } from './river.ts';

describe('river reference helper', () => {
  it('fails (never skips) with install instructions when the interpreter is missing', () => {
    let err: unknown;
    try {
      runRiver({ detector: 'adwin', params: {}, values: [0, 1] }, { python: '/nonexistent/python3' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RiverUnavailableError);
    expect((err as RiverUnavailableError).code).toBe('E_RIVER_UNAVAILABLE');
    expect((err as Error).message).toContain('pip install -r tests/reference/requirements.txt');
  });

  it('pairs detections within the tolerance, each at most once', () => {
    expect(matchDetections([100, 205, 900], [110, 200, 500], 50)).toEqual({ matched: 2, maxDistance: 10 });
    expect(matchDetections([100], [90, 110], 50)).toEqual({ matched: 1, maxDistance: 10 });
    expect(matchDetections([], [5], 50)).toEqual({ matched: 0, maxDistance: 0 });
  });

  it('computes Spearman correlation and AUC on known cases', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // Monotone transforms do not change ranks.
    expect(spearman([0.1, 0.5, 0.3, 0.9], [Math.exp(0.1), Math.exp(0.5), Math.exp(0.3), Math.exp(0.9)])).toBeCloseTo(
      1,
      12,
    );
    expect(auc([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0])).toBe(1);
    expect(auc([0.1, 0.2, 0.9, 0.8], [1, 1, 0, 0])).toBe(0);
    expect(auc([0.5, 0.5], [1, 0])).toBe(0.5);
  });

  it('draws the same stream for the same seed', () => {
    const a = rng(9);
    const b = rng(9);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBe(5);
  });
});
