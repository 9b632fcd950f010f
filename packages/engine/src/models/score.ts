/**
 * Output → score mappings (pure arithmetic): reconstruction error (mean, or the mean of the worst
 * fraction of elements, which keeps a small intruder from being averaged away), forecast error
 * against the step that actually came, or a value the model outputs itself; and how an event's
 * several items (an audio clip's patches) combine.
 *
 * @example
 * reconstructionError(input, output, { reduce: 'top_fraction', fraction: 0.01 }); // 0.83
 * squaredErrors(input, output);                                                  // the heat map
 */
import { ModelError } from './errors.ts';

export function squaredErrors(input: ArrayLike<number>, output: ArrayLike<number>): Float32Array {
  if (input.length !== output.length)
    throw new ModelError('E_MODEL_RUN', `reconstruction has ${output.length} values for an input of ${input.length}`);
  const e = new Float32Array(input.length);
  for (let i = 0; i < e.length; i++) {
    const d = (output[i] ?? 0) - (input[i] ?? 0);
    e[i] = d * d;
  }
  return e;
}

/** The mean of the largest ⌈fraction·n⌉ values (at least one). */
export function topFractionMean(values: Float32Array, fraction: number): number {
  const k = Math.max(1, Math.round(fraction * values.length));
  const sorted = Float32Array.from(values).sort();
  let s = 0;
  for (let i = sorted.length - k; i < sorted.length; i++) s += sorted[i] ?? 0;
  return s / k;
}

export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] ?? 0;
  return values.length > 0 ? s / values.length : 0;
}

export function reconstructionError(
  input: ArrayLike<number>,
  output: ArrayLike<number>,
  opts: { reduce?: 'mean' | 'top_fraction'; fraction?: number },
): number {
  const e = squaredErrors(input, output);
  return opts.reduce === 'top_fraction' ? topFractionMean(e, opts.fraction ?? 0.01) : mean(e);
}

/** Mean squared error between a forecast and the normalised actual step. */
export function forecastError(forecast: ArrayLike<number>, actual: ArrayLike<number>): number {
  if (forecast.length !== actual.length)
    throw new ModelError('E_MODEL_RUN', `forecast has ${forecast.length} values for ${actual.length} channels`);
  return mean(squaredErrors(actual, forecast));
}

export function aggregate(scores: readonly number[], how: 'mean' | 'max' = 'mean'): number {
  if (scores.length === 0) throw new ModelError('E_MODEL_RUN', 'no item scores to aggregate');
  return how === 'max' ? Math.max(...scores) : mean(scores);
}
