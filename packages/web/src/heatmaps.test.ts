import { describe, expect, it } from 'vitest';
import type { Anomaly } from '../../core/src/schema/events.ts';
import { heatmapSha, modelHeatmap } from './heatmaps.ts';

const sha = (c: string) => c.repeat(64);
const anomaly = (over: Partial<Anomaly>): Anomaly => ({
  id: 'a',
  time: 1_700_000_000_000,
  site: 'plant-a',
  asset: 'cam-intake',
  detector: 'camera-model',
  detectorType: 'threshold_duration',
  modality: 'image',
  score: 0.9,
  severity: 'critical',
  reason: 'r',
  ...over,
});

describe('model heat maps in the evidence', () => {
  it('reads blob references and bare hashes, and nothing else', () => {
    expect(heatmapSha(`blob://${sha('a')}`)).toBe(sha('a'));
    expect(heatmapSha(sha('b'))).toBe(sha('b'));
    expect(heatmapSha('blob://../../etc/passwd')).toBeUndefined();
    expect(heatmapSha(42)).toBeUndefined();
    expect(heatmapSha(undefined)).toBeUndefined();
  });

  it('picks the strongest anomaly with a heat map, the latest on ties', () => {
    const ev = [
      anomaly({ id: '1', score: 0.7, detail: { heatmap_ref: `blob://${sha('1')}` } }),
      anomaly({ id: '2', score: 0.95 }),
      anomaly({ id: '3', score: 0.8, time: 1_700_000_005_000, detail: { heatmap_ref: `blob://${sha('3')}` } }),
      anomaly({ id: '4', score: 0.8, time: 1_700_000_001_000, detail: { heatmap_ref: `blob://${sha('4')}` } }),
    ];
    expect(modelHeatmap(ev)).toEqual({
      sha256: sha('3'),
      time: 1_700_000_005_000,
      asset: 'cam-intake',
      detector: 'camera-model',
      score: 0.8,
    });
    expect(modelHeatmap([anomaly({})])).toBeUndefined();
  });
});
