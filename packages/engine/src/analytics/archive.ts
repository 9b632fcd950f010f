/**
 * Reads the Parquet archive (written by the parquet sink or by the benchmark) with DuckDB: an
 * in-memory database whose `readings` view covers `<dir>/readings/date=…/asset=…/*.parquet`, so
 * analyze() runs the same SQL over the archive as over the embedded store. Partition values are
 * read as text (no type guessing: an asset named "101" stays "101").
 *
 * @example
 * const archive = await openArchive('data/archive');
 * const result = await analyze(archive.query, { from, to });
 * await archive.close();
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { sqlString } from '../sinks/parquet/parquet.ts';
import { AnalyzeError, type QueryFn } from './analyze.ts';

export interface ArchiveReader {
  query: QueryFn;
  close(): void;
}

export async function openArchive(dir: string, opts: { threads?: number } = {}): Promise<ArchiveReader> {
  const readingsDir = join(dir, 'readings');
  const entries = await readdir(readingsDir).catch(() => [] as string[]);
  if (!entries.some((e) => e.startsWith('date='))) {
    throw new AnalyzeError(
      'E_ANALYZE_OPTIONS',
      `archive ${dir}: no readings partitions under ${readingsDir} (expected readings/date=YYYY-MM-DD/asset=…/*.parquet)`,
    );
  }
  const instance = await DuckDBInstance.create(
    ':memory:',
    opts.threads !== undefined ? { threads: String(opts.threads) } : {},
  );
  const conn = await instance.connect();
  try {
    await conn.run(
      `CREATE VIEW readings AS SELECT * EXCLUDE (date), date AS partition_date
       FROM read_parquet(${sqlString(`${readingsDir}/*/*/*.parquet`)}, hive_partitioning = true, hive_types_autocast = false)`,
    );
  } catch (err) {
    conn.closeSync();
    instance.closeSync();
    throw new AnalyzeError(
      'E_ANALYZE_QUERY',
      `archive ${dir}: cannot read its Parquet files: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return {
    query: async (sql: string, params?: Record<string, DuckDBValue>) => {
      const reader = params === undefined ? await conn.runAndReadAll(sql) : await conn.runAndReadAll(sql, params);
      return reader.getRowObjectsJS();
    },
    close: () => {
      conn.closeSync();
      instance.closeSync();
    },
  };
}
