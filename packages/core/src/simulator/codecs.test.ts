import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { crc32, encodePngGray, parsePngGray, PngError } from './png.ts';
import { encodeWav, parseWav } from './wav.ts';
import { createRng } from './prng.ts';

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

describe('png', () => {
  it('round-trips random grayscale images', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 30 }), fc.integer(), (w, h, seed) => {
        const rng = createRng(seed);
        const px = new Uint8Array(w * h).map(() => rng.int(256));
        const back = parsePngGray(encodePngGray(w, h, px));
        expect(back.width).toBe(w);
        expect(back.height).toBe(h);
        expect(Buffer.from(back.pixels).equals(Buffer.from(px))).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('writes a valid signature, IHDR and CRCs, and rejects a corrupted byte', () => {
    const png = encodePngGray(3, 2, new Uint8Array([0, 50, 100, 150, 200, 250]));
    expect([...png.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    expect(new TextDecoder().decode(png.subarray(12, 16))).toBe('IHDR');
    const bad = png.slice();
    bad[20] = (bad[20] ?? 0) ^ 0xff; // inside IHDR data
    expect(() => parsePngGray(bad)).toThrow(PngError);
    expect(() => parsePngGray(bad)).toThrow(/CRC mismatch in chunk IHDR/);
  });

  it('refuses a pixel buffer of the wrong size', () => {
    expect(() => encodePngGray(4, 4, new Uint8Array(15))).toThrow(/expected 4x4=16 pixels, got 15/);
  });
});

describe('wav', () => {
  it('writes a PCM 16-bit mono RIFF header and round-trips samples within one LSB', () => {
    const rng = createRng(5);
    const samples = new Float32Array(1000).map(() => rng.range(-1, 1));
    const bytes = encodeWav(samples, 16000);
    const v = new DataView(bytes.buffer);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('RIFF');
    expect(v.getUint32(4, true)).toBe(bytes.length - 8);
    expect(v.getUint16(20, true)).toBe(1);
    expect(v.getUint16(22, true)).toBe(1);
    expect(v.getUint32(24, true)).toBe(16000);
    expect(v.getUint16(34, true)).toBe(16);
    const back = parseWav(bytes);
    expect(back.sampleRateHz).toBe(16000);
    expect(back.channels).toBe(1);
    expect(back.samples.length).toBe(1000);
    for (let i = 0; i < samples.length; i++) expect(Math.abs((back.samples[i] ?? 0) - (samples[i] ?? 0))).toBeLessThan(1 / 32767 + 1e-6);
  });

  it('clips out-of-range samples and rejects non-WAV input', () => {
    const back = parseWav(encodeWav(new Float32Array([2, -3]), 8000));
    expect([...back.samples]).toEqual([1, -1]);
    expect(() => parseWav(new Uint8Array(20))).toThrow(/not a RIFF\/WAVE file/);
  });
});

describe('prng', () => {
  it('is reproducible per seed and stream, and streams differ', () => {
    const a = createRng(9, 'x');
    const b = createRng(9, 'x');
    const c = createRng(9, 'y');
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
    expect(sa.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('produces roughly standard normals', () => {
    const r = createRng(1);
    const xs = Array.from({ length: 20000 }, () => r.normal());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
  });
});
