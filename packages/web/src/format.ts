/**
 * Formatting and small pure helpers shared by the dashboard views.
 *
 * @example
 * fmtTime(1700000000000); // "2023-11-14 22:13:20"
 * fmtValue(41.234, 'm3/h'); // "41.2 m3/h"
 */
const pad = (n: number): string => String(n).padStart(2, '0');

/** Local date-time, to the second. */
export function fmtTime(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Three significant digits for readings, kept short for a wall screen. */
export function fmtValue(v: number, unit = ''): string {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  const s =
    a !== 0 && (a >= 1e6 || a < 1e-3)
      ? v.toExponential(2)
      : a >= 100
        ? v.toFixed(0)
        : a >= 10
          ? v.toFixed(1)
          : v.toFixed(2);
  return unit ? `${s} ${unit}` : s;
}

export function fmtDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Groups items by a key, keeping first-seen order of keys. */
export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}
