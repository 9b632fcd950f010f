/**
 * Log line parsers: syslog RFC 3164 (BSD) and RFC 5424, JSON lines and plain lines, mapped to
 * ECS field names (`@timestamp`, `log.level`, `host.name`, `process.name`, `process.pid`,
 * `message`, `log.syslog.*`). Pure: a line in, a record out; a line that does not fit the asked
 * format raises a LogParseError (code E_LOG_PARSE) naming the line number and what was wrong.
 * `auto` picks the format per line and never fails: what no other format reads is a plain line.
 *
 * RFC 3164 timestamps carry no year and no zone: the caller gives `year` (the CLI uses the
 * current one) and they are read as UTC.
 *
 * @example
 * parseLogLine('<34>Oct 11 22:14:15 mymachine su[42]: su root failed on /dev/pts/8', { format: 'auto', line: 1, year: 2024 });
 * // { time: 1728684855000, level: 'critical', message: 'su root failed on /dev/pts/8',
 * //   fields: { '@timestamp': '2024-10-11T22:14:15.000Z', 'host.name': 'mymachine', 'process.name': 'su', 'process.pid': 42, ... } }
 */
import type { LogLevel, Scalar } from '../schema/events.ts';

export type LogFormat = 'auto' | 'rfc3164' | 'rfc5424' | 'json' | 'plain';
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'rfc3164', 'rfc5424', 'json', 'plain'];

export interface ParseOptions {
  format: LogFormat;
  /** 1-based line number, for error messages. */
  line: number;
  /** Year for RFC 3164 timestamps (which have none); without it they are kept as text only. */
  year?: number;
}

export interface ParsedLog {
  /** Which parser read the line. */
  format: Exclude<LogFormat, 'auto'>;
  /** Event time, epoch ms, when the line carried a readable timestamp. */
  time?: number;
  level?: LogLevel;
  message: string;
  /** ECS fields (flattened, dotted names), including `message`, `log.level` and `@timestamp` when known. */
  fields: Record<string, Scalar>;
}

export class LogParseError extends Error {
  readonly code = 'E_LOG_PARSE';
  constructor(
    readonly line: number,
    readonly format: LogFormat,
    readonly problem: string,
  ) {
    super(`line ${line}: ${format}: ${problem}`);
  }
}

/** Syslog severities 0..7 as ECS levels. */
export const SYSLOG_LEVELS: readonly LogLevel[] = [
  'emergency',
  'alert',
  'critical',
  'error',
  'warn',
  'notice',
  'info',
  'debug',
];

const LEVEL_WORDS: Readonly<Record<string, LogLevel>> = {
  trace: 'trace',
  debug: 'debug',
  dbg: 'debug',
  info: 'info',
  information: 'info',
  informational: 'info',
  notice: 'notice',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  err: 'error',
  crit: 'critical',
  critical: 'critical',
  fatal: 'critical',
  severe: 'error',
  alert: 'alert',
  emerg: 'emergency',
  emergency: 'emergency',
  panic: 'emergency',
};

/** A level word (any case) or a pino/bunyan number (10..60) or a syslog severity digit as an ECS level. */
export function normaliseLevel(v: unknown): LogLevel | undefined {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v <= 7) return SYSLOG_LEVELS[v];
    if (v >= 60) return 'critical';
    if (v >= 50) return 'error';
    if (v >= 40) return 'warn';
    if (v >= 30) return 'info';
    if (v >= 20) return 'debug';
    if (v >= 10) return 'trace';
    return undefined;
  }
  if (typeof v !== 'string') return undefined;
  const w = v.trim().toLowerCase();
  return Object.hasOwn(LEVEL_WORDS, w) ? LEVEL_WORDS[w] : undefined;
}

/** Parses one line (without its newline). */
export function parseLogLine(text: string, opts: ParseOptions): ParsedLog {
  const line = text.endsWith('\r') ? text.slice(0, -1) : text;
  switch (opts.format) {
    case 'rfc3164':
      return parse3164(line, opts);
    case 'rfc5424':
      return parse5424(line, opts);
    case 'json':
      return parseJson(line, opts);
    case 'plain':
      return parsePlain(line);
    case 'auto':
      return parseAuto(line, opts);
  }
}

function parseAuto(line: string, opts: ParseOptions): ParsedLog {
  const c = line.charCodeAt(0);
  try {
    if (c === 123) return parseJson(line, opts);
    if (c === 60) {
      const close = line.indexOf('>');
      // <PRI>1 ... is RFC 5424 (version 1); any other <PRI> is BSD syslog.
      if (
        close > 1 &&
        line.charCodeAt(close + 1) >= 49 &&
        line.charCodeAt(close + 1) <= 57 &&
        line.charCodeAt(close + 2) === 32
      )
        return parse5424(line, opts);
      return parse3164(line, opts);
    }
    if (BSD_TIME.test(line)) return parse3164(line, opts);
  } catch (e) {
    if (!(e instanceof LogParseError)) throw e;
  }
  return parsePlain(line);
}

// ---------------------------------------------------------------------------------------------
// Syslog

function priority(line: string, opts: ParseOptions, format: LogFormat): { pri: number; rest: string } | null {
  if (line.charCodeAt(0) !== 60) return null;
  const close = line.indexOf('>');
  const digits = close > 0 ? line.slice(1, close) : '';
  if (!/^\d{1,3}$/.test(digits)) {
    throw new LogParseError(
      opts.line,
      format,
      `expected <PRI> with 1-3 digits at the start, got ${JSON.stringify(line.slice(0, 8))}`,
    );
  }
  const pri = Number(digits);
  if (pri > 191) throw new LogParseError(opts.line, format, `priority ${pri} is above 191 (facility 23, severity 7)`);
  return { pri, rest: line.slice(close + 1) };
}

function syslogFields(pri: number, f: Record<string, Scalar>): LogLevel {
  const sev = pri & 7;
  const level = SYSLOG_LEVELS[sev]!;
  f['log.syslog.priority'] = pri;
  f['log.syslog.facility.code'] = pri >> 3;
  f['log.syslog.severity.code'] = sev;
  f['log.level'] = level;
  return level;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const BSD_TIME = /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ \d]\d) (\d\d):(\d\d):(\d\d) /;
/** TAG[PID]: or TAG: at the start of the message part. */
const TAG = /^([^\s:[\]]{1,48})(?:\[(\d{1,10})\])?: ?/;

function parse3164(line: string, opts: ParseOptions): ParsedLog {
  const f: Record<string, Scalar> = {};
  const pr = priority(line, opts, 'rfc3164');
  let rest = pr === null ? line : pr.rest;
  const level = pr === null ? undefined : syslogFields(pr.pri, f);
  const m = BSD_TIME.exec(rest);
  let time: number | undefined;
  if (m) {
    const month = MONTHS.indexOf(m[1]!);
    const day = Number(m[2]!.trim());
    const [hh, mm, ss] = [Number(m[3]), Number(m[4]), Number(m[5])];
    if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) {
      throw new LogParseError(opts.line, 'rfc3164', `timestamp ${JSON.stringify(m[0].trim())} is out of range`);
    }
    f['log.syslog.timestamp'] = m[0].trim();
    if (opts.year !== undefined) {
      time = Date.UTC(opts.year, month, day, hh, mm, ss);
      f['@timestamp'] = new Date(time).toISOString();
    }
    rest = rest.slice(m[0].length);
    // HOSTNAME follows the timestamp.
    const sp = rest.indexOf(' ');
    const host = sp < 0 ? rest : rest.slice(0, sp);
    if (host !== '' && !host.endsWith(':')) {
      f['host.name'] = host;
      rest = sp < 0 ? '' : rest.slice(sp + 1);
    }
  } else if (pr === null) {
    throw new LogParseError(
      opts.line,
      'rfc3164',
      `expected <PRI> or a timestamp like "Oct 11 22:14:15" at the start, got ${JSON.stringify(line.slice(0, 16))}`,
    );
  }
  const tag = TAG.exec(rest);
  if (tag) {
    f['process.name'] = tag[1]!;
    if (tag[2] !== undefined) f['process.pid'] = Number(tag[2]);
    rest = rest.slice(tag[0].length);
  }
  f.message = rest;
  return {
    format: 'rfc3164',
    ...(time !== undefined ? { time } : {}),
    ...(level !== undefined ? { level } : {}),
    message: rest,
    fields: f,
  };
}

/** Reads one space-delimited header field of RFC 5424; `-` is nil. */
function headerField(
  s: string,
  at: number,
  name: string,
  opts: ParseOptions,
): { value: string | undefined; next: number } {
  if (at >= s.length) throw new LogParseError(opts.line, 'rfc5424', `missing ${name} (line ends at column ${at + 1})`);
  const sp = s.indexOf(' ', at);
  const end = sp < 0 ? s.length : sp;
  const v = s.slice(at, end);
  if (v === '') throw new LogParseError(opts.line, 'rfc5424', `empty ${name} at column ${at + 1} (two spaces?)`);
  return { value: v === '-' ? undefined : v, next: sp < 0 ? s.length : sp + 1 };
}

function parse5424(line: string, opts: ParseOptions): ParsedLog {
  const f: Record<string, Scalar> = {};
  const pr = priority(line, opts, 'rfc5424');
  if (pr === null)
    throw new LogParseError(
      opts.line,
      'rfc5424',
      `expected <PRI> at the start, got ${JSON.stringify(line.slice(0, 8))}`,
    );
  const level = syslogFields(pr.pri, f);
  const s = pr.rest;
  const vm = /^(\d{1,2}) /.exec(s);
  if (!vm)
    throw new LogParseError(
      opts.line,
      'rfc5424',
      `expected a version number and a space after <PRI>, got ${JSON.stringify(s.slice(0, 8))}`,
    );
  f['log.syslog.version'] = vm[1]!;
  let at = vm[0].length;
  const ts = headerField(s, at, 'TIMESTAMP', opts);
  at = ts.next;
  let time: number | undefined;
  if (ts.value !== undefined) {
    const t = Date.parse(ts.value);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$/.test(ts.value) || !Number.isFinite(t)) {
      throw new LogParseError(
        opts.line,
        'rfc5424',
        `TIMESTAMP ${JSON.stringify(ts.value.slice(0, 40))} is not an RFC 3339 time like 2003-10-11T22:14:15.003Z`,
      );
    }
    time = t;
    f['@timestamp'] = new Date(t).toISOString();
  }
  const host = headerField(s, at, 'HOSTNAME', opts);
  at = host.next;
  if (host.value !== undefined) f['host.name'] = host.value;
  const app = headerField(s, at, 'APP-NAME', opts);
  at = app.next;
  if (app.value !== undefined) f['process.name'] = app.value;
  const proc = headerField(s, at, 'PROCID', opts);
  at = proc.next;
  if (proc.value !== undefined) {
    if (/^\d{1,10}$/.test(proc.value)) f['process.pid'] = Number(proc.value);
    else f['log.syslog.procid'] = proc.value;
  }
  const msgid = headerField(s, at, 'MSGID', opts);
  at = msgid.next;
  if (msgid.value !== undefined) f['log.syslog.msgid'] = msgid.value;
  if (at >= s.length)
    throw new LogParseError(opts.line, 'rfc5424', 'missing STRUCTURED-DATA (use "-" when there is none)');
  if (s[at] === '-') at++;
  else if (s[at] === '[') at = structuredData(s, at, f, opts);
  else
    throw new LogParseError(
      opts.line,
      'rfc5424',
      `expected STRUCTURED-DATA ("-" or "[") at column ${at + 1}, got ${JSON.stringify(s[at])}`,
    );
  let msg = at < s.length && s[at] === ' ' ? s.slice(at + 1) : s.slice(at);
  if (msg.charCodeAt(0) === 0xfeff) msg = msg.slice(1);
  f.message = msg;
  return { format: 'rfc5424', ...(time !== undefined ? { time } : {}), level, message: msg, fields: f };
}

/** Parses `[id k="v" ...]...` into `log.syslog.structured_data.<id>.<k>` fields; returns the index after it. */
function structuredData(s: string, at: number, f: Record<string, Scalar>, opts: ParseOptions): number {
  const fail = (what: string, i: number): never => {
    throw new LogParseError(opts.line, 'rfc5424', `STRUCTURED-DATA: ${what} at column ${i + 1}`);
  };
  let i = at;
  while (s[i] === '[') {
    i++;
    const idEnd = s.slice(i).search(/[ \]]/);
    if (idEnd <= 0) fail('expected an SD-ID after "["', i);
    const id = s.slice(i, i + idEnd);
    i += idEnd;
    while (s[i] === ' ') {
      i++;
      const eq = s.indexOf('=', i);
      if (eq <= i) fail('expected name="value"', i);
      const name = s.slice(i, eq);
      if (/[\s\]"]/.test(name)) fail(`bad parameter name ${JSON.stringify(name)}`, i);
      i = eq + 1;
      if (s[i] !== '"') fail('expected a quoted value', i);
      i++;
      let v = '';
      for (;;) {
        if (i >= s.length) fail('unterminated quoted value', i);
        const ch = s[i]!;
        if (ch === '\\' && i + 1 < s.length && (s[i + 1] === '"' || s[i + 1] === '\\' || s[i + 1] === ']')) {
          v += s[i + 1];
          i += 2;
        } else if (ch === '"') {
          i++;
          break;
        } else {
          v += ch;
          i++;
        }
      }
      f[`log.syslog.structured_data.${id}.${name}`] = v;
    }
    if (s[i] !== ']') fail('expected "]"', i);
    i++;
  }
  return i;
}

// ---------------------------------------------------------------------------------------------
// JSON lines

const MESSAGE_KEYS = ['message', 'msg', 'log', 'text', 'event.original'];
const LEVEL_KEYS = ['log.level', 'level', 'severity', 'lvl', 'loglevel'];
const TIME_KEYS = ['@timestamp', 'timestamp', 'time', 'ts', 'datetime', 'date'];
/** Common non-ECS names and their ECS equivalents. */
const RENAMES: Readonly<Record<string, string>> = {
  host: 'host.name',
  hostname: 'host.name',
  pid: 'process.pid',
  process: 'process.name',
  app: 'process.name',
  program: 'process.name',
  logger: 'log.logger',
  name: 'log.logger',
  user: 'user.name',
  ip: 'source.ip',
};

function flatten(prefix: string, v: unknown, out: Record<string, Scalar>, depth: number): void {
  if (v === null || v === undefined) return;
  if (typeof v === 'string' || typeof v === 'boolean') out[prefix] = v;
  else if (typeof v === 'number') {
    if (Number.isFinite(v)) out[prefix] = v;
  } else if (Array.isArray(v) || depth > 8) out[prefix] = JSON.stringify(v);
  else if (typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, unknown>))
      flatten(prefix === '' ? k : `${prefix}.${k}`, x, out, depth + 1);
  }
}

/** A JSON time value: epoch seconds or ms (by magnitude) or a date string. */
function jsonTime(v: Scalar): number | undefined {
  if (typeof v === 'number') {
    const ms = Math.abs(v) < 1e11 ? v * 1000 : v;
    return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? Math.round(ms) : undefined;
  }
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : undefined;
  }
  return undefined;
}

function parseJson(line: string, opts: ParseOptions): ParsedLog {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new LogParseError(opts.line, 'json', `not valid JSON (${(e as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new LogParseError(
      opts.line,
      'json',
      `expected a JSON object, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`}`,
    );
  }
  const flat: Record<string, Scalar> = {};
  flatten('', v, flat, 0);
  const f: Record<string, Scalar> = {};
  for (const [k, x] of Object.entries(flat)) {
    const ecs = Object.hasOwn(RENAMES, k) && !Object.hasOwn(flat, RENAMES[k]!) ? RENAMES[k]! : k;
    f[ecs] = x;
  }
  let message = '';
  for (const k of MESSAGE_KEYS) {
    const m = f[k];
    if (m !== undefined) {
      message = String(m);
      if (k !== 'message') delete f[k];
      break;
    }
  }
  f.message = message;
  let level: LogLevel | undefined;
  for (const k of LEVEL_KEYS) {
    if (f[k] === undefined) continue;
    level = normaliseLevel(f[k]);
    if (level !== undefined) {
      if (k !== 'log.level') delete f[k];
      f['log.level'] = level;
      break;
    }
  }
  let time: number | undefined;
  for (const k of TIME_KEYS) {
    const x = f[k];
    if (x === undefined) continue;
    time = jsonTime(x);
    if (time !== undefined) {
      if (k !== '@timestamp') delete f[k];
      f['@timestamp'] = new Date(time).toISOString();
      break;
    }
  }
  const pid = f['process.pid'];
  if (typeof pid === 'string' && /^\d{1,10}$/.test(pid)) f['process.pid'] = Number(pid);
  return {
    format: 'json',
    ...(time !== undefined ? { time } : {}),
    ...(level !== undefined ? { level } : {}),
    message,
    fields: f,
  };
}

// ---------------------------------------------------------------------------------------------
// Plain lines

/** Optional leading ISO-8601-like timestamp, then an optional level word (possibly in brackets). */
const PLAIN_TIME = /^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)\s+/;
const PLAIN_LEVEL = /^[[(<]?([A-Za-z]{3,13})[\])>]?:?(?:\s+|$)/;

function parsePlain(line: string): ParsedLog {
  const f: Record<string, Scalar> = {};
  let rest = line;
  let time: number | undefined;
  const tm = PLAIN_TIME.exec(rest);
  if (tm) {
    const iso = tm[1]!.replace(' ', 'T').replace(',', '.');
    const t = Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`);
    if (Number.isFinite(t)) {
      time = t;
      f['@timestamp'] = new Date(t).toISOString();
      rest = rest.slice(tm[0].length);
    }
  }
  let level: LogLevel | undefined;
  const lm = PLAIN_LEVEL.exec(rest);
  if (lm) {
    level = normaliseLevel(lm[1]!);
    // Only upper-case or bracketed words count as a level: "info about x" is a message.
    const bracketed = lm[0] !== lm[1] && /^[[(<]/.test(lm[0]);
    if (level !== undefined && (bracketed || lm[1] === lm[1]!.toUpperCase())) {
      f['log.level'] = level;
      rest = rest.slice(lm[0].length);
    } else level = undefined;
  }
  f.message = rest;
  return {
    format: 'plain',
    ...(time !== undefined ? { time } : {}),
    ...(level !== undefined ? { level } : {}),
    message: rest,
    fields: f,
  };
}
