/**
 * The event model: one schema per modality, each a TypeBox schema that is at once the
 * TypeScript type, the runtime validator and the published JSON Schema.
 *
 * Every event carries an id, an event time and an ingest time (epoch milliseconds, UTC),
 * a subject (site + asset) and the source that produced it. Media (audio clips, camera
 * frames) travel by reference to a blob store, never inlined.
 *
 * @example
 * const r: Reading = { kind: 'reading', id: 'sim-1', time: 1700000000000, ingestTime: 1700000000005,
 *   site: 'plant-a', asset: 'P-101', source: 'simulator', metric: 'flow_m3h', value: 41.2, unit: 'm3/h', quality: 'good' };
 */
import { Type, type Static } from '@sinclair/typebox';

/** Identifiers: printable, no control characters, bounded. */
const Id = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f]+$' });
/** Names of sites, assets, metrics: dotted/slashed words, used as keys and tags. */
const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:/\\-]+$' });
/** Epoch milliseconds UTC. Bounds reject obvious garbage (before 2000 or after 2200). */
export const EpochMs = Type.Number({ minimum: 946684800000, maximum: 7258118400000 });

export const Scalar = Type.Union([Type.String({ maxLength: 4096 }), Type.Number(), Type.Boolean()]);
export type Scalar = Static<typeof Scalar>;

const base = {
  id: Id,
  time: EpochMs,
  ingestTime: EpochMs,
  site: Name,
  asset: Name,
  source: Type.String({ minLength: 1, maxLength: 200 }),
  /** Optional grouping of assets by process stage (intake, filtration, dosing, storage, ...). */
  stage: Type.Optional(Name),
};

export const Quality = Type.Union([Type.Literal('good'), Type.Literal('uncertain'), Type.Literal('bad')]);
export type Quality = Static<typeof Quality>;

export const Reading = Type.Object(
  {
    kind: Type.Literal('reading'),
    ...base,
    metric: Name,
    value: Type.Number(),
    unit: Type.String({ maxLength: 32 }),
    quality: Quality,
    /** Set on readings derived from another event (audio/image features, model errors): its modality and id. */
    derivedFrom: Type.Optional(
      Type.Object(
        { kind: Type.Union([Type.Literal('audio'), Type.Literal('image'), Type.Literal('log')]), id: Id },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, $id: 'Reading' },
);
export type Reading = Static<typeof Reading>;

/** ECS `log.level` values, lower case. */
export const LogLevel = Type.Union(
  ['trace', 'debug', 'info', 'notice', 'warn', 'error', 'critical', 'alert', 'emergency'].map((l) => Type.Literal(l)),
);
export type LogLevel = 'trace' | 'debug' | 'info' | 'notice' | 'warn' | 'error' | 'critical' | 'alert' | 'emergency';

export const LogRecord = Type.Object(
  {
    kind: Type.Literal('log'),
    ...base,
    level: LogLevel,
    message: Type.String({ maxLength: 16384 }),
    /** Extra fields under ECS names where one exists: `user.name`, `source.ip`, `event.action`, `event.outcome`, `process.name`, `host.name`. */
    fields: Type.Record(Type.String({ maxLength: 128 }), Scalar),
  },
  { additionalProperties: false, $id: 'LogRecord' },
);
export type LogRecord = Omit<Static<typeof LogRecord>, 'level'> & { level: LogLevel };

/** A reference to a blob: where it is, what it is, how big, and its checksum. */
export const MediaRef = Type.Object(
  {
    uri: Type.String({ minLength: 1, maxLength: 1024 }),
    contentType: Type.String({ minLength: 1, maxLength: 100 }),
    bytes: Type.Integer({ minimum: 0 }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  { additionalProperties: false },
);
export type MediaRef = Static<typeof MediaRef>;

export const AudioClip = Type.Object(
  {
    kind: Type.Literal('audio'),
    ...base,
    media: MediaRef,
    sampleRateHz: Type.Integer({ minimum: 1, maximum: 384000 }),
    channels: Type.Integer({ minimum: 1, maximum: 16 }),
    durationMs: Type.Number({ minimum: 0, maximum: 3_600_000 }),
  },
  { additionalProperties: false, $id: 'AudioClip' },
);
export type AudioClip = Static<typeof AudioClip>;

export const ImageFrame = Type.Object(
  {
    kind: Type.Literal('image'),
    ...base,
    media: MediaRef,
    width: Type.Integer({ minimum: 1, maximum: 16384 }),
    height: Type.Integer({ minimum: 1, maximum: 16384 }),
  },
  { additionalProperties: false, $id: 'ImageFrame' },
);
export type ImageFrame = Static<typeof ImageFrame>;

export const Event = Type.Union([Reading, LogRecord, AudioClip, ImageFrame]);
export type Event = Reading | LogRecord | AudioClip | ImageFrame;
export type Modality = Event['kind'];
export const MODALITIES: readonly Modality[] = ['reading', 'log', 'audio', 'image'];

/** A finding raised by a detector, turned into an anomaly by the runtime. */
export const Severity = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]);
export type Severity = 'info' | 'warning' | 'critical';

export const Anomaly = Type.Object(
  {
    id: Id,
    time: EpochMs,
    site: Name,
    asset: Name,
    stage: Type.Optional(Name),
    /** The detector instance (config id) and its type. */
    detector: Type.String(),
    detectorType: Type.String(),
    modality: Type.Union([
      Type.Literal('reading'),
      Type.Literal('log'),
      Type.Literal('audio'),
      Type.Literal('image'),
      Type.Literal('batch'),
    ]),
    metric: Type.Optional(Type.String()),
    score: Type.Number({ minimum: 0, maximum: 1 }),
    severity: Severity,
    reason: Type.String(),
    /** The event that triggered it, and any values worth showing. */
    eventId: Type.Optional(Type.String()),
    value: Type.Optional(Type.Number()),
    detail: Type.Optional(Type.Record(Type.String(), Scalar)),
  },
  { additionalProperties: false, $id: 'Anomaly' },
);
export type Anomaly = Omit<Static<typeof Anomaly>, 'severity' | 'modality'> & {
  severity: Severity;
  modality: Modality | 'batch';
};

export type IncidentStatus = 'open' | 'resolved';

export interface Incident {
  /** Deterministic: derived from the correlation group and the first anomaly's time and id, so replays and restarts never duplicate it. */
  id: string;
  site: string;
  /** The assets involved, the first one being where it started. */
  assets: string[];
  stage?: string;
  status: IncidentStatus;
  severity: Severity;
  modalities: Array<Modality | 'batch'>;
  startTime: number;
  lastTime: number;
  endTime?: number;
  anomalyCount: number;
  /** Up to a bounded number of anomalies kept as evidence (the first, the strongest, the latest). */
  evidence: Anomaly[];
  explanation: string;
  /** Highest score seen. */
  peakScore: number;
  /** Version increases on every change so sinks can upsert idempotently. */
  revision: number;
}

/** Ground truth emitted by the simulator beside its data. */
export interface Label {
  scenario: string;
  kind: 'fault' | 'attack';
  site: string;
  assets: string[];
  modalities: Modality[];
  startTime: number;
  endTime: number;
  description: string;
}
