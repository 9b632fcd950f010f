/**
 * A fast path for the commonest record a worker decodes: a plain reading. It builds the same
 * object as `decodeEvent` (same defaults, same key order) and checks it against the same schema
 * limits (read from `Reading` itself), but remembers which site/asset/metric names already passed
 * their pattern, so a stream that repeats a few hundred names skips most regex and TypeBox work.
 * Anything unusual (other kinds, ISO time strings, derivedFrom, any failed check) returns
 * undefined and the caller uses `decodeEvent`, which also words the errors.
 *
 * @example
 * const names = new NameCache();
 * const ev = decodeReadingFast(raw, { now, source: 'kafka' }, names) ?? decodeEvent(raw, { now, source: 'kafka' });
 */
import { EpochMs, Reading, type Event } from '../../../core/src/schema/events.ts';
import type { DecodeOptions } from '../../../core/src/schema/validate.ts';

interface StringLimits {
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}
const P = Reading.properties as unknown as Record<string, StringLimits>;
const limits = (k: string): StringLimits => P[k] ?? {};
const ID = limits('id');
const ID_RE = new RegExp(ID.pattern ?? '');
const NAME = limits('site');
const NAME_RE = new RegExp(NAME.pattern ?? '');
const SOURCE = limits('source');
const UNIT = limits('unit');
const MIN_MS = (EpochMs as { minimum: number }).minimum;
const MAX_MS = (EpochMs as { maximum: number }).maximum;
const KEYS = new Set([
  'kind',
  'id',
  'time',
  'ingestTime',
  'site',
  'asset',
  'source',
  'stage',
  'metric',
  'value',
  'unit',
  'quality',
]);

const fits = (s: string, l: StringLimits): boolean =>
  s.length >= (l.minLength ?? 0) && s.length <= (l.maxLength ?? Infinity);
const epoch = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= MIN_MS && v <= MAX_MS;

/** Names that passed the Name pattern; bounded (cleared when full) so odd streams cannot grow it. */
export class NameCache {
  private readonly ok = new Set<string>();
  constructor(private readonly capacity = 50_000) {}

  valid(v: unknown): boolean {
    if (typeof v !== 'string') return false;
    if (this.ok.has(v)) return true;
    if (!fits(v, NAME) || !NAME_RE.test(v)) return false;
    if (this.ok.size >= this.capacity) this.ok.clear();
    this.ok.add(v);
    return true;
  }
}

export function decodeReadingFast(raw: unknown, opts: DecodeOptions, names: NameCache): Event | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const rec = raw as Record<string, unknown>;
  if (rec['kind'] !== 'reading' || typeof rec['time'] !== 'number') return undefined;
  // Built exactly as decodeEvent builds its candidate, so the key order matches too.
  const c: Record<string, unknown> = { ...rec };
  c['time'] = rec['time'];
  c['ingestTime'] = rec['ingestTime'] === undefined ? opts.now : rec['ingestTime'];
  if (c['source'] === undefined && opts.source !== undefined) c['source'] = opts.source;
  if (c['site'] === undefined && opts.site !== undefined) c['site'] = opts.site;
  if (c['quality'] === undefined) c['quality'] = 'good';
  if (c['unit'] === undefined) c['unit'] = '';

  for (const k in c) if (!KEYS.has(k)) return undefined;
  const id = c['id'];
  const source = c['source'];
  const value = c['value'];
  const unit = c['unit'];
  const quality = c['quality'];
  const ok =
    typeof id === 'string' &&
    fits(id, ID) &&
    ID_RE.test(id) &&
    epoch(c['time']) &&
    epoch(c['ingestTime']) &&
    names.valid(c['site']) &&
    names.valid(c['asset']) &&
    names.valid(c['metric']) &&
    (!('stage' in c) || names.valid(c['stage'])) &&
    typeof source === 'string' &&
    fits(source, SOURCE) &&
    typeof value === 'number' &&
    Number.isFinite(value) &&
    typeof unit === 'string' &&
    fits(unit, UNIT) &&
    (quality === 'good' || quality === 'uncertain' || quality === 'bad');
  return ok ? (c as unknown as Event) : undefined;
}
