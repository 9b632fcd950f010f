/**
 * Text helpers for hostile input (log lines): splitting a message into plain and highlighted
 * parts (rendered as text nodes and <mark>, never as HTML), and merging anomaly times into
 * periods to shade on charts.
 *
 * @example
 * splitHighlight('Failed password for root', ['failed']); // [{ text: 'Failed', hit: true }, { text: ' password for root', hit: false }]
 * periodsOf([1000, 2000, 9000], 3000); // [{ from: 1000, to: 2000 }, { from: 9000, to: 9000 }]
 */

export interface Part {
  text: string;
  hit: boolean;
}

/** Case-insensitive; overlapping or adjacent terms make one highlighted part. */
export function splitHighlight(text: string, terms: readonly string[]): Part[] {
  const lower = text.toLowerCase();
  const marks = new Uint8Array(text.length);
  for (const t of terms) {
    const q = t.toLowerCase();
    if (!q) continue;
    for (let at = lower.indexOf(q); at >= 0; at = lower.indexOf(q, at + 1)) marks.fill(1, at, at + q.length);
  }
  const parts: Part[] = [];
  let start = 0;
  for (let i = 1; i <= text.length; i++) {
    if (i === text.length || marks[i] !== marks[start]) {
      if (i > start) parts.push({ text: text.slice(start, i), hit: marks[start] === 1 });
      start = i;
    }
  }
  return parts;
}

export interface Period {
  from: number;
  to: number;
}

/** Sorted times → periods: times closer than `gap` join one period. */
export function periodsOf(times: readonly number[], gap: number): Period[] {
  const ts = [...times].filter(Number.isFinite).sort((a, b) => a - b);
  const out: Period[] = [];
  for (const t of ts) {
    const last = out[out.length - 1];
    if (last && t - last.to <= gap) last.to = t;
    else out.push({ from: t, to: t });
  }
  return out;
}
