import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { aggregate, forecastError, mean, reconstructionError, squaredErrors, topFractionMean } from './score.ts';
import { ModelError } from './errors.ts';

const floats = fc.array(fc.float({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 200 });

describe('score mappings', () => {
  it('a perfect reconstruction scores 0; scores are finite and non-negative', () => {
    fc.assert(
      fc.property(floats, floats, (a, b) => {
        expect(reconstructionError(a, a, { reduce: 'mean' })).toBe(0);
        const n = Math.min(a.length, b.length);
        const x = a.slice(0, n);
        const y = b.slice(0, n);
        const m = reconstructionError(x, y, { reduce: 'mean' });
        const t = reconstructionError(x, y, { reduce: 'top_fraction', fraction: 0.1 });
        expect(Number.isFinite(m) && m >= 0).toBe(true);
        // the worst tenth is never better than the average
        expect(t).toBeGreaterThanOrEqual(m * (1 - 1e-6));
      }),
    );
  });

  it('top fraction 1 is the mean, and a single outlier dominates a small fraction', () => {
    fc.assert(
      fc.property(floats, (a) => {
        expect(topFractionMean(Float32Array.from(a), 1)).toBeCloseTo(mean(Float32Array.from(a)), 2);
      }),
    );
    const e = new Float32Array(100).fill(0.01);
    e[42] = 5;
    expect(topFractionMean(e, 0.01)).toBeCloseTo(5, 5);
    expect(mean(e)).toBeLessThan(0.1);
  });

  it('forecast error is the mean squared difference per channel', () => {
    expect(forecastError([1, 2, 3], [1, 0, 5])).toBeCloseTo((0 + 4 + 4) / 3, 6);
    expect(() => forecastError([1], [1, 2])).toThrow(/1 values for 2 channels/);
  });

  it('aggregates items by mean or max and refuses nothing', () => {
    expect(aggregate([1, 3])).toBe(2);
    expect(aggregate([1, 3], 'max')).toBe(3);
    expect(() => aggregate([])).toThrow(ModelError);
    expect(() => squaredErrors([1, 2], [1])).toThrow(/1 values for an input of 2/);
  });
});
