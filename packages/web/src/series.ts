/**
 * Column data for uPlot charts, kept bounded: time in seconds in column 0, one column per
 * series, null where a series has no point at that time. Pure, so it is unit-tested.
 *
 * @example
 * const d = columns(2);
 * upsert(d, 1700000000, 0, 41.2); // series 0
 * upsert(d, 1700000000, 1, 0.93); // same row, series 1
 * trimBefore(d, 1699999000);
 */
export type Columns = [number[], ...Array<Array<number | null>>];

export function columns(series: number): Columns {
  const d: Columns = [[]];
  for (let i = 0; i < series; i++) d.push([]);
  return d;
}

/** First index whose time is >= t (binary search; times are sorted). */
export function lowerBound(xs: readonly number[], t: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Sets series `s` at time `t`, adding a row (in time order) if there is none for `t`. */
export function upsert(d: Columns, t: number, s: number, v: number | null): void {
  const xs = d[0];
  const col = d[s + 1];
  if (!col) throw new RangeError(`series ${s} out of range (have ${d.length - 1})`);
  // Live data almost always arrives in order: the common case is a push.
  const last = xs.length - 1;
  if (last < 0 || xs[last]! < t) {
    xs.push(t);
    for (let i = 1; i < d.length; i++) (d[i] as Array<number | null>).push(i === s + 1 ? v : null);
    return;
  }
  const at = lowerBound(xs, t);
  if (xs[at] === t) {
    col[at] = v;
    return;
  }
  xs.splice(at, 0, t);
  for (let i = 1; i < d.length; i++) (d[i] as Array<number | null>).splice(at, 0, i === s + 1 ? v : null);
}

/** Drops rows older than `t`. */
export function trimBefore(d: Columns, t: number): void {
  const n = lowerBound(d[0], t);
  if (n > 0) for (const col of d) col.splice(0, n);
}

/** Keeps at most `max` rows (the newest), so a long-open page cannot grow without bound. */
export function capRows(d: Columns, max: number): void {
  const extra = d[0].length - max;
  if (extra > 0) for (const col of d) col.splice(0, extra);
}

/** Builds aligned columns from points of several keyed series (times in ms, converted to s). */
export function fromPoints<P>(
  points: readonly P[],
  keyOf: (p: P) => string,
  timeOf: (p: P) => number,
  valueOf: (p: P) => number,
): { keys: string[]; data: Columns } {
  const keys: string[] = [];
  const index = new Map<string, number>();
  for (const p of points) {
    const k = keyOf(p);
    if (!index.has(k)) {
      index.set(k, keys.length);
      keys.push(k);
    }
  }
  const data = columns(keys.length);
  const sorted = [...points].sort((a, b) => timeOf(a) - timeOf(b));
  for (const p of sorted) upsert(data, timeOf(p) / 1000, index.get(keyOf(p))!, valueOf(p));
  return { keys, data };
}
