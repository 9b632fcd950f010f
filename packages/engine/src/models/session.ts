/**
 * Loads an ONNX model through onnxruntime-node (CPU) and checks it against its entry: the input
 * and output names exist, are float32 tensors, and their shapes agree with the entry and with the
 * per-item shape the input preparation produces. Every mismatch is reported at once, naming the
 * file, the tensor, and what was expected versus found.
 *
 * @example
 * const model = await loadModel(resolved);       // throws ModelError E_MODEL_MISMATCH on a wrong shape
 * const out = await model.run(batch, 8);         // batch: 8 items × itemSize floats
 */
import * as ort from 'onnxruntime-node';
import { ModelError } from './errors.ts';
import { itemShape, type ResolvedModel, type TensorSpec } from './spec.ts';

export interface LoadedModel {
  readonly spec: ResolvedModel;
  /** Floats per input item (product of the item shape). */
  readonly itemSize: number;
  readonly itemShape: readonly number[];
  /** Runs `count` items laid out back to back; returns the output floats and the output's per-item shape. */
  run(batch: Float32Array, count: number): Promise<{ data: Float32Array; itemShape: number[] }>;
  close(): Promise<void>;
}

type Dims = ReadonlyArray<number | string>;

const isDynamic = (d: number | string): boolean => typeof d === 'string' || d < 0;
const fmt = (dims: Dims): string =>
  `[${dims.map((d) => (typeof d === 'string' ? d : d < 0 ? '?' : String(d))).join(', ')}]`;

/** Compares two shapes where a dynamic axis (string or −1) on either side matches anything. */
function shapeMismatch(a: Dims, b: Dims): boolean {
  if (a.length !== b.length) return true;
  return a.some((d, i) => !isDynamic(d) && !isDynamic(b[i] ?? -1) && d !== b[i]);
}

function checkTensor(
  kind: 'input' | 'output',
  want: TensorSpec,
  meta: readonly ort.InferenceSession.ValueMetadata[],
  problems: string[],
): Dims | undefined {
  const found = meta.find((m) => m.name === want.name);
  if (!found) {
    problems.push(
      `${kind} ${JSON.stringify(want.name)} not found; the model's ${kind}s are ${meta.map((m) => JSON.stringify(m.name)).join(', ') || 'none'}`,
    );
    return undefined;
  }
  if (!found.isTensor) {
    problems.push(`${kind} ${JSON.stringify(want.name)} is not a tensor`);
    return undefined;
  }
  const dtype = want.dtype ?? 'float32';
  if (found.type !== dtype)
    problems.push(`${kind} ${JSON.stringify(want.name)} has dtype ${found.type}, the entry expects ${dtype}`);
  if (want.shape !== undefined && found.shape.length > 0 && shapeMismatch(want.shape, found.shape)) {
    problems.push(
      `${kind} ${JSON.stringify(want.name)} has shape ${fmt(found.shape)}, the entry expects ${fmt(want.shape)}`,
    );
  }
  return found.shape.length > 0 ? found.shape : want.shape;
}

export async function loadModel(spec: ResolvedModel): Promise<LoadedModel> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(spec.file, {
      executionProviders: ['cpu'],
      intraOpNumThreads: spec.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (cause) {
    throw new ModelError(
      'E_MODEL_LOAD',
      `model ${spec.id}: ${spec.file} could not be loaded: ${(cause as Error).message}`,
      { cause },
    );
  }
  const problems: string[] = [];
  const inShape = checkTensor('input', spec.input, session.inputMetadata, problems);
  const outShape = checkTensor('output', spec.output, session.outputMetadata, problems);
  if (session.inputNames.length !== 1 && problems.length === 0) {
    problems.push(
      `the model has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); model stages feed exactly one`,
    );
  }
  const item = itemShape(spec.prepare);
  if (inShape !== undefined && shapeMismatch(inShape, [-1, ...item])) {
    problems.push(
      `input ${JSON.stringify(spec.input.name)} has shape ${fmt(inShape)} but prepare.kind ${spec.prepare.kind} produces [batch, ${item.join(', ')}]`,
    );
  }
  if (outShape !== undefined && spec.score.kind === 'reconstruction_error' && shapeMismatch(outShape, [-1, ...item])) {
    problems.push(
      `output ${JSON.stringify(spec.output.name)} has shape ${fmt(outShape)} but reconstruction_error needs the input's shape [batch, ${item.join(', ')}]`,
    );
  }
  if (
    outShape !== undefined &&
    spec.score.kind === 'forecast_error' &&
    spec.prepare.kind === 'sensor_window' &&
    shapeMismatch(outShape, [-1, spec.prepare.channels.length])
  ) {
    problems.push(
      `output ${JSON.stringify(spec.output.name)} has shape ${fmt(outShape)} but forecast_error needs [batch, ${spec.prepare.channels.length}] (one value per channel)`,
    );
  }
  if (
    inShape !== undefined &&
    inShape.length > 0 &&
    !isDynamic(inShape[0] ?? -1) &&
    inShape[0] !== 1 &&
    inShape[0] !== spec.batchMax
  ) {
    problems.push(
      `input ${JSON.stringify(spec.input.name)} has a fixed batch axis of ${String(inShape[0])}; export it dynamic or set batch_max to it`,
    );
  }
  if (problems.length > 0) {
    await session.release().catch(() => undefined);
    throw new ModelError(
      'E_MODEL_MISMATCH',
      `model ${spec.id} (${spec.file}) does not match its entry: ${problems.join('; ')}`,
    );
  }
  const fixedBatch = inShape !== undefined && !isDynamic(inShape[0] ?? -1) ? Number(inShape[0]) : undefined;
  const itemSize = item.reduce((a, b) => a * b, 1);
  return {
    spec,
    itemSize,
    itemShape: item,
    async run(batch, count) {
      if (batch.length < count * itemSize)
        throw new ModelError(
          'E_MODEL_RUN',
          `model ${spec.id}: batch holds ${batch.length} floats, ${count} items need ${count * itemSize}`,
        );
      if (fixedBatch !== undefined && count !== fixedBatch)
        throw new ModelError(
          'E_MODEL_RUN',
          `model ${spec.id}: its batch axis is fixed at ${fixedBatch}, got ${count} items`,
        );
      const tensor = new ort.Tensor(
        'float32',
        batch.length === count * itemSize ? batch : batch.subarray(0, count * itemSize),
        [count, ...item],
      );
      let result: ort.InferenceSession.OnnxValueMapType;
      try {
        result = await session.run({ [spec.input.name]: tensor }, [spec.output.name]);
      } catch (cause) {
        throw new ModelError('E_MODEL_RUN', `model ${spec.id}: inference failed: ${(cause as Error).message}`, {
          cause,
        });
      }
      const out = result[spec.output.name];
      if (!(out instanceof ort.Tensor) || out.type !== 'float32') {
        throw new ModelError('E_MODEL_RUN', `model ${spec.id}: output ${spec.output.name} is not a float32 tensor`);
      }
      const dims = out.dims;
      if (dims[0] !== count)
        throw new ModelError(
          'E_MODEL_RUN',
          `model ${spec.id}: output ${spec.output.name} has ${String(dims[0])} items for ${count} inputs`,
        );
      return { data: out.data as Float32Array, itemShape: dims.slice(1) };
    },
    async close() {
      await session.release();
    },
  };
}
