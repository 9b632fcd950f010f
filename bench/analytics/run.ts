/**
 * Benchmark: every batch analysis (statistics, histograms, drift, trends, K-Means features and
 * clustering) over N readings (default 10 million: 20 assets × 5 metrics × 100 000 s at 1 Hz,
 * with planted spikes and a level shift), generated with SQL straight into an embedded store
 * file. Measured in the same run: the same analyses over the Parquet archive of the same data,
 * and the Spark engine (spark-submit local[2]) on that archive, as a ratio (--no-spark skips it).
 * Spark's time includes its JVM start; a trivial job measured in the same run gives that start
 * alone, so the ratio is also shown without it.
 * Goal (issue 6): the embedded analyses of 10 M readings in ≤ 10 s on this machine.
 *
 * Usage: node bin/run-ts.mjs bench/analytics/run.ts [--readings 10000000] [--no-spark]
 *          [--spark-master local[2]] [--json FILE] [--keep DIR]
 * Prints a human line per case and one JSON line at the end (also written to --json FILE).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { findingsOf } from '../../packages/core/src/analytics/index.ts';
import { analyze } from '../../packages/engine/src/analytics/analyze.ts';
import { openArchive } from '../../packages/engine/src/analytics/archive.ts';
import { runSparkAnalysis } from '../../packages/engine/src/analytics/spark.ts';
import { copyPartitioned, sqlString } from '../../packages/engine/src/sinks/parquet/parquet.ts';
import { openEmbeddedStore } from '../../packages/engine/src/storage/duckdb-store.ts';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const N = Number(arg('--readings') ?? 10_000_000);
const withSpark = !process.argv.includes('--no-spark');
const sparkMaster = arg('--spark-master') ?? 'local[2]';
const jsonOut = arg('--json');
const ASSETS = 20;
const METRICS = 5;
const SECONDS = Math.ceil(N / (ASSETS * METRICS));
const T0 = Date.UTC(2024, 0, 1);

const dir = arg('--keep') ?? (await mkdtemp(join(tmpdir(), 'retimuad-bench-analytics-')));
const figures: Record<string, unknown> = {
  readings: ASSETS * METRICS * SECONDS,
  assets: ASSETS,
  metrics: METRICS,
  seconds: SECONDS,
};
const line = (s: string): void => void process.stdout.write(`${s}\n`);

try {
  // 1. Generate into the embedded store's own table, with SQL (seconds, not minutes).
  let t = performance.now();
  const store = await openEmbeddedStore(join(dir, 'retimuad.duckdb'), { retention_hours: 0 });
  await store.query('SELECT setseed(0.42)');
  await store.query(
    `INSERT INTO readings
     SELECT ${T0} + s * 1000 AS time, 'plant-a', 'A-' || lpad(a::VARCHAR, 2, '0'), NULL, 'm' || m,
            50 + 10 * m + 5 * sin(s / 600.0 + a) + (random() - 0.5) * 2
              + CASE WHEN hash(s, a, m) % 200000 = 0 THEN 60 ELSE 0 END   -- rare spikes
              + CASE WHEN a = 3 AND s > ${SECONDS / 2} THEN 8 ELSE 0 END,  -- a level shift on one asset
            'u', 'good', 'g', 'bench', ${T0} + s * 1000
     FROM range(0, ${SECONDS}) t(s), range(0, ${ASSETS}) aa(a), range(0, ${METRICS}) mm(m)`,
  );
  await store.query('CHECKPOINT');
  figures['generate_s'] = (performance.now() - t) / 1000;
  line(`generated ${figures['readings'] as number} readings in ${(figures['generate_s'] as number).toFixed(1)} s`);

  const range = { from: T0, to: T0 + SECONDS * 1000 - 1 };
  // 2. Embedded engine over the store.
  t = performance.now();
  // CPU time beside wall time: on a shared machine the wall time includes waiting for a core.
  const cpu0 = process.cpuUsage();
  const r1 = await analyze((q, v) => store.query(q, v), range);
  const storeS = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  figures['store_cpu_s'] = (cpu.user + cpu.system) / 1e6;
  figures['load_avg_1m'] = loadavg()[0];
  const f1 = findingsOf(r1);
  figures['store_s'] = storeS;
  figures['store_timings_ms'] = r1.timingsMs;
  figures['store_findings'] = f1.length;
  line(
    `embedded (store):   ${storeS.toFixed(2)} s for ${r1.stats.length} series, ${r1.clusterings.length} clusterings, ${f1.length} findings — goal ≤ 10 s ${storeS <= 10 ? 'met' : 'MISSED'}`,
  );
  line(
    `  process CPU ${(figures['store_cpu_s'] as number).toFixed(2)} s (DuckDB's worker threads included); 1-min load average ${(figures['load_avg_1m'] as number).toFixed(1)} on ${cpus().length} cores`,
  );
  line(
    `  per analysis (ms): ${Object.entries(r1.timingsMs)
      .map(([k, v]) => `${k} ${v.toFixed(0)}`)
      .join(', ')}`,
  );

  // 3. Archive the same rows as Parquet (date × asset partitions) and analyse the archive.
  t = performance.now();
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  await conn.run(`ATTACH ${sqlString(join(dir, 'retimuad.duckdb'))} AS src (READ_ONLY)`);
  await store.close();
  await mkdir(join(dir, 'archive'), { recursive: true });
  await copyPartitioned(conn, 'src.readings', join(dir, 'archive', 'readings'));
  conn.closeSync();
  inst.closeSync();
  figures['archive_write_s'] = (performance.now() - t) / 1000;
  line(`archived as Parquet in ${(figures['archive_write_s'] as number).toFixed(1)} s`);

  const archive = await openArchive(join(dir, 'archive'));
  t = performance.now();
  const r2 = await analyze(archive.query, range);
  archive.close();
  const parquetS = (performance.now() - t) / 1000;
  figures['parquet_s'] = parquetS;
  figures['parquet_timings_ms'] = r2.timingsMs;
  line(`embedded (parquet): ${parquetS.toFixed(2)} s`);

  if (withSpark) {
    // The JVM and SparkSession start alone: the same job over a range with no readings.
    t = performance.now();
    await runSparkAnalysis({ archive: join(dir, 'archive'), from: T0 - 3_600_000, to: T0 - 1, master: sparkMaster });
    const startS = (performance.now() - t) / 1000;
    t = performance.now();
    const r3 = await runSparkAnalysis({ archive: join(dir, 'archive'), ...range, master: sparkMaster });
    const sparkS = (performance.now() - t) / 1000;
    figures['spark_master'] = sparkMaster;
    figures['spark_s'] = sparkS;
    figures['spark_empty_job_s'] = startS;
    figures['spark_timings_ms'] = r3.timingsMs;
    figures['spark_findings'] = findingsOf(r3).length;
    figures['spark_over_embedded'] = sparkS / parquetS;
    figures['spark_over_embedded_store'] = sparkS / storeS;
    figures['spark_minus_start_over_embedded'] = Math.max(0, sparkS - startS) / parquetS;
    line(
      `spark ${sparkMaster} (parquet): ${sparkS.toFixed(1)} s incl. JVM start (an empty job takes ${startS.toFixed(1)} s) — ` +
        `${(sparkS / parquetS).toFixed(1)}× the embedded engine on the same archive, ` +
        `${(Math.max(0, sparkS - startS) / parquetS).toFixed(1)}× without the start; ` +
        `${(sparkS / storeS).toFixed(1)}× the embedded engine on its store`,
    );
    line(
      `  per analysis (ms): ${Object.entries(r3.timingsMs)
        .map(([k, v]) => `${k} ${v.toFixed(0)}`)
        .join(', ')}`,
    );
  }
  const json = JSON.stringify({ bench: 'analytics', ...figures });
  line(json);
  if (jsonOut !== undefined) await writeFile(jsonOut, `${json}\n`);
} finally {
  if (arg('--keep') === undefined) await rm(dir, { recursive: true, force: true });
}
