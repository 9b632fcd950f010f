import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createCorrelator, type CorrelatorParams } from './index.ts';
import type { Anomaly } from '../schema/events.ts';

const P: CorrelatorParams = {
  window_secs: 60,
  resolve_after_secs: 120,
  group_by: 'stage',
  related: [],
  min_severity: 'warning',
  max_evidence: 5,
};
const T0 = Date.UTC(2026, 0, 1);

function anomaly(over: Partial<Anomaly> & { id: string; time: number }): Anomaly {
  return {
    site: 'plant-a',
    asset: 'P-101',
    stage: 'intake',
    detector: 'z',
    detectorType: 'rolling_zscore',
    modality: 'reading',
    metric: 'flow_m3h',
    score: 0.8,
    severity: 'warning',
    reason: 'flow_m3h high',
    ...over,
  };
}

describe('correlator', () => {
  it('groups anomalies of one stage within the window into one incident, and resolves it after quiet', () => {
    const c = createCorrelator(P);
    const s = c.init();
    const a = c.add(s, anomaly({ id: 'a1', time: T0 }));
    const b = c.add(s, anomaly({ id: 'a2', time: T0 + 30_000, asset: 'T-101', modality: 'audio', detector: 'ae' }));
    expect(a?.id).toBeDefined();
    expect(b?.id).toBe(a?.id);
    expect(b?.assets).toEqual(['P-101', 'T-101']);
    expect(b?.modalities).toEqual(['reading', 'audio']);
    // two modalities agreeing escalate a warning to critical
    expect(b?.severity).toBe('critical');
    expect(b?.anomalyCount).toBe(2);
    expect(b?.explanation).toContain('sensors + audio');
    expect(c.tick(s, T0 + 30_000 + 119_000)).toEqual([]);
    const resolved = c.tick(s, T0 + 30_000 + 120_000);
    expect(resolved).toHaveLength(1);
    expect(resolved[0]?.status).toBe('resolved');
    expect(resolved[0]?.endTime).toBe(T0 + 30_000);
  });

  it('opens a new incident after the window, and keeps stages apart', () => {
    const c = createCorrelator(P);
    const s = c.init();
    const a = c.add(s, anomaly({ id: 'a1', time: T0 }));
    const other = c.add(s, anomaly({ id: 'b1', time: T0 + 1000, stage: 'dosing', asset: 'AIT-201' }));
    const late = c.add(s, anomaly({ id: 'a3', time: T0 + 61_000 }));
    expect(other?.id).not.toBe(a?.id);
    expect(late?.id).not.toBe(a?.id);
  });

  it('does not open incidents from info findings', () => {
    const c = createCorrelator(P);
    const s = c.init();
    expect(c.add(s, anomaly({ id: 'i', time: T0, severity: 'info' }))).toBeUndefined();
    expect(Object.keys(s.open)).toHaveLength(0);
  });

  it('honours explicit related-asset groups across stages', () => {
    const c = createCorrelator({ ...P, related: [['P-101', 'cam-intake']] });
    const s = c.init();
    const a = c.add(s, anomaly({ id: 'a', time: T0 }));
    const b = c.add(s, anomaly({ id: 'b', time: T0 + 5000, asset: 'cam-intake', stage: 'security', modality: 'image' }));
    expect(b?.id).toBe(a?.id);
  });

  it('bounds evidence and keeps the strongest per detector', () => {
    const c = createCorrelator(P);
    const s = c.init();
    let last;
    for (let i = 0; i < 50; i++) {
      last = c.add(s, anomaly({ id: `a${i}`, time: T0 + i * 1000, detector: `d${i % 8}`, score: (i % 10) / 10 }));
    }
    expect(last?.evidence.length).toBeLessThanOrEqual(5);
    expect(last?.anomalyCount).toBe(50);
    expect(last?.evidence[0]?.id).toBe('a0');
  });

  it('gives the same incidents whether or not the state was checkpointed in between (any split)', () => {
    const arb = fc.array(
      fc.record({
        dt: fc.integer({ min: 0, max: 200_000 }),
        stage: fc.constantFrom('intake', 'dosing'),
        sev: fc.constantFrom('info' as const, 'warning' as const, 'critical' as const),
        score: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
      { minLength: 1, maxLength: 40 },
    );
    fc.assert(
      fc.property(arb, fc.nat(), (steps, splitSeed) => {
        const split = splitSeed % (steps.length + 1);
        const run = (checkpointAt: number | undefined) => {
          const c = createCorrelator(P);
          let s = c.init();
          const out: string[] = [];
          let t = T0;
          steps.forEach((st, i) => {
            if (i === checkpointAt) s = c.restore(JSON.parse(JSON.stringify(s)));
            t += st.dt;
            const inc = c.add(s, anomaly({ id: `a${i}`, time: t, stage: st.stage, severity: st.sev, score: st.score }));
            if (inc) out.push(`${inc.id}:${inc.revision}:${inc.severity}`);
            for (const r of c.tick(s, t)) out.push(`${r.id}:resolved`);
          });
          return out;
        };
        expect(run(split)).toEqual(run(undefined));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a restored state that is not its own', () => {
    const c = createCorrelator(P);
    expect(() => c.restore({ version: 7 })).toThrow(/version 7/);
    expect(() => c.restore('x')).toThrow(/expected an object/);
  });
});
