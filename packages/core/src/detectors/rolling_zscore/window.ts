/**
 * A sliding window of numbers with O(1) mean and variance, kept as plain JSON (arrays used as
 * ring buffers) so it can live inside detector state and survive checkpoints.
 *
 * Mean and M2 (sum of squared deviations) are updated Welford-style on add and remove, which is
 * far more stable than running sum / sum of squares; an exact two-pass recompute every
 * `capacity` removals bounds the remaining drift. Used by rolling_zscore and sma_baseline.
 *
 * @example
 * const w = windowInit(60, false);
 * windowPush(w, t, 3.2, 60);      // evicts the oldest when full
 * windowStd(w);                   // sample standard deviation
 */

import { Type, type Static } from '@sinclair/typebox';
import type { ParamProblem } from '../contract.ts';
import { ParamError } from '../params.ts';

/** The window as stored in state; also validates a restored checkpoint. */
export const SlidingWindowSchema = Type.Object(
  {
    vals: Type.Array(Type.Number(), { description: 'Ring buffer of values; its length is the current capacity.' }),
    times: Type.Array(Type.Number(), {
      description: 'Event times parallel to vals, only kept for time windows (empty otherwise).',
    }),
    head: Type.Integer({ minimum: 0, description: 'Index of the oldest element.' }),
    len: Type.Integer({ minimum: 0 }),
    mean: Type.Number(),
    m2: Type.Number({ minimum: 0, description: 'Sum of squared deviations from the mean.' }),
    sinceExact: Type.Integer({ minimum: 0, description: 'Removals since the last exact recompute.' }),
  },
  { additionalProperties: false },
);
export type SlidingWindow = Static<typeof SlidingWindowSchema>;

/** Growth starts small for time windows; their point count is not known in advance. */
const INITIAL_TIMED_CAPACITY = 16;

export function windowInit(capacity: number, timed: boolean): SlidingWindow {
  const cap = timed ? Math.min(capacity, INITIAL_TIMED_CAPACITY) : capacity;
  return {
    vals: new Array<number>(cap).fill(0),
    times: timed ? new Array<number>(cap).fill(0) : [],
    head: 0,
    len: 0,
    mean: 0,
    m2: 0,
    sinceExact: 0,
  };
}

/** Removes the oldest element. */
export function windowShift(w: SlidingWindow): void {
  if (w.len === 0) return;
  const x = w.vals[w.head] ?? 0;
  w.head = w.head + 1 === w.vals.length ? 0 : w.head + 1;
  w.len--;
  if (w.len === 0) {
    w.mean = 0;
    w.m2 = 0;
    w.sinceExact = 0;
    return;
  }
  const d = x - w.mean;
  w.mean -= d / w.len;
  w.m2 -= d * (x - w.mean);
  if (w.m2 < 0) w.m2 = 0;
  if (++w.sinceExact >= w.vals.length) windowRecompute(w);
}

/** Drops elements whose time is ≤ `cutoff` (time windows only). */
export function windowEvictUpTo(w: SlidingWindow, cutoff: number): void {
  while (w.len > 0 && (w.times[w.head] ?? 0) <= cutoff) windowShift(w);
}

/** Appends a value; when full, grows up to `maxCapacity` (time windows) or evicts the oldest. */
export function windowPush(w: SlidingWindow, time: number, x: number, maxCapacity: number): void {
  if (w.len === w.vals.length) {
    if (w.vals.length < maxCapacity) grow(w, Math.min(maxCapacity, Math.max(1, w.vals.length * 2)));
    else windowShift(w);
  }
  const cap = w.vals.length;
  let idx = w.head + w.len;
  if (idx >= cap) idx -= cap;
  w.vals[idx] = x;
  if (w.times.length > 0) w.times[idx] = time;
  w.len++;
  const d = x - w.mean;
  w.mean += d / w.len;
  w.m2 += d * (x - w.mean);
}

/** Sample variance (n − 1); 0 with fewer than two values. */
export function windowVariance(w: SlidingWindow): number {
  return w.len < 2 ? 0 : w.m2 / (w.len - 1);
}

export function windowStd(w: SlidingWindow): number {
  return Math.sqrt(windowVariance(w));
}

/** Exact two-pass mean and M2 from the stored values. */
export function windowRecompute(w: SlidingWindow): void {
  const cap = w.vals.length;
  let sum = 0;
  for (let i = 0, j = w.head; i < w.len; i++, j = j + 1 === cap ? 0 : j + 1) sum += w.vals[j] ?? 0;
  const mean = w.len > 0 ? sum / w.len : 0;
  let m2 = 0;
  for (let i = 0, j = w.head; i < w.len; i++, j = j + 1 === cap ? 0 : j + 1) {
    const d = (w.vals[j] ?? 0) - mean;
    m2 += d * d;
  }
  w.mean = mean;
  w.m2 = m2;
  w.sinceExact = 0;
}

/** Copies the elements in order into bigger arrays (rare: amortised O(1) per push). */
function grow(w: SlidingWindow, capacity: number): void {
  const cap = w.vals.length;
  const vals = new Array<number>(capacity).fill(0);
  const times = w.times.length > 0 ? new Array<number>(capacity).fill(0) : [];
  for (let i = 0, j = w.head; i < w.len; i++, j = j + 1 === cap ? 0 : j + 1) {
    vals[i] = w.vals[j] ?? 0;
    if (times.length > 0) times[i] = w.times[j] ?? 0;
  }
  w.vals = vals;
  w.times = times;
  w.head = 0;
}

/**
 * A window that can never hold `min_points` never warms up: a config error, reported on the
 * parameter. Used as the `validate` hook of rolling_zscore and sma_baseline (so resolveParams
 * rejects it at config load) and again by their init, for callers that skip resolveParams.
 */
export function warmUpProblems(p: {
  min_points: number;
  window_points: number;
  window_secs: number;
  max_points: number;
}): ParamProblem[] {
  const timed = p.window_secs > 0;
  const capacity = timed ? p.max_points : p.window_points;
  const capacityName = timed ? 'max_points' : 'window_points';
  if (p.min_points <= capacity) return [];
  return [
    {
      path: '/min_points',
      message: `must be at most ${capacityName} (${capacity}), got ${p.min_points}: the window could never warm up`,
    },
  ];
}

/** Throws the problems of `warmUpProblems` as a ParamError. */
export function checkWarmUp(type: string, p: Parameters<typeof warmUpProblems>[0]): void {
  const problems = warmUpProblems(p);
  if (problems.length > 0) throw new ParamError(type, problems);
}
