/**
 * Parquet archive sink: readings, logs and anomalies are buffered in an in-memory DuckDB and
 * written as Parquet files partitioned by date and asset (Hive layout, readable by DuckDB and
 * Spark alike):
 *
 *   <path>/readings/date=2024-01-01/asset=P-101/part-<uuid>.parquet
 *   <path>/logs/…   <path>/anomalies/…
 *
 * Each flush is one `COPY … TO … (FORMAT parquet, PARTITION_BY (date, asset), APPEND)` per table,
 * so a flush only ever adds new files (never rewrites old ones) and a crash loses at most the
 * unflushed buffer, which the runtime's undelivered-batch file covers. Flushes happen when
 * `flush_rows` rows are buffered, every `flush_interval_secs`, and on close; fewer, larger files
 * keep Parquet scans fast.
 *
 * @example
 * const sink = await createParquetSink({ path: 'data/archive' }, { logger });
 * await sink.write([{ type: 'event', event: reading }]);
 * await sink.close(); // flushes
 */
import { mkdir } from 'node:fs/promises';
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { Type, type Static } from '@sinclair/typebox';
import type { Sink, SinkRecord, SinkRecordType } from '../../runtime/types.ts';
import { resolveSinkParams, type SinkDeps } from '../common.ts';

/** Errors of the archive sink (its own codes; the shared SinkError's code list belongs to common.ts). */
export class ParquetSinkError extends Error {
  override readonly name = 'ParquetSinkError';
  constructor(
    readonly code: 'E_PARQUET_OPEN' | 'E_PARQUET_WRITE' | 'E_SINK_CLOSED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const ParquetSinkParams = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      description: 'Archive directory (relative paths are under the data directory); created if missing.',
    }),
    flush_rows: Type.Integer({
      minimum: 1,
      default: 100_000,
      description: 'Buffered rows (all tables) that trigger a flush.',
    }),
    flush_interval_secs: Type.Number({
      exclusiveMinimum: 0,
      default: 60,
      description: 'Longest time rows wait in the buffer, seconds.',
    }),
    include: Type.Array(Type.Union([Type.Literal('readings'), Type.Literal('logs'), Type.Literal('anomalies')]), {
      minItems: 1,
      uniqueItems: true,
      default: ['readings', 'logs', 'anomalies'],
      description: 'Tables archived.',
    }),
    compression: Type.Union([Type.Literal('zstd'), Type.Literal('snappy'), Type.Literal('uncompressed')], {
      default: 'zstd',
      description: 'Parquet compression codec.',
    }),
  },
  { additionalProperties: false },
);
export type ParquetSinkParams = Static<typeof ParquetSinkParams>;

export type ArchiveTable = 'readings' | 'logs' | 'anomalies';

/** Column definitions of the archive (the partition columns date and asset live in the path). */
export const ARCHIVE_DDL: Record<ArchiveTable, string> = {
  readings: `time BIGINT NOT NULL, site VARCHAR NOT NULL, asset VARCHAR NOT NULL, stage VARCHAR, metric VARCHAR NOT NULL,
    value DOUBLE NOT NULL, unit VARCHAR NOT NULL, quality VARCHAR NOT NULL, id VARCHAR NOT NULL, source VARCHAR NOT NULL, ingest_time BIGINT NOT NULL`,
  logs: `time BIGINT NOT NULL, site VARCHAR NOT NULL, asset VARCHAR NOT NULL, stage VARCHAR, level VARCHAR NOT NULL, message VARCHAR NOT NULL,
    fields VARCHAR NOT NULL, id VARCHAR NOT NULL, source VARCHAR NOT NULL, ingest_time BIGINT NOT NULL`,
  anomalies: `time BIGINT NOT NULL, site VARCHAR NOT NULL, asset VARCHAR NOT NULL, id VARCHAR NOT NULL, detector VARCHAR NOT NULL,
    detector_type VARCHAR NOT NULL, modality VARCHAR NOT NULL, metric VARCHAR, severity VARCHAR NOT NULL, score DOUBLE NOT NULL,
    reason VARCHAR NOT NULL, body VARCHAR NOT NULL`,
};

/** A path as a single-quoted SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/**
 * Writes the rows of `table` (in connection `conn`) under `<dir>/<name>/date=…/asset=…/`. Shared
 * with the benchmark, which archives generated data the same way.
 */
export async function copyPartitioned(
  conn: DuckDBConnection,
  source: string,
  dir: string,
  compression = 'zstd',
): Promise<void> {
  await conn.run(
    `COPY (SELECT *, strftime(epoch_ms(time), '%Y-%m-%d') AS date FROM ${source})
     TO ${sqlString(dir)} (FORMAT parquet, COMPRESSION ${compression}, PARTITION_BY (date, asset), APPEND, FILENAME_PATTERN 'part-{uuid}')`,
  );
}

export async function createParquetSink(raw: unknown, deps: SinkDeps): Promise<Sink> {
  const params = resolveSinkParams('parquet', ParquetSinkParams, raw);
  const id = deps.id ?? 'parquet';
  const include = new Set<ArchiveTable>(params.include);
  const accepts = new Set<SinkRecordType>();
  if (include.has('readings') || include.has('logs')) accepts.add('event');
  if (include.has('anomalies')) accepts.add('anomaly');

  let instance: DuckDBInstance | undefined;
  let conn: DuckDBConnection;
  try {
    await mkdir(params.path, { recursive: true });
    // One thread is plenty for buffering and periodic COPY, and leaves the cores to the pipeline.
    instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    conn = await instance.connect();
    for (const t of include) await conn.run(`CREATE TABLE buf_${t} (${ARCHIVE_DDL[t]})`);
  } catch (err) {
    instance?.closeSync();
    throw new ParquetSinkError(
      'E_PARQUET_OPEN',
      `parquet sink ${id}: cannot prepare the archive at ${params.path}: ${(err as Error).message}`,
      { cause: err },
    );
  }

  let buffered = 0;
  let closed = false;
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };

  async function flushNow(): Promise<void> {
    if (buffered === 0) return;
    try {
      for (const t of include) {
        await copyPartitioned(conn, `buf_${t}`, `${params.path}/${t}`, params.compression);
        await conn.run(`DELETE FROM buf_${t}`);
      }
      buffered = 0;
    } catch (err) {
      throw new ParquetSinkError(
        'E_PARQUET_WRITE',
        `parquet sink ${id}: writing ${buffered} rows under ${params.path} failed: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  const timer = setInterval(() => {
    serial(flushNow).catch((err: unknown) =>
      deps.logger.warn({ err, sink: id }, 'parquet archive flush failed; will retry'),
    );
  }, params.flush_interval_secs * 1000);
  // The archive timer must never keep the process alive on its own.
  timer.unref();

  return {
    id,
    accepts,
    write(batch: readonly SinkRecord[]) {
      if (closed) return Promise.reject(new ParquetSinkError('E_SINK_CLOSED', `parquet sink ${id} is closed`));
      return serial(async () => {
        const appenders = new Map<ArchiveTable, DuckDBAppender>();
        const app = async (t: ArchiveTable): Promise<DuckDBAppender | undefined> => {
          if (!include.has(t)) return undefined;
          let a = appenders.get(t);
          if (!a) {
            a = await conn.createAppender(`buf_${t}`);
            appenders.set(t, a);
          }
          return a;
        };
        let n = 0;
        try {
          for (const rec of batch) {
            if (rec.type === 'event' && rec.event.kind === 'reading') {
              const e = rec.event;
              const a = await app('readings');
              if (!a) continue;
              a.appendBigInt(BigInt(Math.trunc(e.time)));
              a.appendVarchar(e.site);
              a.appendVarchar(e.asset);
              opt(a, e.stage);
              a.appendVarchar(e.metric);
              a.appendDouble(e.value);
              a.appendVarchar(e.unit);
              a.appendVarchar(e.quality);
              a.appendVarchar(e.id);
              a.appendVarchar(e.source);
              a.appendBigInt(BigInt(Math.trunc(e.ingestTime)));
              a.endRow();
              n++;
            } else if (rec.type === 'event' && rec.event.kind === 'log') {
              const e = rec.event;
              const a = await app('logs');
              if (!a) continue;
              a.appendBigInt(BigInt(Math.trunc(e.time)));
              a.appendVarchar(e.site);
              a.appendVarchar(e.asset);
              opt(a, e.stage);
              a.appendVarchar(e.level);
              a.appendVarchar(e.message);
              a.appendVarchar(JSON.stringify(e.fields));
              a.appendVarchar(e.id);
              a.appendVarchar(e.source);
              a.appendBigInt(BigInt(Math.trunc(e.ingestTime)));
              a.endRow();
              n++;
            } else if (rec.type === 'anomaly') {
              const x = rec.anomaly;
              const a = await app('anomalies');
              if (!a) continue;
              a.appendBigInt(BigInt(Math.trunc(x.time)));
              a.appendVarchar(x.site);
              a.appendVarchar(x.asset);
              a.appendVarchar(x.id);
              a.appendVarchar(x.detector);
              a.appendVarchar(x.detectorType);
              a.appendVarchar(x.modality);
              opt(a, x.metric);
              a.appendVarchar(x.severity);
              a.appendDouble(x.score);
              a.appendVarchar(x.reason);
              a.appendVarchar(JSON.stringify(x));
              a.endRow();
              n++;
            }
            // Audio and image events are references to blobs; the blob store is their archive.
          }
        } finally {
          for (const a of appenders.values()) a.closeSync();
        }
        buffered += n;
        if (buffered >= params.flush_rows) await flushNow();
      });
    },
    close() {
      if (closed) return tail.then(() => undefined);
      closed = true;
      clearInterval(timer);
      return serial(async () => {
        try {
          await flushNow();
        } finally {
          conn.closeSync();
          instance?.closeSync();
        }
      });
    },
  };
}

function opt(a: DuckDBAppender, v: string | undefined): void {
  if (v === undefined) a.appendNull();
  else a.appendVarchar(v);
}
