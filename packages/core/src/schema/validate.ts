/**
 * Edge validation of raw records into typed events. Pure: the caller supplies `now`
 * (the ingest time) and a `where` that names the input (file:line, topic/partition/offset, HTTP request).
 *
 * A rejection names the field and the problem, e.g.
 *   `/value: expected a finite number, got "abc"`.
 *
 * @example
 * const r = decodeEvent({ kind: 'reading', ... }, { now: 1700000000000, source: 'http' });
 * if (!r.ok) deadLetters.put({ reason: r.reason, raw });
 */
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { AudioClip, ImageFrame, LogRecord, Reading, type Event, type Modality } from './events.ts';

const checkers: Record<Modality, TypeCheck<TSchema>> = {
  reading: TypeCompiler.Compile(Reading),
  log: TypeCompiler.Compile(LogRecord),
  audio: TypeCompiler.Compile(AudioClip),
  image: TypeCompiler.Compile(ImageFrame),
};

export interface FieldError {
  /** JSON pointer of the offending field, `/` for the record itself. */
  path: string;
  message: string;
}

export type DecodeResult = { ok: true; event: Event } | { ok: false; reason: string; errors: FieldError[] };

export interface DecodeOptions {
  /** Ingest time to stamp when the record has none (epoch ms). */
  now: number;
  /** Default `source` when the record has none. */
  source?: string;
  /** Default `site` when the record has none. */
  site?: string;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const s = JSON.stringify(value);
  return s === undefined ? typeof value : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Turns TypeBox's messages into ones an operator reads without knowing TypeBox. */
function explain(schemaType: string | undefined, message: string, value: unknown): string {
  if (value === undefined) return 'is required';
  if (schemaType === 'number' || schemaType === 'integer') {
    if (typeof value !== 'number' || !Number.isFinite(value)) return `expected a finite number, got ${describe(value)}`;
  }
  return `${message.replace(/^Expected/, 'expected')}, got ${describe(value)}`;
}

/** Accepts ISO-8601 strings or epoch milliseconds for time fields; anything else is left for the schema to reject. */
function normaliseTime(v: unknown): unknown {
  if (typeof v === 'string' && v.length <= 64) {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? v : ms;
  }
  return v;
}

export function decodeEvent(raw: unknown, opts: DecodeOptions): DecodeResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail([{ path: '/', message: `expected a JSON object, got ${describe(raw)}` }]);
  }
  const rec = raw as Record<string, unknown>;
  const kind = rec['kind'];
  if (kind !== 'reading' && kind !== 'log' && kind !== 'audio' && kind !== 'image') {
    return fail([{ path: '/kind', message: `expected one of reading, log, audio, image, got ${describe(kind)}` }]);
  }
  const candidate: Record<string, unknown> = { ...rec };
  candidate['time'] = normaliseTime(rec['time']);
  candidate['ingestTime'] = rec['ingestTime'] === undefined ? opts.now : normaliseTime(rec['ingestTime']);
  if (candidate['source'] === undefined && opts.source !== undefined) candidate['source'] = opts.source;
  if (candidate['site'] === undefined && opts.site !== undefined) candidate['site'] = opts.site;
  if (kind === 'log' && candidate['fields'] === undefined) candidate['fields'] = {};
  if (kind === 'log' && typeof candidate['level'] === 'string') candidate['level'] = normaliseLevel(candidate['level']);
  if (kind === 'reading' && candidate['quality'] === undefined) candidate['quality'] = 'good';
  if (kind === 'reading' && candidate['unit'] === undefined) candidate['unit'] = '';

  const checker = checkers[kind];
  if (checker.Check(candidate)) return { ok: true, event: candidate as unknown as Event };
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of checker.Errors(candidate)) {
    const path = e.path === '' ? '/' : e.path;
    if (seen.has(path)) continue; // one message per field is enough
    seen.add(path);
    errors.push({ path, message: explain(e.schema['type'] as string | undefined, e.message, e.value) });
    if (errors.length >= 10) break;
  }
  return fail(errors);
}

const LEVEL_ALIASES: Record<string, string> = {
  warning: 'warn',
  err: 'error',
  crit: 'critical',
  fatal: 'critical',
  emerg: 'emergency',
  information: 'info',
  informational: 'info',
};

export function normaliseLevel(level: string): string {
  const l = level.toLowerCase();
  return LEVEL_ALIASES[l] ?? l;
}

function fail(errors: FieldError[]): DecodeResult {
  return { ok: false, errors, reason: errors.map((e) => `${e.path}: ${e.message}`).join('; ') };
}
