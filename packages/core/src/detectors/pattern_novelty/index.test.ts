import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resolveParams } from '../params.ts';
import type { Observation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance } from '../../testing/conformance.ts';
import { patternNovelty, type PatternNoveltyParams } from './index.ts';

describeConformance(patternNovelty, {
  params: { block_points: 2, blocks: 3, max_prototypes: 5, min_points: 4 },
  name: 'conformance: pattern_novelty (small)',
});
describeConformance(patternNovelty, {
  numRuns: 50,
  name: 'conformance: pattern_novelty (random params)',
  randomParams: fc.record({
    block_points: fc.integer({ min: 1, max: 4 }),
    blocks: fc.integer({ min: 1, max: 5 }),
    max_prototypes: fc.integer({ min: 1, max: 6 }),
    vigilance: fc.double({ min: 0.001, max: 1, noNaN: true }),
    min_points: fc.integer({ min: 0, max: 10 }),
    half_distance: fc.double({ min: 0.01, max: 1, noNaN: true }),
  }),
});

const t0 = 1_700_000_000_000;
const obs = (i: number, value: number): Observation => ({ time: t0 + i * 60_000, value, fields: {} });

function runAll(p: PatternNoveltyParams, values: readonly number[]) {
  const s = patternNovelty.init(p);
  const out = collectFindings();
  const scores = values.map((v, i) => patternNovelty.step(p, s, obs(i, v), out, DEFAULT_LABELS));
  return { scores, findings: out.findings, state: s };
}

/** A daily-like wave: 48 points per period between 0 and 100. */
const wave = (i: number) => 50 + 50 * Math.sin((2 * Math.PI * i) / 48);

describe('pattern_novelty behaviour', () => {
  const p = resolveParams(patternNovelty, { block_points: 4, blocks: 6, min_points: 480 });

  it('is null while warming up, then learns a repeating shape and stays quiet on it', () => {
    const values = Array.from({ length: 1500 }, (_, i) => wave(i));
    const { scores, findings } = runAll(p, values);
    expect(scores.slice(0, 480).every((s) => s === null)).toBe(true);
    expect(scores.slice(480).every((s) => s === 0)).toBe(true);
    expect(findings).toEqual([]);
  });

  it('scores a changed shape inside the usual range and says why', () => {
    // The wave, then a flat stretch at its middle level: never below 0 or above 100.
    const values = Array.from({ length: 1500 }, (_, i) => (i >= 1200 && i < 1260 ? 50 : wave(i)));
    const { scores, findings } = runAll({ ...p, half_distance: 0.1 }, values);
    expect(Math.max(...scores.slice(480, 1200).map((s) => s ?? 0))).toBe(0);
    const during = scores.slice(1200, 1270).map((s) => s ?? 0);
    expect(Math.max(...during)).toBeGreaterThan(0.2);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0]!.reason).toMatch(/^flow_m3h: new 24-point pattern, [\d.]+ of the range from any seen before$/);
  });

  it('gives 0, not a stale score, on rows that complete no block', () => {
    const values = Array.from({ length: 1300 }, (_, i) => (i >= 1200 ? 300 : wave(i)));
    const { scores } = runAll(p, values);
    // Blocks complete on every 4th point (i % 4 === 3); the others judge nothing.
    for (let i = 1200; i < 1300; i++) if (i % 4 !== 3) expect(scores[i]).toBe(0);
    expect(Math.max(...scores.slice(1200).map((s) => s ?? 0))).toBeGreaterThan(0.3);
  });

  it('keeps at most max_prototypes patterns, replacing the least recently matched', () => {
    const small = resolveParams(patternNovelty, { block_points: 1, blocks: 2, max_prototypes: 3, vigilance: 0.01, min_points: 0 });
    const { state } = runAll(small, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(state.protos).toHaveLength(3);
    // The three most recent patterns are kept.
    expect(state.protos.map((q) => q.join(',')).sort()).toEqual(['70,80', '80,90', '90,100']);
  });
});
