/**
 * PNG encoding of 8-bit grayscale images (zlib via node:zlib, which does no I/O; CRC32 here),
 * and a strict parser that checks signature, chunk CRCs and the IDAT stream.
 *
 * @example
 * const png = encodePngGray(96, 64, pixels); // pixels: Uint8Array(96 * 64)
 * const { width, height, pixels: back } = parsePngGray(png);
 */
import { deflateSync, inflateSync } from 'node:zlib';

export class PngError extends Error {
  readonly code = 'E_PNG_FORMAT';
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

const CRC_TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO-HDLC, as used by PNG and zip). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (CRC_TABLE[(c ^ (bytes[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

export function encodePngGray(width: number, height: number, pixels: Uint8Array): Uint8Array {
  if (pixels.length !== width * height) {
    throw new PngError(`expected ${width}x${height}=${width * height} pixels, got ${pixels.length}`);
  }
  const ihdr = new Uint8Array(13);
  const iv = new DataView(ihdr.buffer);
  iv.setUint32(0, width);
  iv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // colour type: grayscale
  // compression, filter, interlace: all 0
  const raw = new Uint8Array((width + 1) * height);
  for (let y = 0; y < height; y++) {
    // filter type 0 (None) per row: simplest, and the data is noisy anyway
    raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  }
  const idat = new Uint8Array(deflateSync(raw, { level: 6 }));
  const parts = [Uint8Array.from(SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export interface PngGray {
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** Parses an 8-bit grayscale, non-interlaced PNG (filter types 0–4); verifies every CRC. */
export function parsePngGray(bytes: Uint8Array): PngGray {
  for (let i = 0; i < 8; i++) if (bytes[i] !== SIGNATURE[i]) throw new PngError('bad PNG signature');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 8;
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (off + 12 <= bytes.length && !ended) {
    const len = v.getUint32(off);
    const type = String.fromCharCode(...bytes.subarray(off + 4, off + 8));
    if (off + 12 + len > bytes.length) throw new PngError(`chunk ${type} at ${off} runs past the end`);
    const crc = v.getUint32(off + 8 + len);
    if (crc !== crc32(bytes, off + 4, off + 8 + len)) throw new PngError(`CRC mismatch in chunk ${type} at ${off}`);
    const data = bytes.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
      width = dv.getUint32(0);
      height = dv.getUint32(4);
      if (data[8] !== 8 || data[9] !== 0 || data[12] !== 0) throw new PngError('only 8-bit grayscale non-interlaced PNG is supported');
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') ended = true;
    off += 12 + len;
  }
  if (!ended) throw new PngError('missing IEND chunk');
  if (width === 0 || height === 0) throw new PngError('missing IHDR chunk');
  const joined = new Uint8Array(idat.reduce((n, d) => n + d.length, 0));
  let at = 0;
  for (const d of idat) {
    joined.set(d, at);
    at += d.length;
  }
  const raw = new Uint8Array(inflateSync(joined));
  if (raw.length !== (width + 1) * height) throw new PngError(`IDAT holds ${raw.length} bytes, expected ${(width + 1) * height}`);
  const px = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (width + 1)];
    for (let x = 0; x < width; x++) {
      const r = raw[y * (width + 1) + 1 + x] ?? 0;
      const a = x > 0 ? (px[y * width + x - 1] ?? 0) : 0;
      const b = y > 0 ? (px[(y - 1) * width + x] ?? 0) : 0;
      const c = x > 0 && y > 0 ? (px[(y - 1) * width + x - 1] ?? 0) : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = b;
      else if (f === 3) pred = (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (f !== 0) throw new PngError(`unknown filter type ${f} on row ${y}`);
      px[y * width + x] = (r + pred) & 0xff;
    }
  }
  return { width, height, pixels: px };
}
