/**
 * Runs the Spark engine: submits spark/jobs/analyze.py with spark-submit (local mode by default,
 * or a cluster master such as the compose stack's `spark://spark-master:7077`), which reads the
 * Parquet archive and writes an AnalysisResult as JSON; the result is then read back so the same
 * report and findings code serves both engines.
 *
 * spark-submit is found as `--spark-submit`, else $RETIMUAD_SPARK_SUBMIT, else `spark-submit`
 * beside the python3 interpreter's pyspark (pip install -r spark/requirements.txt), else PATH.
 *
 * @example
 * const r = await runSparkAnalysis({ archive: 'data/archive', from, to, master: 'local[2]' });
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnalysisResult } from '../../../core/src/analytics/index.ts';
import { AnalyzeError, planWindows } from './analyze.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const SPARK_JOB = join(repoRoot, 'spark/jobs/analyze.py');

export interface SparkAnalysisOptions {
  archive: string;
  from: number;
  to: number;
  assets?: string[];
  bins?: number;
  kMax?: number;
  master?: string;
  submit?: string;
  /** Receives spark-submit's stderr lines (default: dropped, kept for the error message). */
  onLog?: (line: string) => void;
}

function pysparkSubmit(): Promise<string | undefined> {
  return new Promise((res) => {
    execFile(
      'python3',
      ['-c', 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "bin", "spark-submit"))'],
      (err, stdout) => {
        res(err ? undefined : stdout.trim() || undefined);
      },
    );
  });
}

export async function findSparkSubmit(explicit?: string): Promise<string> {
  if (explicit !== undefined) return explicit;
  const env = process.env['RETIMUAD_SPARK_SUBMIT'];
  if (env !== undefined && env !== '') return env;
  return (await pysparkSubmit()) ?? 'spark-submit';
}

export async function runSparkAnalysis(o: SparkAnalysisOptions): Promise<AnalysisResult> {
  const submit = await findSparkSubmit(o.submit);
  const work = await mkdtemp(join(tmpdir(), 'retimuad-spark-'));
  const outFile = join(work, 'result.json');
  const master = o.master ?? 'local[2]';
  const plan = planWindows(o.from, o.to);
  const args = [
    '--master',
    master,
    '--conf',
    'spark.ui.enabled=false',
    // Local mode talks to itself only: bind the driver to loopback, never to a routable interface.
    '--conf',
    'spark.driver.host=127.0.0.1',
    '--conf',
    'spark.driver.bindAddress=127.0.0.1',
    '--conf',
    'spark.log.level=WARN',
    '--conf',
    'spark.sql.shuffle.partitions=4',
    '--conf',
    `spark.driver.extraJavaOptions=-Djava.io.tmpdir=${work}`,
    SPARK_JOB,
    '--archive',
    resolve(o.archive),
    '--from',
    String(Math.trunc(o.from)),
    '--to',
    String(Math.trunc(o.to)),
    '--bins',
    String(o.bins ?? 40),
    '--split',
    String(plan.split),
    '--trend-window',
    String(plan.trendW),
    '--cluster-window',
    String(plan.clusterW),
    '--k-max',
    String(o.kMax ?? 8),
    '--out',
    outFile,
    ...(o.assets && o.assets.length > 0 ? ['--assets', o.assets.join(',')] : []),
  ];
  const tail: string[] = [];
  try {
    const code = await new Promise<number>((res, rej) => {
      const child = spawn(submit, args, {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
          ...process.env,
          SPARK_LOCAL_IP: '127.0.0.1',
          SPARK_LOCAL_DIRS: work,
          PYSPARK_PYTHON: process.env['PYSPARK_PYTHON'] ?? 'python3',
        },
      });
      let buf = '';
      child.stderr.on('data', (d: Buffer) => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          o.onLog?.(line);
          tail.push(line);
          if (tail.length > 30) tail.shift();
        }
      });
      child.on('error', (err) =>
        rej(
          new AnalyzeError(
            'E_ANALYZE_SPARK',
            `cannot start ${submit}: ${err.message} (install pyspark: pip install -r spark/requirements.txt, or set RETIMUAD_SPARK_SUBMIT)`,
            { cause: err },
          ),
        ),
      );
      child.on('close', (c) => res(c ?? 1));
    });
    if (code !== 0)
      throw new AnalyzeError('E_ANALYZE_SPARK', `spark-submit ${SPARK_JOB} exited with ${code}:\n${tail.join('\n')}`);
    return JSON.parse(await readFile(outFile, 'utf8')) as AnalysisResult;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
