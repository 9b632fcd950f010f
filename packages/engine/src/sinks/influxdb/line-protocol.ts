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

/** One line; undefined when no field is writable (a point needs at least one field). */
export function encodePoint(
  measurement: string,
  tags: Readonly<Record<string, string | undefined>>,
  fields: Readonly<Record<string, FieldValue | undefined>>,
  timeMs: number,
): string | undefined {
  let line = escapeMeasurement(measurement);
  // Callers list tags in key order (what the server sorts them into anyway), so no sort here.
  for (const k in tags) {
    const v = tags[k];
    if (v === undefined) continue;
    const ev = escapeTagValue(v);
    const ek = escapeKey(k);
    if (ev !== '' && ek !== '') line += `,${ek}=${ev}`;
  }
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

/** The line for one pipeline record, undefined for records InfluxDB does not keep (logs, media, dead letters, labels). */
export function recordToLine(rec: SinkRecord): string | undefined {
  switch (rec.type) {
    case 'event': {
      const e = rec.event;
      if (e.kind !== 'reading') return undefined;
      return encodePoint(
        INFLUX_MEASUREMENTS.readings,
        { asset: e.asset, metric: e.metric, quality: e.quality, site: e.site, stage: e.stage, unit: e.unit },
        { value: e.value },
        e.time,
      );
    }
    case 'score': {
      const s = rec.score;
      return encodePoint(
        INFLUX_MEASUREMENTS.scores,
        { asset: s.asset, detector: s.detector, metric: s.metric, site: s.site },
        { score: s.score },
        s.time,
      );
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
