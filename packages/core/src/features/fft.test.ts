import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { fft, nextPowerOfTwo, powerSpectrum } from './fft.ts';

/** The O(n²) definition, as a reference. */
function naiveDft(x: number[]): { re: number[]; im: number[] } {
  const n = x.length;
  const re: number[] = [];
  const im: number[] = [];
  for (let k = 0; k < n; k++) {
    let r = 0;
    let i = 0;
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * k * t) / n;
      r += (x[t] ?? 0) * Math.cos(a);
      i += (x[t] ?? 0) * Math.sin(a);
    }
    re.push(r);
    im.push(i);
  }
  return { re, im };
}

describe('fft', () => {
  it('agrees with the naive DFT on random real input', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 128, maxLength: 128 }), (p, data) => {
        const n = 1 << p;
        const x = data.slice(0, n);
        const re = Float64Array.from(x);
        const im = new Float64Array(n);
        fft(re, im);
        const ref = naiveDft(x);
        for (let k = 0; k < n; k++) {
          expect(re[k]).toBeCloseTo(ref.re[k] ?? 0, 9);
          expect(im[k]).toBeCloseTo(ref.im[k] ?? 0, 9);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('puts a pure tone in its bin and keeps Parseval', () => {
    const n = 256;
    const x = Array.from({ length: n }, (_, t) => Math.cos((2 * Math.PI * 10 * t) / n));
    const p = powerSpectrum(x);
    expect(p.length).toBe(n / 2 + 1);
    let best = 0;
    for (let k = 1; k < p.length; k++) if ((p[k] ?? 0) > (p[best] ?? 0)) best = k;
    expect(best).toBe(10);
    const timeEnergy = x.reduce((s, v) => s + v * v, 0);
    const re = Float64Array.from(x);
    const im = new Float64Array(n);
    fft(re, im);
    let freqEnergy = 0;
    for (let k = 0; k < n; k++) freqEnergy += (re[k] ?? 0) ** 2 + (im[k] ?? 0) ** 2;
    expect(freqEnergy / n).toBeCloseTo(timeEnergy, 8);
  });

  it('refuses lengths that are not powers of two', () => {
    expect(() => fft(new Float64Array(12), new Float64Array(12))).toThrow(/power of two/);
    expect(nextPowerOfTwo(1000)).toBe(1024);
    expect(nextPowerOfTwo(1)).toBe(1);
  });
});
