import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resolveParams } from '../params.ts';
import type { Observation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance, scalarObservations } from '../../testing/conformance.ts';
import { rangeRecord, rangeWidth, type RangeRecordParams } from './index.ts';

describeConformance(rangeRecord, {
  params: { window_points: 6, min_points: 3 },
  name: 'conformance: range_record (short window)',
});
describeConformance(rangeRecord, {
  numRuns: 50,
  name: 'conformance: range_record (random params)',
  randomParams: fc.record({
    window_points: fc.integer({ min: 2, max: 40 }),
    mean_points: fc.integer({ min: 1, max: 5 }),
    min_points: fc.integer({ min: 1, max: 10 }),
    half_excess: fc.double({ min: 0.01, max: 2, noNaN: true }),
    direction: fc.constantFrom('both', 'up', 'down'),
    statistic: fc.constantFrom('mean', 'median'),
    admit_excess: fc.double({ min: 0, max: 5, noNaN: true }),
  }),
});

const t0 = 1_700_000_000_000;
const obs = (i: number, value: number): Observation => ({ time: t0 + i * 1000, value, fields: {} });

function runAll(p: RangeRecordParams, values: readonly number[]) {
  const s = rangeRecord.init(p);
  const out = collectFindings();
  const scores = values.map((v, i) => rangeRecord.step(p, s, obs(i, v), out, DEFAULT_LABELS));
  return { scores, findings: out.findings };
}

/** Reference: recompute the judged values, then min/max of the window before each, naively. */
function reference(p: RangeRecordParams, values: readonly number[]): Array<number | null> {
  const judged: number[] = [];
  return values.map((_v, i) => {
    if (i + 1 < p.mean_points) return null;
    const recent = values.slice(i + 1 - p.mean_points, i + 1);
    const sorted = recent.slice().sort((a, b) => a - b);
    const n = sorted.length;
    const median = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
    const mean = recent.reduce((a, b) => a + b, 0) / p.mean_points;
    const f = p.mean_points === 1 ? values[i]! : p.statistic === 'median' ? median : mean;
    const hist = judged.slice(-p.window_points);
    // What joins the history: the judged value, clipped to admit_excess widths beyond the range.
    let admitted = f;
    if (p.admit_excess !== undefined && judged.length > 0) {
      const cap = p.admit_excess * rangeWidth(Math.min(...hist), Math.max(...hist));
      admitted = Math.min(Math.max(f, Math.min(...hist) - cap), Math.max(...hist) + cap);
    }
    judged.push(admitted);
    if (hist.length < p.min_points) return null;
    const hi = Math.max(...hist);
    const lo = Math.min(...hist);
    const up = p.direction !== 'down' ? Math.max(0, f - hi) : 0;
    const down = p.direction !== 'up' ? Math.max(0, lo - f) : 0;
    const e = Math.max(up, down) / rangeWidth(lo, hi);
    return e / (e + p.half_excess);
  });
}

describe('range_record behaviour', () => {
  it('is null while warming up, 0 inside the range, 0.5 at half_excess widths beyond it', () => {
    const p = resolveParams(rangeRecord, { window_points: 100, min_points: 4, half_excess: 0.1 });
    const { scores } = runAll(p, [10, 20, 15, 12, 18, 21]);
    expect(scores.slice(0, 4)).toEqual([null, null, null, null]);
    expect(scores[4]).toBe(0);
    // Range 10..20 (width 10); 21 is 0.1 widths above it.
    expect(scores[5]).toBeCloseTo(0.5, 12);
  });

  it('raises a finding with a readable reason for a new high, and none for a small one', () => {
    const p = resolveParams(rangeRecord, { window_points: 100, min_points: 4, half_excess: 0.1 });
    const { findings } = runAll(p, [10, 20, 15, 12, 20.5, 25]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.reason).toBe('flow_m3h 25 is above its 5-point max 20.5 by 0.429 of the range');
    expect(findings[0]!.severity).toBe('critical');
  });

  it('forgets highs older than the window', () => {
    const p = resolveParams(rangeRecord, { window_points: 3, min_points: 3 });
    const { scores } = runAll(p, [100, 1, 2, 3, 4]);
    // At 3 the window is [1, 2, 100]... at 4 it is [1, 2, 3]: 100 has gone, so 4 is a new high.
    expect(scores[3]).toBe(0);
    expect(scores[4]).toBeGreaterThan(0);
  });

  it('direction up ignores new lows; mean_points judges the mean, not single spikes', () => {
    const up = resolveParams(rangeRecord, { min_points: 3, direction: 'up' });
    expect(runAll(up, [5, 6, 5, 6, -50]).scores[4]).toBe(0);
    const smooth = resolveParams(rangeRecord, { min_points: 3, mean_points: 4 });
    const { scores } = runAll(smooth, [5, 6, 5, 6, 5, 6, 5, 6, 8, 5]);
    // The mean of [6,5,6,8] is 6.25, above the earlier means (5.5): scored; a lone spike is diluted.
    expect(scores[8]).toBeGreaterThan(0);
    expect(scores[8]!).toBeLessThan(
      runAll(resolveParams(rangeRecord, { min_points: 3 }), [5, 6, 5, 6, 5, 6, 5, 6, 8]).scores[8]!,
    );
  });

  it('admit_excess: one huge spike does not hide the next, smaller breakout', () => {
    const base = [10, 12, 11, 10, 12, 11, 10, 12, 11, 10];
    const values = [...base, 1000, ...base, 40];
    const plain = runAll(resolveParams(rangeRecord, { min_points: 5 }), values).scores;
    const clipped = runAll(resolveParams(rangeRecord, { min_points: 5, admit_excess: 3 }), values).scores;
    // Both see the spike; without clipping the 1000 makes 40 look ordinary.
    expect(plain[10]!).toBeGreaterThan(0.9);
    expect(clipped[10]!).toBeGreaterThan(0.9);
    expect(plain[21]).toBe(0);
    // Clipped, the spike joined as 12 + 3·2 = 18, so 40 is (40 − 18) / 8 widths above the range.
    expect(clipped[21]!).toBeCloseTo(2.75 / 2.85, 9);
  });

  it('statistic median ignores a short spike but sees a level shift', () => {
    const p = resolveParams(rangeRecord, { min_points: 5, mean_points: 5, statistic: 'median' });
    const calm = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 10 : 12));
    const spike = runAll(p, [...calm, 100, 10, 11]).scores;
    expect(spike.slice(30)).toEqual([0, 0, 0]);
    const shift = runAll(p, [...calm, 20, 20, 20, 20]).scores;
    // Three of five points at 20 move the median to 20: a new high of the median.
    expect(shift[32]!).toBeGreaterThan(0.9);
    const out = collectFindings();
    const s = rangeRecord.init(p);
    [...calm, 20, 20, 20].forEach((v, i) => rangeRecord.step(p, s, obs(i, v), out, DEFAULT_LABELS));
    expect(out.findings.at(-1)!.reason).toMatch(
      /^flow_m3h median of 5 points 20 is above its \d+-point max 12 by 4 of the range$/,
    );
  });

  it('agrees with a naive reference on random data', () => {
    fc.assert(
      fc.property(
        fc.record({
          window_points: fc.integer({ min: 2, max: 30 }),
          mean_points: fc.integer({ min: 1, max: 4 }),
          min_points: fc.integer({ min: 1, max: 8 }),
          direction: fc.constantFrom('both' as const, 'up' as const, 'down' as const),
          statistic: fc.constantFrom('mean' as const, 'median' as const),
          admit_excess: fc.option(fc.constantFrom(0, 0.5, 3), { nil: undefined }),
        }),
        scalarObservations({ maxLength: 120, values: fc.integer({ min: -20, max: 20 }) }),
        (raw, xs) => {
          const p = resolveParams(rangeRecord, raw);
          const values = xs.map((x) => x.value);
          const got = runAll(p, values).scores;
          const want = reference(p, values);
          got.forEach((g, i) => {
            if (want[i] === null) expect(g).toBeNull();
            else expect(g).toBeCloseTo(want[i]!, 9);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps its queues bounded on a long monotone run', () => {
    const p = resolveParams(rangeRecord, { window_points: 50, min_points: 5 });
    const s = rangeRecord.init(p);
    for (let i = 0; i < 5000; i++) rangeRecord.step(p, s, obs(i, -i), collectFindings(), DEFAULT_LABELS);
    expect(s.hi.val.length).toBeLessThanOrEqual(50 + 1024);
    expect(s.lo.val.length - s.lo.head).toBe(1);
  });
});
