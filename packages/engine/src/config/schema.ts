/**
 * The pipeline config: its TypeBox schema (the type, the validator and the published JSON
 * Schema are one definition). Component-specific options are validated against each
 * component's own params schema, looked up by `type:` in the registries.
 *
 * @example
 * version: 1
 * sources: [{ id: plant, type: simulator, seed: 42 }]
 * detectors:
 *   - id: level-z
 *     type: rolling_zscore
 *     select: { kind: reading, metric: level_mm }
 *     params: { window_secs: 300, threshold_z: 4 }
 * sinks: [{ id: store, type: embedded_store }]
 */
import { ModelEntry } from '../models/spec.ts';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CorrelatorParams } from '../../../core/src/correlator/index.ts';

export const Selector = Type.Object(
  {
    kind: Type.Union([Type.Literal('reading'), Type.Literal('log'), Type.Literal('audio'), Type.Literal('image')], {
      default: 'reading',
      description: 'Which modality the detector reads.',
    }),
    metric: Type.Optional(
      Type.Union([Type.String(), Type.Array(Type.String())], {
        description: 'Reading metric name(s); `*` matches any run of characters, e.g. `flow_*`.',
      }),
    ),
    asset: Type.Optional(
      Type.Union([Type.String(), Type.Array(Type.String())], { description: 'Asset name glob(s).' }),
    ),
    stage: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: 'Process stage(s).' })),
    level: Type.Optional(Type.Array(Type.String(), { description: 'Log levels to count (logs only).' })),
    fields: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
        description: 'Field equality filter, e.g. {"event.outcome": "failure"}.',
      }),
    ),
    asset_field: Type.Optional(
      Type.String({
        description:
          'For logs: a field naming the equipment the record is about (e.g. "alarm.tag": "P-101 VIBRATION HIGH", "plc.tag": "MV101"); the anomaly is attributed to that asset and its process stage instead of the logging host.',
      }),
    ),
    asset_pattern: Type.Optional(
      Type.String({
        description:
          'Regular expression applied to asset_field; its capture groups joined by "-" give the asset name. Default ^([A-Za-z]+)-?(\\d+) turns "MV101" and "MV-101 OPEN" into "MV-101".',
      }),
    ),
    value_field: Type.Optional(
      Type.String({ description: 'For logs: a numeric field to use as the value (default: each event counts 1).' }),
    ),
  },
  { additionalProperties: false },
);
export type Selector = Static<typeof Selector>;

export const KeyPart = Type.Union([
  Type.Literal('site'),
  Type.Literal('asset'),
  Type.Literal('metric'),
  Type.Literal('stage'),
]);
export type KeyPart = Static<typeof KeyPart>;

export const DetectorEntry = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_.\\-]+$', description: 'Unique name of this detector instance.' }),
    type: Type.String({ description: 'Detector type, e.g. rolling_zscore.' }),
    select: Type.Optional(Selector),
    key: Type.Array(KeyPart, {
      default: ['site', 'asset', 'metric'],
      description: 'What state is kept per: each distinct combination gets its own state.',
    }),
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Detector parameters.' })),
    overrides: Type.Optional(
      Type.Array(
        Type.Object(
          {
            asset: Type.String({ description: 'Asset name glob the override applies to.' }),
            params: Type.Record(Type.String(), Type.Unknown()),
          },
          { additionalProperties: false },
        ),
        { description: 'Per-asset parameter overrides (e.g. per-asset limits).' },
      ),
    ),
    mode_signals: Type.Optional(
      Type.Array(Type.String({ pattern: '^[^/]+/[^/]+$' }), {
        description:
          'Operating-mode signals as "asset/metric" (e.g. "P-301/state"). State is kept apart for each combination of their current values, so a pump switching off is judged against "off" behaviour, not flagged as a drop.',
      }),
    ),
    min_score_to_store: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0,
      description: 'Scores below this are not written to the store (charts); anomalies are always written.',
    }),
  },
  { additionalProperties: false },
);
export type DetectorEntry = Static<typeof DetectorEntry>;

export const ApiConfig = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    host: Type.String({ default: '127.0.0.1', description: 'Address to listen on; loopback by default.' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    tls_cert_file: Type.Optional(
      Type.String({
        description:
          'PEM certificate file; with tls_key_file the API serves HTTPS (these win over RETIMUAD_API_TLS_CERT_FILE/_KEY_FILE).',
      }),
    ),
    tls_key_file: Type.Optional(Type.String({ description: 'PEM private key for tls_cert_file.' })),
  },
  { additionalProperties: false },
);

export const RuntimeConfig = Type.Object(
  {
    queue_capacity: Type.Integer({
      minimum: 1,
      default: 10000,
      description: 'Bounded queue between sources and detectors.',
    }),
    batch_max: Type.Integer({ minimum: 1, default: 1000, description: 'Most records per sink write.' }),
    flush_interval_ms: Type.Integer({
      minimum: 1,
      default: 250,
      description: 'Longest a record waits before sinks see it.',
    }),
    checkpoint_interval_secs: Type.Number({
      minimum: 0,
      default: 30,
      description: '0 writes checkpoints only at shutdown.',
    }),
    allowed_lateness_secs: Type.Number({
      minimum: 0,
      default: 600,
      description:
        'Events older than the newest event time minus this are late: dead-lettered (reason "late") instead of disturbing detector state. Out-of-order events within it are processed as they come.',
    }),
    max_future_secs: Type.Number({
      minimum: 0,
      default: 300,
      description: 'Events stamped more than this ahead of the ingest clock are dead-lettered (reason "future").',
    }),
    dedupe_window_events: Type.Integer({
      minimum: 0,
      default: 100_000,
      description:
        'Event ids remembered to drop duplicates (idempotent ingest); 0 disables. Duplicates are dead-lettered.',
    }),
    idle_advance_secs: Type.Number({
      minimum: 0,
      default: 5,
      description:
        'In live mode, when no event arrives for this long, event time is advanced by the wall clock so silence and incident resolution are still detected.',
    }),
  },
  { additionalProperties: false },
);

/** Component entries: id + type + the component's own options (validated against its schema). */
const ComponentEntry = Type.Object(
  { id: Type.String({ pattern: '^[A-Za-z0-9_.\\-]+$' }), type: Type.String() },
  { additionalProperties: true },
);

export const PipelineConfig = Type.Object(
  {
    version: Type.Literal(1),
    site: Type.String({ default: 'plant-a', description: 'Site name given to records that carry none.' }),
    data_dir: Type.String({
      default: 'data',
      description: 'State, blobs and the embedded store (relative to the config file).',
    }),
    sources: Type.Array(ComponentEntry, { minItems: 1 }),
    detectors: Type.Array(DetectorEntry, { default: [] }),
    models: Type.Array(ModelEntry, {
      default: [],
      description: 'Pretrained ONNX models whose scores become readings (packages/engine/src/models/).',
    }),
    correlator: Type.Optional(Type.Partial(CorrelatorParams)),
    sinks: Type.Array(ComponentEntry, { default: [] }),
    api: Type.Optional(Type.Partial(ApiConfig)),
    runtime: Type.Optional(Type.Partial(RuntimeConfig)),
  },
  { additionalProperties: false },
);
export type PipelineConfigRaw = Static<typeof PipelineConfig>;

export interface SchemaParts {
  sources: Record<string, TSchema>;
  sinks: Record<string, TSchema>;
  detectors: Record<string, TSchema>;
}

/** Builds the published JSON Schema with each component type's own options spelled out. */
export function buildJsonSchema(components: SchemaParts): unknown {
  const schema = JSON.parse(JSON.stringify(buildFullSchema(components))) as Record<string, unknown>;
  relaxDefaults(schema);
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...schema };
}

/** A property with a default may be left out of a config file: it is not "required" for authors. */
function relaxDefaults(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(relaxDefaults);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const o = node as { properties?: Record<string, { default?: unknown }>; required?: string[] };
  if (o.properties !== undefined && Array.isArray(o.required)) {
    const props = o.properties;
    o.required = o.required.filter((k) => props[k]?.default === undefined);
    if (o.required.length === 0) delete o.required;
  }
  for (const v of Object.values(node)) relaxDefaults(v);
}

/** The full config schema as a TypeBox schema (checkable with Value.Check). */
export function buildFullSchema(components: SchemaParts): TSchema {
  const entry = (kind: string, types: Record<string, TSchema>) =>
    Type.Union(
      Object.entries(types).map(([name, schema]) =>
        Type.Composite([
          Type.Object({ id: Type.String(), type: Type.Literal(name, { description: `${kind} type` }) }),
          schema as ReturnType<typeof Type.Object>,
        ]),
      ),
    );
  const detector = Type.Union(
    Object.entries(components.detectors).map(([name, params]) =>
      Type.Composite([
        Type.Omit(DetectorEntry, ['type', 'params']),
        Type.Object({ type: Type.Literal(name), params: Type.Optional(params) }),
      ]),
    ),
  );
  const schema = Type.Object(
    {
      version: Type.Literal(1),
      site: Type.Optional(Type.String()),
      data_dir: Type.Optional(Type.String()),
      sources: Type.Array(entry('source', components.sources), { minItems: 1 }),
      detectors: Type.Optional(Type.Array(detector)),
      correlator: Type.Optional(Type.Partial(CorrelatorParams)),
      sinks: Type.Optional(Type.Array(entry('sink', components.sinks))),
      models: Type.Optional(Type.Array(ModelEntry)),
      api: Type.Optional(Type.Partial(ApiConfig)),
      runtime: Type.Optional(Type.Partial(RuntimeConfig)),
    },
    { additionalProperties: false, title: 'RETIMU-AD pipeline config' },
  );
  return schema;
}
