/**
 * Grafana dashboards as code: typed plain objects (Grafana's dashboard JSON model, schemaVersion
 * 39) built from the sinks' schema constants, so every query names a measurement, tag or field
 * the sinks really write. `deploy/grafana/generate.mjs` writes them to deploy/grafana/dashboards/;
 * never edit the JSON by hand or commit JSON exported from the UI.
 *
 * Dashboards (stable uids): plant overview, asset signals (readings + scores, anomalies as
 * annotations), incidents (InfluxDB and Elasticsearch), pipeline health (Prometheus `/metrics`).
 *
 * @example
 * for (const d of grafanaDashboards()) writeFileSync(`${d.uid}.json`, JSON.stringify(d, null, 2));
 */
import { esIndexPattern } from '../elasticsearch/schema.ts';
import { INFLUX_FIELDS as F, INFLUX_MEASUREMENTS as M, INFLUX_TAGS } from './schema.ts';

export const DATASOURCES = {
  influx: { type: 'influxdb', uid: 'retimuad-influxdb' },
  logs: { type: 'elasticsearch', uid: 'retimuad-es-logs' },
  anomalies: { type: 'elasticsearch', uid: 'retimuad-es-anomalies' },
  incidents: { type: 'elasticsearch', uid: 'retimuad-es-incidents' },
  prometheus: { type: 'prometheus', uid: 'retimuad-prometheus' },
} as const;
type Ds = (typeof DATASOURCES)[keyof typeof DATASOURCES];

/** The Elasticsearch index pattern behind each ES datasource uid (the provisioning file uses these). */
export const ES_DATASOURCE_INDEX = {
  [DATASOURCES.logs.uid]: esIndexPattern('retimuad', 'logs'),
  [DATASOURCES.anomalies.uid]: esIndexPattern('retimuad', 'anomalies'),
  [DATASOURCES.incidents.uid]: esIndexPattern('retimuad', 'incidents'),
} as const;

export interface InfluxTarget {
  refId: string;
  datasource: Ds;
  rawQuery: true;
  query: string;
  resultFormat: 'time_series' | 'table';
  alias?: string;
}
export interface EsTarget {
  refId: string;
  datasource: Ds;
  query: string;
  timeField: '@timestamp';
  metrics: Array<{
    id: string;
    type: 'count' | 'max' | 'avg' | 'raw_data';
    field?: string;
    settings?: Record<string, unknown>;
  }>;
  bucketAggs: Array<{
    id: string;
    type: 'date_histogram' | 'terms';
    field: string;
    settings?: Record<string, unknown>;
  }>;
}
export interface PromTarget {
  refId: string;
  datasource: Ds;
  expr: string;
  legendFormat: string;
}
export type Target = InfluxTarget | EsTarget | PromTarget;

export interface Panel {
  id: number;
  type: 'timeseries' | 'stat' | 'table' | 'state-timeline' | 'logs' | 'bargauge';
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: Ds;
  targets: Target[];
  fieldConfig: { defaults: Record<string, unknown>; overrides: unknown[] };
  options: Record<string, unknown>;
}

export interface Variable {
  name: string;
  label: string;
  type: 'query';
  datasource: Ds;
  query: string;
  refresh: 2;
  includeAll: boolean;
  multi: boolean;
  current: Record<string, never>;
}

export interface Annotation {
  name: string;
  datasource: Ds;
  enable: true;
  iconColor: string;
  query: string;
  textColumn: string;
  tagsColumn: string;
}

export interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  timezone: 'utc';
  schemaVersion: 39;
  version: 1;
  editable: false;
  refresh: string;
  time: { from: string; to: string };
  templating: { list: Variable[] };
  annotations: { list: Annotation[] };
  panels: Panel[];
}

const q = (s: string): string => `"${s}"`;
const SITE = `${q('site')} =~ /^$site$/`;
const ASSET = `${q('asset')} =~ /^$asset$/`;

function influx(
  refId: string,
  query: string,
  resultFormat: InfluxTarget['resultFormat'] = 'time_series',
  alias?: string,
): InfluxTarget {
  return {
    refId,
    datasource: DATASOURCES.influx,
    rawQuery: true,
    query,
    resultFormat,
    ...(alias !== undefined ? { alias } : {}),
  };
}

function panel(
  id: number,
  type: Panel['type'],
  title: string,
  gridPos: Panel['gridPos'],
  targets: Target[],
  extra: Partial<Panel> = {},
): Panel {
  const ds = targets[0]?.datasource ?? DATASOURCES.influx;
  return {
    id,
    type,
    title,
    gridPos,
    datasource: ds,
    targets,
    fieldConfig: { defaults: {}, overrides: [] },
    options: {},
    ...extra,
  };
}

function variable(name: string, query: string, includeAll = true): Variable {
  return {
    name,
    label: name,
    type: 'query',
    datasource: DATASOURCES.influx,
    query,
    refresh: 2,
    includeAll,
    multi: true,
    current: {},
  };
}

function dashboard(
  uid: string,
  title: string,
  panels: Panel[],
  templating: Variable[] = [],
  annotations: Annotation[] = [],
): Dashboard {
  return {
    uid,
    title,
    tags: ['retimu-ad'],
    timezone: 'utc',
    schemaVersion: 39,
    version: 1,
    editable: false,
    refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    templating: { list: templating },
    annotations: { list: annotations },
    panels,
  };
}

const siteVar = variable('site', `SHOW TAG VALUES FROM ${q(M.readings)} WITH KEY = ${q('site')}`);
const assetVar = variable('asset', `SHOW TAG VALUES FROM ${q(M.readings)} WITH KEY = ${q('asset')} WHERE ${SITE}`);
const metricVar = variable(
  'metric',
  `SHOW TAG VALUES FROM ${q(M.readings)} WITH KEY = ${q('metric')} WHERE ${SITE} AND ${ASSET}`,
);

function plantOverview(): Dashboard {
  const openIncidents = `SELECT sum(${q('open')}) FROM (SELECT last(${q('open')}) AS ${q('open')} FROM ${q(M.incidents)} WHERE ${SITE} AND $timeFilter GROUP BY ${q('incident_id')})`;
  return dashboard(
    'retimuad-plant-overview',
    'RETIMU-AD / Plant overview',
    [
      panel(
        1,
        'stat',
        'Open incidents',
        { x: 0, y: 0, w: 6, h: 4 },
        [influx('A', openIncidents, 'time_series', 'open')],
        {
          description:
            'Incidents whose latest revision in the range is open (incidents are stamped with their start time).',
        },
      ),
      panel(2, 'stat', 'Anomalies', { x: 6, y: 0, w: 6, h: 4 }, [
        influx('A', `SELECT count(${q('score')}) FROM ${q(M.anomalies)} WHERE ${SITE} AND $timeFilter`),
      ]),
      panel(3, 'stat', 'Readings', { x: 12, y: 0, w: 6, h: 4 }, [
        influx('A', `SELECT count(${q('value')}) FROM ${q(M.readings)} WHERE ${SITE} AND $timeFilter`),
      ]),
      panel(4, 'stat', 'Error logs', { x: 18, y: 0, w: 6, h: 4 }, [
        {
          refId: 'A',
          datasource: DATASOURCES.logs,
          query: 'log.level:(error OR critical OR alert OR emergency) AND labels.site:$site',
          timeField: '@timestamp',
          metrics: [{ id: '1', type: 'count' }],
          bucketAggs: [{ id: '2', type: 'date_histogram', field: '@timestamp', settings: { interval: 'auto' } }],
        },
      ]),
      panel(5, 'state-timeline', 'Highest detector score per asset', { x: 0, y: 4, w: 24, h: 10 }, [
        influx(
          'A',
          `SELECT max(${q('score')}) FROM ${q(M.scores)} WHERE ${SITE} AND $timeFilter GROUP BY time($__interval), ${q('asset')} fill(none)`,
          'time_series',
          '$tag_asset',
        ),
      ]),
      panel(6, 'timeseries', 'Anomalies per asset', { x: 0, y: 14, w: 12, h: 8 }, [
        influx(
          'A',
          `SELECT count(${q('score')}) FROM ${q(M.anomalies)} WHERE ${SITE} AND $timeFilter GROUP BY time($__interval), ${q('asset')} fill(0)`,
          'time_series',
          '$tag_asset',
        ),
      ]),
      panel(7, 'bargauge', 'Anomalies by detector', { x: 12, y: 14, w: 12, h: 8 }, [
        influx(
          'A',
          `SELECT count(${q('score')}) FROM ${q(M.anomalies)} WHERE ${SITE} AND $timeFilter GROUP BY ${q('detector')}`,
          'time_series',
          '$tag_detector',
        ),
      ]),
    ],
    [siteVar],
  );
}

function assetSignals(): Dashboard {
  return dashboard(
    'retimuad-asset-signals',
    'RETIMU-AD / Asset signals',
    [
      panel(1, 'timeseries', 'Readings', { x: 0, y: 0, w: 24, h: 10 }, [
        influx(
          'A',
          `SELECT mean(${q('value')}) FROM ${q(M.readings)} WHERE ${SITE} AND ${ASSET} AND ${q('metric')} =~ /^$metric$/ AND $timeFilter GROUP BY time($__interval), ${q('asset')}, ${q('metric')} fill(null)`,
          'time_series',
          '$tag_asset $tag_metric',
        ),
      ]),
      panel(
        2,
        'timeseries',
        'Detector scores (0..1)',
        { x: 0, y: 10, w: 24, h: 8 },
        [
          influx(
            'A',
            `SELECT max(${q('score')}) FROM ${q(M.scores)} WHERE ${SITE} AND ${ASSET} AND $timeFilter GROUP BY time($__interval), ${q('detector')}, ${q('metric')} fill(null)`,
            'time_series',
            '$tag_detector $tag_metric',
          ),
        ],
        { fieldConfig: { defaults: { min: 0, max: 1 }, overrides: [] } },
      ),
      panel(3, 'table', 'Anomalies', { x: 0, y: 18, w: 24, h: 8 }, [
        influx(
          'A',
          `SELECT ${q('score')}, ${q('value')}, ${q('reason')}, ${q('detector')}, ${q('severity')}, ${q('metric')} FROM ${q(M.anomalies)} WHERE ${SITE} AND ${ASSET} AND $timeFilter ORDER BY time DESC LIMIT 200`,
          'table',
        ),
      ]),
    ],
    [siteVar, assetVar, metricVar],
    [
      {
        name: 'Anomalies',
        datasource: DATASOURCES.influx,
        enable: true,
        iconColor: 'red',
        query: `SELECT ${q('reason')}, ${q('detector')} FROM ${q(M.anomalies)} WHERE ${SITE} AND ${ASSET} AND $timeFilter`,
        textColumn: 'reason',
        tagsColumn: 'detector',
      },
    ],
  );
}

function incidents(): Dashboard {
  return dashboard(
    'retimuad-incidents',
    'RETIMU-AD / Incidents',
    [
      panel(1, 'table', 'Incidents (latest revision)', { x: 0, y: 0, w: 24, h: 10 }, [
        influx(
          'A',
          `SELECT last(${q('status')}) AS ${q('status')}, last(${q('severity')}) AS ${q('severity')}, last(${q('anomaly_count')}) AS ${q('anomaly_count')}, last(${q('peak_score')}) AS ${q('peak_score')}, last(${q('duration_s')}) AS ${q('duration_s')}, last(${q('explanation')}) AS ${q('explanation')} FROM ${q(M.incidents)} WHERE ${SITE} AND $timeFilter GROUP BY ${q('incident_id')}, ${q('asset')}`,
          'table',
        ),
      ]),
      panel(2, 'timeseries', 'Incidents started, by severity level', { x: 0, y: 10, w: 12, h: 8 }, [
        influx(
          'A',
          `SELECT count(${q('severity_level')}) FROM ${q(M.incidents)} WHERE ${SITE} AND $timeFilter GROUP BY time($__interval), ${q('asset')} fill(0)`,
          'time_series',
          '$tag_asset',
        ),
      ]),
      panel(3, 'table', 'Open incidents (Elasticsearch)', { x: 12, y: 10, w: 12, h: 8 }, [
        {
          refId: 'A',
          datasource: DATASOURCES.incidents,
          query: 'retimuad.incident.status:open AND labels.site:$site',
          timeField: '@timestamp',
          metrics: [{ id: '1', type: 'raw_data', settings: { size: '100' } }],
          bucketAggs: [],
        },
      ]),
      panel(4, 'timeseries', 'Anomalies by detector type (Elasticsearch)', { x: 0, y: 18, w: 24, h: 8 }, [
        {
          refId: 'A',
          datasource: DATASOURCES.anomalies,
          query: 'event.kind:alert AND labels.site:$site',
          timeField: '@timestamp',
          metrics: [{ id: '1', type: 'max', field: 'event.risk_score' }],
          bucketAggs: [
            {
              id: '2',
              type: 'terms',
              field: 'rule.ruleset',
              settings: { size: '10', order: 'desc', orderBy: '_count' },
            },
            { id: '3', type: 'date_histogram', field: '@timestamp', settings: { interval: 'auto' } },
          ],
        },
      ]),
    ],
    [siteVar],
  );
}

function prom(refId: string, expr: string, legendFormat: string): PromTarget {
  return { refId, datasource: DATASOURCES.prometheus, expr, legendFormat };
}

function pipelineHealth(): Dashboard {
  return dashboard('retimuad-pipeline-health', 'RETIMU-AD / Pipeline health', [
    panel(1, 'timeseries', 'Records received per second', { x: 0, y: 0, w: 12, h: 8 }, [
      prom(
        'A',
        'sum by (component, component_kind) (rate(retimuad_component_received_total[1m]))',
        '{{component}} ({{component_kind}})',
      ),
    ]),
    panel(2, 'timeseries', 'Records emitted per second', { x: 12, y: 0, w: 12, h: 8 }, [
      prom(
        'A',
        'sum by (component, component_kind) (rate(retimuad_component_emitted_total[1m]))',
        '{{component}} ({{component_kind}})',
      ),
    ]),
    panel(3, 'timeseries', 'Discarded per second, by reason (all kept as dead letters)', { x: 0, y: 8, w: 12, h: 8 }, [
      prom(
        'A',
        'sum by (component, reason) (rate(retimuad_component_discarded_total[5m]))',
        '{{component}}: {{reason}}',
      ),
    ]),
    panel(
      4,
      'timeseries',
      'Ingest-to-detection latency',
      { x: 12, y: 8, w: 12, h: 8 },
      [
        prom('A', 'histogram_quantile(0.5, sum by (le) (rate(retimuad_event_latency_seconds_bucket[1m])))', 'p50'),
        prom('B', 'histogram_quantile(0.99, sum by (le) (rate(retimuad_event_latency_seconds_bucket[1m])))', 'p99'),
      ],
      { fieldConfig: { defaults: { unit: 's' }, overrides: [] } },
    ),
    panel(5, 'timeseries', 'Queue depth and open incidents', { x: 0, y: 16, w: 12, h: 8 }, [
      prom('A', 'sum(retimuad_queue_depth)', 'queue depth'),
      prom('B', 'sum(retimuad_incidents_open)', 'open incidents'),
    ]),
    panel(6, 'timeseries', 'Component errors per second', { x: 12, y: 16, w: 12, h: 8 }, [
      prom('A', 'sum by (component) (rate(retimuad_component_errors_total[5m]))', '{{component}}'),
    ]),
  ]);
}

export function grafanaDashboards(): Dashboard[] {
  return [plantOverview(), assetSignals(), incidents(), pipelineHealth()];
}

/** Every InfluxQL text of the dashboards (panels, variables, annotations), for checks. */
export function influxQueries(d: Dashboard): string[] {
  const out: string[] = [];
  for (const p of d.panels) for (const t of p.targets) if ('rawQuery' in t) out.push(t.query);
  for (const v of d.templating.list) if (v.datasource.uid === DATASOURCES.influx.uid) out.push(v.query);
  for (const a of d.annotations.list) if (a.datasource.uid === DATASOURCES.influx.uid) out.push(a.query);
  return out;
}

/** Re-exported so checks can compare against the whole schema. */
export const INFLUX_SCHEMA = { measurements: M, tags: INFLUX_TAGS, fields: F };
