/**
 * Model input preparation (pure), shared by the engine's model stages and the training data
 * exporter in training/, so a model is served exactly the tensors it was trained on:
 * log-mel patches of a clip, a normalised gray frame, a normalised multichannel sensor window.
 * Also a band-limited resampler for clips recorded at another rate than a model expects.
 *
 * @example
 * const p = logMelPatches(samples, { sampleRateHz: 16000, fftSize: 512, hopSize: 256, melBins: 32, patchFrames: 16, patchHop: 8 });
 * // p.data: p.patches × 1 × 32 × 16 (mel-major), normalised with spec.mean/std when given
 */
import { createLogMelPlan, type LogMelPlan } from './logmel.ts';
import { MediaDecodeError } from './errors.ts';

export interface LogMelPatchSpec {
  sampleRateHz: number;
  fftSize: number;
  hopSize: number;
  melBins: number;
  fMinHz?: number;
  fMaxHz?: number;
  /** Frames per patch (the model's time axis). */
  patchFrames: number;
  /** Frames between patch starts. */
  patchHop: number;
  /** Per-mel-band normalisation (length melBins): x' = (x − mean) / std. */
  mean?: readonly number[];
  std?: readonly number[];
}

export interface Patches {
  /** patches × melBins × patchFrames, row-major (one channel). */
  data: Float32Array;
  patches: number;
}

const plans = new Map<string, LogMelPlan>();

function planFor(s: LogMelPatchSpec): LogMelPlan {
  const key = `${s.sampleRateHz}/${s.fftSize}/${s.hopSize}/${s.melBins}/${s.fMinHz ?? ''}/${s.fMaxHz ?? ''}`;
  let p = plans.get(key);
  if (!p) {
    p = createLogMelPlan({
      sampleRateHz: s.sampleRateHz,
      fftSize: s.fftSize,
      hopSize: s.hopSize,
      melBins: s.melBins,
      ...(s.fMinHz !== undefined ? { fMinHz: s.fMinHz } : {}),
      ...(s.fMaxHz !== undefined ? { fMaxHz: s.fMaxHz } : {}),
    });
    plans.set(key, p);
  }
  return p;
}

/** Cuts a clip's log-mel into patches [mel, time] of patchFrames frames every patchHop frames. */
export function logMelPatches(samples: ArrayLike<number>, spec: LogMelPatchSpec): Patches {
  const plan = planFor(spec);
  const { data: lm, frames } = plan.logMel(samples);
  const M = spec.melBins;
  const T = spec.patchFrames;
  if (frames < T)
    throw new MediaDecodeError(`audio clip gives ${frames} log-mel frames, fewer than one ${T}-frame patch`);
  const patches = Math.floor((frames - T) / spec.patchHop) + 1;
  const out = new Float32Array(patches * M * T);
  for (let p = 0; p < patches; p++) {
    const f0 = p * spec.patchHop;
    for (let m = 0; m < M; m++) {
      const mu = spec.mean?.[m] ?? 0;
      const sd = spec.std?.[m] ?? 1;
      const base = (p * M + m) * T;
      for (let t = 0; t < T; t++) out[base + t] = ((lm[(f0 + t) * M + m] ?? 0) - mu) / sd;
    }
  }
  return { data: out, patches };
}

export interface ImageInputSpec {
  width: number;
  height: number;
  /** x' = (luma / 255 − mean) / std (defaults 0 and 1). */
  mean?: number;
  std?: number;
}

/** A gray frame as a normalised [height × width] tensor; throws when the size differs from the model's. */
export function imageInput(luma: ArrayLike<number>, width: number, height: number, spec: ImageInputSpec): Float32Array {
  if (width !== spec.width || height !== spec.height) {
    throw new MediaDecodeError(`frame is ${width}×${height} but the model expects ${spec.width}×${spec.height}`);
  }
  const mu = spec.mean ?? 0;
  const sd = spec.std ?? 1;
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = ((luma[i] ?? 0) / 255 - mu) / sd;
  return out;
}

export interface WindowSpec {
  /** Channel order of the model's input. */
  channels: readonly string[];
  /** Time steps per window. */
  steps: number;
  mean: readonly number[];
  std: readonly number[];
}

/**
 * A window of rows (oldest first, each row one value per channel) as a normalised
 * channels × steps tensor (the layout of a 1-D convolution's input).
 */
export function windowInput(
  rows: ReadonlyArray<ArrayLike<number>>,
  spec: WindowSpec,
  out = new Float32Array(spec.channels.length * spec.steps),
  offset = 0,
): Float32Array {
  const C = spec.channels.length;
  const L = spec.steps;
  if (rows.length < L) throw new RangeError(`window needs ${L} rows, got ${rows.length}`);
  const first = rows.length - L;
  for (let t = 0; t < L; t++) {
    const row = rows[first + t]!;
    for (let c = 0; c < C; c++) out[offset + c * L + t] = ((row[c] ?? 0) - (spec.mean[c] ?? 0)) / (spec.std[c] ?? 1);
  }
  return out;
}

/**
 * Band-limited resampling by windowed-sinc interpolation (Hann window, `taps` zero crossings
 * each side); when downsampling the kernel is widened so the new Nyquist frequency is the cutoff.
 */
export function resample(samples: ArrayLike<number>, fromHz: number, toHz: number, taps = 16): Float32Array {
  if (!(fromHz > 0) || !(toHz > 0))
    throw new RangeError(`resample: rates must be positive, got ${fromHz} → ${toHz} Hz`);
  const n = samples.length;
  if (fromHz === toHz) return Float32Array.from(samples);
  const ratio = toHz / fromHz;
  const outLen = Math.floor(n * ratio);
  const out = new Float32Array(outLen);
  const cutoff = Math.min(1, ratio); // as a fraction of the input Nyquist
  const half = Math.ceil(taps / cutoff);
  for (let i = 0; i < outLen; i++) {
    const x = i / ratio;
    const c = Math.floor(x);
    let acc = 0;
    let norm = 0;
    for (let j = c - half + 1; j <= c + half; j++) {
      const d = x - j;
      const arg = Math.PI * d * cutoff;
      const sinc = Math.abs(d) < 1e-9 ? 1 : Math.sin(arg) / arg;
      const w = 0.5 + 0.5 * Math.cos((Math.PI * d) / (half + 1));
      const k = sinc * w;
      norm += k;
      if (j >= 0 && j < n) acc += k * (samples[j] ?? 0);
    }
    out[i] = norm !== 0 ? acc / norm : 0;
  }
  return out;
}
