import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resolveParams } from '../params.ts';
import type { Observation } from '../contract.ts';
import { collectFindings, DEFAULT_LABELS, describeConformance } from '../../testing/conformance.ts';
import { detectorRegistry } from '../registry.ts';
import { patternNovelty } from '../pattern_novelty/index.ts';
import { rangeRecord } from '../range_record/index.ts';
import { rollingZScore } from '../rolling_zscore/index.ts';
import { seasonalError } from '../seasonal_error/index.ts';
import { createEnsemble, EnsembleError, type EnsembleParams, type MemberLookup } from './index.ts';
import { rarityInit, rarityStep, suppressInit, suppressStep } from './calibrate.ts';

const defs = {
  range_record: rangeRecord,
  pattern_novelty: patternNovelty,
  rolling_zscore: rollingZScore,
  seasonal_error: seasonalError,
};
const lookup: MemberLookup = (type) => (defs as Record<string, (typeof defs)[keyof typeof defs]>)[type];
const ensemble = createEnsemble(lookup);

const smallMembers = [
  { type: 'range_record', params: { window_points: 10, min_points: 3 } },
  { type: 'pattern_novelty', params: { block_points: 2, blocks: 2, max_prototypes: 4, min_points: 3 } },
  { type: 'rolling_zscore', params: { window_points: 5, min_points: 2 } },
];
describeConformance(ensemble, {
  numRuns: 60,
  params: {
    members: smallMembers,
    calibration_min_points: 3,
    calibration_horizon_points: 20,
    suppress_points: 5,
    alert_score: 0.2,
  },
  name: 'conformance: ensemble (three members)',
});
describeConformance(ensemble, {
  numRuns: 40,
  name: 'conformance: ensemble (random params)',
  randomParams: fc.record({
    members: fc.constant(smallMembers),
    combine: fc.constantFrom('max', 'mean'),
    calibration_weight: fc.double({ min: 0, max: 1, noNaN: true }),
    calibration_bins: fc.integer({ min: 2, max: 20 }),
    calibration_horizon_points: fc.integer({ min: 2, max: 50 }),
    calibration_min_points: fc.integer({ min: 0, max: 10 }),
    suppress_points: fc.integer({ min: 0, max: 10 }),
    suppress_raise: fc.double({ min: 1, max: 3, noNaN: true }),
    alert_score: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
});

const t0 = 1_700_000_000_000;
const obs = (i: number, value: number): Observation => ({ time: t0 + i * 1000, value, fields: {} });
/** Deterministic noise in [-1, 1]. */
const noise = (i: number) => Math.sin(i * 12.9898) * 0.5 + Math.sin(i * 78.233) * 0.5;

function runAll(p: EnsembleParams, values: readonly number[]) {
  const s = ensemble.init(p);
  const out = collectFindings();
  const scores = values.map((v, i) => ensemble.step(p, s, obs(i, v), out, DEFAULT_LABELS));
  return { scores, findings: out.findings };
}

describe('rarity calibration', () => {
  const o = { bins: 10, horizonPoints: 100, minPoints: 5 };

  it('rates a score never seen before as rare and a habitual one as common', () => {
    const c = rarityInit(10);
    for (let i = 0; i < 200; i++) rarityStep(c, i % 2 === 0 ? 0.55 : 0, o);
    expect(rarityStep(c, 0.55, o)).toBeLessThan(0.2);
    expect(rarityStep(c, 0.95, o)).toBeGreaterThan(0.9);
  });

  it('gives 0 for scores of 0 and during warm-up', () => {
    const c = rarityInit(10);
    expect(rarityStep(c, 0.9, o)).toBe(0);
    for (let i = 0; i < 10; i++) rarityStep(c, 0, o);
    expect(rarityStep(c, 0, o)).toBe(0);
  });

  it('stays in [0, 1] for any scores', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 300 }), (xs) => {
        const c = rarityInit(7);
        for (const x of xs) {
          const r = rarityStep(c, x, { bins: 7, horizonPoints: 30, minPoints: 0 });
          expect(r).toBeGreaterThanOrEqual(0);
          expect(r).toBeLessThanOrEqual(1);
        }
      }),
    );
  });
});

describe('suppression', () => {
  it('lets a score through, then only higher ones until the bar has fallen', () => {
    const s = suppressInit();
    expect(suppressStep(s, 0.8, 4)).toBe(0.8);
    expect(suppressStep(s, 0.5, 4)).toBe(0); // bar 0.8 * 3/4 = 0.6
    expect(suppressStep(s, 0.5, 4)).toBe(0.5); // bar 0.4: passes and becomes the new peak
    expect(suppressStep(s, 0.3, 4)).toBe(0); // bar 0.5 * 3/4 = 0.375
    expect(suppressStep(s, 0.3, 4)).toBe(0.3); // bar 0.25
    for (let i = 0; i < 3; i++) suppressStep(s, 0, 4);
    expect(suppressStep(s, 0.01, 4)).toBe(0.01); // bar back to 0
  });

  it('is a no-op with suppress_points 0', () => {
    const s = suppressInit();
    expect([0.5, 0.5, 0.4].map((x) => suppressStep(s, x, 0))).toEqual([0.5, 0.5, 0.4]);
  });

  it('with raise > 1 reports a creeping score once: the bar starts above the last reported score', () => {
    const creep = [0.5, 0.55, 0.6, 0.65, 0.7];
    const plain = suppressInit();
    expect(creep.map((x) => suppressStep(plain, x, 100, 1))).toEqual(creep);
    const raised = suppressInit();
    // Bar after 0.5 with raise 1.25: 0.625 × 99/100 ≈ 0.619, so 0.55 and 0.6 are held back, 0.65 passes.
    expect(creep.map((x) => suppressStep(raised, x, 100, 1.25))).toEqual([0.5, 0, 0, 0.65, 0]);
    // The bar is capped at 1 and still falls to 0 over suppress_points.
    const capped = suppressInit();
    expect(suppressStep(capped, 0.9, 4, 3)).toBe(0.9);
    expect(suppressStep(capped, 0.74, 4, 3)).toBe(0); // bar min(1, 2.7) × 3/4 = 0.75
    expect(suppressStep(capped, 0.6, 4, 3)).toBe(0.6); // bar 1 × 2/4 = 0.5
  });
});

describe('ensemble behaviour', () => {
  const p = resolveParams(ensemble, {
    members: [
      { type: 'range_record', params: { window_points: 500, min_points: 50 } },
      { type: 'pattern_novelty', params: { block_points: 4, blocks: 4, min_points: 100 } },
    ],
    calibration_min_points: 50,
    calibration_horizon_points: 500,
    suppress_points: 100,
  });

  it('is null until a member scores, quiet on noise, and reports a breakout once with the leading member', () => {
    const values = Array.from({ length: 800 }, (_, i) => (i >= 700 && i < 720 ? 30 : 10 + noise(i)));
    const { scores, findings } = runAll(p, values);
    expect(scores[0]).toBeNull();
    const quiet = Math.max(...scores.slice(300, 700).map((s) => s ?? 0));
    expect(quiet).toBeLessThan(0.5);
    expect(scores[700]).toBeGreaterThan(0.5);
    // The following rows of the same anomaly are suppressed.
    expect(scores.slice(701, 720).every((s) => s === 0)).toBe(true);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.reason).toMatch(
      /^flow_m3h 30: ensemble score [\d.]+, led by range_record \(score [\d.]+, rarity [\d.]+\): flow_m3h 30 is above its 500-point max/,
    );
  });

  it('mean needs agreement: it scores no higher than max', () => {
    const values = Array.from({ length: 800 }, (_, i) => (i >= 700 ? 30 : 10 + noise(i)));
    const max = runAll({ ...p, suppress_points: 0 }, values).scores;
    const mean = runAll({ ...p, combine: 'mean', suppress_points: 0 }, values).scores;
    mean.forEach((m, i) => expect(m ?? 0).toBeLessThanOrEqual((max[i] ?? 0) + 1e-12));
    expect(Math.max(...mean.map((m) => m ?? 0))).toBeGreaterThan(0);
  });

  it('rejects an unknown member type or bad member params with a stable code and the member path', () => {
    const bad = resolveParams(ensemble, { members: [{ type: 'range_record' }, { type: 'no_such' }] });
    expect(() => ensemble.init(bad)).toThrow(EnsembleError);
    expect(() => ensemble.init(bad)).toThrow(/members\[1\]\.type "no_such"/);
    const badParams = resolveParams(ensemble, { members: [{ type: 'range_record', params: { window_points: 1 } }] });
    try {
      ensemble.init(badParams);
      expect.unreachable();
    } catch (e) {
      expect((e as EnsembleError).code).toBe('E_ENSEMBLE_MEMBER');
      expect((e as Error).message).toMatch(/members\[0\] \(range_record\) params: range_record: \/window_points/);
    }
  });

  it('is registered, and its defaults (the NAB configuration) resolve against the registry', () => {
    const def = detectorRegistry['ensemble']!;
    expect(def.type).toBe('ensemble');
    const dp: unknown = resolveParams(def as unknown as typeof ensemble, {});
    const s = def.init(dp) as { members: unknown[] };
    expect(s.members).toHaveLength(6);
  });
});
