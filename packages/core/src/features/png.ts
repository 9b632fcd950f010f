/**
 * PNG decoding to 8-bit luminance: bit depth 8, colour types grayscale, grayscale+alpha, RGB and
 * RGBA, non-interlaced, filter types 0–4. Every chunk CRC is checked; the zlib stream is inflated
 * with node:zlib (pure computation, no I/O). Anything else throws MediaDecodeError (E_MEDIA_DECODE).
 *
 * @example
 * const { width, height, luma } = decodePng(bytes); // luma: Uint8Array(width * height)
 */
import { inflateSync } from 'node:zlib';
import { MediaDecodeError } from './errors.ts';

export interface DecodedPng {
  width: number;
  height: number;
  /** Samples per pixel in the file: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. */
  channels: number;
  /** Luminance per pixel, row-major (Rec. 601 weights for colour; alpha ignored). */
  luma: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
/** Colour type → samples per pixel, for the types we read. */
const CHANNELS: Record<number, number> = { 0: 1, 4: 2, 2: 3, 6: 4 };
/** A bound on decoded size, so a tiny file cannot claim a gigapixel image. */
export const MAX_PNG_PIXELS = 16384 * 16384;

const CRC_TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (CRC_TABLE[(c ^ (bytes[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Reverses the per-row filters in place: raw holds (1 + stride) bytes per row. */
function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number): Uint8Array {
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)] ?? 0;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) {
      const r = raw[src + x] ?? 0;
      const a = x >= bpp ? (out[row + x - bpp] ?? 0) : 0;
      const b = y > 0 ? (out[prev + x] ?? 0) : 0;
      const c = x >= bpp && y > 0 ? (out[prev + x - bpp] ?? 0) : 0;
      let pred: number;
      switch (f) {
        case 0:
          pred = 0;
          break;
        case 1:
          pred = a;
          break;
        case 2:
          pred = b;
          break;
        case 3:
          pred = (a + b) >> 1;
          break;
        case 4:
          pred = paeth(a, b, c);
          break;
        default:
          throw new MediaDecodeError(`PNG row ${y} has unknown filter type ${f}`);
      }
      out[row + x] = (r + pred) & 0xff;
    }
  }
  return out;
}

/** Decodes a PNG to luminance; throws MediaDecodeError naming what is wrong. */
export function decodePng(bytes: Uint8Array): DecodedPng {
  for (let i = 0; i < 8; i++) {
    if (bytes[i] !== SIGNATURE[i]) throw new MediaDecodeError('not a PNG file (bad 8-byte signature)');
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (!ended) {
    if (off + 12 > bytes.length) throw new MediaDecodeError(`PNG ends at byte ${bytes.length} before the IEND chunk (truncated)`);
    const len = v.getUint32(off);
    const type = String.fromCharCode(...bytes.subarray(off + 4, off + 8));
    const name = JSON.stringify(type.replace(/[^\x20-\x7e]/g, '?'));
    if (off + 12 + len > bytes.length) {
      throw new MediaDecodeError(`PNG chunk ${name} at byte ${off} declares ${len} bytes but the file ends at ${bytes.length} (truncated)`);
    }
    if (v.getUint32(off + 8 + len) !== crc32(bytes, off + 4, off + 8 + len)) {
      throw new MediaDecodeError(`PNG chunk ${name} at byte ${off} fails its CRC check (corrupt)`);
    }
    const data = bytes.subarray(off + 8, off + 8 + len);
    if (off === 8 && type !== 'IHDR') throw new MediaDecodeError(`PNG first chunk is ${name}, expected IHDR`);
    if (type === 'IHDR') {
      if (len !== 13) throw new MediaDecodeError(`PNG IHDR is ${len} bytes, expected 13`);
      const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
      width = dv.getUint32(0);
      height = dv.getUint32(4);
      const depth = data[8] ?? 0;
      const colour = data[9] ?? 0;
      if (width === 0 || height === 0 || width * height > MAX_PNG_PIXELS) {
        throw new MediaDecodeError(`PNG size ${width}x${height} is empty or larger than ${MAX_PNG_PIXELS} pixels`);
      }
      if (depth !== 8) throw new MediaDecodeError(`PNG bit depth ${depth} is not supported (8 only)`);
      const ch = CHANNELS[colour];
      if (ch === undefined) throw new MediaDecodeError(`PNG colour type ${colour} is not supported (grayscale, RGB, RGBA)`);
      channels = ch;
      if (data[10] !== 0 || data[11] !== 0) throw new MediaDecodeError('PNG compression or filter method is not 0');
      if (data[12] !== 0) throw new MediaDecodeError('interlaced PNG is not supported');
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') ended = true;
    else if (((bytes[off + 4] ?? 0) & 0x20) === 0) {
      // Upper-case first letter marks a critical chunk we must understand; PLTE is only a suggested palette for RGB.
      if (type !== 'PLTE') throw new MediaDecodeError(`PNG critical chunk ${name} is not supported`);
    }
    off += 12 + len;
  }
  if (idat.length === 0) throw new MediaDecodeError('PNG has no IDAT chunk');
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(inflateSync(Buffer.concat(idat)));
  } catch (cause) {
    throw new MediaDecodeError(`PNG image data does not inflate: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  const stride = width * channels;
  if (raw.length !== (stride + 1) * height) {
    throw new MediaDecodeError(`PNG image data holds ${raw.length} bytes, expected ${(stride + 1) * height} for ${width}x${height}`);
  }
  const px = unfilter(raw, height, stride, channels);
  if (channels === 1) return { width, height, channels, luma: px };
  const luma = new Uint8Array(width * height);
  for (let i = 0; i < luma.length; i++) {
    const at = i * channels;
    if (channels === 2) luma[i] = px[at] ?? 0;
    else luma[i] = Math.round(0.299 * (px[at] ?? 0) + 0.587 * (px[at + 1] ?? 0) + 0.114 * (px[at + 2] ?? 0));
  }
  return { width, height, channels, luma };
}
