/**
 * The Elasticsearch/OpenSearch documents RETIMU-AD writes, under ECS field names, and the index
 * templates that map them. The sink, the Kibana saved objects, the Grafana Elasticsearch panels
 * and their tests all import these, so a dashboard cannot name a field no document has.
 *
 * | kind | index | `_id` | `event.kind` / `event.dataset` |
 * |---|---|---|---|
 * | logs | `{prefix}-logs-YYYY.MM` | event id | event / retimuad.log |
 * | anomalies | `{prefix}-anomalies-YYYY.MM` | anomaly id | alert / retimuad.anomaly |
 * | incidents | `{prefix}-incidents` | incident id, `version` = revision (external): an upsert that never goes back | alert / retimuad.incident |
 * | deadletters | `{prefix}-deadletters-YYYY.MM` | dead letter id | pipeline_error / retimuad.deadletter |
 *
 * Common ECS fields: `@timestamp`, `message`, `event.{id,kind,dataset,module,created,severity}`,
 * `log.level`, `host.name` (the asset), `labels.{site,asset,stage}`. RETIMU-AD specifics live
 * under `retimuad.*`; log fields that are not ECS go under `retimuad.fields.*` (keyword).
 *
 * @example
 * esIndexName('retimuad', 'logs', 1700000000000) // → 'retimuad-logs-2023.11'
 */

export const ES_KINDS = ['logs', 'anomalies', 'incidents', 'deadletters'] as const;
export type EsKind = (typeof ES_KINDS)[number];

export const ES_DATASETS: Record<EsKind, string> = {
  logs: 'retimuad.log',
  anomalies: 'retimuad.anomaly',
  incidents: 'retimuad.incident',
  deadletters: 'retimuad.deadletter',
};

/** Monthly indices for append-only kinds (bounded index count, easy retention); one index for incidents so an id always lands in the same place. */
export function esIndexName(prefix: string, kind: EsKind, timeMs: number): string {
  if (kind === 'incidents') return `${prefix}-incidents`;
  const d = new Date(timeMs);
  return `${prefix}-${kind}-${d.getUTCFullYear()}.${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The index pattern of a kind (templates, data views, Grafana datasources). */
export function esIndexPattern(prefix: string, kind: EsKind): string {
  return kind === 'incidents' ? `${prefix}-incidents*` : `${prefix}-${kind}-*`;
}

type Mapping =
  | { type: string; ignore_above?: number; properties?: Record<string, Mapping> }
  | { properties: Record<string, Mapping> };

const kw: Mapping = { type: 'keyword', ignore_above: 1024 };
const date: Mapping = { type: 'date' };
const float: Mapping = { type: 'float' };
const long: Mapping = { type: 'long' };
const text: Mapping = { type: 'text' };
const ip: Mapping = { type: 'ip' };
const obj = (properties: Record<string, Mapping>): Mapping => ({ properties });

const common: Record<string, Mapping> = {
  '@timestamp': date,
  message: text,
  event: obj({
    id: kw,
    kind: kw,
    dataset: kw,
    module: kw,
    category: kw,
    type: kw,
    action: kw,
    outcome: kw,
    reason: kw,
    created: date,
    start: date,
    end: date,
    duration: long,
    severity: long,
    risk_score: float,
  }),
  log: obj({ level: kw, logger: kw }),
  host: obj({ name: kw, hostname: kw, ip }),
  labels: obj({ site: kw, asset: kw, stage: kw, metric: kw, modality: kw }),
  // ECS groups that logs from PLC/SCADA/auth sources carry (see LogRecord.fields).
  user: obj({ name: kw, id: kw, domain: kw }),
  source: obj({ ip, port: long, address: kw }),
  destination: obj({ ip, port: long, address: kw }),
  client: obj({ ip, address: kw }),
  process: obj({ name: kw, pid: long }),
  service: obj({ name: kw }),
  rule: obj({ id: kw, name: kw, ruleset: kw }),
  error: obj({ message: text, type: kw }),
};

const retimuadCommon: Record<string, Mapping> = { site: kw, asset: kw, stage: kw, source: kw };

export const ES_MAPPINGS: Record<EsKind, Record<string, Mapping>> = {
  logs: { ...common, retimuad: obj({ ...retimuadCommon, ingest_time: date, fields: obj({}) }) },
  anomalies: {
    ...common,
    retimuad: obj({
      ...retimuadCommon,
      metric: kw,
      modality: kw,
      detector: kw,
      detector_type: kw,
      severity: kw,
      score: float,
      value: { type: 'double' },
      event_id: kw,
      detail: obj({}),
    }),
  },
  incidents: {
    ...common,
    retimuad: obj({
      ...retimuadCommon,
      incident: obj({
        id: kw,
        status: kw,
        severity: kw,
        revision: long,
        anomaly_count: long,
        peak_score: float,
        assets: kw,
        modalities: kw,
        explanation: text,
        last_time: date,
        end_time: date,
        evidence_ids: kw,
      }),
    }),
  },
  deadletters: { ...common, retimuad: obj({ ...retimuadCommon, component: kw, where: kw, raw: { type: 'text' } }) },
};

/** Every leaf field path a kind maps, e.g. "event.severity", "retimuad.incident.status". */
export function esFieldPaths(kind: EsKind): Set<string> {
  const out = new Set<string>();
  const walk = (props: Record<string, Mapping>, prefix: string): void => {
    for (const [k, m] of Object.entries(props)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if ('type' in m) out.add(path);
      if (m.properties) walk(m.properties, path);
    }
  };
  walk(ES_MAPPINGS[kind], '');
  return out;
}

/** Dynamic sub-objects whose any key is valid (mapped as keyword by a dynamic template). */
export const ES_DYNAMIC_OBJECTS = ['retimuad.fields', 'retimuad.detail'] as const;

/** A composable index template (ES 7.8+, 8.x, OpenSearch 1+). */
export function esIndexTemplate(
  prefix: string,
  kind: EsKind,
  opts: { shards: number; replicas: number },
): Record<string, unknown> {
  return {
    index_patterns: [esIndexPattern(prefix, kind)],
    priority: 200,
    template: {
      settings: { number_of_shards: opts.shards, number_of_replicas: opts.replicas },
      mappings: {
        dynamic: true,
        dynamic_templates: [
          {
            retimuad_dynamic_as_keyword: {
              path_match: 'retimuad.*',
              match_mapping_type: 'string',
              mapping: { type: 'keyword', ignore_above: 1024 },
            },
          },
          { strings_as_keyword: { match_mapping_type: 'string', mapping: { type: 'keyword', ignore_above: 1024 } } },
        ],
        properties: ES_MAPPINGS[kind],
      },
    },
    _meta: { managed_by: 'retimu-ad', kind },
  };
}
