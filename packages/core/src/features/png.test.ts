import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { renderFrame } from '../simulator/camera.ts';
import { encodePngGray } from '../simulator/png.ts';
import { createRng } from '../simulator/prng.ts';
import { MediaDecodeError } from './errors.ts';
import { makePng, pngChunk } from './fixtures.ts';
import { decodePng } from './png.ts';

function decodeError(bytes: Uint8Array): MediaDecodeError {
  try {
    decodePng(bytes);
  } catch (e) {
    if (e instanceof MediaDecodeError) return e;
    throw e;
  }
  throw new Error('expected decodePng to throw');
}

const lumaOf = (colour: number, s: Uint8Array, i: number): number => {
  switch (colour) {
    case 0:
      return s[i] ?? 0;
    case 4:
      return s[i * 2] ?? 0;
    case 2:
      return Math.round(0.299 * (s[i * 3] ?? 0) + 0.587 * (s[i * 3 + 1] ?? 0) + 0.114 * (s[i * 3 + 2] ?? 0));
    default:
      return Math.round(0.299 * (s[i * 4] ?? 0) + 0.587 * (s[i * 4 + 1] ?? 0) + 0.114 * (s[i * 4 + 2] ?? 0));
  }
};

describe('decodePng', () => {
  it('round-trips every colour type and filter combination (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom(0, 2, 4, 6),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 5 }),
        fc.integer(),
        (w, h, colour, filters, seed) => {
          const ch = { 0: 1, 4: 2, 2: 3, 6: 4 }[colour] ?? 1;
          const rng = createRng(seed, 'png');
          const samples = Uint8Array.from({ length: w * h * ch }, () => rng.int(256));
          const d = decodePng(makePng(w, h, colour, samples, filters));
          expect(d).toMatchObject({ width: w, height: h, channels: ch });
          for (let i = 0; i < w * h; i++) expect(d.luma[i]).toBe(lumaOf(colour, samples, i));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("reads the simulator's camera frames exactly", () => {
    const px = renderFrame(createRng(3, 'cam'), { camera: 'cam-intake', width: 96, height: 64, timeMs: 1_700_000_000_000, intruder: { x: 40, y: 44 } });
    const d = decodePng(encodePngGray(96, 64, px));
    expect(d.width).toBe(96);
    expect(d.height).toBe(64);
    expect(Array.from(d.luma)).toEqual(Array.from(px));
  });

  it('refuses corrupt and unsupported images with E_MEDIA_DECODE and says why', () => {
    const px = Uint8Array.from({ length: 48 }, (_, i) => i * 5);
    const good = makePng(8, 6, 0, px, [0, 1, 2, 3, 4]);
    const badCrc = good.slice();
    badCrc[40] = (badCrc[40] ?? 0) ^ 0xff; // a byte inside the IHDR/tEXt region
    const badData = good.slice();
    // Flip a byte inside the first IDAT's payload and fix its CRC, so only zlib can notice.
    const idatAt = findChunk(good, 'IDAT');
    const len = new DataView(good.buffer).getUint32(idatAt);
    const payload = good.slice(idatAt + 8, idatAt + 8 + len);
    payload[2] = (payload[2] ?? 0) ^ 0xff;
    badData.set(pngChunk('IDAT', payload), idatAt);
    const cases: Array<[Uint8Array, RegExp]> = [
      [good.subarray(0, good.length - 20), /truncated/],
      [good.subarray(0, 30), /truncated/],
      [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, ...good.subarray(8)]), /bad 8-byte signature/],
      [badCrc, /fails its CRC check/],
      [badData, /does not inflate|image data holds/],
      [makePng(8, 6, 0, px, [0], { depth: 16 }), /bit depth 16 is not supported/],
      [makePng(8, 6, 3, px), /colour type 3 is not supported/],
      [makePng(8, 6, 0, px, [0], { interlace: 1 }), /interlaced PNG is not supported/],
      [makePng(8, 6, 0, px, [5]), /unknown filter type 5/],
    ];
    for (const [bytes, why] of cases) {
      const e = decodeError(bytes);
      expect(e.code).toBe('E_MEDIA_DECODE');
      expect(e.message).toMatch(why);
    }
  });
});

function findChunk(png: Uint8Array, type: string): number {
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let off = 8; off + 8 <= png.length; off += 12 + v.getUint32(off)) {
    if (String.fromCharCode(...png.subarray(off + 4, off + 8)) === type) return off;
  }
  throw new Error(`no ${type} chunk`);
}
