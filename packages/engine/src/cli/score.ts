/**
 * `retimuad score`: offline replay of a CSV or JSON-lines file through a pipeline's detectors,
 * writing one output row per input row with its anomaly score and flag.
 *
 * Each value column of a row becomes a reading (asset = the key columns joined, metric = the
 * column name) and goes through the same Processor as the live system, in file order. A row's
 * score is the highest score any detector gave any of its values; its flag is set when a
 * detector raised a finding on it. Rows that cannot be read are still written (empty score,
 * reason "rejected: …"), reported with their line, and kept in `<out>.deadletters.jsonl`.
 *
 * @example
 * retimuad score --config examples/score.yaml --input data.csv --out scored.csv \
 *   --timestamp-col timestamp --key-cols site,pump --value-cols flow,pressure
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import type { Reading } from '../../../core/src/schema/events.ts';
import type { PipelineConfig } from '../config/load.ts';
import { Processor } from '../runtime/processor.ts';
import type { SinkRecord } from '../runtime/types.ts';
import { CsvError, parseCsvLine, parseTimestamp, sniffSeparator } from '../sources/file/csv.ts';
import { Progress } from './progress.ts';

export interface ScoreOptions {
  config: PipelineConfig;
  input: string;
  out: string;
  format?: 'csv' | 'jsonl';
  sep?: string;
  timestampCol?: string;
  keyCols?: string[];
  valueCols?: string[];
  /** Seconds between rows when the file has no timestamp column. */
  intervalSecs?: number;
  progress?: boolean;
  /** Where to report rejected lines (first few, then a count). */
  warn?: (msg: string) => void;
}

export interface ScoreSummary {
  rows: number;
  scored: number;
  flagged: number;
  rejected: number;
  incidents: number;
  deadLetterFile: string;
  columns: { timestamp: string | undefined; keys: string[]; values: string[] };
}

export class ScoreInputError extends Error {
  readonly code = 'E_SCORE_INPUT';
}

const TIMESTAMP_NAMES = ['timestamp', 'time', 'ts', 'datetime', 'date', '@timestamp', 'event_time'];

export async function runScore(opts: ScoreOptions): Promise<ScoreSummary> {
  const format = opts.format ?? (/\.(jsonl|ndjson|json)$/i.test(opts.input) ? 'jsonl' : 'csv');
  const size = (await stat(opts.input)).size;
  const lines = createInterface({ input: createReadStream(opts.input, { encoding: 'utf8' }), crlfDelay: Infinity });
  const out = createWriteStream(opts.out);
  const dlFile = `${opts.out}.deadletters.jsonl`;
  const dl = createWriteStream(dlFile);
  const processor = new Processor(opts.config.detectors, opts.config.correlator);
  const progress = opts.progress === true ? new Progress('scoring', size) : undefined;
  const warn = opts.warn ?? (() => {});
  const summary: ScoreSummary = {
    rows: 0,
    scored: 0,
    flagged: 0,
    rejected: 0,
    incidents: 0,
    deadLetterFile: dlFile,
    columns: { timestamp: undefined, keys: [], values: [] },
  };
  const incidentIds = new Set<string>();
  const records: SinkRecord[] = [];

  let header: string[] | undefined;
  let sep = opts.sep;
  let tsIndex = -1;
  let keyIdx: number[] = [];
  let valIdx: number[] = [];
  let lineNo = 0;
  let bytes = 0;
  let lastTime = Date.UTC(2020, 0, 1);
  const interval = (opts.intervalSecs ?? 1) * 1000;

  const reject = async (line: string, reason: string, cells: string[] | undefined) => {
    summary.rejected++;
    if (summary.rejected <= 10) warn(`${opts.input}:${lineNo}: ${reason}`);
    if (summary.rejected === 11) warn(`${opts.input}: more rejected lines; see ${dlFile}`);
    await write(dl, `${JSON.stringify({ where: `${opts.input}:${lineNo}`, reason, raw: line.slice(0, 8192) })}\n`);
    const row = cells ?? (format === 'csv' ? [line] : []);
    await writeRow(row, '', '', `rejected: ${reason}`);
  };

  const writeRow = async (cells: string[], score: string, flag: string, reason: string) => {
    if (format === 'csv') {
      const s = sep ?? ',';
      await write(out, [...cells, score, flag, reason].map((c) => csvCell(c, s)).join(s) + '\n');
    } else {
      await write(out, `${JSON.stringify({ line: lineNo, anomaly_score: score === '' ? null : Number(score), is_anomaly: flag === '' ? null : flag === '1', reason })}\n`);
    }
  };

  const setColumns = (names: string[]) => {
    header = names;
    const find = (name: string) => {
      const i = names.indexOf(name);
      if (i < 0) throw new ScoreInputError(`${opts.input}: column "${name}" is not in the header (${names.join(', ')})`);
      return i;
    };
    if (opts.timestampCol !== undefined) tsIndex = find(opts.timestampCol);
    else tsIndex = names.findIndex((n) => TIMESTAMP_NAMES.includes(n.toLowerCase()));
    keyIdx = (opts.keyCols ?? []).map(find);
    valIdx =
      opts.valueCols !== undefined
        ? opts.valueCols.map(find)
        : names.map((_, i) => i).filter((i) => i !== tsIndex && !keyIdx.includes(i) && !/^(label|is_anomaly|anomaly_score)$/i.test(names[i]!));
    if (valIdx.length === 0) throw new ScoreInputError(`${opts.input}: no value columns to score (give --value-cols)`);
    summary.columns = {
      timestamp: tsIndex >= 0 ? names[tsIndex] : undefined,
      keys: keyIdx.map((i) => names[i]!),
      values: valIdx.map((i) => names[i]!),
    };
  };

  for await (const line of lines) {
    lineNo++;
    bytes += Buffer.byteLength(line) + 1;
    progress?.update(bytes);
    if (line.trim() === '') continue;
    let cells: string[];
    if (format === 'csv') {
      if (header === undefined) {
        sep ??= sniffSeparator(line);
        setColumns(parseCsvLine(line.replace(/^\uFEFF/, ''), sep));
        await write(out, [...header!, 'anomaly_score', 'is_anomaly', 'reason'].map((c) => csvCell(c, sep!)).join(sep) + '\n');
        continue;
      }
      try {
        cells = parseCsvLine(line, sep!);
      } catch (err) {
        summary.rows++;
        await reject(line, (err as CsvError).message, undefined);
        continue;
      }
    } else {
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (err) {
        summary.rows++;
        await reject(line, `not valid JSON (${(err as Error).message})`, undefined);
        continue;
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
        summary.rows++;
        await reject(line, 'expected a JSON object per line', undefined);
        continue;
      }
      const rec = obj as Record<string, unknown>;
      if (header === undefined) setColumns(Object.keys(rec));
      cells = header!.map((h) => (rec[h] === undefined || rec[h] === null ? '' : String(rec[h] as string | number)));
    }
    summary.rows++;
    if (cells.length !== header!.length) {
      await reject(line, `expected ${header!.length} fields, found ${cells.length}`, cells);
      continue;
    }
    let time: number;
    if (tsIndex >= 0) {
      const t = parseTimestamp(cells[tsIndex]!);
      if (t === undefined) {
        await reject(line, `column "${header![tsIndex]}": cannot read "${cells[tsIndex]}" as a time`, cells);
        continue;
      }
      time = t;
    } else {
      time = lastTime + interval;
    }
    lastTime = time;
    const asset = keyIdx.length === 0 ? 'series' : keyIdx.map((i) => sanitise(cells[i]!)).join('.');
    const bad = valIdx.find((i) => cells[i] !== '' && !Number.isFinite(Number(cells[i])));
    if (bad !== undefined) {
      await reject(line, `column "${header![bad]}": "${cells[bad]}" is not a number`, cells);
      continue;
    }
    let best = -1;
    let flagged = false;
    const reasons: string[] = [];
    for (const i of valIdx) {
      if (cells[i] === '') continue; // missing value: nothing to score
      const ev: Reading = {
        kind: 'reading',
        id: `row-${lineNo}-${i}`,
        time,
        ingestTime: time,
        site: opts.config.site,
        asset,
        source: 'score',
        metric: sanitise(header![i]!),
        value: Number(cells[i]),
        unit: '',
        quality: 'good',
      };
      records.length = 0;
      processor.process(ev, records);
      for (const r of records) {
        if (r.type === 'score' && r.score.score > best) best = r.score.score;
        else if (r.type === 'anomaly' && r.anomaly.severity !== 'info') {
          flagged = true;
          reasons.push(`${r.anomaly.metric}: ${r.anomaly.reason}`);
        } else if (r.type === 'incident') incidentIds.add(r.incident.id);
      }
    }
    if (best >= 0) summary.scored++;
    if (flagged) summary.flagged++;
    await writeRow(cells, best >= 0 ? best.toFixed(6) : '', best >= 0 ? (flagged ? '1' : '0') : '', reasons.join('; '));
  }
  progress?.done();
  if (header === undefined) throw new ScoreInputError(`${opts.input}: the file is empty`);
  summary.incidents = incidentIds.size;
  out.end();
  dl.end();
  await Promise.all([once(out, 'finish'), once(dl, 'finish')]);
  return summary;
}

function sanitise(s: string): string {
  const t = s.trim().replace(/[^A-Za-z0-9_.:/-]+/g, '_');
  return t === '' ? '_' : t.slice(0, 128);
}

function csvCell(v: string, sep: string): string {
  return v.includes(sep) || v.includes('"') || v.includes('\n') ? `"${v.replace(/"/g, '""')}"` : v;
}

async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}
