/**
 * Pretrained model stages (ONNX through onnxruntime-node): entries, loading with shape/dtype/name
 * checks, batched inference, score mappings, and the per-modality stages that emit score readings.
 *
 * @example
 * import { createModelStage } from '../models/index.ts';
 * const models = await createModelStage({ entries: config.models, baseDir, blobs, logger });
 * for (const r of await models.derive(event)) processor.process(r, out);
 */
export { ModelError, type ModelErrorCode } from './errors.ts';
export {
  ModelEntry,
  resolveModelEntry,
  itemShape,
  type ResolvedModel,
  type Prepare,
  type Score,
  type Modality,
} from './spec.ts';
export { loadModel, type LoadedModel } from './session.ts';
export { createBatcher, type Batcher, type BatcherOptions, type BatcherStats } from './batcher.ts';
export {
  createModelStage,
  DEFAULT_MODEL_MAX_BYTES,
  type ModelStage,
  type ModelStageOptions,
  type Derived,
  type HeatMap,
  type HeatmapPolicy,
  type StoredHeatmap,
} from './stage.ts';
export { attachHeatmaps, HEATMAP_MAX_AGE_MS, type HeatmapLookup } from './attach.ts';
export {
  blendHeatmap,
  renderHeatmapPng,
  heatRamp,
  type GrayFrame,
  type ErrorMap,
  type HeatmapOptions,
} from './heatmap.ts';
