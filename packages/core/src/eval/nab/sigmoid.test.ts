import { describe, it, expect } from 'vitest';
import { MAX_TP_SIGMOID, scaledSigmoid } from './sigmoid.ts';

describe('scaledSigmoid', () => {
  it('matches the values NAB documents', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.98661, 5);
    expect(MAX_TP_SIGMOID).toBe(scaledSigmoid(-1));
  });

  it('is -1 beyond position 3 and decreasing up to there', () => {
    expect(scaledSigmoid(3.0001)).toBe(-1);
    expect(scaledSigmoid(100)).toBe(-1);
    let prev = Infinity;
    for (let p = -3; p <= 3; p += 0.25) {
      const v = scaledSigmoid(p);
      expect(v).toBeLessThan(prev);
      prev = v;
    }
  });
});
