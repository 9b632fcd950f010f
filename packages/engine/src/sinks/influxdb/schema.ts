/**
 * The InfluxDB schema RETIMU-AD writes: four measurements, their tags and their fields. The
 * sink's encoder, the Grafana dashboard generator and the tests that check every dashboard query
 * all import these constants, so a renamed field cannot silently break a dashboard.
 *
 * | measurement | tags | fields | time |
 * |---|---|---|---|
 * | `readings` | site, asset, metric, stage?, unit?, quality | value (float) | event time |
 * | `scores` | site, asset, metric, detector | score (float, 0..1) | event time |
 * | `anomalies` | site, asset, metric?, detector, detector_type, modality, severity, stage? | score, value?, reason, anomaly_id, event_id? | anomaly time |
 * | `incidents` | site, asset (where it started), incident_id, stage? | status, severity, severity_level, revision, anomaly_count, peak_score, explanation, assets, modalities, last_time_ms, end_time_ms?, duration_s, open | incident start |
 *
 * Incidents are tagged by id and stamped with their start time, so every revision of one
 * incident is the same point and the latest write wins: writing an incident is an upsert.
 *
 * @example
 * `SELECT mean("${INFLUX_FIELDS.readings.value}") FROM "${INFLUX_MEASUREMENTS.readings}"`
 */

export const INFLUX_MEASUREMENTS = {
  readings: 'readings',
  scores: 'scores',
  anomalies: 'anomalies',
  incidents: 'incidents',
} as const;
export type InfluxMeasurement = (typeof INFLUX_MEASUREMENTS)[keyof typeof INFLUX_MEASUREMENTS];

export const INFLUX_TAGS = {
  readings: ['site', 'asset', 'metric', 'stage', 'unit', 'quality'],
  scores: ['site', 'asset', 'metric', 'detector'],
  anomalies: ['site', 'asset', 'metric', 'detector', 'detector_type', 'modality', 'severity', 'stage'],
  incidents: ['site', 'asset', 'incident_id', 'stage'],
} as const satisfies Record<keyof typeof INFLUX_MEASUREMENTS, readonly string[]>;

export type InfluxFieldType = 'float' | 'integer' | 'string';

export const INFLUX_FIELDS = {
  readings: { value: 'float' },
  scores: { score: 'float' },
  anomalies: { score: 'float', value: 'float', reason: 'string', anomaly_id: 'string', event_id: 'string' },
  incidents: {
    status: 'string',
    severity: 'string',
    /** 1 info, 2 warning, 3 critical: sortable and aggregatable where the string is not. */
    severity_level: 'integer',
    revision: 'integer',
    anomaly_count: 'integer',
    peak_score: 'float',
    explanation: 'string',
    assets: 'string',
    modalities: 'string',
    last_time_ms: 'integer',
    end_time_ms: 'integer',
    duration_s: 'float',
    /** 1 while open, 0 once resolved: `sum(open)` counts open incidents. */
    open: 'integer',
  },
} as const satisfies Record<keyof typeof INFLUX_MEASUREMENTS, Record<string, InfluxFieldType>>;

export const SEVERITY_LEVEL = { info: 1, warning: 2, critical: 3 } as const;

/** Every tag and field name of a measurement, for query checks. */
export function influxColumns(m: keyof typeof INFLUX_MEASUREMENTS): {
  tags: readonly string[];
  fields: readonly string[];
} {
  return { tags: INFLUX_TAGS[m], fields: Object.keys(INFLUX_FIELDS[m]) };
}
