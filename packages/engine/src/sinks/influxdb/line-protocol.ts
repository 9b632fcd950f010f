/**
 * InfluxDB line protocol encoding (the same for 1.x, 2.x and 3.x), and the mapping of pipeline
 * records onto the measurements of `schema.ts`.
 *
 * Escaping, per the spec and checked against InfluxDB 1.6: measurement names escape `,` and
 * space; tag keys, tag values and field keys escape `,`, `=` and space; string field values
 * escape `"` and `\`. Keys and tag values cannot hold line breaks (replaced by a space) nor end
 * in a backslash (it would escape the separator; trailing backslashes are dropped), and an empty tag
 * value is omitted. Floats are written as JavaScript prints them (`1e+21` parses), integers with
 * the `i` suffix; non-finite numbers cannot be written, so such a field is left out.
 *
 * @example
 * encodePoint('readings', { site: 'plant a' }, { value: 41.2 }, 1700000000000)
 * // → 'readings,site=plant\ a value=41.2 1700000000000'
 */
import type { SinkRecord } from '../../runtime/types.ts';
import { INFLUX_MEASUREMENTS, SEVERITY_LEVEL } from './schema.ts';

export type FieldValue = number | string | boolean | { int: number };

const NEEDS_KEY_ESCAPE = /[,= \r\n]|\\$/;
const NEEDS_STRING_ESCAPE = /[\\"]/;

export function escapeMeasurement(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/[, ]/g, '\\$&');
}

export function escapeKey(s: string): string {
  // Most names need nothing: test first, the replace chain costs more than the test.
  if (!NEEDS_KEY_ESCAPE.test(s)) return s;
  return s
    .replace(/\\+$/, '')
    .replace(/[\r\n]+/g, ' ')
    .replace(/[,= ]/g, '\\$&');
}

export function escapeTagValue(s: string): string {
  return escapeKey(s);
}

export function escapeStringField(s: string): string {
  return NEEDS_STRING_ESCAPE.test(s) ? `"${s.replace(/[\\"]/g, '\\$&')}"` : `"${s}"`;
}

/** The series key: escaped measurement and tags, `m,k1=v1,k2=v2` (what precedes the fields). */
export function seriesKey(measurement: string, tags: Readonly<Record<string, string | undefined>>): string {
  let line = escapeMeasurement(measurement);
  // Callers list tags in key order (what the server sorts them into anyway), so no sort here.
  for (const k in tags) {
    const v = tags[k];
    if (v === undefined) continue;
    const ev = escapeTagValue(v);
    const ek = escapeKey(k);
    if (ev !== '' && ek !== '') line += `,${ek}=${ev}`;
  }
  return line;
}

/** One line; undefined when no field is writable (a point needs at least one field). */
export function encodePoint(
  measurement: string,
  tags: Readonly<Record<string, string | undefined>>,
  fields: Readonly<Record<string, FieldValue | undefined>>,
  timeMs: number,
): string | undefined {
  let line = seriesKey(measurement, tags);
  let sep = ' ';
  let any = false;
  for (const k in fields) {
    const v = fields[k];
    let enc: string;
    if (v === undefined) continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) continue;
      enc = String(v);
    } else if (typeof v === 'string') enc = escapeStringField(v);
    else if (typeof v === 'boolean') enc = v ? 'true' : 'false';
    else {
      if (!Number.isSafeInteger(v.int)) continue;
      enc = `${v.int}i`;
    }
    line += `${sep}${escapeKey(k)}=${enc}`;
    sep = ',';
    any = true;
  }
  if (!any) return undefined;
  return `${line} ${Math.trunc(timeMs)}`;
}

/**
 * Series keys of readings and scores (the bulk of the points), by their raw tag values. A plant
 * has a few thousand series, so most lines reuse an escaped, flat key instead of re-escaping six
 * tags and concatenating a dozen pieces: that halved the encoder's CPU and its garbage. Bounded:
 * past SERIES_CACHE_MAX entries it starts over (a high-cardinality mistake must not eat memory).
 */
const SERIES_CACHE_MAX = 20_000;
const readingKeys = new Map<string, string>();
const scoreKeys = new Map<string, string>();

function cachedKey(
  cache: Map<string, string>,
  raw: string,
  measurement: string,
  tags: Readonly<Record<string, string | undefined>>,
): string {
  let key = cache.get(raw);
  if (key === undefined) {
    if (cache.size >= SERIES_CACHE_MAX) cache.clear();
    key = seriesKey(measurement, tags);
    cache.set(raw, key);
  }
  return key;
}

/** One tag value in a cache key, length-prefixed so no two tag tuples share a key whatever they hold. */
function part(v: string | undefined): string {
  return v === undefined ? '-' : `${v.length}:${v}`;
}

/** `key value=<float> <ms>` exactly as encodePoint writes one float field; undefined if not finite. */
function floatLine(key: string, field: string, v: number, timeMs: number): string | undefined {
  return Number.isFinite(v) ? `${key} ${field}=${String(v)} ${Math.trunc(timeMs)}` : undefined;
}

/** The line for one pipeline record, undefined for records InfluxDB does not keep (logs, media, dead letters, labels). */
export function recordToLine(rec: SinkRecord): string | undefined {
  switch (rec.type) {
    case 'event': {
      const e = rec.event;
      if (e.kind !== 'reading') return undefined;
      const raw = `${part(e.asset)}${part(e.metric)}${part(e.quality)}${part(e.site)}${part(e.stage)}${part(e.unit)}`;
      const key = cachedKey(readingKeys, raw, INFLUX_MEASUREMENTS.readings, {
        asset: e.asset,
        metric: e.metric,
        quality: e.quality,
        site: e.site,
        stage: e.stage,
        unit: e.unit,
      });
      return floatLine(key, 'value', e.value, e.time);
    }
    case 'score': {
      const s = rec.score;
      const raw = `${part(s.asset)}${part(s.detector)}${part(s.metric)}${part(s.site)}`;
      const key = cachedKey(scoreKeys, raw, INFLUX_MEASUREMENTS.scores, {
        asset: s.asset,
        detector: s.detector,
        metric: s.metric,
        site: s.site,
      });
      return floatLine(key, 'score', s.score, s.time);
    }
    case 'anomaly': {
      const a = rec.anomaly;
      return encodePoint(
        INFLUX_MEASUREMENTS.anomalies,
        {
          asset: a.asset,
          detector: a.detector,
          detector_type: a.detectorType,
          metric: a.metric,
          modality: a.modality,
          severity: a.severity,
          site: a.site,
          stage: a.stage,
        },
        { score: a.score, value: a.value, reason: a.reason, anomaly_id: a.id, event_id: a.eventId },
        a.time,
      );
    }
    case 'incident': {
      const i = rec.incident;
      const end = i.endTime ?? i.lastTime;
      return encodePoint(
        INFLUX_MEASUREMENTS.incidents,
        { asset: i.assets[0] ?? 'unknown', incident_id: i.id, site: i.site, stage: i.stage },
        {
          status: i.status,
          severity: i.severity,
          severity_level: { int: SEVERITY_LEVEL[i.severity] },
          revision: { int: i.revision },
          anomaly_count: { int: i.anomalyCount },
          peak_score: i.peakScore,
          explanation: i.explanation,
          assets: i.assets.join(','),
          modalities: i.modalities.join(','),
          last_time_ms: { int: i.lastTime },
          end_time_ms: i.endTime === undefined ? undefined : { int: i.endTime },
          duration_s: (end - i.startTime) / 1000,
          open: { int: i.status === 'open' ? 1 : 0 },
        },
        i.startTime,
      );
    }
    case 'deadletter':
    case 'label':
      return undefined;
  }
}
