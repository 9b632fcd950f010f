/**
 * Model stages: one per modality, each turning events into derived Reading events whose value is
 * a model's anomaly score, so the ordinary detectors judge them (ML inference never runs inside a
 * detector's step). Every model has its own batcher (bounded queue, batched async inference).
 *
 * - audio: WAV clip → (resampled) log-mel patches → autoencoder → reconstruction error (`audio_ae_error`)
 * - image: PNG or JPEG frame → normalised gray tensor → autoencoder → top-fraction error (`image_ae_error`),
 *   with the per-pixel squared error as a heat map (`deriveDetailed`); for frames at or over the
 *   model's threshold it is rendered over the frame as a PNG blob (`heatmapRef(frameId)`)
 * - reading: an asset's channels are assembled into rows per time step; each completed row is
 *   compared with the forecaster's prediction from the rows before it (`model_error`)
 *
 * The sensor windows are the stage's state: `snapshot()` / `restore()` checkpoint them.
 *
 * @example
 * const stage = await createModelStage({ entries: [{ id: 'pump-audio', file: 'models/audio_ae.onnx', metadata: 'models/audio_ae.json' }], baseDir: '.', blobs, logger });
 * const readings = await stage.derive(clip); // [{ metric: 'audio_ae_error', value: 0.41, unit: 'score', ... }]
 */
import type { Logger } from 'pino';
import type { AudioClip, Event, ImageFrame, MediaRef, Reading } from '../../../core/src/schema/events.ts';
import { decodeWav } from '../../../core/src/features/wav.ts';
import { decodePng } from '../../../core/src/features/png.ts';
import { imageInput, logMelPatches, resample, windowInput } from '../../../core/src/features/model-inputs.ts';
import sharp from 'sharp';
import type { BlobStore } from '../runtime/types.ts';
import { createBatcher, type Batcher } from './batcher.ts';
import { ModelError } from './errors.ts';
import { aggregate, forecastError, reconstructionError, squaredErrors } from './score.ts';
import { renderHeatmapPng } from './heatmap.ts';
import { loadModel, type LoadedModel } from './session.ts';
import { resolveModelEntry, type Modality, type ResolvedModel } from './spec.ts';

export const DEFAULT_MODEL_MAX_BYTES = 10 * 1024 * 1024;
const SNAPSHOT_VERSION = 1;

export interface HeatMap {
  model: string;
  asset: string;
  width: number;
  height: number;
  /** Per-pixel squared reconstruction error (normalised units), row-major. */
  data: Float32Array;
  /** The frame it was computed from. */
  eventId: string;
  /** The PNG overlay in the blob store, when stored (score at or over the model's threshold). */
  ref?: MediaRef;
}

export interface Derived {
  readings: Reading[];
  heatmaps: HeatMap[];
}

interface ModalityStage {
  readonly modality: Modality;
  derive(e: Event): Promise<Derived>;
  snapshot(): unknown;
  restore(s: unknown): void;
}

interface Served {
  model: LoadedModel;
  batcher: Batcher;
}

const EMPTY: Derived = { readings: [], heatmaps: [] };

function applies(m: ResolvedModel, asset: string): boolean {
  return m.assets === undefined || m.assets.includes(asset);
}

function derivedReading(e: Event, time: number, id: string, served: Served, value: number): Reading {
  return {
    kind: 'reading',
    id,
    time,
    ingestTime: e.ingestTime,
    site: e.site,
    asset: e.asset,
    ...(e.stage !== undefined ? { stage: e.stage } : {}),
    source: `${e.source}/model:${served.model.spec.id}`,
    // Audio/image model scores are evidence of that medium; a sensor model's error stays a reading.
    ...(e.kind === 'audio' || e.kind === 'image' ? { derivedFrom: { kind: e.kind, id: e.id } } : {}),
    metric: served.model.spec.metric,
    value,
    unit: 'score',
    quality: 'good',
  };
}

interface MediaDeps {
  blobs: BlobStore;
  maxBytes: number;
  heatmaps: HeatmapPolicy;
  /** Stored overlays by frame id, oldest first, bounded (see `heatmapRef`, `heatmapNear`). */
  recent: Map<string, StoredHeatmap>;
}

/** A stored heat-map overlay: the frame it belongs to and the PNG blob. */
export interface StoredHeatmap {
  frameId: string;
  asset: string;
  time: number;
  ref: MediaRef;
}

/** Which image-model heat maps are rendered and stored as PNG blobs. */
export type HeatmapPolicy = 'anomalous' | 'all' | 'none';
const RECENT_HEATMAPS = 512;

async function fetchBlob(e: AudioClip | ImageFrame, deps: MediaDeps): Promise<Uint8Array> {
  const what = `${e.kind} event ${e.id} (${e.media.uri})`;
  if (e.media.bytes > deps.maxBytes)
    throw new ModelError(
      'E_MODEL_INPUT',
      `${what}: declares ${e.media.bytes} bytes, over the limit of ${deps.maxBytes}`,
    );
  let bytes: Uint8Array;
  try {
    bytes = await deps.blobs.get(e.media.uri);
  } catch (cause) {
    throw new ModelError('E_MODEL_INPUT', `${what}: blob could not be read: ${(cause as Error).message}`, { cause });
  }
  if (bytes.byteLength > deps.maxBytes)
    throw new ModelError(
      'E_MODEL_INPUT',
      `${what}: blob holds ${bytes.byteLength} bytes, over the limit of ${deps.maxBytes}`,
    );
  return bytes;
}

function guard<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (cause) {
    if (cause instanceof ModelError) throw cause;
    throw new ModelError('E_MODEL_INPUT', `${what}: ${(cause as Error).message}`, { cause });
  }
}

function audioStage(models: Served[], deps: MediaDeps): ModalityStage {
  return {
    modality: 'audio',
    async derive(e) {
      if (e.kind !== 'audio') return EMPTY;
      const mine = models.filter((s) => applies(s.model.spec, e.asset));
      if (mine.length === 0) return EMPTY;
      const bytes = await fetchBlob(e, deps);
      const what = `audio event ${e.id} (${e.media.uri})`;
      const wav = guard(what, () => decodeWav(bytes));
      const readings = await Promise.all(
        mine.map(async (s) => {
          const p = s.model.spec.prepare;
          if (p.kind !== 'logmel_patches')
            throw new ModelError('E_MODEL_CONFIG', `model ${s.model.spec.id}: audio needs prepare.kind logmel_patches`);
          const samples =
            wav.sampleRateHz === p.sample_rate_hz
              ? wav.samples
              : resample(wav.samples, wav.sampleRateHz, p.sample_rate_hz);
          const patches = guard(what, () =>
            logMelPatches(samples, {
              sampleRateHz: p.sample_rate_hz,
              fftSize: p.fft_size,
              hopSize: p.hop_size,
              melBins: p.mel_bins,
              patchFrames: p.patch_frames,
              patchHop: p.patch_hop,
              ...(p.f_min_hz !== undefined ? { fMinHz: p.f_min_hz } : {}),
              ...(p.f_max_hz !== undefined ? { fMaxHz: p.f_max_hz } : {}),
              ...(p.mean !== undefined ? { mean: p.mean } : {}),
              ...(p.std !== undefined ? { std: p.std } : {}),
            }),
          );
          const size = s.model.itemSize;
          const items = Array.from({ length: patches.patches }, (_, i) =>
            patches.data.subarray(i * size, (i + 1) * size),
          );
          const outs = await Promise.all(items.map((x) => s.batcher.submit(x)));
          const score = itemScores(s, items, outs);
          return derivedReading(e, e.time, `${e.id}#${s.model.spec.metric}`, s, score);
        }),
      );
      return { readings, heatmaps: [] };
    },
    snapshot: () => undefined,
    restore: () => undefined,
  };
}

function itemScores(s: Served, inputs: Float32Array[], outs: Float32Array[]): number {
  const sc = s.model.spec.score;
  switch (sc.kind) {
    case 'reconstruction_error':
      return aggregate(
        inputs.map((x, i) =>
          reconstructionError(x, outs[i]!, {
            ...(sc.reduce !== undefined ? { reduce: sc.reduce } : {}),
            ...(sc.fraction !== undefined ? { fraction: sc.fraction } : {}),
          }),
        ),
        sc.aggregate,
      );
    case 'output_value':
      return aggregate(
        outs.map((o) => {
          const v = o[sc.index ?? 0];
          if (v === undefined)
            throw new ModelError(
              'E_MODEL_RUN',
              `model ${s.model.spec.id}: output has ${o.length} values per item, score.index is ${sc.index ?? 0}`,
            );
          return v;
        }),
        sc.aggregate,
      );
    case 'forecast_error':
      throw new ModelError('E_MODEL_CONFIG', `model ${s.model.spec.id}: forecast_error applies to sensor windows only`);
  }
}

const isJpeg = (b: Uint8Array): boolean => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/** PNG through our own decoder (pure, fast for small gray frames); JPEG (and anything else sharp reads) through sharp. */
async function decodeFrame(
  what: string,
  bytes: Uint8Array,
): Promise<{ width: number; height: number; luma: Uint8Array }> {
  if (!isJpeg(bytes)) return guard(what, () => decodePng(bytes));
  try {
    const { data, info } = await sharp(bytes).greyscale().raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new Error(`expected one gray channel, got ${info.channels}`);
    return {
      width: info.width,
      height: info.height,
      luma: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    };
  } catch (cause) {
    throw new ModelError('E_MODEL_INPUT', `${what}: JPEG could not be decoded: ${(cause as Error).message}`, { cause });
  }
}

function imageStage(models: Served[], deps: MediaDeps): ModalityStage {
  return {
    modality: 'image',
    async derive(e) {
      if (e.kind !== 'image') return EMPTY;
      const mine = models.filter((s) => applies(s.model.spec, e.asset));
      if (mine.length === 0) return EMPTY;
      const bytes = await fetchBlob(e, deps);
      const what = `image event ${e.id} (${e.media.uri})`;
      const png = await decodeFrame(what, bytes);
      const png0 = { width: png.width, height: png.height, luma: png.luma };
      const results = await Promise.all(
        mine.map(async (s) => {
          const p = s.model.spec.prepare;
          if (p.kind !== 'image_gray')
            throw new ModelError('E_MODEL_CONFIG', `model ${s.model.spec.id}: images need prepare.kind image_gray`);
          const x = guard(`${what}, model ${s.model.spec.id}`, () =>
            imageInput(png.luma, png.width, png.height, {
              width: p.width,
              height: p.height,
              ...(p.mean !== undefined ? { mean: p.mean } : {}),
              ...(p.std !== undefined ? { std: p.std } : {}),
            }),
          );
          const out = await s.batcher.submit(x);
          const score = itemScores(s, [x], [out]);
          const heat = s.model.spec.score.kind === 'reconstruction_error' ? squaredErrors(x, out) : undefined;
          const map: HeatMap | undefined =
            heat !== undefined
              ? { model: s.model.spec.id, asset: e.asset, width: p.width, height: p.height, data: heat, eventId: e.id }
              : undefined;
          const thr = s.model.spec.threshold;
          const store =
            map !== undefined &&
            (deps.heatmaps === 'all' || (deps.heatmaps === 'anomalous' && thr !== undefined && score >= thr));
          if (store) {
            // Colour scale: the calibrated threshold (the score is a mean of the worst pixels' errors,
            // so a pixel at the threshold is as bad as an anomalous frame's worst), same in every frame.
            const png = await renderHeatmapPng(png0, map, thr !== undefined && thr > 0 ? { scale: thr } : {});
            map.ref = await deps.blobs.put(png, 'image/png');
            deps.recent.delete(e.id);
            deps.recent.set(e.id, { frameId: e.id, asset: e.asset, time: e.time, ref: map.ref });
            if (deps.recent.size > RECENT_HEATMAPS) deps.recent.delete(deps.recent.keys().next().value!);
          }
          return { reading: derivedReading(e, e.time, `${e.id}#${s.model.spec.metric}`, s, score), heat: map };
        }),
      );
      return {
        readings: results.map((r) => r.reading),
        heatmaps: results.flatMap((r) => (r.heat !== undefined ? [r.heat] : [])),
      };
    },
    snapshot: () => undefined,
    restore: () => undefined,
  };
}

interface Track {
  /** Completed rows, oldest first, at most `steps` kept. */
  rows: number[][];
  /** Time bucket of the row being assembled, and its values so far (null: not yet seen). */
  bucket: number;
  pending: Array<number | null>;
  /** The last value of each channel, to fill a channel that skipped a step. */
  last: Array<number | null>;
}

interface SensorSnapshot {
  version: number;
  tracks: Record<string, Track>;
}

function sensorStage(models: Served[]): ModalityStage {
  let tracks = new Map<string, Track>();

  async function complete(
    s: Served,
    e: Event,
    key: string,
    track: Track,
    stepMs: number,
  ): Promise<Reading | undefined> {
    const p = s.model.spec.prepare;
    if (p.kind !== 'sensor_window') return undefined;
    if (track.pending.some((v, c) => v === null && track.last[c] === null)) {
      // A channel never seen yet: no complete row to learn from or score.
      track.pending = p.channels.map(() => null);
      return undefined;
    }
    const row = track.pending.map((v, c) => v ?? track.last[c]!);
    track.last = row.slice();
    track.pending = p.channels.map(() => null);
    const time = track.bucket * stepMs;
    // A forecaster sees the rows before this one and is judged on this one; any other model
    // (an autoencoder, a scorer) sees the window that ends with this row.
    const forecast = s.model.spec.score.kind === 'forecast_error';
    const history = forecast ? track.rows.slice() : undefined;
    track.rows.push(row);
    if (track.rows.length > p.steps) track.rows.splice(0, track.rows.length - p.steps);
    const window = history ?? track.rows;
    if (window.length < p.steps) return undefined;
    const x = windowInput(window, { channels: p.channels, steps: p.steps, mean: p.mean, std: p.std });
    const out = await s.batcher.submit(x);
    const score = forecast
      ? forecastError(
          out,
          row.map((v, c) => (v - (p.mean[c] ?? 0)) / (p.std[c] ?? 1)),
        )
      : itemScores(s, [x], [out]);
    return derivedReading(e, time, `${key}@${time}#${s.model.spec.metric}`, s, score);
  }

  return {
    modality: 'reading',
    async derive(e) {
      if (e.kind !== 'reading') return EMPTY;
      const out: Reading[] = [];
      for (const s of models) {
        const p = s.model.spec.prepare;
        if (p.kind !== 'sensor_window' || !applies(s.model.spec, e.asset)) continue;
        const c = p.channels.indexOf(e.metric);
        if (c < 0 || !Number.isFinite(e.value)) continue;
        const stepMs = (p.step_secs ?? 1) * 1000;
        const bucket = Math.round(e.time / stepMs);
        const key = `${s.model.spec.id}/${e.site}/${e.asset}`;
        let track = tracks.get(key);
        if (!track) {
          track = { rows: [], bucket, pending: p.channels.map(() => null), last: p.channels.map(() => null) };
          tracks.set(key, track);
        }
        if (bucket < track.bucket) continue; // late reading for a row already closed
        if (bucket > track.bucket) {
          if (track.pending.some((v) => v !== null)) {
            const r = await complete(s, e, key, track, stepMs);
            if (r) out.push(r);
          }
          track.bucket = bucket;
        }
        track.pending[c] = e.value;
        if (track.pending.every((v) => v !== null)) {
          const r = await complete(s, e, key, track, stepMs);
          if (r) out.push(r);
          track.bucket = bucket + 1;
        }
      }
      return { readings: out, heatmaps: [] };
    },
    snapshot(): SensorSnapshot {
      return {
        version: SNAPSHOT_VERSION,
        tracks: JSON.parse(JSON.stringify(Object.fromEntries(tracks))) as Record<string, Track>,
      };
    },
    restore(s) {
      const snap = s as Partial<SensorSnapshot> | null;
      if (
        typeof snap !== 'object' ||
        snap === null ||
        snap.version !== SNAPSHOT_VERSION ||
        typeof snap.tracks !== 'object' ||
        snap.tracks === null
      ) {
        throw new ModelError(
          'E_MODEL_STATE',
          `sensor model snapshot must be { version: ${SNAPSHOT_VERSION}, tracks: {...} }`,
        );
      }
      const next = new Map<string, Track>();
      for (const [k, t] of Object.entries(snap.tracks)) {
        const ok =
          Array.isArray(t.rows) &&
          t.rows.every((r) => Array.isArray(r) && r.every((v) => typeof v === 'number')) &&
          typeof t.bucket === 'number' &&
          Array.isArray(t.pending) &&
          Array.isArray(t.last);
        if (!ok)
          throw new ModelError('E_MODEL_STATE', `sensor model snapshot: track ${JSON.stringify(k)} is malformed`);
        next.set(k, JSON.parse(JSON.stringify(t)) as Track);
      }
      tracks = next;
    },
  };
}

export interface ModelStageOptions {
  /** Model entries as in the config (validated here); paths resolve against baseDir. */
  entries: readonly unknown[];
  baseDir: string;
  blobs: BlobStore;
  logger: Logger;
  /** Largest media blob read, bytes (default 10 MiB). */
  maxBytes?: number;
  /** Image heat maps stored as PNG overlays: for frames scoring at or over the model's threshold (default), all, or none. */
  heatmaps?: HeatmapPolicy;
}

export interface ModelStage {
  readonly models: readonly ResolvedModel[];
  /** Score readings for an event (empty when no model reads it). */
  derive(e: Event): Promise<Reading[]>;
  /** Readings plus image heat maps. */
  deriveDetailed(e: Event): Promise<Derived>;
  /**
   * The stored heat-map overlay of a recent frame (by the frame's event id), for attaching to an
   * anomaly about that frame (`anomaly.detail.heatmap_ref`); undefined if none was stored.
   */
  heatmapRef(eventId: string): MediaRef | undefined;
  /**
   * The latest stored overlay of `asset` taken at or before `time` and at most `maxAgeMs` earlier:
   * for anomalies raised between frames (a duration that elapses on a tick has no event).
   */
  heatmapNear(asset: string, time: number, maxAgeMs: number): MediaRef | undefined;
  snapshot(): unknown;
  restore(s: unknown): void;
  /** Per model: batches run, items scored, peak queue length. */
  stats(): Record<string, { batches: number; items: number; peakQueued: number }>;
  close(): Promise<void>;
}

/** Loads every entry's model (checking it against its entry), then builds one stage per modality. */
export async function createModelStage(opts: ModelStageOptions): Promise<ModelStage> {
  const log = opts.logger.child({ component: 'model-stage' });
  const served: Served[] = [];
  try {
    for (let i = 0; i < opts.entries.length; i++) {
      const spec = await resolveModelEntry(opts.entries[i], { baseDir: opts.baseDir, where: `models/${i}` });
      if (served.some((s) => s.model.spec.id === spec.id))
        throw new ModelError('E_MODEL_CONFIG', `models/${i}: id ${spec.id} is used twice`);
      const model = await loadModel(spec);
      served.push({
        model,
        batcher: createBatcher(model, { batchMax: spec.batchMax, capacity: spec.queueCapacity, flushMs: spec.flushMs }),
      });
      log.info({ model: spec.id, file: spec.file, modality: spec.modality, metric: spec.metric }, 'model loaded');
    }
  } catch (err) {
    await Promise.all(served.map((s) => s.model.close()));
    throw err;
  }
  const deps: MediaDeps = {
    blobs: opts.blobs,
    maxBytes: opts.maxBytes ?? DEFAULT_MODEL_MAX_BYTES,
    heatmaps: opts.heatmaps ?? 'anomalous',
    recent: new Map(),
  };
  const of = (m: Modality): Served[] => served.filter((s) => s.model.spec.modality === m);
  const stages: ModalityStage[] = [
    audioStage(of('audio'), deps),
    imageStage(of('image'), deps),
    sensorStage(of('reading')),
  ];
  const forKind: Record<Event['kind'], ModalityStage | undefined> = {
    audio: stages[0],
    image: stages[1],
    reading: stages[2],
    log: undefined,
  };

  const deriveDetailed = async (e: Event): Promise<Derived> => {
    const st = forKind[e.kind];
    return st ? st.derive(e) : EMPTY;
  };
  return {
    models: served.map((s) => s.model.spec),
    async derive(e) {
      return (await deriveDetailed(e)).readings;
    },
    deriveDetailed,
    heatmapRef: (eventId) => deps.recent.get(eventId)?.ref,
    heatmapNear(asset, time, maxAgeMs) {
      let best: StoredHeatmap | undefined;
      for (const h of deps.recent.values()) {
        if (h.asset === asset && h.time <= time && time - h.time <= maxAgeMs && (!best || h.time > best.time)) best = h;
      }
      return best?.ref;
    },
    snapshot() {
      return { version: SNAPSHOT_VERSION, sensors: stages[2]!.snapshot() };
    },
    restore(s) {
      const snap = s as { version?: unknown; sensors?: unknown } | null;
      if (typeof snap !== 'object' || snap === null || snap.version !== SNAPSHOT_VERSION)
        throw new ModelError('E_MODEL_STATE', `model stage snapshot version must be ${SNAPSHOT_VERSION}`);
      stages[2]!.restore(snap.sensors);
    },
    stats() {
      return Object.fromEntries(served.map((s) => [s.model.spec.id, { ...s.batcher.stats }]));
    },
    async close() {
      await Promise.all(served.map((s) => s.batcher.close()));
      await Promise.all(served.map((s) => s.model.close()));
    },
  };
}
