/**
 * Kibana saved objects as code, exported as NDJSON for `POST /api/saved_objects/_import`
 * (Kibana 8.x): data views for logs, anomalies, incidents and dead letters; a log explorer and
 * anomaly/incident searches; and a dashboard of those searches. Built from `schema.ts`, so every
 * column and query names a field the sink writes. `deploy/grafana/generate.mjs` writes
 * deploy/kibana/saved-objects.ndjson.
 *
 * @example
 * writeFileSync('saved-objects.ndjson', kibanaNdjson());
 */
import { ES_KINDS, esIndexPattern, type EsKind } from './schema.ts';

export interface SavedObject {
  type: 'index-pattern' | 'search' | 'dashboard';
  id: string;
  attributes: Record<string, unknown>;
  references: Array<{ name: string; type: string; id: string }>;
}

/** A saved search and what it shows; `columns`, `query` fields and `sort` are checked against the mapping. */
export interface SearchSpec {
  id: string;
  title: string;
  kind: EsKind;
  columns: string[];
  /** KQL. */
  query: string;
  sort: Array<[string, 'asc' | 'desc']>;
}

const PREFIX = 'retimuad';
export const dataViewId = (kind: EsKind): string => `retimuad-${kind}`;

export const KIBANA_SEARCHES: SearchSpec[] = [
  {
    id: 'retimuad-log-explorer',
    title: 'RETIMU-AD log explorer',
    kind: 'logs',
    columns: ['labels.site', 'host.name', 'log.level', 'message', 'user.name', 'source.ip', 'event.outcome'],
    query: '',
    sort: [['@timestamp', 'desc']],
  },
  {
    id: 'retimuad-log-errors',
    title: 'RETIMU-AD error logs',
    kind: 'logs',
    columns: ['host.name', 'log.level', 'message'],
    query: 'log.level : ("error" or "critical" or "alert" or "emergency") or event.outcome : "failure"',
    sort: [['@timestamp', 'desc']],
  },
  {
    id: 'retimuad-anomalies',
    title: 'RETIMU-AD anomalies',
    kind: 'anomalies',
    columns: ['host.name', 'retimuad.metric', 'rule.name', 'retimuad.severity', 'retimuad.score', 'message'],
    query: 'event.kind : "alert"',
    sort: [['@timestamp', 'desc']],
  },
  {
    id: 'retimuad-incidents',
    title: 'RETIMU-AD incidents',
    kind: 'incidents',
    columns: [
      'retimuad.incident.status',
      'retimuad.incident.severity',
      'retimuad.incident.assets',
      'retimuad.incident.anomaly_count',
      'retimuad.incident.peak_score',
      'message',
    ],
    query: '',
    sort: [['@timestamp', 'desc']],
  },
  {
    id: 'retimuad-deadletters',
    title: 'RETIMU-AD dead letters',
    kind: 'deadletters',
    columns: ['retimuad.component', 'retimuad.where', 'event.reason'],
    query: '',
    sort: [['@timestamp', 'desc']],
  },
];

function dataView(kind: EsKind): SavedObject {
  return {
    type: 'index-pattern',
    id: dataViewId(kind),
    attributes: { title: esIndexPattern(PREFIX, kind), name: `RETIMU-AD ${kind}`, timeFieldName: '@timestamp' },
    references: [],
  };
}

function search(s: SearchSpec): SavedObject {
  const ref = 'kibanaSavedObjectMeta.searchSourceJSON.index';
  return {
    type: 'search',
    id: s.id,
    attributes: {
      title: s.title,
      columns: s.columns,
      sort: s.sort,
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({
          query: { query: s.query, language: 'kuery' },
          filter: [],
          indexRefName: ref,
        }),
      },
    },
    references: [{ name: ref, type: 'index-pattern', id: dataViewId(s.kind) }],
  };
}

function controlRoom(): SavedObject {
  const panels = ['retimuad-incidents', 'retimuad-anomalies', 'retimuad-log-errors', 'retimuad-deadletters'];
  return {
    type: 'dashboard',
    id: 'retimuad-control-room',
    attributes: {
      title: 'RETIMU-AD anomalies and incidents',
      description: 'Incidents, the anomalies behind them, error logs and dead letters.',
      timeRestore: true,
      timeFrom: 'now-24h',
      timeTo: 'now',
      refreshInterval: { pause: false, value: 10_000 },
      panelsJSON: JSON.stringify(
        panels.map((_, i) => ({
          panelIndex: String(i + 1),
          gridData: { x: (i % 2) * 24, y: Math.floor(i / 2) * 15, w: 24, h: 15, i: String(i + 1) },
          type: 'search',
          panelRefName: `panel_${i + 1}`,
          embeddableConfig: {},
        })),
      ),
      optionsJSON: JSON.stringify({ useMargins: true, hidePanelTitles: false }),
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({ query: { query: '', language: 'kuery' }, filter: [] }),
      },
    },
    references: panels.map((id, i) => ({ name: `panel_${i + 1}`, type: 'search', id })),
  };
}

export function kibanaSavedObjects(): SavedObject[] {
  return [...ES_KINDS.map(dataView), ...KIBANA_SEARCHES.map(search), controlRoom()];
}

export function kibanaNdjson(): string {
  return (
    kibanaSavedObjects()
      .map((o) => JSON.stringify(o))
      .join('\n') + '\n'
  );
}

/** The field names a KQL query uses (`field : value`). */
export function kqlFields(query: string): string[] {
  return [...query.matchAll(/([A-Za-z@_][\w.@]*)\s*:/g)].map((m) => m[1] ?? '');
}
