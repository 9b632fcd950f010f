/**
 * WAV (RIFF/WAVE) decoding to mono float samples: integer PCM of 16, 24 or 32 bits, IEEE float of
 * 32 or 64 bits, plain or WAVE_FORMAT_EXTENSIBLE; channels are averaged (mono mixdown).
 * Anything else, or a malformed file, throws MediaDecodeError (E_MEDIA_DECODE) saying what is wrong.
 *
 * @example
 * const { sampleRateHz, channels, samples } = decodeWav(bytes); // samples: Float64Array in [-1, 1]
 */
import { MediaDecodeError } from './errors.ts';

export interface DecodedWav {
  sampleRateHz: number;
  /** Channels in the file (samples are already mixed down to one). */
  channels: number;
  bitsPerSample: number;
  encoding: 'pcm' | 'float';
  /** Mono samples, full scale = ±1. */
  samples: Float64Array;
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

function tag(bytes: Uint8Array, off: number): string {
  return String.fromCharCode(...bytes.subarray(off, off + 4));
}

/** A printable rendering of a four-character code, for error messages. */
function show(s: string): string {
  return JSON.stringify(s.replace(/[^\x20-\x7e]/g, '?'));
}

interface Fmt {
  encoding: 'pcm' | 'float';
  channels: number;
  rate: number;
  bits: number;
  blockAlign: number;
}

function parseFmt(v: DataView, body: number, size: number): Fmt {
  if (size < 16) throw new MediaDecodeError(`WAV fmt chunk is ${size} bytes, expected at least 16`);
  let format = v.getUint16(body, true);
  const channels = v.getUint16(body + 2, true);
  const rate = v.getUint32(body + 4, true);
  const blockAlign = v.getUint16(body + 12, true);
  const bits = v.getUint16(body + 14, true);
  if (format === FORMAT_EXTENSIBLE) {
    // The real format code is the first two bytes of the SubFormat GUID, at offset 24 of the chunk.
    if (size < 40) throw new MediaDecodeError(`WAV extensible fmt chunk is ${size} bytes, expected 40`);
    format = v.getUint16(body + 24, true);
  }
  let encoding: 'pcm' | 'float';
  if (format === FORMAT_PCM) {
    if (bits !== 16 && bits !== 24 && bits !== 32) {
      throw new MediaDecodeError(`WAV PCM with ${bits} bits per sample is not supported (16, 24 or 32)`);
    }
    encoding = 'pcm';
  } else if (format === FORMAT_FLOAT) {
    if (bits !== 32 && bits !== 64) throw new MediaDecodeError(`WAV float with ${bits} bits per sample is not supported (32 or 64)`);
    encoding = 'float';
  } else {
    throw new MediaDecodeError(`WAV format code 0x${format.toString(16)} is not supported (PCM or IEEE float only)`);
  }
  if (channels < 1) throw new MediaDecodeError('WAV fmt chunk declares 0 channels');
  if (rate < 1) throw new MediaDecodeError('WAV fmt chunk declares a sample rate of 0 Hz');
  if (blockAlign !== channels * (bits / 8)) {
    throw new MediaDecodeError(`WAV block align ${blockAlign} does not match ${channels} channel(s) of ${bits} bits`);
  }
  return { encoding, channels, rate, bits, blockAlign };
}

function readSample(v: DataView, off: number, f: Fmt): number {
  if (f.encoding === 'float') return f.bits === 32 ? v.getFloat32(off, true) : v.getFloat64(off, true);
  switch (f.bits) {
    case 16:
      return v.getInt16(off, true) / 32768;
    case 24: {
      // Little-endian 3 bytes, sign taken from the top byte.
      const lo = v.getUint16(off, true);
      const hi = v.getInt8(off + 2);
      return (hi * 65536 + lo) / 8388608;
    }
    default:
      return v.getInt32(off, true) / 2147483648;
  }
}

/** Decodes a WAV file to mono samples; throws MediaDecodeError naming what is wrong. */
export function decodeWav(bytes: Uint8Array): DecodedWav {
  if (bytes.length < 12) throw new MediaDecodeError(`WAV file of ${bytes.length} bytes is too short for a RIFF header`);
  if (tag(bytes, 0) !== 'RIFF' || tag(bytes, 8) !== 'WAVE') {
    throw new MediaDecodeError(`not a RIFF/WAVE file (starts with ${show(tag(bytes, 0))}/${show(tag(bytes, 8))})`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 12;
  let fmt: Fmt | undefined;
  while (off + 8 <= bytes.length) {
    const id = tag(bytes, off);
    const size = v.getUint32(off + 4, true);
    const body = off + 8;
    if (body + size > bytes.length) {
      throw new MediaDecodeError(`WAV chunk ${show(id)} at byte ${off} declares ${size} bytes but the file ends at ${bytes.length} (truncated)`);
    }
    if (id === 'fmt ') fmt = parseFmt(v, body, size);
    else if (id === 'data') {
      if (!fmt) throw new MediaDecodeError('WAV data chunk comes before the fmt chunk');
      if (size % fmt.blockAlign !== 0) {
        throw new MediaDecodeError(`WAV data chunk of ${size} bytes is not a whole number of ${fmt.blockAlign}-byte frames`);
      }
      const frames = size / fmt.blockAlign;
      if (frames === 0) throw new MediaDecodeError('WAV data chunk holds no samples');
      const step = fmt.bits / 8;
      const samples = new Float64Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        const at = body + i * fmt.blockAlign;
        for (let c = 0; c < fmt.channels; c++) sum += readSample(v, at + c * step, fmt);
        const s = sum / fmt.channels;
        if (!Number.isFinite(s)) throw new MediaDecodeError(`WAV sample ${i} is not a finite number`);
        samples[i] = s;
      }
      return { sampleRateHz: fmt.rate, channels: fmt.channels, bitsPerSample: fmt.bits, encoding: fmt.encoding, samples };
    }
    off = body + size + (size & 1); // chunks are padded to even sizes
  }
  throw new MediaDecodeError(fmt ? 'WAV file has no data chunk (truncated?)' : 'WAV file has no fmt chunk (truncated?)');
}
