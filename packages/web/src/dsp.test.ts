import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeWav, fft, heatColour, spectrogram } from './dsp.ts';
import { diffHeat } from './imagediff.ts';
import { periodsOf, splitHighlight } from './text.ts';
import { encodeWav } from '../../core/src/simulator/wav.ts';

describe('WAV decoding', () => {
  it('reads what the simulator writes', () => {
    const pcm = new Float32Array(400).map((_, i) => Math.sin(i / 10) * 0.5);
    const w = decodeWav(encodeWav(pcm, 16000));
    expect(w.sampleRate).toBe(16000);
    expect(w.samples.length).toBe(400);
    for (let i = 0; i < 400; i += 37) expect(w.samples[i]!).toBeCloseTo(pcm[i]!, 3);
  });

  it('rejects what is not a WAV, with a code', () => {
    expect(() => decodeWav(new Uint8Array([1, 2, 3]))).toThrow(expect.objectContaining({ code: 'E_WAV' }) as Error);
  });
});

describe('FFT and spectrogram', () => {
  it('agrees with a direct DFT on random input', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 16, maxLength: 16 }), (xs) => {
        const re = Float64Array.from(xs);
        const im = new Float64Array(16);
        fft(re, im);
        for (let k = 0; k < 16; k++) {
          let sr = 0;
          let si = 0;
          xs.forEach((x, n) => {
            sr += x * Math.cos((-2 * Math.PI * k * n) / 16);
            si += x * Math.sin((-2 * Math.PI * k * n) / 16);
          });
          expect(re[k]!).toBeCloseTo(sr, 9);
          expect(im[k]!).toBeCloseTo(si, 9);
        }
      }),
      { numRuns: 50 },
    );
    expect(() => fft(new Float64Array(12), new Float64Array(12))).toThrow(/power of two/);
  });

  it('puts a 1 kHz tone in the 1 kHz bin, near 0 dB', () => {
    const rate = 16000;
    const samples = new Float32Array(4096).map((_, i) => Math.sin((2 * Math.PI * 1000 * i) / rate));
    const s = spectrogram(samples, { size: 256, hop: 128, sampleRate: rate });
    expect(s.frames).toBe(31);
    expect(s.bins).toBe(129);
    const frame = Array.from(s.db.subarray(5 * s.bins, 6 * s.bins));
    const peak = frame.indexOf(Math.max(...frame));
    expect(peak * s.binHz).toBe(1000);
    expect(frame[peak]!).toBeGreaterThan(-1.5);
    expect(frame[peak]!).toBeLessThan(0.5);
  });

  it('maps heat to valid colours', () => {
    for (const x of [-1, 0, 0.3, 0.7, 1, 2, Number.NaN])
      for (const c of heatColour(x)) expect(c >= 0 && c <= 255).toBe(true);
  });
});

describe('frame difference', () => {
  it('finds the changed region and its share', () => {
    const w = 10;
    const hgt = 10;
    const a = new Uint8ClampedArray(w * hgt * 4).fill(50);
    const b = a.slice();
    for (let y = 0; y < 5; y++) for (let x = 0; x < 2; x++) b.fill(200, (y * w + x) * 4, (y * w + x) * 4 + 3);
    const d = diffHeat(a, b, w, hgt);
    expect(d.changedPct).toBe(10);
    expect(d.maxDelta).toBeCloseTo(150, 5);
    expect(d.rgba[3]).toBe(220); // changed pixel: opaque overlay
    expect(d.rgba[(9 * w + 9) * 4 + 3]).toBe(0); // unchanged pixel: transparent
    expect(() => diffHeat(a, b.subarray(4), w, hgt)).toThrow(/expected 400 bytes/);
  });
});

describe('highlighting and periods', () => {
  it('splits text into parts that join back to it, marking every occurrence', () => {
    expect(splitHighlight('Failed password; FAILED again', ['failed'])).toEqual([
      { text: 'Failed', hit: true },
      { text: ' password; ', hit: false },
      { text: 'FAILED', hit: true },
      { text: ' again', hit: false },
    ]);
    fc.assert(
      fc.property(fc.string(), fc.array(fc.string({ maxLength: 3 })), (s, terms) => {
        const parts = splitHighlight(s, terms);
        expect(parts.map((p) => p.text).join('')).toBe(s);
        for (let i = 1; i < parts.length; i++) expect(parts[i]!.hit).not.toBe(parts[i - 1]!.hit);
      }),
    );
  });

  it('merges close times into periods', () => {
    expect(periodsOf([9000, 1000, 2000], 3000)).toEqual([
      { from: 1000, to: 2000 },
      { from: 9000, to: 9000 },
    ]);
    expect(periodsOf([], 1)).toEqual([]);
  });
});
