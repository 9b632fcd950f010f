/**
 * Parity of the two engines on one Parquet archive, against real Spark (pyspark's spark-submit in
 * local mode; install with `python3 -m pip install -r spark/requirements.txt`): statistics, histograms,
 * drift and trends equal to floating-point tolerance, and K-Means of equal quality (within-cluster
 * sum of squares per k within 10 %, the planted anomalies flagged by both).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../../core/src/simulator/prng.ts';
import type { AnalysisResult, Clustering } from '../../../core/src/analytics/index.ts';
import { createParquetSink } from '../sinks/parquet/parquet.ts';
import type { SinkRecord } from '../runtime/types.ts';
import { analyze } from './analyze.ts';
import { openArchive } from './archive.ts';
import { findSparkSubmit, runSparkAnalysis } from './spark.ts';
import { numericDiffs, reading } from './testing.ts';

const T0 = Date.UTC(2024, 0, 1, 23);
const N = 7200;
let dir: string;
let duck: AnalysisResult;
let spark: AnalysisResult;

function flagged(c: Clustering | undefined): Set<number> {
  if (!c) return new Set();
  return new Set([
    ...c.outliers.map((p) => p.time),
    ...c.tinyClusters.flatMap((cl) => c.points.filter((p) => p.cluster === cl).map((p) => p.time)),
  ]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retimuad-parity-'));
  const sink = await createParquetSink({ path: dir }, { logger: pino({ level: 'silent' }) });
  const rng = createRng(5, 'parity');
  const recs: SinkRecord[] = [];
  for (let i = 0; i < N; i++) {
    const t = T0 + i * 1000;
    recs.push(reading(t, 'P-1', 'flow', (i === 2000 || i === 2001 ? 95 : 40) + rng.normal()));
    recs.push(reading(t, 'P-1', 'pressure', 120 + 10 * Math.sin(i / 300) + rng.normal()));
    recs.push(reading(t, 'T-1', 'level', (i < N / 2 ? 1.0 : 1.6) + rng.normal() * 0.05));
  }
  for (let i = 0; i < recs.length; i += 5000) await sink.write(recs.slice(i, i + 5000));
  await sink.close();
  const range = { from: T0, to: T0 + N * 1000 - 1 };
  const archive = await openArchive(dir);
  try {
    duck = await analyze(archive.query, { ...range, kMax: 4 });
  } finally {
    archive.close();
  }
  const submit = await findSparkSubmit();
  spark = await runSparkAnalysis({ archive: dir, ...range, kMax: 4, master: 'local[2]', submit });
}, 240_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Spark engine parity with the embedded engine', () => {
  it('statistics, drift and trends agree to floating-point tolerance', () => {
    expect(spark.engine).toBe('spark');
    expect(spark.stats.map((s) => `${s.asset}/${s.metric}`)).toEqual(duck.stats.map((s) => `${s.asset}/${s.metric}`));
    expect(numericDiffs(spark.stats, duck.stats, 1e-9)).toEqual([]);
    expect(numericDiffs(spark.drifts, duck.drifts, 1e-9)).toEqual([]);
    expect(numericDiffs(spark.trends, duck.trends, 1e-9)).toEqual([]);
    expect(duck.drifts.find((d) => d.asset === 'T-1')?.drifted).toBe(true);
  });
  it('histograms are identical, outlier bins included', () => {
    expect(spark.histograms.map((h) => ({ c: h.counts, f: h.firstTime, o: h.outlierBins }))).toEqual(
      duck.histograms.map((h) => ({ c: h.counts, f: h.firstTime, o: h.outlierBins })),
    );
    expect(numericDiffs(spark.histograms, duck.histograms, 1e-12)).toEqual([]);
    expect(duck.histograms.find((h) => h.metric === 'flow')?.outlierBins.length).toBeGreaterThan(0);
  });
  it('K-Means is of equal quality: within-cluster sums of squares per k within 10 %, the spike window flagged by both', () => {
    expect(spark.clusterings.map((c) => c.asset)).toEqual(duck.clusterings.map((c) => c.asset));
    for (const d of duck.clusterings) {
      const s = spark.clusterings.find((c) => c.asset === d.asset);
      expect(s?.windowMs).toBe(d.windowMs);
      expect(s?.points.map((p) => p.time)).toEqual(d.points.map((p) => p.time));
      for (const cd of d.candidates) {
        const cs = s?.candidates.find((c) => c.k === cd.k);
        expect(cs, `k=${cd.k} of ${d.asset}`).toBeDefined();
        expect(cs!.inertia, `Spark's WCSS at k=${cd.k} of ${d.asset}`).toBeLessThanOrEqual(cd.inertia * 1.1 + 1e-6);
        expect(cd.inertia, `embedded WCSS at k=${cd.k} of ${d.asset}`).toBeLessThanOrEqual(cs!.inertia * 1.1 + 1e-6);
      }
    }
    const spikeWindow = T0 + 1_980_000; // seconds 2000-2001 fall in the 60 s window starting at 1980 s
    expect(flagged(duck.clusterings.find((c) => c.asset === 'P-1')).has(spikeWindow)).toBe(true);
    expect(flagged(spark.clusterings.find((c) => c.asset === 'P-1')).has(spikeWindow)).toBe(true);
  });
});
