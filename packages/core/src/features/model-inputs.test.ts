import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { imageInput, logMelPatches, resample, windowInput } from './model-inputs.ts';
import { createLogMelPlan } from './logmel.ts';

describe('model inputs', () => {
  it('cuts log-mel into mel-major patches and normalises per band', () => {
    const sr = 8000;
    const xs = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i * 0.2) + 0.3 * Math.sin(i * 1.3));
    const spec = { sampleRateHz: sr, fftSize: 256, hopSize: 128, melBins: 8, patchFrames: 4, patchHop: 2 };
    const lm = createLogMelPlan({ sampleRateHz: sr, fftSize: 256, hopSize: 128, melBins: 8 }).logMel(xs);
    const mean = Array.from({ length: 8 }, (_, m) => m - 3);
    const std = Array.from({ length: 8 }, (_, m) => 1 + m / 4);
    const p = logMelPatches(xs, { ...spec, mean, std });
    expect(p.patches).toBe(Math.floor((lm.frames - 4) / 2) + 1);
    // patch 3, band 5, frame 2 ← log-mel frame 3·2 + 2, band 5
    expect(p.data[(3 * 8 + 5) * 4 + 2]).toBeCloseTo(
      ((lm.data[(6 + 2) * 8 + 5] ?? 0) - (mean[5] ?? 0)) / (std[5] ?? 1),
      5,
    );
    expect(() => logMelPatches(new Float32Array(300), spec)).toThrow(/fewer than one 4-frame patch/);
  });

  it('lays a window out channels × steps from the newest rows, normalised', () => {
    const rows = [
      [1, 10],
      [2, 20],
      [3, 30],
    ];
    const x = windowInput(rows, { channels: ['a', 'b'], steps: 2, mean: [0, 10], std: [1, 10] });
    expect(Array.from(x)).toEqual([2, 3, 1, 2]);
    expect(() => windowInput(rows.slice(0, 1), { channels: ['a', 'b'], steps: 2, mean: [0, 0], std: [1, 1] })).toThrow(
      /needs 2 rows, got 1/,
    );
  });

  it('normalises a frame and refuses another size', () => {
    expect(
      Array.from(imageInput([0, 255, 51, 102], 2, 2, { width: 2, height: 2, mean: 0.2, std: 0.5 })).map(
        (v) => +v.toFixed(5),
      ),
    ).toEqual([-0.4, 1.6, 0, 0.4]);
    expect(() => imageInput(new Uint8Array(6), 3, 2, { width: 2, height: 2 })).toThrow(/3×2 but the model expects 2×2/);
  });

  it('resamples a tone to the same tone and keeps the length ratio', () => {
    fc.assert(
      fc.property(fc.constantFrom(8000, 22050, 44100, 48000), fc.integer({ min: 100, max: 1500 }), (from, hz) => {
        const to = 16000;
        const xs = Float32Array.from({ length: from / 10 }, (_, i) => Math.sin((2 * Math.PI * hz * i) / from));
        const ys = resample(xs, from, to);
        expect(ys.length).toBe(Math.floor((xs.length * to) / from));
        // away from the edges the output follows the tone at the new rate
        let worst = 0;
        for (let i = 100; i < ys.length - 100; i++)
          worst = Math.max(worst, Math.abs((ys[i] ?? 0) - Math.sin((2 * Math.PI * hz * i) / to)));
        expect(worst).toBeLessThan(0.02);
      }),
      { numRuns: 12 },
    );
    expect(() => resample([1], 0, 16000)).toThrow(/rates must be positive/);
  });
});
