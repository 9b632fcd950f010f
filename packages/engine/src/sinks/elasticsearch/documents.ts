/**
 * Pipeline records → ECS documents (see `schema.ts` for the fields and indices).
 *
 * A log's extra fields keep their ECS name when they have one (`user.name`, `source.ip`,
 * `event.action`, …) and go under `retimuad.fields.<name>` (as strings, so one field never gets
 * two types) otherwise; they never overwrite what the sink itself sets (`event.kind`, `message`).
 *
 * @example
 * toEsDoc({ type: 'event', event: logRecord }, 'retimuad')
 * // → { index: 'retimuad-logs-2023.11', id: 'log-1', doc: { '@timestamp': '2023-11-14T…', message: '…', log: { level: 'warn' }, … } }
 */
import type { Anomaly, Incident, LogRecord, Scalar, Severity } from '../../../../core/src/schema/events.ts';
import type { DeadLetter, SinkRecord } from '../../runtime/types.ts';
import { ES_DATASETS, esIndexName, type EsKind } from './schema.ts';

export interface EsDoc {
  kind: EsKind;
  index: string;
  id: string;
  /** External version (incidents: the revision), making the write an idempotent upsert. */
  version?: number;
  doc: Record<string, unknown>;
}

/** ECS field sets a log record may fill directly; anything else goes under retimuad.fields. */
const ECS_LOG_FIELDS = new Set([
  'user.name',
  'user.id',
  'user.domain',
  'source.ip',
  'source.port',
  'source.address',
  'destination.ip',
  'destination.port',
  'destination.address',
  'client.ip',
  'client.address',
  'process.name',
  'process.pid',
  'service.name',
  'host.name',
  'host.hostname',
  'host.ip',
  'event.action',
  'event.outcome',
  'event.category',
  'event.type',
  'event.reason',
  'error.message',
  'error.type',
]);

export const SEVERITY_NUMBER: Record<Severity, number> = { info: 1, warning: 2, critical: 3 };
const SEVERITY_LOG_LEVEL: Record<Severity, string> = { info: 'info', warning: 'warn', critical: 'critical' };

const iso = (ms: number): string => new Date(ms).toISOString();

function setPath(doc: Record<string, unknown>, path: string, value: unknown): boolean {
  const parts = path.split('.');
  let o = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i] ?? '';
    const next = o[k];
    if (next === undefined) o = o[k] = {} as Record<string, unknown>;
    else if (typeof next === 'object' && next !== null && !Array.isArray(next)) o = next as Record<string, unknown>;
    else return false;
  }
  const leaf = parts.at(-1) ?? '';
  if (o[leaf] !== undefined) return false;
  o[leaf] = value;
  return true;
}

function labels(
  site: string,
  asset: string,
  stage: string | undefined,
  extra: Record<string, string | undefined> = {},
): Record<string, string> {
  const out: Record<string, string> = { site, asset };
  if (stage !== undefined) out['stage'] = stage;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
  return out;
}

export function logDoc(e: LogRecord, prefix: string): EsDoc {
  const doc: Record<string, unknown> = {
    '@timestamp': iso(e.time),
    message: e.message,
    event: { id: e.id, kind: 'event', dataset: ES_DATASETS.logs, module: 'retimuad', created: iso(e.ingestTime) },
    log: { level: e.level, logger: e.source },
    labels: labels(e.site, e.asset, e.stage),
    retimuad: {
      site: e.site,
      asset: e.asset,
      ...(e.stage !== undefined ? { stage: e.stage } : {}),
      source: e.source,
      ingest_time: iso(e.ingestTime),
    },
  };
  const rest: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.fields)) {
    if (!(ECS_LOG_FIELDS.has(k) && setPath(doc, k, v))) rest[k] = String(v);
  }
  // The asset is the host unless the log names its own host.
  setPath(doc, 'host.name', e.asset);
  if (Object.keys(rest).length > 0) (doc['retimuad'] as Record<string, unknown>)['fields'] = rest;
  return { kind: 'logs', index: esIndexName(prefix, 'logs', e.time), id: e.id, doc };
}

function stringify(detail: Record<string, Scalar> | undefined): Record<string, string> | undefined {
  if (detail === undefined) return undefined;
  return Object.fromEntries(Object.entries(detail).map(([k, v]) => [k, String(v)]));
}

export function anomalyDoc(a: Anomaly, prefix: string): EsDoc {
  const detail = stringify(a.detail);
  const doc: Record<string, unknown> = {
    '@timestamp': iso(a.time),
    message: a.reason,
    event: {
      id: a.id,
      kind: 'alert',
      dataset: ES_DATASETS.anomalies,
      module: 'retimuad',
      reason: a.reason,
      severity: SEVERITY_NUMBER[a.severity],
      risk_score: Math.round(a.score * 10000) / 100,
    },
    log: { level: SEVERITY_LOG_LEVEL[a.severity] },
    host: { name: a.asset },
    rule: { id: a.detector, name: a.detector, ruleset: a.detectorType },
    labels: labels(a.site, a.asset, a.stage, { metric: a.metric, modality: a.modality }),
    retimuad: {
      site: a.site,
      asset: a.asset,
      ...(a.stage !== undefined ? { stage: a.stage } : {}),
      ...(a.metric !== undefined ? { metric: a.metric } : {}),
      modality: a.modality,
      detector: a.detector,
      detector_type: a.detectorType,
      severity: a.severity,
      score: a.score,
      ...(a.value !== undefined && Number.isFinite(a.value) ? { value: a.value } : {}),
      ...(a.eventId !== undefined ? { event_id: a.eventId } : {}),
      ...(detail !== undefined ? { detail } : {}),
    },
  };
  return { kind: 'anomalies', index: esIndexName(prefix, 'anomalies', a.time), id: a.id, doc };
}

export function incidentDoc(i: Incident, prefix: string): EsDoc {
  const asset = i.assets[0] ?? 'unknown';
  const end = i.endTime ?? i.lastTime;
  const doc: Record<string, unknown> = {
    '@timestamp': iso(i.startTime),
    message: i.explanation.split('\n', 1)[0] ?? '',
    event: {
      id: i.id,
      kind: 'alert',
      dataset: ES_DATASETS.incidents,
      module: 'retimuad',
      start: iso(i.startTime),
      ...(i.endTime !== undefined ? { end: iso(i.endTime) } : {}),
      // ECS event.duration is in nanoseconds.
      duration: (end - i.startTime) * 1_000_000,
      severity: SEVERITY_NUMBER[i.severity],
      risk_score: Math.round(i.peakScore * 10000) / 100,
    },
    log: { level: SEVERITY_LOG_LEVEL[i.severity] },
    host: { name: asset },
    labels: labels(i.site, asset, i.stage),
    retimuad: {
      site: i.site,
      asset,
      ...(i.stage !== undefined ? { stage: i.stage } : {}),
      incident: {
        id: i.id,
        status: i.status,
        severity: i.severity,
        revision: i.revision,
        anomaly_count: i.anomalyCount,
        peak_score: i.peakScore,
        assets: i.assets,
        modalities: i.modalities,
        explanation: i.explanation,
        last_time: iso(i.lastTime),
        ...(i.endTime !== undefined ? { end_time: iso(i.endTime) } : {}),
        evidence_ids: i.evidence.map((a) => a.id),
      },
    },
  };
  return {
    kind: 'incidents',
    index: esIndexName(prefix, 'incidents', i.startTime),
    id: i.id,
    version: i.revision,
    doc,
  };
}

export function deadLetterDoc(d: DeadLetter, prefix: string): EsDoc {
  const doc: Record<string, unknown> = {
    '@timestamp': iso(d.time),
    message: d.reason,
    event: { id: d.id, kind: 'pipeline_error', dataset: ES_DATASETS.deadletters, module: 'retimuad', reason: d.reason },
    log: { level: 'error' },
    error: { message: d.reason },
    retimuad: { component: d.component, where: d.where, raw: d.raw },
  };
  return { kind: 'deadletters', index: esIndexName(prefix, 'deadletters', d.time), id: d.id, doc };
}

/** The document for a record, or undefined for records this sink does not index (readings, media, scores, labels). */
export function toEsDoc(rec: SinkRecord, prefix: string): EsDoc | undefined {
  switch (rec.type) {
    case 'event':
      return rec.event.kind === 'log' ? logDoc(rec.event, prefix) : undefined;
    case 'anomaly':
      return anomalyDoc(rec.anomaly, prefix);
    case 'incident':
      return incidentDoc(rec.incident, prefix);
    case 'deadletter':
      return deadLetterDoc(rec.deadLetter, prefix);
    case 'score':
    case 'label':
      return undefined;
  }
}
