/**
 * Log-mel spectrograms and MFCCs of mono audio, for the audio model stage (the same code produces
 * the training data in training/, so served and trained features cannot drift apart).
 * A plan precomputes the Hann window, FFT twiddles and the mel filterbank once; computing frames
 * then allocates nothing per frame.
 *
 * Conventions (librosa-compatible with `htk=True, center=False, power=2`): frames start at
 * 0, hop, 2·hop, …; only whole frames are taken; power spectrum |X|²; triangular filters on the
 * HTK mel scale with unit peak; log is natural, ln(max(mel, floor)).
 *
 * @example
 * const plan = createLogMelPlan({ sampleRateHz: 16000, fftSize: 512, hopSize: 256, melBins: 32 });
 * const { data, frames } = plan.logMel(samples); // data[f * 32 + m], frames = 61 for 1 s
 * const c = mfcc(data, frames, 32, 13);          // c[f * 13 + k]
 */
import { MediaDecodeError } from './errors.ts';

export interface LogMelOptions {
  sampleRateHz: number;
  /** FFT length in samples, a power of two ≥ 16 (default 512). */
  fftSize?: number;
  /** Samples between frame starts (default fftSize / 2). */
  hopSize?: number;
  /** Number of mel bands (default 32). */
  melBins?: number;
  /** Lowest filter edge, Hz (default 0). */
  fMinHz?: number;
  /** Highest filter edge, Hz (default sampleRateHz / 2). */
  fMaxHz?: number;
  /** Mel energies are floored here before the log so silence stays finite (default 1e-10). */
  floor?: number;
}

export interface LogMel {
  /** Row-major frames × melBins. */
  data: Float32Array;
  frames: number;
  melBins: number;
}

export interface LogMelPlan {
  readonly sampleRateHz: number;
  readonly fftSize: number;
  readonly hopSize: number;
  readonly melBins: number;
  /** Frames a clip of n samples yields (0 when shorter than one FFT). */
  frameCount(n: number): number;
  /** Log-mel of a whole clip; `out` (frames × melBins) is reused when given and large enough. */
  logMel(samples: ArrayLike<number>, out?: Float32Array): LogMel;
  /** Log-mel of the one frame starting at `start`, written to out[offset .. offset + melBins). */
  frame(samples: ArrayLike<number>, start: number, out: Float32Array, offset: number): void;
  /** The filterbank, for tests: weights[m][k] for FFT bin k. */
  filterbank(): Float64Array[];
}

export const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
export const melToHz = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

function bad(message: string): never {
  throw new RangeError(`log-mel: ${message}`);
}

export function createLogMelPlan(opts: LogMelOptions): LogMelPlan {
  const sr = opts.sampleRateHz;
  const n = opts.fftSize ?? 512;
  const hop = opts.hopSize ?? n / 2;
  const melBins = opts.melBins ?? 32;
  const fMin = opts.fMinHz ?? 0;
  const fMax = opts.fMaxHz ?? sr / 2;
  const floor = opts.floor ?? 1e-10;
  if (!(sr > 0) || !Number.isFinite(sr)) bad(`sampleRateHz must be a positive number, got ${sr}`);
  if (!Number.isInteger(n) || n < 16 || (n & (n - 1)) !== 0) bad(`fftSize must be a power of two ≥ 16, got ${n}`);
  if (!Number.isInteger(hop) || hop < 1) bad(`hopSize must be a positive integer, got ${hop}`);
  if (!Number.isInteger(melBins) || melBins < 1 || melBins > n / 2)
    bad(`melBins must be an integer in [1, ${n / 2}], got ${melBins}`);
  if (!(fMin >= 0 && fMax > fMin && fMax <= sr / 2))
    bad(`need 0 ≤ fMinHz < fMaxHz ≤ ${sr / 2} Hz, got ${fMin}..${fMax}`);
  if (!(floor > 0)) bad(`floor must be positive, got ${floor}`);

  // A real FFT of n points done as a complex FFT of n/2 points plus one split pass (half the work).
  const h = n / 2;
  const bins = h + 1;
  const win = new Float64Array(n);
  // Periodic Hann (as librosa/scipy use for spectra).
  for (let i = 0; i < n; i++) win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  const rev = new Uint32Array(h);
  const bitsH = Math.log2(h);
  for (let i = 0; i < h; i++) {
    let r = 0;
    for (let b = 0; b < bitsH; b++) r |= ((i >> b) & 1) << (bitsH - 1 - b);
    rev[i] = r;
  }
  const twRe = new Float64Array(h / 2 || 1);
  const twIm = new Float64Array(h / 2 || 1);
  for (let k = 0; k < h / 2; k++) {
    twRe[k] = Math.cos((-2 * Math.PI * k) / h);
    twIm[k] = Math.sin((-2 * Math.PI * k) / h);
  }
  const spRe = new Float64Array(h);
  const spIm = new Float64Array(h);
  for (let k = 0; k < h; k++) {
    spRe[k] = Math.cos((-2 * Math.PI * k) / n);
    spIm[k] = Math.sin((-2 * Math.PI * k) / n);
  }

  // Mel filterbank stored sparsely: band m covers bins [lo[m], lo[m] + len[m]).
  const melLo = hzToMel(fMin);
  const melHi = hzToMel(fMax);
  const edges = new Float64Array(melBins + 2);
  for (let i = 0; i < melBins + 2; i++) edges[i] = melToHz(melLo + ((melHi - melLo) * i) / (melBins + 1));
  const dense: Float64Array[] = [];
  const lo = new Int32Array(melBins);
  const len = new Int32Array(melBins);
  const weights: number[] = [];
  const wOff = new Int32Array(melBins);
  for (let m = 0; m < melBins; m++) {
    const left = edges[m] ?? 0;
    const centre = edges[m + 1] ?? 0;
    const right = edges[m + 2] ?? 0;
    const row = new Float64Array(bins);
    let first = -1;
    let last = -1;
    for (let k = 0; k < bins; k++) {
      const f = (k * sr) / n;
      const w =
        f <= left || f >= right ? 0 : f <= centre ? (f - left) / (centre - left) : (right - f) / (right - centre);
      row[k] = w;
      if (w > 0) {
        if (first < 0) first = k;
        last = k;
      }
    }
    dense.push(row);
    // A band narrower than one bin gets no weight: it stays at the floor (as librosa's does).
    lo[m] = first < 0 ? 0 : first;
    len[m] = first < 0 ? 0 : last - first + 1;
    wOff[m] = weights.length;
    for (let k = lo[m] ?? 0; k < (lo[m] ?? 0) + (len[m] ?? 0); k++) weights.push(row[k] ?? 0);
  }
  const wts = Float64Array.from(weights);
  const logFloor = Math.log(floor);

  const re = new Float64Array(h);
  const im = new Float64Array(h);
  const power = new Float64Array(bins);

  function frame(samples: ArrayLike<number>, start: number, out: Float32Array, offset: number): void {
    // Pack even/odd windowed samples as one complex sequence, in bit-reversed order.
    for (let i = 0; i < h; i++) {
      const j = rev[i]!;
      const s = start + 2 * j;
      re[i] = (samples[s] ?? 0) * win[2 * j]!;
      im[i] = (samples[s + 1] ?? 0) * win[2 * j + 1]!;
    }
    for (let size = 2; size <= h; size *= 2) {
      const half = size / 2;
      const step = h / size;
      for (let base = 0; base < h; base += size) {
        for (let k = 0, t = 0; k < half; k++, t += step) {
          const a = base + k;
          const b = a + half;
          const cr = twRe[t]!;
          const ci = twIm[t]!;
          const br = re[b]!;
          const bi = im[b]!;
          const tr = br * cr - bi * ci;
          const ti = br * ci + bi * cr;
          const ar = re[a]!;
          const ai = im[a]!;
          re[b] = ar - tr;
          im[b] = ai - ti;
          re[a] = ar + tr;
          im[a] = ai + ti;
        }
      }
    }
    // Split: X[k] = E[k] + W^k·O[k], with E, O recovered from Z[k] and conj(Z[h−k]).
    const z0r = re[0]!;
    const z0i = im[0]!;
    power[0] = (z0r + z0i) ** 2;
    power[h] = (z0r - z0i) ** 2;
    for (let k = 1; k < h; k++) {
      const zr = re[k]!;
      const zi = im[k]!;
      const cr = re[h - k]!;
      const ci = -im[h - k]!;
      const er = 0.5 * (zr + cr);
      const ei = 0.5 * (zi + ci);
      // O[k] = (Z[k] − conj(Z[h−k])) / 2i
      const dr = zr - cr;
      const di = zi - ci;
      const or = 0.5 * di;
      const oi = -0.5 * dr;
      const wr = spRe[k]!;
      const wi = spIm[k]!;
      const xr = er + or * wr - oi * wi;
      const xi = ei + or * wi + oi * wr;
      power[k] = xr * xr + xi * xi;
    }
    for (let m = 0; m < melBins; m++) {
      let acc = 0;
      const l = lo[m]!;
      const w0 = wOff[m]!;
      const ln = len[m]!;
      for (let j = 0; j < ln; j++) acc += wts[w0 + j]! * power[l + j]!;
      out[offset + m] = acc > floor ? Math.log(acc) : logFloor;
    }
  }

  const frameCount = (count: number): number => (count < n ? 0 : Math.floor((count - n) / hop) + 1);

  return {
    sampleRateHz: sr,
    fftSize: n,
    hopSize: hop,
    melBins,
    frameCount,
    frame(samples, start, out, offset) {
      if (!Number.isInteger(start) || start < 0 || start + n > samples.length)
        bad(`frame at ${start} needs samples ${start}..${start + n - 1}, clip has ${samples.length}`);
      if (offset < 0 || offset + melBins > out.length)
        bad(`output holds ${out.length} values, frame needs ${offset}..${offset + melBins - 1}`);
      frame(samples, start, out, offset);
    },
    logMel(samples, out) {
      const frames = frameCount(samples.length);
      if (frames === 0)
        throw new MediaDecodeError(`audio clip of ${samples.length} samples is shorter than one ${n}-sample frame`);
      const data = out !== undefined && out.length >= frames * melBins ? out : new Float32Array(frames * melBins);
      for (let f = 0; f < frames; f++) frame(samples, f * hop, data, f * melBins);
      return { data, frames, melBins };
    },
    filterbank: () => dense.map((r) => Float64Array.from(r)),
  };
}

/**
 * MFCCs from log-mel frames: an orthonormal DCT-II over the mel axis, first `coeffs` kept
 * (scipy.fft.dct(x, type=2, norm='ortho')). Input and output are row-major per frame.
 */
export function mfcc(logMel: ArrayLike<number>, frames: number, melBins: number, coeffs = 13): Float32Array {
  if (!Number.isInteger(coeffs) || coeffs < 1 || coeffs > melBins)
    throw new RangeError(`mfcc: coeffs must be an integer in [1, ${melBins}], got ${coeffs}`);
  if (logMel.length < frames * melBins)
    throw new RangeError(
      `mfcc: ${frames} frames × ${melBins} bands need ${frames * melBins} values, got ${logMel.length}`,
    );
  const basis = new Float64Array(coeffs * melBins);
  for (let k = 0; k < coeffs; k++) {
    const scale = k === 0 ? Math.sqrt(1 / melBins) : Math.sqrt(2 / melBins);
    for (let m = 0; m < melBins; m++)
      basis[k * melBins + m] = scale * Math.cos((Math.PI * k * (2 * m + 1)) / (2 * melBins));
  }
  const out = new Float32Array(frames * coeffs);
  for (let f = 0; f < frames; f++) {
    for (let k = 0; k < coeffs; k++) {
      let acc = 0;
      for (let m = 0; m < melBins; m++) acc += basis[k * melBins + m]! * (logMel[f * melBins + m] ?? 0);
      out[f * coeffs + k] = acc;
    }
  }
  return out;
}
