/**
 * Puts stored image-model heat maps on the anomalies they explain: an image anomaly (a camera
 * model's score, or a frame feature of the same camera) gets `detail.heatmap_ref =
 * "blob://<sha256>"` for the heat map of its frame, or, when it was raised between frames (a
 * duration that elapsed on a tick), for the latest heat map of its camera at most
 * `HEATMAP_MAX_AGE_MS` earlier. The pipeline calls it on each batch before the sinks see it; the
 * console shows the PNG beside the frame. Incident snapshots in the batch are marked too.
 *
 * @example
 * const batch = pending.splice(0);
 * attachHeatmaps(batch, models); // models: ModelStage (heatmapRef, heatmapNear)
 */
import type { Anomaly, MediaRef } from '../../../core/src/schema/events.ts';
import type { SinkRecord } from '../runtime/types.ts';

/** Frames come every few seconds; an older heat map would be about another moment. */
export const HEATMAP_MAX_AGE_MS = 15_000;

export interface HeatmapLookup {
  heatmapRef(eventId: string): MediaRef | undefined;
  heatmapNear(asset: string, time: number, maxAgeMs: number): MediaRef | undefined;
}

const isImage = (a: Anomaly): boolean => a.modality === 'image' || (a.metric ?? '').startsWith('image_');

/** Returns how many anomalies (counting copies in incident evidence) were given a reference. */
export function attachHeatmaps(
  records: readonly SinkRecord[],
  lookup: HeatmapLookup,
  maxAgeMs = HEATMAP_MAX_AGE_MS,
): number {
  let n = 0;
  const mark = (a: Anomaly): void => {
    if (!isImage(a) || a.detail?.['heatmap_ref'] !== undefined) return;
    const ref =
      (a.eventId !== undefined ? lookup.heatmapRef(a.eventId) : undefined) ??
      lookup.heatmapNear(a.asset, a.time, maxAgeMs);
    if (ref === undefined) return;
    a.detail = { ...(a.detail ?? {}), heatmap_ref: ref.uri };
    n++;
  };
  for (const r of records) {
    if (r.type === 'anomaly') mark(r.anomaly);
    else if (r.type === 'incident') r.incident.evidence.forEach(mark);
  }
  return n;
}
