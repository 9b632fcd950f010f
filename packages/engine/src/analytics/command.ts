/**
 * `retimuad analyze`: runs the batch analyses over the embedded store (`--data-dir`) or the
 * Parquet archive (`--archive`), with the embedded engine (DuckDB + TypeScript) or Spark
 * (`--engine spark`, archive only), writes the findings back to the store as batch anomalies,
 * and writes an HTML or JSON report.
 *
 * @example
 * const s = await runAnalyze({ dataDir: 'data', report: 'html', engine: 'duckdb', write: true });
 * // s.out → 'data/analysis.html', s.findings → 12
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { findingsOf, type AnalysisResult } from '../../../core/src/analytics/index.ts';
import type { Anomaly } from '../../../core/src/schema/events.ts';
import { openEmbeddedStore, type EmbeddedStore } from '../storage/duckdb-store.ts';
import { AnalyzeError, analyze, num, type QueryFn } from './analyze.ts';
import { openArchive, type ArchiveReader } from './archive.ts';
import { renderHtmlReport } from './report.ts';
import { runSparkAnalysis } from './spark.ts';

export interface AnalyzeCommandOptions {
  dataDir?: string;
  archive?: string;
  /** ISO-8601 or epoch milliseconds; default: the first reading. */
  from?: string;
  /** ISO-8601 or epoch milliseconds; default: the last reading. */
  to?: string;
  assets?: string[];
  report: 'html' | 'json';
  out?: string;
  bins?: number;
  engine: 'duckdb' | 'spark';
  /** Write findings to the store as batch anomalies (needs --data-dir). */
  write: boolean;
  sparkMaster?: string;
  sparkSubmit?: string;
}

export interface AnalyzeSummary {
  out: string;
  result: AnalysisResult;
  findings: Anomaly[];
  written: number;
}

export function parseTime(v: string, what: string): number {
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t))
    throw new AnalyzeError(
      'E_ANALYZE_OPTIONS',
      `${what}: cannot read "${v}" as an ISO-8601 time or epoch milliseconds`,
    );
  return t;
}

export async function runAnalyze(o: AnalyzeCommandOptions): Promise<AnalyzeSummary> {
  if (o.dataDir === undefined && o.archive === undefined)
    throw new AnalyzeError(
      'E_ANALYZE_OPTIONS',
      'analyze: give --data-dir DIR (embedded store) or --archive DIR (Parquet archive)',
    );
  if (o.engine === 'spark' && o.archive === undefined)
    throw new AnalyzeError('E_ANALYZE_OPTIONS', 'analyze --engine spark reads the Parquet archive: give --archive DIR');

  let store: EmbeddedStore | undefined;
  let archive: ArchiveReader | undefined;
  try {
    if (o.dataDir !== undefined) {
      const path = join(o.dataDir, 'retimuad.duckdb');
      // retention 0: analysing must never delete anything.
      store = await openEmbeddedStore(path, { retention_hours: 0 });
    }
    if (o.archive !== undefined) archive = await openArchive(o.archive);
    const db = store;
    const query: QueryFn = archive ? archive.query : (sql, params) => (db as EmbeddedStore).query(sql, params);

    let from = o.from !== undefined ? parseTime(o.from, '--from') : undefined;
    let to = o.to !== undefined ? parseTime(o.to, '--to') : undefined;
    if (from === undefined || to === undefined) {
      const r = await query('SELECT min(time) AS lo, max(time) AS hi FROM readings');
      if (r[0]?.['lo'] === null || r[0]?.['lo'] === undefined)
        throw new AnalyzeError('E_ANALYZE_OPTIONS', `analyze: no readings in ${o.archive ?? o.dataDir ?? ''}`);
      from ??= num(r[0]['lo']);
      to ??= num(r[0]['hi']);
    }
    const common = {
      from,
      to,
      ...(o.assets && o.assets.length > 0 ? { assets: o.assets } : {}),
      ...(o.bins !== undefined ? { bins: o.bins } : {}),
    };
    const result =
      o.engine === 'spark'
        ? await runSparkAnalysis({
            archive: o.archive ?? '',
            ...common,
            ...(o.sparkMaster !== undefined ? { master: o.sparkMaster } : {}),
            ...(o.sparkSubmit !== undefined ? { submit: o.sparkSubmit } : {}),
          })
        : await analyze(query, common);

    const stages = new Map<string, string>();
    if (store) {
      for (const a of await store.assets()) if (a.stage !== undefined) stages.set(`${a.site}\u0000${a.asset}`, a.stage);
    }
    const findings = findingsOf(result, { stageOf: (site, asset) => stages.get(`${site}\u0000${asset}`) });
    let written = 0;
    if (o.write && store && findings.length > 0) {
      // Deterministic ids: re-analysing a range replaces nothing and adds no duplicates.
      const existing = new Set(
        (
          await store.query(
            `SELECT id FROM anomalies WHERE detector = 'batch-analytics' AND time BETWEEN $from AND $to`,
            { from: BigInt(Math.trunc(from)), to: BigInt(Math.trunc(to)) },
          )
        ).map((r) => String(r['id'])),
      );
      const fresh = findings.filter((a) => !existing.has(a.id));
      await store.write(fresh.map((anomaly) => ({ type: 'anomaly' as const, anomaly })));
      written = fresh.length;
    }
    const out = o.out ?? join(o.dataDir ?? o.archive ?? '.', `analysis.${o.report}`);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(
      out,
      o.report === 'html'
        ? renderHtmlReport(result, findings)
        : JSON.stringify({ ...result, findings }, null, 1) + '\n',
    );
    return { out, result, findings, written };
  } finally {
    archive?.close();
    await store?.close();
  }
}
