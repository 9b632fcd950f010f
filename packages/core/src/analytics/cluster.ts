/**
 * Clustering of an asset's behaviour: each window is one feature vector (per-window mean and
 * standard deviation of each of the asset's channels), standardised, clustered by K-Means with
 * k chosen by the mean silhouette, then judged: a window farther from every centroid than the
 * Tukey far fence of all such distances (Q3 + 3 × IQR) is an outlier, and a cluster holding
 * at most max(2, 1 % of the windows) is a tiny cluster (a rare operating pattern), when there are
 * at least MIN_WINDOWS_FOR_TINY windows.
 *
 * @example
 * const c = clusterWindows('plant-a', 'P-101', 60_000, ['flow:mean'], [{ time: 0, values: [1] }, …]);
 * c.k; c.outliers; c.tinyClusters
 */
import { chooseK, pca2, standardize, type ChooseKOptions } from './kmeans.ts';
import { quantileSorted } from './stats.ts';
import type { ClusterPoint, Clustering } from './types.ts';

export interface FeatureWindow {
  time: number;
  values: number[];
}

export interface ClusterOptions extends ChooseKOptions {
  fenceK?: number;
  tinyShare?: number;
}

/** Fewer windows than this: no cluster is called tiny (2 of 6 windows is not a rare pattern). */
export const MIN_WINDOWS_FOR_TINY = 30;

export function distanceFence(distances: readonly number[], k = 3): number {
  const sorted = [...distances].sort((a, b) => a - b);
  const q1 = quantileSorted(sorted, 0.25);
  const q3 = quantileSorted(sorted, 0.75);
  return q3 + k * (q3 - q1);
}

export function clusterWindows(
  site: string,
  asset: string,
  windowMs: number,
  features: string[],
  windows: readonly FeatureWindow[],
  opts: ClusterOptions = {},
): Clustering | undefined {
  const { fenceK = 3, tinyShare = 0.01, ...chooseOpts } = opts;
  if (windows.length < 4 || features.length === 0) return undefined;
  const { z } = standardize(windows.map((w) => w.values));
  const chosen = chooseK(z, chooseOpts);
  const m = chosen.model;
  const sizes = new Array<number>(m.k).fill(0);
  for (const a of m.assignment) sizes[a] = (sizes[a] ?? 0) + 1;
  const threshold = distanceFence(m.distances, fenceK);
  const tinyClusterMax = Math.max(2, Math.ceil(tinyShare * windows.length));
  // With few windows every cluster is small: "rare pattern" only means something among many windows.
  const tinyClusters =
    windows.length < MIN_WINDOWS_FOR_TINY ? [] : sizes.flatMap((s, c) => (s <= tinyClusterMax ? [c] : []));
  const xy = pca2(z);
  const points: ClusterPoint[] = windows.map((w, i) => ({
    time: w.time,
    cluster: m.assignment[i] ?? 0,
    distance: m.distances[i] ?? 0,
    x: xy[i]?.[0] ?? 0,
    y: xy[i]?.[1] ?? 0,
  }));
  // Tiny distances (a perfect fit) make the fence 0; only a real gap counts as an outlier.
  const outliers = points.filter((p) => p.distance > threshold && p.distance > 1e-9);
  return {
    site,
    asset,
    windowMs,
    features,
    criterion: 'silhouette',
    k: m.k,
    candidates: chosen.candidates,
    sizes,
    distanceThreshold: threshold,
    tinyClusterMax,
    tinyClusters,
    points,
    outliers,
  };
}
