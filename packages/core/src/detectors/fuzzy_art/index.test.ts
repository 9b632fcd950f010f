import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resolveParams } from '../params.ts';
import type { Observation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance, scalarObservations } from '../../testing/conformance.ts';
import { fuzzyArt, type FuzzyArtParams } from './index.ts';

const small = { block_points: 2, blocks: 3, max_categories: 5, min_points: 4 };
describeConformance(fuzzyArt, { params: small, name: 'conformance: fuzzy_art (small)' });
describeConformance(fuzzyArt, {
  numRuns: 50,
  name: 'conformance: fuzzy_art (random params)',
  randomParams: fc.record({
    block_points: fc.integer({ min: 1, max: 4 }),
    blocks: fc.integer({ min: 1, max: 4 }),
    max_categories: fc.integer({ min: 1, max: 6 }),
    vigilance: fc.double({ min: 0.001, max: 1, noNaN: true }),
    warmup_relax: fc.double({ min: 0, max: 1, noNaN: true }),
    max_vigilance: fc.double({ min: 0.01, max: 2, noNaN: true }),
    min_points: fc.integer({ min: 0, max: 10 }),
    half_distance: fc.double({ min: 0.01, max: 2, noNaN: true }),
    admit_excess: fc.double({ min: 0, max: 5, noNaN: true }),
  }),
});

const t0 = 1_700_000_000_000;
const obs = (i: number, value: number): Observation => ({ time: t0 + i * 1000, value, fields: {} });

function runAll(p: FuzzyArtParams, values: readonly number[]) {
  const s = fuzzyArt.init(p);
  const out = collectFindings();
  const scores = values.map((v, i) => fuzzyArt.step(p, s, obs(i, v), out, DEFAULT_LABELS));
  return { scores, findings: out.findings, state: s };
}

/** A sawtooth of period 12 between 0 and 10. */
const saw = (i: number) => (i % 12) * (10 / 11);

describe('fuzzy_art behaviour', () => {
  it('learns a repeating shape (no novelty after warm-up) and scores a new shape with a reason', () => {
    const p = resolveParams(fuzzyArt, {
      block_points: 2,
      blocks: 6,
      vigilance: 0.1,
      min_points: 100,
      half_distance: 0.1,
    });
    const calm = Array.from({ length: 300 }, (_, i) => saw(i));
    const quiet = runAll(p, calm);
    expect(quiet.scores.slice(100).every((x) => x === 0)).toBe(true);
    expect(quiet.findings).toHaveLength(0);
    // A flat stretch at the top of the range: every value is inside the range, the shape is new.
    const broken = runAll(p, [...calm, ...Array.from({ length: 12 }, () => 10)]);
    const top = Math.max(...broken.scores.slice(300).map((x) => x ?? 0));
    expect(top).toBeGreaterThan(0.5);
    expect(broken.findings[0]!.reason).toMatch(
      /^flow_m3h: new 12-point shape \(category \d+\), [\d.]+ of the range from the nearest known one$/,
    );
  });

  it('boxes only grow, and each input ends inside the box it resonated with', () => {
    fc.assert(
      fc.property(scalarObservations({ maxLength: 80, values: fc.integer({ min: -20, max: 20 }) }), (xs) => {
        const p = resolveParams(fuzzyArt, { block_points: 1, blocks: 2, vigilance: 0.3, min_points: 0 });
        const s = fuzzyArt.init(p);
        for (const x of xs) {
          const before = s.lower.map((l, k) => ({ l: l.slice(), u: s.upper[k]!.slice() }));
          fuzzyArt.step(p, s, x, collectFindings(), DEFAULT_LABELS);
          if (s.input.length < p.blocks) continue;
          // The current input lies inside (at least) one box.
          const inside = s.lower.some((l, k) =>
            l.every((lo, j) => lo <= s.input[j]! && s.input[j]! <= s.upper[k]![j]!),
          );
          expect(inside).toBe(true);
          // Existing boxes never shrink (unless replaced, which needs a full memory).
          if (s.lower.length < p.max_categories) {
            before.forEach((b, k) => {
              b.l.forEach((lo, j) => expect(s.lower[k]![j]!).toBeLessThanOrEqual(lo));
              b.u.forEach((hi, j) => expect(s.upper[k]![j]!).toBeGreaterThanOrEqual(hi));
            });
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('warmup_relax widens the vigilance during warm-up only, up to max_vigilance', () => {
    const p = resolveParams(fuzzyArt, {
      block_points: 1,
      blocks: 2,
      vigilance: 0.05,
      warmup_relax: 0.5,
      max_vigilance: 0.2,
      min_points: 50,
    });
    const values = Array.from({ length: 120 }, (_, i) => ((i * 7919) % 101) / 10);
    const { state } = runAll(p, values);
    expect(state.rho).toBe(0.2);
    const fixed = runAll(
      resolveParams(fuzzyArt, { block_points: 1, blocks: 2, vigilance: 0.05, min_points: 50 }),
      values,
    ).state;
    expect(fixed.rho).toBeNull();
  });
});
