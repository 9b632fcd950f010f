/**
 * Turns an analysis result into anomalies of modality `batch`, so the correlator and the
 * dashboard see what the batch analyses found. Ids are deterministic (kind, series, time), so
 * analysing the same range twice writes the same anomalies rather than new ones.
 *
 * @example
 * const anomalies = findingsOf(result, { detector: 'batch-analytics', maxPerSeries: 20 });
 * await store.write(anomalies.map((anomaly) => ({ type: 'anomaly', anomaly })));
 */
import type { Anomaly } from '../schema/events.ts';
import type { AnalysisResult } from './types.ts';

export interface FindingsOptions {
  /** Detector name on the anomalies (default "batch-analytics"). */
  detector?: string;
  /** Caps findings per series and kind so one noisy channel cannot flood the store. */
  maxPerSeries?: number;
  /** Optional stage of each asset, looked up by the caller. */
  stageOf?: (site: string, asset: string) => string | undefined;
}

const fmt = (v: number): string => (Math.abs(v) >= 1000 || Math.abs(v) < 0.01 ? v.toPrecision(4) : v.toFixed(2));

/**
 * Flagged bins grouped into runs: bins separated only by empty or flagged bins are one excursion,
 * so a spread-out excursion gives one finding rather than one per bin.
 */
export function outlierRuns(h: { counts: readonly number[]; outlierBins: readonly number[] }): number[][] {
  const runs: number[][] = [];
  let cur: number[] = [];
  let prev = -1;
  for (const b of [...h.outlierBins].sort((x, y) => x - y)) {
    let gapClear = prev >= 0;
    for (let i = prev + 1; i < b && gapClear; i++) if ((h.counts[i] ?? 0) > 0) gapClear = false;
    if (!gapClear && cur.length > 0) {
      runs.push(cur);
      cur = [];
    }
    cur.push(b);
    prev = b;
  }
  if (cur.length > 0) runs.push(cur);
  return runs;
}

export function findingsOf(r: AnalysisResult, opts: FindingsOptions = {}): Anomaly[] {
  const { detector = 'batch-analytics', maxPerSeries = 20, stageOf } = opts;
  const out: Anomaly[] = [];
  const base = (
    site: string,
    asset: string,
    kind: string,
    time: number,
    metric?: string,
  ): Omit<Anomaly, 'score' | 'severity' | 'reason'> => {
    const stage = stageOf?.(site, asset);
    return {
      id: `batch:${kind}:${site}:${asset}:${metric ?? '*'}:${time}`,
      time,
      site,
      asset,
      detector,
      detectorType: kind,
      modality: 'batch',
      ...(metric !== undefined ? { metric } : {}),
      ...(stage !== undefined ? { stage } : {}),
    };
  };

  for (const h of r.histograms) {
    const total = h.counts.reduce((s, c) => s + c, 0);
    for (const run of outlierRuns(h).slice(0, maxPerSeries)) {
      const t = Math.min(...run.map((b) => h.firstTime[b] ?? Infinity));
      if (!Number.isFinite(t)) continue;
      const first = run[0] ?? 0;
      const last = run[run.length - 1] ?? first;
      const from = h.lo + first * h.width;
      const to = h.lo + (last + 1) * h.width;
      const count = run.reduce((s, b) => s + (h.counts[b] ?? 0), 0);
      const share = total > 0 ? count / total : 0;
      out.push({
        ...base(h.site, h.asset, 'histogram_outlier', t, h.metric),
        score: Math.min(1, Math.max(0.5, 1 - share * 50)),
        severity: 'warning',
        reason: `${h.metric}: ${count} value(s) in [${fmt(from)}, ${fmt(to)}) far outside the usual range (${(share * 100).toFixed(2)} % of ${total})`,
        value: from,
        detail: { firstBin: first, lastBin: last, count, share },
      });
    }
  }
  for (const d of r.drifts) {
    if (!d.drifted) continue;
    out.push({
      ...base(d.site, d.asset, 'drift', d.splitTime, d.metric),
      score: Math.min(1, Math.max(Math.abs(d.effectSize) / 4, d.psi / 2)),
      severity: Math.abs(d.effectSize) >= 3 ? 'warning' : 'info',
      reason: `${d.metric} drifted: mean ${fmt(d.before.mean)} → ${fmt(d.after.mean)} (d = ${d.effectSize.toFixed(2)}, PSI = ${d.psi.toFixed(2)})`,
      value: d.after.mean,
      detail: {
        effectSize: d.effectSize,
        psi: d.psi,
        stdRatio: d.stdRatio,
        beforeMean: d.before.mean,
        afterMean: d.after.mean,
      },
    });
  }
  for (const c of r.clusterings) {
    const worst = [...c.outliers].sort((a, b) => b.distance - a.distance).slice(0, maxPerSeries);
    for (const p of worst) {
      out.push({
        ...base(c.site, c.asset, 'kmeans_outlier', p.time),
        score: Math.min(1, 0.5 + (p.distance - c.distanceThreshold) / (2 * Math.max(c.distanceThreshold, 1e-9))),
        severity: 'warning',
        reason: `${c.asset}: ${c.windowMs / 1000} s window unlike every usual pattern (distance ${p.distance.toFixed(2)} > ${c.distanceThreshold.toFixed(2)}, k = ${c.k})`,
        value: p.distance,
        detail: { cluster: p.cluster, k: c.k, threshold: c.distanceThreshold },
      });
    }
    for (const cl of c.tinyClusters) {
      const members = c.points.filter((p) => p.cluster === cl);
      const first = members[0];
      if (!first) continue;
      out.push({
        ...base(c.site, c.asset, 'kmeans_tiny_cluster', first.time),
        score: 0.6,
        severity: 'info',
        reason: `${c.asset}: rare pattern — cluster ${cl} holds only ${members.length} of ${c.points.length} windows`,
        value: members.length,
        detail: { cluster: cl, size: members.length, k: c.k },
      });
    }
  }
  return out;
}
