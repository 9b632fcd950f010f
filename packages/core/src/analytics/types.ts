/**
 * The shape of a batch-analysis result, shared by the embedded engine (DuckDB + TypeScript) and
 * the Spark engine (spark/jobs/analyze.py writes the same JSON), so one report renderer and one
 * findings builder serve both, and the parity test compares like with like.
 *
 * @example
 * const s: SeriesStats = { site: 'plant-a', asset: 'P-101', metric: 'flow_m3h', unit: 'm3/h', count: 3600,
 *   mean: 41.2, std: 0.8, min: 38.9, max: 44.0, percentiles: { p01: 39.1, p05: 39.9, p25: 40.7, p50: 41.2, p75: 41.7, p95: 42.5, p99: 43.1 } };
 */

export interface SeriesKey {
  site: string;
  asset: string;
  metric: string;
}

/** The percentiles every engine reports, with linear interpolation between order statistics (DuckDB `quantile_cont`, Spark `percentile`). */
export const PERCENTILES = [
  ['p01', 0.01],
  ['p05', 0.05],
  ['p25', 0.25],
  ['p50', 0.5],
  ['p75', 0.75],
  ['p95', 0.95],
  ['p99', 0.99],
] as const;
export type PercentileName = (typeof PERCENTILES)[number][0];

export interface SeriesStats extends SeriesKey {
  unit: string;
  count: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single point. */
  std: number;
  min: number;
  max: number;
  percentiles: Record<PercentileName, number>;
}

export interface Histogram extends SeriesKey {
  /** Bin i covers [lo + i·width, lo + (i+1)·width); the last bin also holds `hi`. */
  lo: number;
  hi: number;
  width: number;
  counts: number[];
  /** Event time (ms) of the first value that fell in each bin; null for empty bins. */
  firstTime: Array<number | null>;
  /** Indexes of bins flagged as outliers (see flagOutlierBins). */
  outlierBins: number[];
}

export interface TrendPoint {
  /** Start of the window, epoch ms. */
  time: number;
  /** Mean of the window. */
  mean: number;
  /** Mean of the window and the `rollingWindows − 1` before it. */
  rolling: number;
}

export interface Trend extends SeriesKey {
  windowMs: number;
  rollingWindows: number;
  points: TrendPoint[];
  /** Least-squares slope of the window means, in units per hour. */
  slopePerHour: number;
}

export interface PeriodStats {
  count: number;
  mean: number;
  std: number;
}

export interface Drift extends SeriesKey {
  /** The first period is [from, splitTime), the second [splitTime, to]. */
  splitTime: number;
  before: PeriodStats;
  after: PeriodStats;
  /** (mean after − mean before) / pooled standard deviation (Cohen's d). */
  effectSize: number;
  /** std after / std before (1 when both are 0). */
  stdRatio: number;
  /** Population stability index over the series' histogram bins. */
  psi: number;
  drifted: boolean;
}

export interface ClusterCandidate {
  k: number;
  silhouette: number;
  inertia: number;
}

export interface ClusterPoint {
  time: number;
  cluster: number;
  /** Distance to the nearest centroid, in standardised feature units. */
  distance: number;
  /** First two principal components, for the scatter plot. */
  x: number;
  y: number;
}

export interface Clustering {
  site: string;
  asset: string;
  windowMs: number;
  /** Feature names, `metric:mean` / `metric:std`. */
  features: string[];
  /** The criterion k was chosen by. */
  criterion: 'silhouette';
  k: number;
  candidates: ClusterCandidate[];
  sizes: number[];
  /** Points farther than this from every centroid are outliers (Tukey far fence of the distances). */
  distanceThreshold: number;
  /** Clusters with at most this many members are "tiny" (rare patterns). */
  tinyClusterMax: number;
  tinyClusters: number[];
  points: ClusterPoint[];
  outliers: ClusterPoint[];
}

export interface AnalysisResult {
  engine: 'duckdb' | 'spark';
  from: number;
  to: number;
  histogramBins: number;
  stats: SeriesStats[];
  histograms: Histogram[];
  trends: Trend[];
  drifts: Drift[];
  clusterings: Clustering[];
  /** Wall time of each analysis, ms (measured by the engine, not by the pure code). */
  timingsMs: Record<string, number>;
}
