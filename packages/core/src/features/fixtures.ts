/**
 * Test encoders: WAV in every layout the decoder reads (and some it must refuse) and PNG in every
 * colour type and filter, so decoders are tested on data not made by the simulator alone.
 * Test support only; production code never encodes.
 *
 * @example
 * const wav = makeWav([[0, 0.5], [0, -0.5]], { rateHz: 8000, bits: 24 }); // 2 channels
 * const png = makePng(4, 2, 2, rgbBytes, [0, 4]); // RGB, rows filtered None and Paeth
 */
import { deflateSync } from 'node:zlib';

export interface WavSpec {
  rateHz: number;
  bits: number;
  /** 1 PCM, 3 float; anything else is written as given (to test refusals). */
  format?: number;
  /** Wrap the format in WAVE_FORMAT_EXTENSIBLE. */
  extensible?: boolean;
}

/** Encodes channels (arrays of samples in [-1, 1], equal lengths) as a WAV file. */
export function makeWav(channels: ReadonlyArray<ArrayLike<number>>, spec: WavSpec): Uint8Array {
  const nch = channels.length;
  const frames = channels[0]?.length ?? 0;
  const bps = spec.bits / 8;
  const fmtSize = spec.extensible ? 40 : 16;
  const dataBytes = frames * nch * bps;
  const buf = new Uint8Array(12 + 8 + fmtSize + 8 + dataBytes);
  const v = new DataView(buf.buffer);
  const ascii = (off: number, s: string): void => {
    for (let i = 0; i < 4; i++) buf[off + i] = s.charCodeAt(i);
  };
  const format = spec.format ?? 1;
  ascii(0, 'RIFF');
  v.setUint32(4, buf.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, fmtSize, true);
  v.setUint16(20, spec.extensible ? 0xfffe : format, true);
  v.setUint16(22, nch, true);
  v.setUint32(24, spec.rateHz, true);
  v.setUint32(28, spec.rateHz * nch * bps, true);
  v.setUint16(32, nch * bps, true);
  v.setUint16(34, spec.bits, true);
  if (spec.extensible) {
    v.setUint16(36, 22, true);
    v.setUint16(38, spec.bits, true);
    v.setUint32(40, 0, true);
    v.setUint16(44, format, true); // SubFormat GUID starts with the format code
  }
  const d = 20 + fmtSize;
  ascii(d, 'data');
  v.setUint32(d + 4, dataBytes, true);
  let off = d + 8;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nch; c++) {
      const s = Math.max(-1, Math.min(1, channels[c]?.[i] ?? 0));
      if (format === 3 && spec.bits === 32) v.setFloat32(off, s, true);
      else if (format === 3 && spec.bits === 64) v.setFloat64(off, s, true);
      else if (spec.bits === 16) v.setInt16(off, Math.round(s * 32767), true);
      else if (spec.bits === 24) {
        const x = Math.round(s * 8388607);
        v.setUint16(off, x & 0xffff, true);
        v.setInt8(off + 2, x >> 16);
      } else if (spec.bits === 32) v.setInt32(off, Math.round(s * 2147483647), true);
      else if (spec.bits === 8) v.setUint8(off, Math.round(s * 127) + 128);
      off += bps;
    }
  }
  return buf;
}

const CRC_TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc(out.subarray(4, 8 + data.length)));
  return out;
}

const CHANNELS: Record<number, number> = { 0: 1, 4: 2, 2: 3, 6: 4 };

/**
 * Encodes 8-bit samples (row-major, `channels` per pixel for the colour type) as a PNG, row y
 * filtered with filters[y % filters.length]; the IDAT is split in two to test concatenation.
 */
export function makePng(width: number, height: number, colour: number, samples: Uint8Array, filters: readonly number[] = [0], ihdr: { depth?: number; interlace?: number } = {}): Uint8Array {
  const ch = CHANNELS[colour] ?? 1;
  const stride = width * ch;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const f = filters[y % filters.length] ?? 0;
    raw[y * (stride + 1)] = f;
    for (let x = 0; x < stride; x++) {
      const at = (i: number, j: number): number => (i >= 0 && j >= 0 ? (samples[j * stride + i] ?? 0) : 0);
      const a = at(x - ch, y);
      const b = at(x, y - 1);
      const c = at(x - ch, y - 1);
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][f] ?? 0;
      raw[y * (stride + 1) + 1 + x] = ((samples[y * stride + x] ?? 0) - pred) & 0xff;
    }
  }
  const head = new Uint8Array(13);
  const hv = new DataView(head.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  head[8] = ihdr.depth ?? 8;
  head[9] = colour;
  head[12] = ihdr.interlace ?? 0;
  const z = new Uint8Array(deflateSync(raw));
  const cut = Math.floor(z.length / 2);
  const parts = [
    Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk('IHDR', head),
    pngChunk('tEXt', new TextEncoder().encode('Comment\0test')),
    pngChunk('IDAT', z.subarray(0, cut)),
    pngChunk('IDAT', z.subarray(cut)),
    pngChunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
