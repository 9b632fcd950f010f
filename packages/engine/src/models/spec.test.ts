import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { resolveModelEntry } from './spec.ts';
import { loadModel } from './session.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const peak = {
  id: 'peak',
  file: 'models/fixtures/window_peak.onnx',
  modality: 'reading',
  input: { name: 'x', dtype: 'float32', shape: [-1, 4, 8] },
  output: { name: 'score' },
  prepare: { kind: 'sensor_window', channels: ['a', 'b', 'c', 'd'], steps: 8, mean: [0, 0, 0, 0], std: [1, 1, 1, 1] },
  score: { kind: 'output_value' },
  metric: 'peak_score',
};

async function load(entry: unknown) {
  return loadModel(await resolveModelEntry(entry, { baseDir: ROOT }));
}

describe('bring your own model: entries are checked against the ONNX graph', () => {
  it('loads a matching entry and takes the rest from a metadata file', async () => {
    const m = await load(peak);
    expect(m.itemSize).toBe(32);
    await m.close();
    const r = await resolveModelEntry(
      { id: 'a', file: 'models/audio_ae.onnx', metadata: 'models/audio_ae.json', batch_max: 8 },
      { baseDir: ROOT },
    );
    expect(r).toMatchObject({
      modality: 'audio',
      metric: 'audio_ae_error',
      batchMax: 8,
      input: { name: 'patches' },
      prepare: { kind: 'logmel_patches', mel_bins: 32 },
    });
    expect(r.file).toBe(join(ROOT, 'models/audio_ae.onnx'));
  });

  it('names a missing input and lists the ones the model has', async () => {
    await expect(load({ ...peak, input: { name: 'window' } })).rejects.toMatchObject({ code: 'E_MODEL_MISMATCH' });
    await expect(load({ ...peak, input: { name: 'window' } })).rejects.toThrow(
      /model peak .*window_peak\.onnx.*input "window" not found; the model's inputs are "x"/,
    );
    await expect(load({ ...peak, output: { name: 'y' } })).rejects.toThrow(
      /output "y" not found; the model's outputs are "score"/,
    );
  });

  it('names a shape that differs from the entry or from what the preparation produces', async () => {
    await expect(load({ ...peak, input: { name: 'x', shape: [-1, 4, 16] } })).rejects.toThrow(
      /input "x" has shape \[N, 4, 8\], the entry expects \[\?, 4, 16\]/,
    );
    await expect(load({ ...peak, input: { name: 'x' }, prepare: { ...peak.prepare, steps: 16 } })).rejects.toThrow(
      /input "x" has shape \[N, 4, 8\] but prepare.kind sensor_window produces \[batch, 4, 16\]/,
    );
    await expect(load({ ...peak, score: { kind: 'forecast_error' } })).rejects.toThrow(
      /forecast_error needs \[batch, 4\]/,
    );
  });

  it('names a dtype the stages cannot feed', async () => {
    await expect(load({ ...peak, file: 'models/fixtures/int64_input.onnx' })).rejects.toThrow(
      /input "x" has dtype int64, the entry expects float32/,
    );
  });

  it('reports config problems with the field path', async () => {
    await expect(load({ ...peak, batch_max: 0 })).rejects.toMatchObject({ code: 'E_MODEL_CONFIG' });
    await expect(load({ ...peak, batch_max: 0 })).rejects.toThrow(/models\/batch_max/);
    await expect(load({ ...peak, colour: 'red' })).rejects.toThrow(
      /invalid model entry: models\/colour: Unexpected property/,
    );
    await expect(load({ ...peak, modality: 'audio' })).rejects.toThrow(
      /prepare\/kind sensor_window does not fit modality audio \(expected logmel_patches\)/,
    );
    await expect(load({ ...peak, prepare: { ...peak.prepare, mean: [0] } })).rejects.toThrow(
      /prepare\/mean has 1 values, expected 4/,
    );
    const { metric: _m, ...noMetric } = peak;
    await expect(load(noMetric)).rejects.toThrow(/\/metric is required/);
    await expect(load({ ...peak, file: 'models/nope.onnx' })).rejects.toMatchObject({ code: 'E_MODEL_LOAD' });
    await expect(load({ ...peak, file: 'models/nope.onnx' })).rejects.toThrow('nope.onnx');
    await expect(load({ id: 'x', file: 'models/audio_ae.onnx', metadata: 'models/missing.json' })).rejects.toThrow(
      /metadata .*missing\.json could not be read/,
    );
  });
});
