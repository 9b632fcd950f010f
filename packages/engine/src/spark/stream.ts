/**
 * `retimuad spark-stream`: submits spark/jobs/stream.py (Spark Structured Streaming over the
 * Kafka topics) with spark-submit, the Kafka source jars from scripts/services/spark-kafka.sh
 * (fetched from Maven Central once, cached; never resolved with --packages at run time) and the
 * validated config as JSON. Reports each micro-batch the job finishes.
 *
 * spark-submit is found like `retimuad analyze --engine spark` does (analytics/spark.ts); the
 * jars are `$RETIMUAD_SPARK_KAFKA_JARS` (comma-separated) or what spark-kafka.sh prints.
 *
 * @example
 * const cfg = parseSparkStreamConfig(text, 'examples/spark-stream.yaml');
 * const r = await runSparkStream(cfg, { onBatch: (b) => console.error(b) });
 * // r.batches → [{ batch: 0, windows: 0, anomalies: 0, ms: 812 }, ...]
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config/load.ts';
import { findSparkSubmit } from '../analytics/spark.ts';
import { parseSparkStreamConfig, toJobConfig, type SparkStreamConfig } from './config.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const STREAM_JOB = join(repoRoot, 'spark/jobs/stream.py');
export const SPARK_KAFKA_SH = join(repoRoot, 'scripts/services/spark-kafka.sh');

export class SparkStreamError extends Error {
  constructor(
    readonly code: 'E_SPARK_STREAM' | 'E_SPARK_STREAM_JARS',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SparkStreamError';
  }
}

/** What the job prints after each micro-batch. */
export interface StreamBatch {
  batch: number;
  /** Finished windows written (one per series and window). */
  windows: number;
  anomalies: number;
  ms: number;
}

export interface SparkStreamOptions {
  submit?: string;
  /** Comma-separated jar paths; default $RETIMUAD_SPARK_KAFKA_JARS, else spark-kafka.sh jars. */
  jars?: string;
  onBatch?: (b: StreamBatch) => void;
  /** spark-submit's stderr lines (default: dropped, the last ones kept for the error message). */
  onLog?: (line: string) => void;
  /** Aborting stops the job (SIGTERM; its checkpoint stays consistent). */
  signal?: AbortSignal;
}

export async function loadSparkStreamConfig(file: string): Promise<SparkStreamConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '/', message: `cannot read the file (${(err as Error).message})` }]);
  }
  return parseSparkStreamConfig(text, file);
}

export function sparkKafkaJars(): Promise<string> {
  const env = process.env['RETIMUAD_SPARK_KAFKA_JARS'];
  if (env !== undefined && env !== '') return Promise.resolve(env);
  return new Promise((res, rej) => {
    execFile(SPARK_KAFKA_SH, ['jars'], { timeout: 300_000 }, (err, stdout, stderr) => {
      const jars = stdout.trim().split('\n').at(-1) ?? '';
      if (err || jars === '')
        rej(
          new SparkStreamError(
            'E_SPARK_STREAM_JARS',
            `${SPARK_KAFKA_SH} jars failed: ${err?.message ?? 'no output'}\n${stderr.split('\n').slice(-10).join('\n')}`,
            { cause: err },
          ),
        );
      else res(jars);
    });
  });
}

/** Runs the streaming job until it stops (available_now, max_batches, the signal, or an error). */
export async function runSparkStream(
  cfg: SparkStreamConfig,
  o: SparkStreamOptions = {},
): Promise<{ batches: StreamBatch[] }> {
  const [submit, jars] = await Promise.all([findSparkSubmit(o.submit), o.jars ?? sparkKafkaJars()]);
  await mkdir(cfg.checkpoint_dir, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'retimuad-spark-stream-'));
  const jobConfig = join(work, 'config.json');
  await writeFile(jobConfig, JSON.stringify(toJobConfig(cfg)));
  const conf: Record<string, string> = {
    'spark.ui.enabled': 'false',
    // Local mode talks to itself only: the driver binds to loopback.
    ...(cfg.spark.master.startsWith('local')
      ? { 'spark.driver.host': '127.0.0.1', 'spark.driver.bindAddress': '127.0.0.1' }
      : {}),
    'spark.log.level': 'WARN',
    'spark.sql.shuffle.partitions': String(cfg.spark.shuffle_partitions),
    'spark.driver.extraJavaOptions': `-Djava.io.tmpdir=${work}`,
    ...cfg.spark.conf,
  };
  const args = [
    '--master',
    cfg.spark.master,
    '--jars',
    jars,
    ...Object.entries(conf).flatMap(([k, v]) => ['--conf', `${k}=${v}`]),
    STREAM_JOB,
    '--config',
    jobConfig,
  ];
  const batches: StreamBatch[] = [];
  const tail: string[] = [];
  try {
    const code = await new Promise<number>((res, rej) => {
      const child = spawn(submit, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          ...(cfg.spark.master.startsWith('local') ? { SPARK_LOCAL_IP: '127.0.0.1' } : {}),
          SPARK_LOCAL_DIRS: work,
          PYSPARK_PYTHON: process.env['PYSPARK_PYTHON'] ?? 'python3',
        },
      });
      const stop = (): void => void child.kill('SIGTERM');
      o.signal?.addEventListener('abort', stop, { once: true });
      lines(child.stdout, (line) => {
        const b = parseBatch(line);
        if (b) {
          batches.push(b);
          o.onBatch?.(b);
        } else keep(tail, line);
      });
      lines(child.stderr, (line) => {
        o.onLog?.(line);
        keep(tail, line);
      });
      child.on('error', (err) =>
        rej(
          new SparkStreamError(
            'E_SPARK_STREAM',
            `cannot start ${submit}: ${err.message} (install pyspark: pip install -r spark/requirements.txt, or set RETIMUAD_SPARK_SUBMIT)`,
            { cause: err },
          ),
        ),
      );
      child.on('close', (c, sig) => {
        o.signal?.removeEventListener('abort', stop);
        res(o.signal?.aborted === true && sig !== null ? 0 : (c ?? 1));
      });
    });
    if (code !== 0)
      throw new SparkStreamError(
        'E_SPARK_STREAM',
        `spark-submit ${STREAM_JOB} exited with ${code}:\n${tail.join('\n')}`,
      );
    return { batches };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The CLI: load, validate, run until stopped (Ctrl-C stops the job; its checkpoint stays consistent). */
export async function runSparkStreamCommand(o: {
  config: string;
  availableNow?: boolean;
  maxBatches?: number;
  submit?: string;
  write?: (line: string) => void;
}): Promise<{ batches: StreamBatch[] }> {
  const cfg = await loadSparkStreamConfig(o.config);
  const trigger = {
    ...cfg.trigger,
    ...(o.availableNow === true ? { mode: 'available_now' as const } : {}),
    ...(o.maxBatches !== undefined ? { max_batches: o.maxBatches } : {}),
  };
  const write = o.write ?? ((l: string) => void process.stdout.write(`${l}\n`));
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await runSparkStream(
      { ...cfg, trigger },
      {
        signal: abort.signal,
        onBatch: (b) => write(JSON.stringify(b)),
        ...(o.submit !== undefined ? { submit: o.submit } : {}),
      },
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function keep(tail: string[], line: string): void {
  tail.push(line);
  if (tail.length > 40) tail.shift();
}

function lines(stream: NodeJS.ReadableStream, each: (line: string) => void): void {
  let buf = '';
  stream.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      each(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  stream.on('end', () => {
    if (buf !== '') each(buf);
  });
}

function parseBatch(line: string): StreamBatch | undefined {
  if (!line.startsWith('{"batch"')) return undefined;
  try {
    const j = JSON.parse(line) as Partial<StreamBatch>;
    if (typeof j.batch === 'number' && typeof j.windows === 'number' && typeof j.anomalies === 'number')
      return { batch: j.batch, windows: j.windows, anomalies: j.anomalies, ms: j.ms ?? 0 };
  } catch {
    // Not ours: some other line on stdout.
  }
  return undefined;
}
