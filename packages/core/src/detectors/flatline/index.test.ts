import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { collectFindings, DEFAULT_LABELS, describeConformance } from '../../testing/conformance.ts';
import { resolveParams } from '../params.ts';
import { flatline } from './index.ts';

describeConformance(flatline, { params: { min_duration_secs: 5, min_moving_steps: 3 } });
describeConformance(flatline, { numRuns: 50, params: { min_duration_secs: 30, tolerance: 0.5, silence_secs: 60 }, name: 'conformance: flatline (tolerance, silence)' });

const T0 = 1_700_000_000_000;

describe('flatline', () => {
  it('flags a moving signal that freezes, once, and notes when it moves again', () => {
    const p = resolveParams(flatline, { min_duration_secs: 20, min_moving_steps: 10 });
    const s = flatline.init(p);
    const f = collectFindings();
    let t = T0;
    for (let i = 0; i < 50; i++) flatline.step(p, s, { time: (t += 1000), value: Math.sin(i / 3), fields: {} }, f, DEFAULT_LABELS);
    expect(f.findings).toHaveLength(0);
    for (let i = 0; i < 40; i++) flatline.step(p, s, { time: (t += 1000), value: 0.5, fields: {} }, f, DEFAULT_LABELS);
    expect(f.findings).toHaveLength(1);
    expect(f.findings[0]?.reason).toMatch(/^flow_m3h has not changed from 0\.5 m3\/h for 20 s/);
    flatline.step(p, s, { time: (t += 1000), value: 0.7, fields: {} }, f, DEFAULT_LABELS);
    expect(f.findings[1]?.severity).toBe('info');
  });

  it('never flags a signal that was always constant (a setpoint)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 1, max: 500 }), (v, n) => {
        const p = resolveParams(flatline, { min_duration_secs: 1 });
        const s = flatline.init(p);
        const f = collectFindings();
        for (let i = 0; i < n; i++) flatline.step(p, s, { time: T0 + i * 1000, value: v, fields: {} }, f, DEFAULT_LABELS);
        expect(f.findings).toHaveLength(0);
      }),
    );
  });

  it('flags silence from tick', () => {
    const p = resolveParams(flatline, { silence_secs: 30 });
    const s = flatline.init(p);
    const f = collectFindings();
    flatline.step(p, s, { time: T0, value: 1, fields: {} }, f, DEFAULT_LABELS);
    expect(flatline.tick!(p, s, T0 + 29_000, f, DEFAULT_LABELS)).toBeNull();
    expect(flatline.tick!(p, s, T0 + 30_000, f, DEFAULT_LABELS)).toBe(1);
    expect(f.findings[0]?.reason).toBe('flow_m3h has not reported for 30 s');
  });
});
