import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { openEmbeddedStore } from '../storage/duckdb-store.ts';
import { analyze, niceWindow } from './analyze.ts';
import { fillFromSimulator, reading } from './testing.ts';
import { binOf, findingsOf, summarize } from '../../../core/src/analytics/index.ts';
import { Anomaly } from '../../../core/src/schema/events.ts';
import { createRng } from '../../../core/src/simulator/prng.ts';
import type { SinkRecord } from '../runtime/types.ts';

const T0 = Date.UTC(2024, 0, 1);

describe('analyze on synthetic data with known answers', () => {
  it('computes statistics and histograms equal to the reference, flags the planted outliers, drift and trend', async () => {
    const store = await openEmbeddedStore(':memory:', { retention_hours: 0 });
    try {
      const rng = createRng(3, 'synthetic');
      const recs: SinkRecord[] = [];
      const flat: number[] = [];
      const ramp: number[] = [];
      const n = 7200; // two hours at 1 Hz
      for (let i = 0; i < n; i++) {
        const t = T0 + i * 1000;
        // flat: N(50, 1) with three spikes at 90; level: steps from 10 to 20 at the half; ramp: +1 per hour.
        const f = i === 1000 || i === 1001 || i === 5000 ? 90 : 50 + rng.normal();
        flat.push(f);
        recs.push(reading(t, 'P-1', 'flat', f));
        recs.push(reading(t, 'P-1', 'level', (i < n / 2 ? 10 : 20) + rng.normal() * 0.5));
        const r = i / 3600 + rng.normal() * 0.01;
        ramp.push(r);
        recs.push(reading(t, 'T-1', 'ramp', r));
      }
      for (let i = 0; i < recs.length; i += 5000) await store.write(recs.slice(i, i + 5000));
      const res = await analyze((q, v) => store.query(q, v), { from: T0, to: T0 + n * 1000 - 1, bins: 40 });

      const sFlat = res.stats.find((s) => s.metric === 'flat');
      const ref = summarize(flat);
      expect(sFlat?.count).toBe(n);
      expect(sFlat?.mean).toBeCloseTo(ref.mean, 9);
      expect(sFlat?.std).toBeCloseTo(ref.std, 9);
      expect(sFlat?.max).toBe(90);
      for (const [k, v] of Object.entries(ref.percentiles))
        expect(sFlat?.percentiles[k as keyof typeof ref.percentiles]).toBeCloseTo(v, 9);

      const hFlat = res.histograms.find((h) => h.metric === 'flat');
      const refCounts = new Array<number>(40).fill(0);
      for (const v of flat) refCounts[binOf(v, ref.min, ref.max, 40)]!++;
      expect(hFlat?.counts).toEqual(refCounts);
      expect(hFlat?.outlierBins).toEqual([39]);
      expect(hFlat?.firstTime[39]).toBe(T0 + 1000 * 1000);
      expect(res.histograms.find((h) => h.metric === 'ramp')?.outlierBins).toEqual([]);

      const dLevel = res.drifts.find((d) => d.metric === 'level');
      expect(dLevel?.drifted).toBe(true);
      expect(dLevel?.after.mean).toBeCloseTo(20, 1);
      expect(res.drifts.find((d) => d.metric === 'flat')?.drifted).toBe(false);

      const tRamp = res.trends.find((t) => t.metric === 'ramp');
      expect(tRamp?.slopePerHour).toBeCloseTo(1, 2);
      expect(tRamp?.points.length).toBeGreaterThan(100);

      // P-1: the level step makes two regimes; the spike windows stand out.
      const cP = res.clusterings.find((c) => c.asset === 'P-1');
      expect(cP?.criterion).toBe('silhouette');
      expect(cP?.k).toBeGreaterThanOrEqual(2);
      const flaggedTimes = new Set([
        ...(cP?.outliers ?? []).map((p) => p.time),
        ...(cP?.tinyClusters ?? []).flatMap((c) =>
          (cP?.points ?? []).filter((p) => p.cluster === c).map((p) => p.time),
        ),
      ]);
      expect(flaggedTimes.has(T0 + 960_000)).toBe(true); // the window holding seconds 1000-1001
      expect(flaggedTimes.has(T0 + 4980_000)).toBe(true); // the window holding second 5000

      const anomalies = findingsOf(res);
      for (const a of anomalies) expect(Value.Check(Anomaly, a)).toBe(true);
      expect(anomalies.some((a) => a.detectorType === 'histogram_outlier' && a.metric === 'flat')).toBe(true);
      expect(anomalies.some((a) => a.detectorType === 'drift' && a.metric === 'level')).toBe(true);

      // --asset restricts every analysis.
      const only = await analyze((q, v) => store.query(q, v), { from: T0, to: T0 + n * 1000, assets: ['T-1'] });
      expect(new Set(only.stats.map((s) => s.asset))).toEqual(new Set(['T-1']));
      expect(only.clusterings.every((c) => c.asset === 'T-1')).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('rejects a reversed range with a code', async () => {
    await expect(analyze(() => Promise.resolve([]), { from: 2, to: 1 })).rejects.toMatchObject({
      code: 'E_ANALYZE_OPTIONS',
    });
    expect(niceWindow(3_600_000, 300)).toBe(30_000);
  });
});

describe('analyze on a simulator run', () => {
  it('covers every channel and finds the scripted faults as batch anomalies that the store serves back', async () => {
    const store = await openEmbeddedStore(':memory:', { retention_hours: 0 });
    try {
      const { readings, labels } = await fillFromSimulator(store, { seed: 7, durationSecs: 1200, startTime: T0 });
      expect(labels.length).toBeGreaterThan(0);
      const res = await analyze((q, v) => store.query(q, v), { from: T0, to: T0 + 1_200_000 });
      expect(res.stats.reduce((s, x) => s + x.count, 0)).toBe(readings);
      expect(res.stats.length).toBeGreaterThanOrEqual(30);
      expect(res.clusterings.length).toBeGreaterThan(5);
      const anomalies = findingsOf(res);
      // At least one finding points at an asset of a scripted fault, within a minute of it.
      const hits = labels.filter((l) =>
        anomalies.some(
          (a) => l.assets.includes(a.asset) && a.time >= l.startTime - 60_000 && a.time <= l.endTime + 60_000,
        ),
      );
      expect(hits.length).toBeGreaterThan(0);
      await store.write(anomalies.map((anomaly) => ({ type: 'anomaly', anomaly })));
      const back = await store.anomalies({ limit: 10_000 });
      expect(back.filter((a) => a.modality === 'batch')).toHaveLength(anomalies.length);
    } finally {
      await store.close();
    }
  });
});
