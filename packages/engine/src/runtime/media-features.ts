/**
 * The media feature stage: turns an audio clip or a camera frame into derived Reading events
 * (level, spectrum, impulsiveness; luminance, change against a running background) that the
 * ordinary stream detectors judge. Pretrained models come later; these features are their baseline.
 *
 * Bad media throws MediaFeatureError with a stable code (the pipeline dead-letters the event):
 * E_MEDIA_DECODE (corrupt, truncated or unsupported content, size mismatch), E_MEDIA_TOO_LARGE
 * (declared or actual size over `maxBytes`), E_MEDIA_BLOB (the blob could not be read).
 * The per-camera backgrounds are the stage's state: `snapshot()` / `restore()` checkpoint them.
 *
 * @example
 * const stage = createMediaFeatureStage({ blobs, logger });
 * const readings = await stage.derive(clip); // [{ metric: 'audio_rms_db', value: -17.1, unit: 'dB', ... }, ...]
 */
import type { Logger } from 'pino';
import type { AudioClip, ImageFrame, Reading } from '../../../core/src/schema/events.ts';
import { audioFeatures } from '../../../core/src/features/audio.ts';
import { MediaDecodeError } from '../../../core/src/features/errors.ts';
import { imageFeatures, isBackground, type Background, type ImageFeatureOptions } from '../../../core/src/features/image.ts';
import { decodePng } from '../../../core/src/features/png.ts';
import { decodeWav } from '../../../core/src/features/wav.ts';
import type { BlobStore } from './types.ts';

export type MediaFeatureErrorCode = 'E_MEDIA_DECODE' | 'E_MEDIA_TOO_LARGE' | 'E_MEDIA_BLOB' | 'E_MEDIA_STATE';

export class MediaFeatureError extends Error {
  override readonly name = 'MediaFeatureError';
  constructor(
    readonly code: MediaFeatureErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const DEFAULT_MEDIA_MAX_BYTES = 10 * 1024 * 1024;
const SNAPSHOT_VERSION = 1;

export interface MediaFeatureStageOptions {
  blobs: BlobStore;
  logger: Logger;
  /** Largest blob decoded, bytes (default 10 MiB). */
  maxBytes?: number;
  /** Below this RMS level (dBFS) a clip is a stopped machine: only audio_rms_db is emitted, since
   * the spectrum of a noise floor says nothing about the machine (default -35). */
  audioMinLevelDb?: number;
  /** High-frequency ratio cutoff, Hz (default 2000). */
  audioHfCutoffHz?: number;
  image?: ImageFeatureOptions;
}

export interface MediaFeatureStage {
  derive(e: AudioClip | ImageFrame): Promise<Reading[]>;
  /** The per-camera backgrounds, as plain JSON. */
  snapshot(): unknown;
  /** Replaces the backgrounds with a snapshot's; throws E_MEDIA_STATE on a malformed one. */
  restore(s: unknown): void;
}

export interface MediaFeatureSnapshot {
  version: number;
  backgrounds: Record<string, Background>;
}

export function createMediaFeatureStage(opts: MediaFeatureStageOptions): MediaFeatureStage {
  const maxBytes = opts.maxBytes ?? DEFAULT_MEDIA_MAX_BYTES;
  const minLevelDb = opts.audioMinLevelDb ?? -35;
  const hfCutoffHz = opts.audioHfCutoffHz ?? 2000;
  const log = opts.logger.child({ component: 'media-features' });
  let backgrounds = new Map<string, Background>();

  const what = (e: AudioClip | ImageFrame): string => `${e.kind === 'audio' ? 'audio clip' : 'image frame'} ${e.id} (${e.media.uri})`;

  async function fetch(e: AudioClip | ImageFrame): Promise<Uint8Array> {
    if (e.media.bytes > maxBytes) {
      throw new MediaFeatureError('E_MEDIA_TOO_LARGE', `${what(e)}: declares ${e.media.bytes} bytes, over the limit of ${maxBytes}`);
    }
    let bytes: Uint8Array;
    try {
      bytes = await opts.blobs.get(e.media.uri);
    } catch (cause) {
      throw new MediaFeatureError('E_MEDIA_BLOB', `${what(e)}: blob could not be read: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    if (bytes.byteLength > maxBytes) {
      throw new MediaFeatureError('E_MEDIA_TOO_LARGE', `${what(e)}: blob holds ${bytes.byteLength} bytes, over the limit of ${maxBytes}`);
    }
    if (bytes.byteLength !== e.media.bytes) {
      throw new MediaFeatureError('E_MEDIA_DECODE', `${what(e)}: blob holds ${bytes.byteLength} bytes but the event declares ${e.media.bytes}`);
    }
    return bytes;
  }

  /** Runs a decoder, re-raising its failure with the event id and blob uri in the message. */
  function decode<T>(e: AudioClip | ImageFrame, f: () => T): T {
    try {
      return f();
    } catch (cause) {
      if (cause instanceof MediaDecodeError || cause instanceof RangeError) {
        throw new MediaFeatureError('E_MEDIA_DECODE', `${what(e)}: ${cause.message}`, { cause });
      }
      throw cause;
    }
  }

  function reading(e: AudioClip | ImageFrame, metric: string, value: number, unit: string): Reading {
    return {
      kind: 'reading',
      id: `${e.id}#${metric}`,
      time: e.time,
      ingestTime: e.ingestTime,
      site: e.site,
      asset: e.asset,
      ...(e.stage !== undefined ? { stage: e.stage } : {}),
      source: `${e.source}/features`,
      derivedFrom: { kind: e.kind, id: e.id },
      metric,
      value,
      unit,
      quality: 'good',
    };
  }

  function audio(e: AudioClip, bytes: Uint8Array): Reading[] {
    const wav = decode(e, () => decodeWav(bytes));
    if (wav.sampleRateHz !== e.sampleRateHz || wav.channels !== e.channels) {
      log.warn(
        { id: e.id, uri: e.media.uri, fileRateHz: wav.sampleRateHz, fileChannels: wav.channels, eventRateHz: e.sampleRateHz, eventChannels: e.channels },
        'audio clip header disagrees with the event; using the file',
      );
    }
    const f = decode(e, () => audioFeatures(wav.samples, wav.sampleRateHz, { hfCutoffHz }));
    const out = [reading(e, 'audio_rms_db', f.rmsDb, 'dB')];
    if (f.rmsDb < minLevelDb) return out;
    out.push(
      reading(e, 'audio_centroid_hz', f.centroidHz, 'Hz'),
      reading(e, 'audio_hf_ratio', f.hfRatio, 'ratio'),
      reading(e, 'audio_flatness', f.flatness, 'ratio'),
      reading(e, 'audio_crest', f.crest, 'ratio'),
      reading(e, 'audio_kurtosis', f.kurtosis, 'ratio'),
    );
    return out;
  }

  function image(e: ImageFrame, bytes: Uint8Array): Reading[] {
    const png = decode(e, () => decodePng(bytes));
    if (png.width !== e.width || png.height !== e.height) {
      log.warn({ id: e.id, uri: e.media.uri, file: `${png.width}x${png.height}`, event: `${e.width}x${e.height}` }, 'image frame size disagrees with the event; using the file');
    }
    const key = `${e.site}/${e.asset}`;
    const r = imageFeatures(png.luma, png.width, png.height, backgrounds.get(key), opts.image ?? {});
    backgrounds.set(key, r.background);
    const out = [reading(e, 'image_luma', r.features.luma, 'level')];
    // No change figures on a camera's first frame: there is no background to compare with yet.
    if (r.features.warm) {
      out.push(reading(e, 'image_change_pct', r.features.changePct, '%'), reading(e, 'image_change_area_pct', r.features.changeAreaPct, '%'));
    }
    return out;
  }

  return {
    async derive(e) {
      const bytes = await fetch(e);
      return e.kind === 'audio' ? audio(e, bytes) : image(e, bytes);
    },
    snapshot(): MediaFeatureSnapshot {
      // A deep copy, so a checkpoint being written is not changed by the next frame.
      return { version: SNAPSHOT_VERSION, backgrounds: JSON.parse(JSON.stringify(Object.fromEntries(backgrounds))) as Record<string, Background> };
    },
    restore(s) {
      if (typeof s !== 'object' || s === null) throw new MediaFeatureError('E_MEDIA_STATE', 'media feature snapshot is not an object');
      const snap = s as Partial<MediaFeatureSnapshot>;
      if (snap.version !== SNAPSHOT_VERSION) {
        throw new MediaFeatureError('E_MEDIA_STATE', `media feature snapshot version ${String(snap.version)} is not ${SNAPSHOT_VERSION}`);
      }
      if (typeof snap.backgrounds !== 'object' || snap.backgrounds === null) {
        throw new MediaFeatureError('E_MEDIA_STATE', 'media feature snapshot has no backgrounds object');
      }
      const next = new Map<string, Background>();
      for (const [key, bg] of Object.entries(snap.backgrounds)) {
        if (!isBackground(bg)) throw new MediaFeatureError('E_MEDIA_STATE', `media feature snapshot: background for ${JSON.stringify(key)} is malformed`);
        next.set(key, JSON.parse(JSON.stringify(bg)) as Background);
      }
      backgrounds = next;
    },
  };
}
