/**
 * The OpenAPI 3.1 document of the HTTP API. Event schemas come from the TypeBox schemas of
 * the event model; the API's own shapes are TypeBox schemas here, checked at compile time
 * against the TypeScript interfaces they describe.
 *
 * @example
 * app.get('/openapi.json', (c) => c.json(openApiDocument()));
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  Anomaly,
  AudioClip,
  ImageFrame,
  LogLevel,
  LogRecord,
  MediaRef,
  Reading,
  Scalar,
  Severity,
} from '../../../core/src/schema/events.ts';
import type { Incident, Label } from '../../../core/src/schema/events.ts';
import type { AssetSummary, DeadLetter, ScorePoint, SeriesPoint, StoredLog, StoredMedia } from '../runtime/types.ts';
import type { HealthReport } from './deps.ts';
import type { IncidentAction, LogTemplate } from '../storage/duckdb-store.ts';
import type { AnalysisResult } from '../../../core/src/analytics/types.ts';

const ref = (name: string): TSchema => Type.Unsafe({ $ref: `#/components/schemas/${name}` });
const EventModality = Type.Union([
  Type.Literal('reading'),
  Type.Literal('log'),
  Type.Literal('audio'),
  Type.Literal('image'),
]);
const Modality = Type.Union([...EventModality.anyOf, Type.Literal('batch')]);

const IncidentSchema = Type.Object({
  id: Type.String(),
  site: Type.String(),
  assets: Type.Array(Type.String()),
  stage: Type.Optional(Type.String()),
  status: Type.Union([Type.Literal('open'), Type.Literal('resolved')]),
  severity: Severity,
  modalities: Type.Array(Modality),
  startTime: Type.Number(),
  lastTime: Type.Number(),
  endTime: Type.Optional(Type.Number()),
  anomalyCount: Type.Integer({ minimum: 0 }),
  evidence: Type.Array(ref('Anomaly')),
  explanation: Type.String(),
  peakScore: Type.Number({ minimum: 0, maximum: 1 }),
  revision: Type.Integer({ minimum: 0 }),
});
const LabelSchema = Type.Object({
  scenario: Type.String(),
  kind: Type.Union([Type.Literal('fault'), Type.Literal('attack')]),
  site: Type.String(),
  assets: Type.Array(Type.String()),
  modalities: Type.Array(EventModality),
  startTime: Type.Number(),
  endTime: Type.Number(),
  description: Type.String(),
});
const ScorePointSchema = Type.Object({
  time: Type.Number(),
  site: Type.String(),
  asset: Type.String(),
  detector: Type.String(),
  metric: Type.String(),
  score: Type.Number({ minimum: 0, maximum: 1 }),
});
const SeriesPointSchema = Type.Object({ time: Type.Number(), value: Type.Number() });
const AssetSummarySchema = Type.Object({
  site: Type.String(),
  asset: Type.String(),
  stage: Type.Optional(Type.String()),
  metrics: Type.Array(
    Type.Object({ metric: Type.String(), unit: Type.String(), last: Type.Number(), lastTime: Type.Number() }),
  ),
  state: Type.Union([Type.Literal('normal'), Type.Literal('anomalous'), Type.Literal('incident')]),
});
const DeadLetterSchema = Type.Object({
  id: Type.String(),
  time: Type.Number(),
  component: Type.String(),
  where: Type.String(),
  reason: Type.String(),
  raw: Type.String(),
});
const StoredLogSchema = Type.Object({
  id: Type.String(),
  time: Type.Number(),
  site: Type.String(),
  asset: Type.String(),
  level: Type.String(),
  message: Type.String(),
  fields: Type.Record(Type.String(), Type.Unknown()),
});
const StoredMediaSchema = Type.Object({
  id: Type.String(),
  time: Type.Number(),
  site: Type.String(),
  asset: Type.String(),
  kind: Type.Union([Type.Literal('audio'), Type.Literal('image')]),
  media: ref('MediaRef'),
});
const HealthReportSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  uptimeSecs: Type.Number(),
  components: Type.Array(
    Type.Object({
      id: Type.String(),
      kind: Type.String(),
      received: Type.Number(),
      emitted: Type.Number(),
      discarded: Type.Number(),
      lastError: Type.Optional(Type.String()),
    }),
  ),
  queue: Type.Object({ depth: Type.Integer(), capacity: Type.Integer() }),
  deadLetters: Type.Integer(),
  lagMs: Type.Optional(Type.Number()),
  detectors: Type.Optional(
    Type.Array(
      Type.Object({
        id: Type.String(),
        type: Type.String(),
        keys: Type.Integer(),
        steps: Type.Integer(),
        anomalies: Type.Integer(),
      }),
    ),
  ),
  models: Type.Optional(
    Type.Array(
      Type.Object({ id: Type.String(), batches: Type.Integer(), items: Type.Integer(), peakQueued: Type.Integer() }),
    ),
  ),
});
const ErrorSchema = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), param: Type.Optional(Type.String()) }),
});

const PrincipalSchema = Type.Object({
  name: Type.String(),
  role: Type.Union([Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')]),
});
const AuditRecordSchema = Type.Object({
  seq: Type.Integer(),
  time: Type.Integer({ description: 'Epoch ms.' }),
  actor: Type.String({ description: 'User, `key:<name>`, the sign-in name tried, or anonymous.' }),
  role: Type.Optional(Type.String()),
  action: Type.String({ description: 'METHOD /route/pattern.' }),
  target: Type.Optional(Type.String()),
  outcome: Type.Union([Type.Literal('ok'), Type.Literal('denied'), Type.Literal('failed')]),
  status: Type.Optional(Type.Integer()),
  remote: Type.Optional(Type.String()),
  detail: Type.Optional(Type.String()),
  prev: Type.String({ description: 'Hash of the previous record.' }),
  hash: Type.String({ description: 'sha256(prev + this record without hash).' }),
});
const IncidentActionSchema = Type.Object({
  seq: Type.Integer(),
  incidentId: Type.String(),
  action: Type.Union([Type.Literal('acknowledge'), Type.Literal('comment'), Type.Literal('resolve')]),
  actor: Type.String(),
  time: Type.Number(),
  comment: Type.Optional(Type.String()),
});
const LogTemplateSchema = Type.Object({
  template: Type.String(),
  count: Type.Integer(),
  firstTime: Type.Number(),
  lastTime: Type.Number(),
  assets: Type.Array(Type.String()),
  example: Type.String(),
});

// The batch-analysis result (core/analytics/types.ts), as GET /api/analytics returns it.
const SeriesKeyFields = { site: Type.String(), asset: Type.String(), metric: Type.String() };
const PeriodStatsSchema = Type.Object({ count: Type.Number(), mean: Type.Number(), std: Type.Number() });
const ClusterPointSchema = Type.Object({
  time: Type.Number(),
  cluster: Type.Integer(),
  distance: Type.Number(),
  x: Type.Number(),
  y: Type.Number(),
});
export const AnalysisResultSchema = Type.Object({
  engine: Type.Union([Type.Literal('duckdb'), Type.Literal('spark')]),
  from: Type.Number(),
  to: Type.Number(),
  histogramBins: Type.Integer(),
  stats: Type.Array(
    Type.Object({
      ...SeriesKeyFields,
      unit: Type.String(),
      count: Type.Number(),
      mean: Type.Number(),
      std: Type.Number(),
      min: Type.Number(),
      max: Type.Number(),
      percentiles: Type.Object({
        p01: Type.Number(),
        p05: Type.Number(),
        p25: Type.Number(),
        p50: Type.Number(),
        p75: Type.Number(),
        p95: Type.Number(),
        p99: Type.Number(),
      }),
    }),
  ),
  histograms: Type.Array(
    Type.Object({
      ...SeriesKeyFields,
      lo: Type.Number(),
      hi: Type.Number(),
      width: Type.Number(),
      counts: Type.Array(Type.Number()),
      firstTime: Type.Array(Type.Union([Type.Number(), Type.Null()])),
      outlierBins: Type.Array(Type.Integer()),
    }),
  ),
  trends: Type.Array(
    Type.Object({
      ...SeriesKeyFields,
      windowMs: Type.Number(),
      rollingWindows: Type.Integer(),
      points: Type.Array(Type.Object({ time: Type.Number(), mean: Type.Number(), rolling: Type.Number() })),
      slopePerHour: Type.Number(),
    }),
  ),
  drifts: Type.Array(
    Type.Object({
      ...SeriesKeyFields,
      splitTime: Type.Number(),
      before: PeriodStatsSchema,
      after: PeriodStatsSchema,
      effectSize: Type.Number(),
      stdRatio: Type.Number(),
      psi: Type.Number(),
      drifted: Type.Boolean(),
    }),
  ),
  clusterings: Type.Array(
    Type.Object({
      site: Type.String(),
      asset: Type.String(),
      windowMs: Type.Number(),
      features: Type.Array(Type.String()),
      criterion: Type.Literal('silhouette'),
      k: Type.Integer(),
      candidates: Type.Array(Type.Object({ k: Type.Integer(), silhouette: Type.Number(), inertia: Type.Number() })),
      sizes: Type.Array(Type.Integer()),
      distanceThreshold: Type.Number(),
      tinyClusterMax: Type.Integer(),
      tinyClusters: Type.Array(Type.Integer()),
      points: Type.Array(ClusterPointSchema),
      outliers: Type.Array(ClusterPointSchema),
    }),
  ),
  timingsMs: Type.Record(Type.String(), Type.Number()),
});

// Compile-time drift check: each schema must describe exactly its interface (both directions).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Without<T, K extends PropertyKey> = Omit<T, K & keyof T>;
const _drift: [
  Same<Without<Static<typeof IncidentSchema>, 'evidence'>, Without<Incident, 'evidence'>>,
  Same<Static<typeof LabelSchema>, Label>,
  Same<Static<typeof ScorePointSchema>, ScorePoint>,
  Same<Static<typeof SeriesPointSchema>, SeriesPoint>,
  Same<Static<typeof AssetSummarySchema>, AssetSummary>,
  Same<Static<typeof DeadLetterSchema>, DeadLetter>,
  Same<Static<typeof StoredLogSchema>, StoredLog>,
  Same<Without<Static<typeof StoredMediaSchema>, 'media'>, Without<StoredMedia, 'media'>>,
  Same<Static<typeof HealthReportSchema>, HealthReport>,
  Same<Static<typeof IncidentActionSchema>, IncidentAction>,
  Same<Static<typeof LogTemplateSchema>, LogTemplate>,
  Same<Static<typeof AnalysisResultSchema>, AnalysisResult>,
] = [true, true, true, true, true, true, true, true, true, true, true, true];
void _drift;

/** Plain JSON copy of a TypeBox schema without its `$id` (the component name replaces it). */
function plain(schema: TSchema): unknown {
  const copy = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  delete copy.$id;
  return copy;
}

interface Param {
  name: string;
  in: 'query' | 'path';
  required?: boolean;
  description: string;
  schema: unknown;
}

const str = { type: 'string' };
const nameP = (name: string, description: string, required = false): Param => ({
  name,
  in: 'query',
  required,
  description,
  schema: { type: 'string', pattern: '^[A-Za-z0-9_.:/-]{1,128}$' },
});
const timeP = (name: 'from' | 'to', description: string): Param => ({
  name,
  in: 'query',
  description: `${description} Epoch milliseconds or ISO-8601.`,
  schema: { oneOf: [{ type: 'integer' }, { type: 'string', format: 'date-time' }] },
});
const limitP = (def: number, max: number): Param => ({
  name: 'limit',
  in: 'query',
  description: `Maximum number of items (default ${def}).`,
  schema: { type: 'integer', minimum: 1, maximum: max, default: def },
});
const FROM = timeP('from', 'Start of the range (default: one hour before `to`).');
const TO = timeP('to', 'End of the range (default: now).');

const json = (schema: unknown, description = 'OK'): unknown => ({
  description,
  content: { 'application/json': { schema } },
});
const arrayOf = (name: string): unknown => ({ type: 'array', items: { $ref: `#/components/schemas/${name}` } });
const errors = {
  '400': json({ $ref: '#/components/schemas/Error' }, 'A parameter is invalid; the message names it.'),
  '401': json({ $ref: '#/components/schemas/Error' }, 'Not signed in and no valid API key.'),
};
const forbidden = {
  '403': json({ $ref: '#/components/schemas/Error' }, 'The role of the caller does not allow this.'),
};
const jsonBody = (schema: unknown): unknown => ({ required: true, content: { 'application/json': { schema } } });

function op(summary: string, parameters: Param[], ok: unknown, extra: Record<string, unknown> = {}): unknown {
  return { get: { summary, parameters, responses: { '200': ok, ...errors, ...extra } } };
}

/** Limits shared with the route handlers so the document and the code agree. */
export const LIMITS = {
  maxPoints: { default: 1000, max: 20000 },
  anomalies: { default: 200, max: 5000 },
  incidents: { default: 100, max: 2000 },
  logs: { default: 200, max: 5000 },
  media: { default: 50, max: 1000 },
  deadLetters: { default: 100, max: 5000 },
  logQueryChars: 200,
  templates: { default: 100, max: 2000 },
  commentChars: 2000,
  audit: { default: 200, max: 10000 },
  /** Batch analytics: default range 1 h, from 1 min up to 7 days; at most 2 analyses at once. */
  analytics: { defaultSpanMs: 3_600_000, minSpanMs: 60_000, maxSpanMs: 7 * 86_400_000, concurrent: 2 },
} as const;

let cached: unknown;

export function openApiDocument(): unknown {
  cached ??= build();
  return cached;
}

function build(): unknown {
  const notFound = { '404': json({ $ref: '#/components/schemas/Error' }, 'Not found.') };
  return {
    openapi: '3.1.0',
    info: {
      title: 'RETIMU-AD API',
      version: '0.1.0',
      description:
        'Read API of a running RETIMU-AD instance: assets, signals, anomaly scores, anomalies, incidents, logs, media, health and a live stream.',
    },
    paths: {
      '/api/health': op(
        'Pipeline health: component counters, queue depth, dead letters.',
        [],
        json({ $ref: '#/components/schemas/HealthReport' }),
      ),
      '/api/assets': op('Assets with their latest metric values and state.', [], json(arrayOf('AssetSummary'))),
      '/api/series': op(
        'One metric of one asset over a time range, downsampled (min/max preserving).',
        [
          nameP('site', 'Site.', true),
          nameP('asset', 'Asset.', true),
          nameP('metric', 'Metric.', true),
          FROM,
          TO,
          {
            name: 'max_points',
            in: 'query',
            description: 'Point budget.',
            schema: { type: 'integer', minimum: 2, maximum: LIMITS.maxPoints.max, default: LIMITS.maxPoints.default },
          },
        ],
        json(arrayOf('SeriesPoint')),
      ),
      '/api/scores': op(
        'Detector scores of one asset over a time range.',
        [
          nameP('site', 'Site.', true),
          nameP('asset', 'Asset.', true),
          FROM,
          TO,
          {
            name: 'max_points',
            in: 'query',
            description: 'Point budget.',
            schema: { type: 'integer', minimum: 2, maximum: LIMITS.maxPoints.max, default: LIMITS.maxPoints.default },
          },
        ],
        json(arrayOf('ScorePoint')),
      ),
      '/api/anomalies': op(
        'Anomalies, newest first.',
        [nameP('asset', 'Only this asset.'), FROM, TO, limitP(LIMITS.anomalies.default, LIMITS.anomalies.max)],
        json(arrayOf('Anomaly')),
      ),
      '/api/incidents': op(
        'Incidents, newest first.',
        [
          {
            name: 'status',
            in: 'query',
            description: 'Only open or resolved incidents.',
            schema: { type: 'string', enum: ['open', 'resolved'] },
          },
          nameP('asset', 'Only incidents involving this asset.'),
          FROM,
          TO,
          limitP(LIMITS.incidents.default, LIMITS.incidents.max),
        ],
        json(arrayOf('Incident')),
      ),
      '/api/incidents/{id}': op(
        'One incident with its evidence.',
        [{ name: 'id', in: 'path', required: true, description: 'Incident id.', schema: str }],
        json({ $ref: '#/components/schemas/Incident' }),
        notFound,
      ),
      '/api/session': {
        get: {
          summary: 'Who is signed in (name and role).',
          parameters: [],
          responses: { '200': json({ $ref: '#/components/schemas/Principal' }), ...errors },
        },
        post: {
          summary: 'Sign in with username and password; sets the session cookie (HttpOnly, SameSite=Strict).',
          security: [],
          requestBody: jsonBody({
            type: 'object',
            required: ['username', 'password'],
            properties: { username: str, password: str },
          }),
          responses: { '200': json({ $ref: '#/components/schemas/Principal' }), ...errors },
        },
        delete: { summary: 'Sign out.', responses: { '204': { description: 'Signed out.' } } },
      },
      '/api/keys': {
        get: {
          summary: 'API keys (names and roles; admin).',
          parameters: [],
          responses: {
            '200': json({ type: 'array', items: { type: 'object', properties: { name: str, role: str } } }),
            ...errors,
            ...forbidden,
          },
        },
        post: {
          summary: 'Create an API key (admin). The key is shown once; only its hash is kept.',
          requestBody: jsonBody({
            type: 'object',
            required: ['name', 'role'],
            properties: { name: str, role: { type: 'string', enum: ['viewer', 'operator', 'admin', 'ingest'] } },
          }),
          responses: {
            '201': json({ type: 'object', properties: { key: str, name: str, role: str } }),
            ...errors,
            ...forbidden,
          },
        },
      },
      '/api/audit': op(
        'The audit log (admin): every mutating request with who, what, the outcome and when, newest first.',
        [
          { name: 'actor', in: 'query', description: 'Only this actor.', schema: str },
          { name: 'action', in: 'query', description: 'Only this action, e.g. `POST /api/keys`.', schema: str },
          {
            name: 'outcome',
            in: 'query',
            description: 'Only this outcome.',
            schema: { type: 'string', enum: ['ok', 'denied', 'failed'] },
          },
          FROM,
          TO,
          limitP(LIMITS.audit.default, LIMITS.audit.max),
        ],
        json(arrayOf('AuditRecord')),
        forbidden,
      ),
      '/api/incidents/{id}/actions': {
        get: {
          summary:
            'The audit trail of an incident: acknowledgements, comments, resolutions with who and when, oldest first.',
          parameters: [{ name: 'id', in: 'path', required: true, description: 'Incident id.', schema: str }],
          responses: { '200': json(arrayOf('IncidentAction')), ...errors },
        },
        post: {
          summary: 'Acknowledge, comment on or resolve an incident (operator or admin).',
          parameters: [{ name: 'id', in: 'path', required: true, description: 'Incident id.', schema: str }],
          requestBody: jsonBody({
            type: 'object',
            required: ['action'],
            properties: {
              action: { type: 'string', enum: ['acknowledge', 'comment', 'resolve'] },
              comment: { type: 'string', maxLength: LIMITS.commentChars, description: 'Required for a comment.' },
            },
          }),
          responses: {
            '201': json({ $ref: '#/components/schemas/IncidentAction' }),
            ...errors,
            ...forbidden,
            ...notFound,
          },
        },
      },
      '/api/incident-handling': op(
        'The latest acknowledgement or resolution of each of the given incidents (by id; absent when none).',
        [{ name: 'ids', in: 'query', required: true, description: 'Comma-separated incident ids.', schema: str }],
        json({ type: 'object', additionalProperties: { $ref: '#/components/schemas/IncidentAction' } }),
      ),
      '/api/logs/templates': op(
        'Log templates (numbers, addresses and ids masked) with counts, rarest first: new and rare kinds of messages.',
        [nameP('asset', 'Only this asset.'), FROM, TO, limitP(LIMITS.templates.default, LIMITS.templates.max)],
        json(arrayOf('LogTemplate')),
      ),
      '/api/logs': op(
        'Log records, newest first.',
        [
          {
            name: 'q',
            in: 'query',
            description: 'Text to search in messages.',
            schema: { type: 'string', maxLength: LIMITS.logQueryChars },
          },
          { name: 'level', in: 'query', description: 'Only this level.', schema: plain(LogLevel) },
          nameP('asset', 'Only this asset.'),
          FROM,
          TO,
          limitP(LIMITS.logs.default, LIMITS.logs.max),
        ],
        json(arrayOf('StoredLog')),
      ),
      '/api/media': op(
        'Audio clips and camera frames (references to blobs), newest first.',
        [nameP('asset', 'Only this asset.'), FROM, TO, limitP(LIMITS.media.default, LIMITS.media.max)],
        json(arrayOf('StoredMedia')),
      ),
      '/api/blobs/{sha256}': op(
        'The bytes of a blob, with its content type.',
        [
          {
            name: 'sha256',
            in: 'path',
            required: true,
            description: 'SHA-256 of the blob, 64 lower-case hex digits.',
            schema: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          },
        ],
        {
          description: 'The blob.',
          content: {
            'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
          },
        },
        notFound,
      ),
      '/api/deadletters': op(
        'Records rejected by the pipeline, with their reasons, newest first.',
        [limitP(LIMITS.deadLetters.default, LIMITS.deadLetters.max)],
        json(arrayOf('DeadLetter')),
      ),
      '/api/labels': op('Ground-truth labels (from the simulator).', [], json(arrayOf('Label'))),
      '/api/analytics': op(
        'Batch analyses of the stored readings over a range (default: the last hour; at most 7 days): per asset and metric summary statistics, histograms with outlier bins, rolling-average trends and drift between the two halves, and K-Means clusterings of per-window features with outliers and tiny clusters.',
        [FROM, TO, nameP('asset', 'Only this asset (default: all).')],
        json({ $ref: '#/components/schemas/AnalysisResult' }),
        {
          '429': json({ $ref: '#/components/schemas/Error' }, 'Too many analyses are running; try again shortly.'),
          '503': json(
            { $ref: '#/components/schemas/Error' },
            'This server has no batch analytics (no embedded store).',
          ),
        },
      ),
      '/api/stream': op(
        'Server-Sent Events: one event per live message; the event name is the message type (reading, score, anomaly, incident, health) and the data its JSON. Comment lines are heartbeats.',
        [
          {
            name: 'types',
            in: 'query',
            description: 'Comma-separated message types to receive (default: all).',
            schema: str,
          },
        ],
        { description: 'An event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } },
      ),
      '/metrics': op('Prometheus metrics (text exposition format).', [], {
        description: 'Metrics.',
        content: { 'text/plain': { schema: { type: 'string' } } },
      }),
      '/openapi.json': op('This document.', [], json({ type: 'object' })),
      '/': op('The operator dashboard.', [], {
        description: 'HTML page.',
        content: { 'text/html': { schema: { type: 'string' } } },
      }),
      '/{file}': op(
        'Files of the dashboard (main.js, main.js.map, styles.css, uplot.css).',
        [
          {
            name: 'file',
            in: 'path',
            required: true,
            description: 'File name.',
            schema: { type: 'string', pattern: '^[A-Za-z0-9._-]+$' },
          },
        ],
        {
          description: 'The file.',
          content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } },
        },
        notFound,
      ),
    },
    components: {
      schemas: {
        Reading: plain(Reading),
        LogRecord: plain(LogRecord),
        AudioClip: plain(AudioClip),
        ImageFrame: plain(ImageFrame),
        MediaRef: plain(MediaRef),
        Scalar: plain(Scalar),
        Anomaly: plain(Anomaly),
        Incident: plain(IncidentSchema),
        Label: plain(LabelSchema),
        ScorePoint: plain(ScorePointSchema),
        SeriesPoint: plain(SeriesPointSchema),
        AssetSummary: plain(AssetSummarySchema),
        DeadLetter: plain(DeadLetterSchema),
        StoredLog: plain(StoredLogSchema),
        StoredMedia: plain(StoredMediaSchema),
        HealthReport: plain(HealthReportSchema),
        Error: plain(ErrorSchema),
        Principal: plain(PrincipalSchema),
        IncidentAction: plain(IncidentActionSchema),
        AuditRecord: plain(AuditRecordSchema),
        LogTemplate: plain(LogTemplateSchema),
        AnalysisResult: plain(AnalysisResultSchema),
      },
    },
  };
}
