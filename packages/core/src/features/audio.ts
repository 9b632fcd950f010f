/**
 * Audio features of a mono clip, for stream detectors to judge: level (RMS in dBFS), spectral
 * centroid, the share of energy above a cutoff, spectral flatness (tonal ≈ 0, white noise ≈ 1),
 * and the impulsiveness measures crest factor and kurtosis (crackle raises both).
 * The spectrum is a Welch average of Hann-windowed frames (radix-2 FFT), so a clip's features do
 * not depend on where in it a short burst fell.
 *
 * @example
 * const f = audioFeatures(samples, 16000); // { rmsDb: -17.2, centroidHz: 96, hfRatio: 0.001, ... }
 */
import { nextPowerOfTwo, powerSpectrum } from './fft.ts';
import { MediaDecodeError } from './errors.ts';

export interface AudioFeatureOptions {
  /** FFT frame length in samples, a power of two (default 1024). Shorter clips use one zero-padded frame. */
  frameSize?: number;
  /** Cutoff for the high-frequency energy ratio, Hz (default 2000). */
  hfCutoffHz?: number;
}

export interface AudioFeatures {
  /** RMS level, dB relative to full scale; floored at SILENCE_DB. */
  rmsDb: number;
  /** Power-weighted mean frequency, Hz (0 for silence). */
  centroidHz: number;
  /** Share of spectral power above the cutoff, 0..1. */
  hfRatio: number;
  /** Geometric over arithmetic mean of the power spectrum (DC excluded), 0..1. */
  flatness: number;
  /** Peak |sample| over RMS (1 for silence): ≈1.4 for a sine, ≈3–4 for Gaussian noise, higher for clicks. */
  crest: number;
  /** Fourth standardised moment (3 for Gaussian, 1.5 for a sine), 0 for silence. */
  kurtosis: number;
}

export const SILENCE_DB = -120;
/** Added to every power bin so silence gives finite logs (flatness 1, a featureless spectrum). */
const POWER_EPS = 1e-20;

/** Computes the features of mono samples at a sample rate; throws on an empty clip or a bad option. */
export function audioFeatures(samples: ArrayLike<number>, sampleRateHz: number, opts: AudioFeatureOptions = {}): AudioFeatures {
  const n = samples.length;
  if (n === 0) throw new MediaDecodeError('audio clip holds no samples');
  if (!(sampleRateHz > 0)) throw new MediaDecodeError(`audio sample rate must be positive, got ${sampleRateHz}`);
  const frameSize = opts.frameSize ?? 1024;
  if (frameSize < 2 || (frameSize & (frameSize - 1)) !== 0) throw new RangeError(`frameSize must be a power of two ≥ 2, got ${frameSize}`);
  const hfCutoffHz = opts.hfCutoffHz ?? 2000;

  // Time-domain statistics: mean removed so a DC offset is not read as level.
  let mean = 0;
  for (let i = 0; i < n; i++) mean += samples[i] ?? 0;
  mean /= n;
  let m2 = 0;
  let m4 = 0;
  let peak = 0;
  for (let i = 0; i < n; i++) {
    const d = (samples[i] ?? 0) - mean;
    const d2 = d * d;
    m2 += d2;
    m4 += d2 * d2;
    peak = Math.max(peak, Math.abs(d));
  }
  m2 /= n;
  m4 /= n;
  const rms = Math.sqrt(m2);
  const rmsDb = rms > 0 ? Math.max(SILENCE_DB, 20 * Math.log10(rms)) : SILENCE_DB;
  const crest = rms > 0 ? peak / rms : 1;
  const kurtosis = m2 > 0 ? m4 / (m2 * m2) : 0;

  // Welch spectrum: Hann frames with 50 % overlap; a clip shorter than a frame is one padded frame.
  const size = n >= frameSize ? frameSize : nextPowerOfTwo(Math.max(2, n));
  const hop = size / 2;
  const win = new Float64Array(size);
  for (let i = 0; i < size; i++) win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size);
  const bins = size / 2 + 1;
  const psd = new Float64Array(bins);
  const frame = new Float64Array(size);
  let frames = 0;
  for (let start = 0; start === 0 || start + size <= n; start += hop) {
    for (let i = 0; i < size; i++) {
      const at = start + i;
      frame[i] = at < n ? ((samples[at] ?? 0) - mean) * (win[i] ?? 0) : 0;
    }
    const p = powerSpectrum(frame);
    for (let k = 0; k < bins; k++) psd[k] = (psd[k] ?? 0) + (p[k] ?? 0);
    frames++;
  }
  const binHz = sampleRateHz / size;
  let total = 0;
  let weighted = 0;
  let high = 0;
  let logSum = 0;
  for (let k = 1; k < bins; k++) {
    const pk = (psd[k] ?? 0) / frames;
    const f = k * binHz;
    total += pk;
    weighted += pk * f;
    if (f >= hfCutoffHz) high += pk;
    logSum += Math.log(pk + POWER_EPS);
  }
  const used = bins - 1;
  const arith = total / used + POWER_EPS;
  const flatness = Math.min(1, Math.exp(logSum / used) / arith);
  return {
    rmsDb,
    centroidHz: total > 0 ? weighted / total : 0,
    hfRatio: total > 0 ? high / total : 0,
    flatness,
    crest,
    kurtosis,
  };
}
