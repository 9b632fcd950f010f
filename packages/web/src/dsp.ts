/**
 * Audio maths for the incident page, done in the browser: a WAV decoder (PCM 8/16/24/32-bit
 * and 32-bit float), an in-place radix-2 FFT and a magnitude spectrogram in dB. Pure, so it is
 * unit-tested against known tones.
 *
 * @example
 * const { sampleRate, samples } = decodeWav(new Uint8Array(await (await fetch(url)).arrayBuffer()));
 * const s = spectrogram(samples, { size: 256, hop: 128 }); // s.db[frame * s.bins + bin]
 */

export class WavError extends Error {
  readonly code = 'E_WAV';
}

export interface Pcm {
  sampleRate: number;
  /** Mono (channels averaged), in [-1, 1]. */
  samples: Float32Array;
}

function tag(v: DataView, at: number): string {
  return String.fromCharCode(v.getUint8(at), v.getUint8(at + 1), v.getUint8(at + 2), v.getUint8(at + 3));
}

export function decodeWav(bytes: Uint8Array): Pcm {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || tag(v, 0) !== 'RIFF' || tag(v, 8) !== 'WAVE')
    throw new WavError('not a WAV file (no RIFF/WAVE header)');
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = tag(v, at);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16) throw new WavError(`WAV fmt chunk too short (${size} bytes)`);
      let format = v.getUint16(body, true);
      // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID.
      if (format === 0xfffe && size >= 26) format = v.getUint16(body + 24, true);
      fmt = {
        format,
        channels: v.getUint16(body + 2, true),
        rate: v.getUint32(body + 4, true),
        bits: v.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (!fmt) throw new WavError('WAV data chunk before its fmt chunk');
      const { format, channels, rate, bits } = fmt;
      if (channels < 1) throw new WavError('WAV with 0 channels');
      const width = bits / 8;
      const frames = Math.floor(Math.min(size, bytes.length - body) / (width * channels));
      const out = new Float32Array(frames);
      const read = sampleReader(v, format, bits);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += read(body + (i * channels + c) * width);
        out[i] = sum / channels;
      }
      return { sampleRate: rate, samples: out };
    }
    at = body + size + (size % 2); // chunks are word-aligned
  }
  throw new WavError('WAV without a data chunk');
}

function sampleReader(v: DataView, format: number, bits: number): (at: number) => number {
  if (format === 3 && bits === 32) return (at) => v.getFloat32(at, true);
  if (format === 1) {
    switch (bits) {
      case 8:
        return (at) => (v.getUint8(at) - 128) / 128;
      case 16:
        return (at) => v.getInt16(at, true) / 32768;
      case 24:
        return (at) => (v.getUint8(at) | (v.getUint8(at + 1) << 8) | (v.getInt8(at + 2) << 16)) / 8388608;
      case 32:
        return (at) => v.getInt32(at, true) / 2147483648;
    }
  }
  throw new WavError(`unsupported WAV encoding (format ${format}, ${bits} bits)`);
}

/** In-place iterative radix-2 FFT; the length must be a power of two. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (n !== im.length || (n & (n - 1)) !== 0) throw new RangeError(`fft: length ${n} is not a power of two`);
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b]! * cr - im[b]! * ci;
        const ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
}

export interface Spectrogram {
  frames: number;
  /** size / 2 + 1 bins from 0 Hz to Nyquist. */
  bins: number;
  /** Magnitude in dB (relative to full scale), frame-major. */
  db: Float32Array;
  binHz: number;
  hopSecs: number;
}

/** Short-time Fourier transform with a Hann window. */
export function spectrogram(samples: Float32Array, o: { size: number; hop: number; sampleRate: number }): Spectrogram {
  const { size, hop } = o;
  const bins = size / 2 + 1;
  const frames = samples.length < size ? 0 : Math.floor((samples.length - size) / hop) + 1;
  const db = new Float32Array(frames * bins);
  const win = new Float64Array(size);
  let wsum = 0;
  for (let i = 0; i < size; i++) wsum += win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (size - 1));
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < size; i++) {
      re[i] = samples[f * hop + i]! * win[i]!;
      im[i] = 0;
    }
    fft(re, im);
    for (let b = 0; b < bins; b++) {
      // Scaled so a full-scale sine reads about 0 dB.
      const mag = (2 * Math.hypot(re[b]!, im[b]!)) / wsum;
      db[f * bins + b] = 20 * Math.log10(mag + 1e-9);
    }
  }
  return { frames, bins, db, binHz: o.sampleRate / size, hopSecs: hop / o.sampleRate };
}

/** Maps a value in [0, 1] to a dark-to-bright colour (black → purple → orange → yellow). */
export function heatColour(x: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, Number.isFinite(x) ? x : 0));
  const r = Math.round(255 * Math.min(1, t * 1.6));
  const g = Math.round(255 * Math.max(0, t * 1.4 - 0.4));
  const b = Math.round(255 * (t < 0.4 ? t * 1.5 : Math.max(0, 0.6 - (t - 0.4) * 1.5)));
  return [r, g, b];
}
