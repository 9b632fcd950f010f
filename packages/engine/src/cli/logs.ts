/**
 * `retimuad logs parse`: reads a log file (syslog RFC 3164/5424, JSON lines or plain lines; `auto`
 * picks per line), mines its templates online and writes one CSV row per input line: line number,
 * template id, template text (as it stands when the line was read), and the parsed ECS fields.
 * Lines that do not fit an explicit format are still written (empty template, the error in the
 * `error` column) and reported with their line number.
 *
 * @example
 * retimuad logs parse --input /var/log/syslog --out syslog.csv
 * retimuad logs parse --input app.jsonl --out app.csv --format json --sim-threshold 0.5
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { LogParseError, parseLogLine, type LogFormat } from '../../../core/src/logs/parse.ts';
import { DEFAULT_MINER_PARAMS, initMiner, mine, type MinerParams } from '../../../core/src/logs/miner.ts';

export interface LogsParseOptions {
  input: string;
  out: string;
  format?: LogFormat;
  miner?: Partial<MinerParams>;
  /** Year for RFC 3164 timestamps; default the current UTC year. */
  year?: number;
  /** Where to report unreadable lines (the first 10, then a count). */
  warn?: (msg: string) => void;
}

export interface LogsParseSummary {
  lines: number;
  templates: number;
  errors: number;
  seconds: number;
}

/** Columns after the fixed ones, in this order. */
const FIELD_COLUMNS = [
  '@timestamp',
  'log.level',
  'host.name',
  'process.name',
  'process.pid',
  'log.syslog.facility.code',
  'log.syslog.msgid',
];
const HEADER = ['line', 'template_id', 'template', 'format', ...FIELD_COLUMNS, 'message', 'error'];

/** RFC 4180 field: quoted when it holds a comma, quote, CR or LF. */
function csv(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export async function runLogsParse(opts: LogsParseOptions): Promise<LogsParseSummary> {
  const started = performance.now();
  const params: MinerParams = { ...DEFAULT_MINER_PARAMS, ...opts.miner };
  const format = opts.format ?? 'auto';
  const year = opts.year ?? new Date().getUTCFullYear();
  const miner = initMiner();
  const out = createWriteStream(opts.out, { encoding: 'utf8' });
  const rl = createInterface({ input: createReadStream(opts.input, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNo = 0;
  let errors = 0;
  let buf = `${HEADER.join(',')}\n`;
  for await (const text of rl) {
    lineNo++;
    let row: string;
    try {
      const rec = parseLogLine(text, { format, line: lineNo, year });
      const r = mine(params, miner, rec.message);
      const cols = [String(lineNo), String(r.id), csv(r.cluster.t.join(' ')), rec.format];
      for (const k of FIELD_COLUMNS) {
        const v = rec.fields[k];
        cols.push(v === undefined ? '' : csv(String(v)));
      }
      cols.push(csv(rec.message), '');
      row = cols.join(',');
    } catch (e) {
      if (!(e instanceof LogParseError)) throw e;
      errors++;
      if (errors <= 10) opts.warn?.(`${opts.input}:${e.message}`);
      row = [String(lineNo), '', '', format, ...FIELD_COLUMNS.map(() => ''), csv(text), csv(e.message)].join(',');
    }
    buf += `${row}\n`;
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  if (errors > 10) opts.warn?.(`${opts.input}: ${errors - 10} more unreadable line(s)`);
  return { lines: lineNo, templates: miner.size, errors, seconds: (performance.now() - started) / 1000 };
}
