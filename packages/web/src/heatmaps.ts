/**
 * Which stored model heat map an incident can show: the image model stage renders a frame's
 * reconstruction error over the frame as a PNG blob, and the pipeline puts its reference on the
 * anomaly about that frame (`detail.heatmap_ref`, "blob://<sha256>"). Pure, so it is unit-tested.
 *
 * @example
 * const hm = modelHeatmap(incident.evidence); // { sha256: '3f…', time, asset: 'cam-intake', detector: 'camera-model' }
 */
import type { Anomaly } from '../../core/src/schema/events.ts';

export interface ModelHeatmap {
  sha256: string;
  time: number;
  asset: string;
  detector: string;
  score: number;
}

const SHA = /^(?:blob:\/\/)?([0-9a-f]{64})$/;

/** The sha256 in a heat-map reference ("blob://<sha256>" or the bare hash), else undefined. */
export function heatmapSha(ref: unknown): string | undefined {
  return typeof ref === 'string' ? SHA.exec(ref)?.[1] : undefined;
}

/** The heat map of the strongest anomaly that has one (the latest on ties), else undefined. */
export function modelHeatmap(evidence: readonly Anomaly[]): ModelHeatmap | undefined {
  let best: ModelHeatmap | undefined;
  for (const a of evidence) {
    const sha256 = heatmapSha(a.detail?.['heatmap_ref']);
    if (sha256 === undefined) continue;
    if (!best || a.score > best.score || (a.score === best.score && a.time > best.time)) {
      best = { sha256, time: a.time, asset: a.asset, detector: a.detector, score: a.score };
    }
  }
  return best;
}
