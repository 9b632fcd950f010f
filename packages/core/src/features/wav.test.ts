import { describe, it, expect } from 'vitest';
import { encodeWav } from '../simulator/wav.ts';
import { MediaDecodeError } from './errors.ts';
import { makeWav } from './fixtures.ts';
import { decodeWav } from './wav.ts';

const ramp = Array.from({ length: 64 }, (_, i) => Math.sin(i / 5) * 0.9);

function decodeError(bytes: Uint8Array): MediaDecodeError {
  try {
    decodeWav(bytes);
  } catch (e) {
    if (e instanceof MediaDecodeError) return e;
    throw e;
  }
  throw new Error('expected decodeWav to throw');
}

describe('decodeWav', () => {
  // Encoders scale by 2^(n-1) - 1 and decoders by 2^(n-1): allow that plus one rounding step.
  const layouts = [
    { bits: 16, format: 1, tol: 2 / 32768 },
    { bits: 24, format: 1, tol: 2 / 8388608 },
    { bits: 32, format: 1, tol: 2e-9 },
    { bits: 32, format: 3, tol: 1e-7 },
    { bits: 64, format: 3, tol: 1e-12 },
  ];
  for (const l of layouts) {
    for (const extensible of [false, true]) {
      it(`reads ${l.format === 3 ? 'float' : 'PCM'} ${l.bits}-bit${extensible ? ' (extensible)' : ''}`, () => {
        const w = decodeWav(makeWav([ramp], { rateHz: 22050, bits: l.bits, format: l.format, extensible }));
        expect(w.sampleRateHz).toBe(22050);
        expect(w.bitsPerSample).toBe(l.bits);
        expect(w.encoding).toBe(l.format === 3 ? 'float' : 'pcm');
        expect(w.samples.length).toBe(ramp.length);
        ramp.forEach((s, i) => expect(Math.abs((w.samples[i] ?? 0) - s)).toBeLessThanOrEqual(l.tol));
      });
    }
  }

  it('mixes channels down to mono by averaging', () => {
    const left = [0.5, -0.5, 1, 0];
    const right = [0.5, 0.5, -1, 0.25];
    const w = decodeWav(makeWav([left, right], { rateHz: 8000, bits: 24 }));
    expect(w.channels).toBe(2);
    expect(Array.from(w.samples, (s) => Number(s.toFixed(4)))).toEqual([0.5, 0, 0, 0.125]);
  });

  it("reads the simulator's clips back", () => {
    const src = Float32Array.from({ length: 1600 }, (_, i) => 0.7 * Math.sin((2 * Math.PI * 440 * i) / 16000));
    const w = decodeWav(encodeWav(src, 16000));
    expect(w).toMatchObject({ sampleRateHz: 16000, channels: 1, bitsPerSample: 16, encoding: 'pcm' });
    src.forEach((s, i) => expect(Math.abs((w.samples[i] ?? 0) - s)).toBeLessThan(1e-4));
  });

  it('skips unknown chunks, including odd-sized padded ones', () => {
    const base = makeWav([ramp], { rateHz: 8000, bits: 16 });
    const extra = new Uint8Array([...'LIST'].map((c) => c.charCodeAt(0)).concat([3, 0, 0, 0, 1, 2, 3, 0]));
    const bytes = new Uint8Array(base.length + extra.length);
    bytes.set(base.subarray(0, 36));
    bytes.set(extra, 36);
    bytes.set(base.subarray(36), 36 + extra.length);
    expect(decodeWav(bytes).samples.length).toBe(ramp.length);
  });

  it('refuses corrupt and unsupported files with E_MEDIA_DECODE and says why', () => {
    const good = makeWav([ramp], { rateHz: 8000, bits: 16 });
    const cases: Array<[Uint8Array, RegExp]> = [
      [good.subarray(0, good.length - 10), /truncated/],
      [good.subarray(0, 30), /truncated|fmt/],
      [good.subarray(0, 8), /too short/],
      [Uint8Array.from([...good.subarray(0, 8), ...new TextEncoder().encode('AVI '), ...good.subarray(12)]), /not a RIFF\/WAVE/],
      [makeWav([ramp], { rateHz: 8000, bits: 8 }), /PCM with 8 bits per sample is not supported/],
      [makeWav([ramp], { rateHz: 8000, bits: 16, format: 3 }), /float with 16 bits/],
      [makeWav([ramp], { rateHz: 8000, bits: 16, format: 0x55 }), /format code 0x55 is not supported/],
      [makeWav([[]], { rateHz: 8000, bits: 16 }), /no samples/],
    ];
    for (const [bytes, why] of cases) {
      const e = decodeError(bytes);
      expect(e.code).toBe('E_MEDIA_DECODE');
      expect(e.message).toMatch(why);
    }
  });
});
