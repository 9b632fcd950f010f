/**
 * Model entries ("bring your own model"): the config that names an ONNX file, how events become
 * its input tensor (`prepare`), how its output becomes a score (`score`), the reading it emits
 * (`metric`) and the batching limits. A metadata JSON written by training/ (models/*.json) can
 * supply every field; the entry's own fields override it.
 *
 * @example
 * // YAML:  models: [{ id: pump-audio, file: models/audio_ae.onnx, metadata: models/audio_ae.json, assets: [P-101] }]
 * const m = await resolveModelEntry({ id: 'pump-audio', file: 'models/audio_ae.onnx', metadata: 'models/audio_ae.json' }, { baseDir: '.' });
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ModelError } from './errors.ts';

const PosInt = Type.Integer({ minimum: 1 });
const Dim = Type.Union([Type.Integer({ minimum: -1 }), Type.String({ minLength: 1 })], {
  description: 'a size, or -1 / a name for a dynamic axis',
});

export const LogMelPrepare = Type.Object(
  {
    kind: Type.Literal('logmel_patches'),
    sample_rate_hz: PosInt,
    fft_size: PosInt,
    hop_size: PosInt,
    mel_bins: PosInt,
    f_min_hz: Type.Optional(Type.Number({ minimum: 0 })),
    f_max_hz: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    patch_frames: PosInt,
    patch_hop: PosInt,
    mean: Type.Optional(Type.Array(Type.Number())),
    std: Type.Optional(Type.Array(Type.Number({ exclusiveMinimum: 0 }))),
  },
  { additionalProperties: false, description: 'audio clip → log-mel patches [patches, 1, mel_bins, patch_frames]' },
);
export const ImagePrepare = Type.Object(
  {
    kind: Type.Literal('image_gray'),
    width: PosInt,
    height: PosInt,
    mean: Type.Optional(Type.Number()),
    std: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false, description: 'gray frame → [1, 1, height, width], (luma/255 − mean)/std' },
);
export const WindowPrepare = Type.Object(
  {
    kind: Type.Literal('sensor_window'),
    channels: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    steps: PosInt,
    step_secs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    mean: Type.Array(Type.Number()),
    std: Type.Array(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false, description: "an asset's readings → [1, channels, steps], normalised per channel" },
);
export const Prepare = Type.Union([LogMelPrepare, ImagePrepare, WindowPrepare]);
export type Prepare = Static<typeof Prepare>;

export const Score = Type.Union([
  Type.Object(
    {
      kind: Type.Literal('reconstruction_error'),
      /** Per item: mean squared error, or the mean of the largest `fraction` of squared errors. */
      reduce: Type.Optional(Type.Union([Type.Literal('mean'), Type.Literal('top_fraction')])),
      fraction: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
      /** Over the items of one event (e.g. an audio clip's patches). */
      aggregate: Type.Optional(Type.Union([Type.Literal('mean'), Type.Literal('max')])),
    },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('forecast_error') }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal('output_value'),
      /** Which element of each item's output is the score (default 0). */
      index: Type.Optional(Type.Integer({ minimum: 0 })),
      aggregate: Type.Optional(Type.Union([Type.Literal('mean'), Type.Literal('max')])),
    },
    { additionalProperties: false },
  ),
]);
export type Score = Static<typeof Score>;

const Tensor = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    dtype: Type.Optional(Type.Literal('float32')),
    shape: Type.Optional(Type.Array(Dim, { minItems: 1 })),
  },
  { additionalProperties: false },
);
export type TensorSpec = Static<typeof Tensor>;

export const Modality = Type.Union([Type.Literal('audio'), Type.Literal('image'), Type.Literal('reading')]);
export type Modality = Static<typeof Modality>;

const entryFields = {
  modality: Type.Optional(Modality),
  input: Type.Optional(Tensor),
  output: Type.Optional(Tensor),
  prepare: Type.Optional(Prepare),
  score: Type.Optional(Score),
  threshold: Type.Optional(
    Type.Number({ description: 'calibrated score above which an item is anomalous (informative; detectors decide)' }),
  ),
  metric: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:/\\-]+$' })),
};

/** One model in the config. Everything but `id` and `file` may come from `metadata`. */
export const ModelEntry = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 100 }),
    file: Type.String({ minLength: 1, description: 'the ONNX file, relative to the config directory' }),
    metadata: Type.Optional(
      Type.String({ minLength: 1, description: 'a metadata JSON (models/*.json) supplying the fields below' }),
    ),
    assets: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'assets whose events it scores (default all)',
      }),
    ),
    ...entryFields,
    batch_max: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 4096, default: 64, description: 'items per inference call' }),
    ),
    queue_capacity: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        default: 1024,
        description: 'items waiting; callers wait when full',
      }),
    ),
    flush_ms: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 10_000,
        default: 0,
        description: 'how long a partial batch waits for more items, ms',
      }),
    ),
    threads: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'onnxruntime intra-op threads' }),
    ),
  },
  { additionalProperties: false },
);
export type ModelEntry = Static<typeof ModelEntry>;

/** The metadata JSON: the same fields plus free-form description, training figures and a parity check. */
const Metadata = Type.Object(
  {
    ...entryFields,
    name: Type.Optional(Type.String()),
    version: Type.Optional(Type.Number()),
    file: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    training: Type.Optional(Type.Unknown()),
    check: Type.Optional(
      Type.Object({ input: Type.Array(Type.Number()), shape: Type.Array(PosInt), output: Type.Array(Type.Number()) }),
    ),
  },
  { additionalProperties: false },
);
export type ModelMetadata = Static<typeof Metadata>;

export interface ResolvedModel {
  id: string;
  file: string;
  modality: Modality;
  assets?: readonly string[];
  input: TensorSpec;
  output: TensorSpec;
  prepare: Prepare;
  score: Score;
  threshold?: number;
  metric: string;
  batchMax: number;
  queueCapacity: number;
  flushMs: number;
  threads: number;
  check?: ModelMetadata['check'];
}

function problems(schema: TSchema, value: unknown, where: string): string[] {
  return [...Value.Errors(schema, value)].slice(0, 5).map((e) => `${where}${e.path || '/'}: ${e.message}`);
}

const PREPARE_FOR: Record<Modality, Prepare['kind']> = {
  audio: 'logmel_patches',
  image: 'image_gray',
  reading: 'sensor_window',
};

/**
 * Validates an entry, merges its metadata file under it and checks that the pieces fit together
 * (modality ↔ preparation ↔ score kind, statistics lengths). Paths resolve against `baseDir`.
 * Throws ModelError E_MODEL_CONFIG naming the entry and the field.
 */
export async function resolveModelEntry(
  raw: unknown,
  opts: { baseDir: string; where?: string },
): Promise<ResolvedModel> {
  const where = opts.where ?? 'models';
  const errs = problems(ModelEntry, raw, where);
  if (errs.length > 0) throw new ModelError('E_MODEL_CONFIG', `invalid model entry: ${errs.join('; ')}`);
  const entry = Value.Default(ModelEntry, Value.Clone(raw)) as ModelEntry;
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(opts.baseDir, p));
  let meta: ModelMetadata = {};
  if (entry.metadata !== undefined) {
    const path = at(entry.metadata);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (cause) {
      throw new ModelError(
        'E_MODEL_CONFIG',
        `model ${entry.id}: metadata ${path} could not be read: ${(cause as Error).message}`,
        { cause },
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw new ModelError(
        'E_MODEL_CONFIG',
        `model ${entry.id}: metadata ${path} is not JSON: ${(cause as Error).message}`,
        { cause },
      );
    }
    const merrs = problems(Metadata, parsed, path);
    if (merrs.length > 0)
      throw new ModelError('E_MODEL_CONFIG', `model ${entry.id}: invalid metadata: ${merrs.join('; ')}`);
    meta = parsed as ModelMetadata;
  }
  const pick = <K extends keyof typeof entryFields>(k: K): ModelMetadata[K] => entry[k] ?? meta[k];
  const id = entry.id;
  const need = <T>(v: T | undefined, field: string): T => {
    if (v === undefined)
      throw new ModelError('E_MODEL_CONFIG', `${where} ${id}: /${field} is required (in the entry or its metadata)`);
    return v;
  };
  const modality = need(pick('modality'), 'modality');
  const prepare = need(pick('prepare'), 'prepare');
  const score = need(pick('score'), 'score');
  const input = need(pick('input'), 'input');
  const output = need(pick('output'), 'output');
  const metric = need(pick('metric'), 'metric');
  if (prepare.kind !== PREPARE_FOR[modality]) {
    throw new ModelError(
      'E_MODEL_CONFIG',
      `${where} ${id}: /prepare/kind ${prepare.kind} does not fit modality ${modality} (expected ${PREPARE_FOR[modality]})`,
    );
  }
  if (score.kind === 'forecast_error' && prepare.kind !== 'sensor_window') {
    throw new ModelError(
      'E_MODEL_CONFIG',
      `${where} ${id}: /score/kind forecast_error needs prepare.kind sensor_window`,
    );
  }
  if (score.kind === 'reconstruction_error' && score.reduce === 'top_fraction' && score.fraction === undefined) {
    throw new ModelError('E_MODEL_CONFIG', `${where} ${id}: /score/fraction is required with reduce: top_fraction`);
  }
  const lens: Array<[string, readonly number[] | undefined, number]> =
    prepare.kind === 'logmel_patches'
      ? [
          ['mean', prepare.mean, prepare.mel_bins],
          ['std', prepare.std, prepare.mel_bins],
        ]
      : prepare.kind === 'sensor_window'
        ? [
            ['mean', prepare.mean, prepare.channels.length],
            ['std', prepare.std, prepare.channels.length],
          ]
        : [];
  for (const [name, arr, n] of lens) {
    if (arr !== undefined && arr.length !== n)
      throw new ModelError(
        'E_MODEL_CONFIG',
        `${where} ${id}: /prepare/${name} has ${arr.length} values, expected ${n}`,
      );
  }
  const threshold = pick('threshold');
  return {
    id,
    file: at(entry.file),
    modality,
    ...(entry.assets !== undefined ? { assets: entry.assets } : {}),
    input,
    output,
    prepare,
    score,
    ...(threshold !== undefined ? { threshold } : {}),
    metric,
    batchMax: entry.batch_max ?? 64,
    queueCapacity: entry.queue_capacity ?? 1024,
    flushMs: entry.flush_ms ?? 0,
    threads: entry.threads ?? 1,
    ...(meta.check !== undefined ? { check: meta.check } : {}),
  };
}

/** The per-item input shape the preparation produces (without the batch axis). */
export function itemShape(p: Prepare): number[] {
  switch (p.kind) {
    case 'logmel_patches':
      return [1, p.mel_bins, p.patch_frames];
    case 'image_gray':
      return [1, p.height, p.width];
    case 'sensor_window':
      return [p.channels.length, p.steps];
  }
}
