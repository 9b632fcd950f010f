/**
 * The shipped models' readings judged by ordinary detectors, with the entries proposed for
 * examples/plant.yaml (MODEL_DETECTORS below): over a simulated plant run with pump cavitation,
 * an intruder and bearing wear, each scenario is found by its model detector inside its labelled
 * window, and nothing is found outside the windows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createPlant } from '../../../core/src/simulator/plant.ts';
import { detectorRegistry } from '../../../core/src/detectors/registry.ts';
import { resolveParams } from '../../../core/src/detectors/params.ts';
import type { Finding } from '../../../core/src/detectors/contract.ts';
import type { Label, MediaRef, Reading } from '../../../core/src/schema/events.ts';
import type { BlobStore } from '../runtime/types.ts';
import { createModelStage, type ModelStage } from './stage.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const T0 = Date.UTC(2025, 5, 1);

/** The detector entries proposed for examples/plant.yaml, as data (metric, asset glob, type, params). */
export const MODEL_DETECTORS = [
  {
    id: 'pump-audio-model',
    type: 'threshold_duration',
    metric: 'audio_ae_error',
    asset: /^P-/,
    params: { high: 0.55, duration_secs: 15, hysteresis: 0.05 },
  },
  {
    id: 'camera-model',
    type: 'threshold_duration',
    metric: 'image_ae_error',
    asset: /^cam-/,
    params: { high: 1.0, duration_secs: 4, severity: 'critical' },
  },
  {
    id: 'pump-forecast-drift',
    type: 'page_hinkley',
    metric: 'model_error',
    asset: /^P-/,
    params: { delta: 0.5, threshold: 50, direction: 'up', min_points: 60 },
  },
] as const;

let stage: ModelStage;
const raw = new Map<string, Uint8Array>();
const blobs: BlobStore = {
  put(bytes, contentType): Promise<MediaRef> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    raw.set(`blob://${sha256}`, bytes);
    return Promise.resolve({ uri: `blob://${sha256}`, contentType, bytes: bytes.byteLength, sha256 });
  },
  get: (uri) => Promise.resolve(raw.get(uri)!),
};

beforeAll(async () => {
  const entries = ['audio_ae', 'image_ae', 'sensor_forecaster'].map((n) => ({
    id: n,
    file: `models/${n}.onnx`,
    metadata: `models/${n}.json`,
  }));
  stage = await createModelStage({ entries, baseDir: ROOT, blobs, logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await stage.close();
});

describe('model readings judged by the proposed detectors', () => {
  it('finds cavitation, an intruder and bearing wear inside their windows and nothing outside', async () => {
    const plant = createPlant({
      seed: 4242,
      startTime: T0,
      schedule: [
        { scenario: 'pump_cavitation', at_secs: 150 },
        { scenario: 'intruder', at_secs: 450 },
        { scenario: 'bearing_wear', at_secs: 650 },
      ],
    });
    const labels: Label[] = [];
    const derived: Reading[] = [];
    for (const o of plant.advance(T0 + 900_000)) {
      if (o.type === 'label') labels.push(o.label);
      else if (o.type === 'event') {
        if (o.event.kind === 'reading') derived.push(...(await stage.derive({ ...o.event, ingestTime: o.event.time })));
      } else {
        const media = await blobs.put(o.bytes, o.contentType);
        derived.push(...(await stage.derive({ ...o.event, media, ingestTime: o.time })));
      }
    }
    const findings: Array<{ detector: string; asset: string; time: number; f: Finding }> = [];
    for (const d of MODEL_DETECTORS) {
      const def = detectorRegistry[d.type]!;
      const params: unknown = resolveParams(def, d.params);
      const states = new Map<string, unknown>();
      for (const r of derived) {
        if (r.metric !== d.metric || !d.asset.test(r.asset)) continue;
        if (!states.has(r.asset)) states.set(r.asset, (def.init as (p: unknown) => unknown)(params));
        const sink = { finding: (f: Finding) => findings.push({ detector: d.id, asset: r.asset, time: r.time, f }) };
        (def.step as (p: unknown, s: unknown, i: unknown, o: unknown, l: unknown) => unknown)(
          params,
          states.get(r.asset),
          { time: r.time, value: r.value, fields: {} },
          sink,
          {
            key: `plant-a/${r.asset}`,
            metric: r.metric,
            unit: r.unit,
          },
        );
      }
    }
    expect(labels.map((l) => l.scenario)).toEqual(['pump_cavitation', 'intruder', 'bearing_wear']);
    const inside = (l: Label, t: number): boolean => t >= l.startTime && t <= l.endTime;
    for (const [scenario, detector] of [
      ['pump_cavitation', 'pump-audio-model'],
      ['pump_cavitation', 'pump-forecast-drift'],
      ['intruder', 'camera-model'],
      ['bearing_wear', 'pump-audio-model'],
    ] as const) {
      const l = labels.find((x) => x.scenario === scenario)!;
      const hit = findings.find((f) => f.detector === detector && l.assets.includes(f.asset) && inside(l, f.time));
      expect(hit, `${detector} on ${scenario}`).toBeDefined();
    }
    const outside = findings.filter((f) => !labels.some((l) => inside(l, f.time)));
    expect(outside.map((f) => `${f.detector} ${f.asset} ${new Date(f.time).toISOString()} ${f.f.reason}`)).toEqual([]);
  });
});
