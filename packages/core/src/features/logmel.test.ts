import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createLogMelPlan, hzToMel, melToHz, mfcc } from './logmel.ts';
import { MediaDecodeError } from './errors.ts';

/** Reference: windowed naive DFT power, dense filterbank, natural log with a floor. */
function referenceFrame(
  samples: ArrayLike<number>,
  start: number,
  n: number,
  fb: Float64Array[],
  floor: number,
): number[] {
  const power: number[] = [];
  for (let k = 0; k <= n / 2; k++) {
    let re = 0;
    let im = 0;
    for (let t = 0; t < n; t++) {
      const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * t) / n);
      const x = (samples[start + t] ?? 0) * w;
      re += x * Math.cos((-2 * Math.PI * k * t) / n);
      im += x * Math.sin((-2 * Math.PI * k * t) / n);
    }
    power.push(re * re + im * im);
  }
  return fb.map((row) => {
    let acc = 0;
    for (let k = 0; k < row.length; k++) acc += (row[k] ?? 0) * (power[k] ?? 0);
    return Math.log(Math.max(acc, floor));
  });
}

describe('log-mel', () => {
  it('agrees with a naive DFT reference on random audio', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 64, maxLength: 200 }),
        fc.constantFrom(16, 32, 64),
        (xs, n) => {
          const plan = createLogMelPlan({ sampleRateHz: 8000, fftSize: n, hopSize: n / 4, melBins: 6 });
          const { data, frames } = plan.logMel(xs);
          expect(frames).toBe(Math.floor((xs.length - n) / (n / 4)) + 1);
          const fb = plan.filterbank();
          for (let f = 0; f < frames; f++) {
            const ref = referenceFrame(xs, f * (n / 4), n, fb, 1e-10);
            for (let m = 0; m < 6; m++) expect(data[f * 6 + m]).toBeCloseTo(ref[m] ?? 0, 3);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('puts a pure tone in the band whose centre is nearest', () => {
    const sr = 16000;
    const plan = createLogMelPlan({ sampleRateHz: sr, fftSize: 512, hopSize: 256, melBins: 32 });
    const tone = Float32Array.from({ length: sr }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 3150 * i) / sr));
    const { data, frames } = plan.logMel(tone);
    expect(frames).toBe(61);
    const row = Array.from(data.subarray(10 * 32, 11 * 32));
    const best = row.indexOf(Math.max(...row));
    const centres = Array.from({ length: 32 }, (_, m) => melToHz(((m + 1) * hzToMel(sr / 2)) / 33));
    const nearest = centres.reduce(
      (bi, c, i) => (Math.abs(c - 3150) < Math.abs((centres[bi] ?? 0) - 3150) ? i : bi),
      0,
    );
    expect(Math.abs(best - nearest)).toBeLessThanOrEqual(1);
  });

  it('keeps silence finite at the floor and refuses a clip shorter than one frame', () => {
    const plan = createLogMelPlan({ sampleRateHz: 16000, fftSize: 256, floor: 1e-6 });
    const { data } = plan.logMel(new Float32Array(1024));
    for (const v of data) expect(v).toBeCloseTo(Math.log(1e-6), 5);
    expect(() => plan.logMel(new Float32Array(100))).toThrow(MediaDecodeError);
    expect(() => plan.logMel(new Float32Array(100))).toThrow(/shorter than one 256-sample frame/);
  });

  it('names the bad option', () => {
    expect(() => createLogMelPlan({ sampleRateHz: 16000, fftSize: 500 })).toThrow(/fftSize must be a power of two/);
    expect(() => createLogMelPlan({ sampleRateHz: 16000, melBins: 0 })).toThrow(/melBins/);
    expect(() => createLogMelPlan({ sampleRateHz: 16000, fMaxHz: 9000 })).toThrow(/fMaxHz/);
    expect(() => createLogMelPlan({ sampleRateHz: -1 })).toThrow(/sampleRateHz/);
  });

  it('reuses a caller buffer and does not mutate the input', () => {
    const plan = createLogMelPlan({ sampleRateHz: 8000, fftSize: 64, melBins: 8 });
    const xs = Float32Array.from({ length: 640 }, (_, i) => Math.sin(i * 0.3));
    const copy = Float32Array.from(xs);
    const buf = new Float32Array(plan.frameCount(640) * 8);
    const r = plan.logMel(xs, buf);
    expect(r.data).toBe(buf);
    expect(xs).toEqual(copy);
    expect(plan.logMel(xs).data).toEqual(buf);
  });
});

describe('mfcc', () => {
  it('is an orthonormal DCT-II: energy preserved when all coefficients are kept', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: -20, max: 5, noNaN: true }), { minLength: 16, maxLength: 16 }), (row) => {
        const c = mfcc(row, 1, 16, 16);
        const e1 = row.reduce((a, x) => a + x * x, 0);
        const e2 = Array.from(c).reduce((a, x) => a + x * x, 0);
        expect(e2).toBeCloseTo(e1, 1);
      }),
    );
  });

  it('gives c0 = sum/√M for a flat spectrum and zero elsewhere', () => {
    const c = mfcc(new Float32Array(8).fill(-3), 1, 8, 4);
    expect(c[0]).toBeCloseTo((-3 * 8) / Math.sqrt(8), 5);
    for (let k = 1; k < 4; k++) expect(c[k]).toBeCloseTo(0, 5);
    expect(() => mfcc(new Float32Array(8), 1, 8, 9)).toThrow(/coeffs/);
  });
});
