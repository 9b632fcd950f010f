/**
 * Batch analytics maths (pure): K-Means with k by silhouette, histogram outlier bins, drift
 * between periods, reference statistics, and the conversion of results into batch anomalies.
 *
 * @example
 * import { clusterWindows, flagOutlierBins, driftBetween, findingsOf } from '../analytics/index.ts';
 */
export * from './types.ts';
export * from './stats.ts';
export * from './histogram.ts';
export * from './drift.ts';
export * from './kmeans.ts';
export * from './cluster.ts';
export * from './findings.ts';
