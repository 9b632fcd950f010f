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

/**
 * The window as stored in state; also validates a restored checkpoint.
 *
 * The properties are listed in a different order from the keys of windowInit's object ON
 * PURPOSE. V8 gives plain objects with the same keys in the same order the same hidden-class
 * chain, and a field's representation is shared along it: listed in state order, this schema's
 * `properties` object (whose values are schema objects) turned the window's number fields into
 * tagged fields, so every store of a mean or M2 allocated a fresh HeapNumber (~100 bytes of
 * garbage per update, about half the update's cost). See stateShapes.test.ts.
 */
export const SlidingWindowSchema = Type.Object(
  {
    head: Type.Integer({ minimum: 0, description: 'Index of the oldest element.' }),
    len: Type.Integer({ minimum: 0 }),
    mean: Type.Number(),
    m2: Type.Number({ minimum: 0, description: 'Sum of squared deviations from the mean.' }),
    sinceExact: Type.Integer({ minimum: 0, description: 'Removals since the last exact recompute.' }),
    vals: Type.Array(Type.Number(), { description: 'Ring buffer of values; its length is the current capacity.' }),
    times: Type.Array(Type.Number(), {
      description: 'Event times parallel to vals, only kept for time windows (empty otherwise).',
    }),
  },
  { additionalProperties: false },
);
export type SlidingWindow = Static<typeof SlidingWindowSchema>;

/** Growth starts small for time windows; their point count is not known in advance. */
const INITIAL_TIMED_CAPACITY = 16;

/**
 * Zeros stored as raw doubles, the source of every window array (see zeros). Grown to the largest
 * capacity asked for, which is bounded by max_points / window_points.
 */
let zeroTemplate: number[] = [0.5];
zeroTemplate.pop();

/**
 * A packed array of `n` zeros that V8 stores as raw doubles from the start, made in one
 * allocation (a slice of zeroTemplate). Not `new Array(n).fill(0)`: that array stays HOLEY, and
 * a load from a holey array that may yield undefined (`vals[i] ?? 0`) boxes each double it reads.
 * And not `n` pushes of 0 into `[]`: that reallocates the backing store as it grows and holds
 * small integers, so the first value stored converts (reallocates and copies) it again, at every
 * growth of a time window. With 10,000 fresh keys that garbage (and copying it through the young
 * generation) was over a third of an update's cost.
 */
function zeros(n: number): number[] {
  if (zeroTemplate.length < n) {
    // `[0.5]` then pop: kinds only ever generalise, so the array keeps double elements.
    const t: number[] = [0.5];
    t.pop();
    for (let i = 0; i < n; i++) t.push(0);
    zeroTemplate = t;
  }
  return zeroTemplate.slice(0, n);
}

export function windowInit(capacity: number, timed: boolean): SlidingWindow {
  const cap = timed ? Math.min(capacity, INITIAL_TIMED_CAPACITY) : capacity;
  return {
    vals: zeros(cap),
    times: timed ? zeros(cap) : [],
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

/**
 * windowEvictUpTo(w, o.time − window_secs·1000), for the hot path of a step: it takes objects,
 * not the cutoff, because a double argument of a call V8 does not inline is boxed on the heap.
 */
export function windowEvictBefore(
  w: SlidingWindow,
  o: { readonly time: number },
  p: { readonly window_secs: number },
): void {
  const cutoff = o.time - p.window_secs * 1000;
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

/** What windowAppend reads from an observation. */
export interface TimedValue {
  readonly time: number;
  readonly value: number;
}

/**
 * windowPush of `o.value` at `o.time`, for the hot path of a step. The same arithmetic as
 * windowPush (so the same bits), but the steady state of a full window (the oldest value leaves,
 * the new one takes its slot) is fused so each field is read and written once. It takes the
 * observation rather than two numbers on purpose: V8 boxes every double argument of a call it
 * does not inline in a fresh HeapNumber, which was most of the garbage of an update.
 */
export function windowAppend(w: SlidingWindow, o: TimedValue, maxCapacity: number): void {
  const vals = w.vals;
  const cap = vals.length;
  const n = w.len - 1;
  if (n + 1 !== cap || cap < maxCapacity || cap < 2) {
    if (n + 1 === cap) {
      // Full: grow (time windows) or evict first. Rare, out of line.
      appendGeneral(w, o, maxCapacity);
      return;
    }
    // Room left (warm-up, and the steady state of a time window below its cap): windowPush's
    // append, inline. The same statements, so the same bits.
    const x = o.value;
    let idx = w.head + n + 1;
    if (idx >= cap) idx -= cap;
    vals[idx] = x;
    if (w.times.length > 0) w.times[idx] = o.time;
    const len = n + 2;
    w.len = len;
    const d = x - w.mean;
    const mean = w.mean + d / len;
    w.mean = mean;
    w.m2 += d * (x - mean);
    return;
  }
  const x = o.value;
  const head = w.head;
  const old = vals[head] ?? 0;
  // Remove the oldest (Welford downdate), as windowShift does.
  let mean = w.mean;
  let m2 = w.m2;
  const d0 = old - mean;
  mean -= d0 / n;
  m2 -= d0 * (old - mean);
  if (m2 < 0) m2 = 0;
  vals[head] = x;
  if (w.times.length > 0) w.times[head] = o.time;
  w.head = head + 1 === cap ? 0 : head + 1;
  // The exact recompute of windowShift, over the n values that remain (the slot of x is skipped).
  if (++w.sinceExact >= cap) {
    w.len = n;
    windowRecompute(w);
    mean = w.mean;
    m2 = w.m2;
  }
  // Append x (Welford update), as windowPush does.
  const d = x - mean;
  mean += d / cap;
  w.m2 = m2 + d * (x - mean);
  w.mean = mean;
  w.len = cap;
}

/**
 * windowPush reading the observation (time windows below their cap, warm-up, tiny windows): the
 * same statements, so the same bits, but no double crosses a call boundary. Calling windowPush
 * here boxed o.time and o.value in fresh HeapNumbers on every update of a time window.
 */
function appendGeneral(w: SlidingWindow, o: TimedValue, maxCapacity: number): void {
  if (w.len === w.vals.length) {
    if (w.vals.length < maxCapacity) grow(w, Math.min(maxCapacity, Math.max(1, w.vals.length * 2)));
    else windowShift(w);
  }
  const x = o.value;
  const cap = w.vals.length;
  let idx = w.head + w.len;
  if (idx >= cap) idx -= cap;
  w.vals[idx] = x;
  if (w.times.length > 0) w.times[idx] = o.time;
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
  const vals = zeros(capacity);
  const times = w.times.length > 0 ? zeros(capacity) : [];
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
