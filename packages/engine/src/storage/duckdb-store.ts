/**
 * The embedded store: one DuckDB database file that is at once a Sink (it accepts every record
 * the pipeline emits) and the StoreReader behind the API and the dashboard.
 *
 * Design choices, briefly:
 * - Times are BIGINT epoch milliseconds, exactly as the event model carries them: no conversion on
 *   the hot append path, no time-zone ambiguity, integer bucketing for downsampling, and analytics
 *   can still say `epoch_ms(time)` when they want a TIMESTAMP.
 * - Rows are appended with DuckDB's Appender (columnar, much faster than INSERT per row); only
 *   incidents go through an `INSERT … ON CONFLICT DO UPDATE … WHERE excluded.revision > revision`
 *   because they are revised many times and must keep the highest revision.
 * - No secondary indexes: data arrives roughly in time order, so DuckDB's per-row-group min/max
 *   (zone maps) already prune time-range scans, and ART indexes would slow appends.
 * - One connection and one promise queue: writes and reads run one at a time, in call order, so a
 *   read never sees half a batch and the appender never races a query.
 * - Retention is measured against the newest reading's event time, not the wall clock, so
 *   replaying historical data does not delete it as soon as it is written.
 *
 * @example
 * const store = await openEmbeddedStore('data/retimu.duckdb', { retention_hours: 72 });
 * await store.write([{ type: 'event', event: reading }]);
 * const pts = await store.series('plant-a', 'P-101', 'flow_m3h', { from, to }, 500);
 * await store.close();
 */
import {
  DuckDBInstance,
  listValue,
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import type { Anomaly, Incident, Label } from '../../../core/src/schema/events.ts';
import type {
  AssetSummary,
  DeadLetter,
  IncidentQuery,
  LogQuery,
  ScorePoint,
  Sink,
  SinkRecord,
  SinkRecordType,
  StoredLog,
  StoredMedia,
  StoreReader,
  TimeRange,
} from '../runtime/types.ts';
import { StorageError } from './errors.ts';

export const EmbeddedStoreParams = Type.Object(
  {
    retention_hours: Type.Number({
      minimum: 0,
      default: 168,
      description:
        'Readings and scores older than this (event time, relative to the newest reading) are deleted; 0 keeps everything.',
    }),
    prune_interval_secs: Type.Number({ exclusiveMinimum: 0, default: 300, description: 'How often retention runs.' }),
    threads: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 64, description: 'DuckDB worker threads (default: DuckDB chooses).' }),
    ),
    memory_limit_mb: Type.Integer({
      minimum: 64,
      default: 1024,
      description:
        "Cap on DuckDB's memory (buffer cache included); beyond it DuckDB evicts or spills. Without a cap it may grow to 80% of RAM as the store fills.",
    }),
  },
  { additionalProperties: false },
);
export type EmbeddedStoreParams = Static<typeof EmbeddedStoreParams>;

export interface EmbeddedStoreOptions extends Partial<EmbeddedStoreParams> {
  /** Sink id (default "store"). */
  id?: string;
  /** Where background retention reports its failures (without one they are dropped; the next run retries). */
  logger?: Logger;
}

export interface PruneResult {
  readings: number;
  scores: number;
}

export interface EmbeddedStore extends Sink, StoreReader {
  /** Deletes readings and scores with time < beforeMs. */
  prune(beforeMs: number): Promise<PruneResult>;
  /** Applies `retention_hours` now (also run every `prune_interval_secs`). */
  pruneRetention(): Promise<PruneResult>;
  /** Runs an arbitrary read-only query through the store's queue (batch analytics, tests). */
  query(sql: string, params?: Record<string, DuckDBValue>): Promise<Array<Record<string, unknown>>>;
  /** Records an operator's action on an incident (the audit trail); returns it with its id. */
  addIncidentAction(a: NewIncidentAction): Promise<IncidentAction>;
  /** Actions on one incident, oldest first. */
  incidentActions(incidentId: string): Promise<IncidentAction[]>;
  /** The latest action per incident for many incidents at once (list view). */
  latestIncidentActions(incidentIds: readonly string[]): Promise<Map<string, IncidentAction>>;
  /** Log templates (variable parts masked) with their counts and first/last times in a range. */
  logTemplates(q: { range?: TimeRange; asset?: string; limit?: number }): Promise<LogTemplate[]>;
}

// ---------------------------------------------------------------------------------------------
// Incident actions (issue 7): acknowledge / comment / resolve, each with who and when. Kept in
// their own append-only table so the correlator's incident rows are never rewritten by people.

export type IncidentActionKind = 'acknowledge' | 'comment' | 'resolve';

export interface NewIncidentAction {
  incidentId: string;
  action: IncidentActionKind;
  /** Username of who did it. */
  actor: string;
  /** Wall-clock time of the action, epoch ms. */
  time: number;
  comment?: string;
}

export interface IncidentAction extends NewIncidentAction {
  /** Increasing per store: orders actions that share a millisecond. */
  seq: number;
}

export interface LogTemplate {
  /** The message with numbers, addresses and hex ids replaced by <*>. */
  template: string;
  count: number;
  firstTime: number;
  lastTime: number;
  assets: string[];
  /** One message of this template, as written. */
  example: string;
}

/**
 * Masks the variable parts of a log message (IPv4 addresses, hex ids, numbers) so messages of one
 * kind share a template. The same rules run in SQL (TEMPLATE_SQL) and here (tests, the dashboard).
 */
export function logTemplateOf(message: string): string {
  return message
    .replace(/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '<*>')
    .replace(/\b0x[0-9a-fA-F]+\b|\b[0-9a-fA-F]{8,}\b/g, '<*>')
    .replace(/\b\d+(?:\.\d+)?\b/g, '<*>');
}
const TEMPLATE_SQL = `regexp_replace(regexp_replace(regexp_replace(message,
  '\\b\\d{1,3}(\\.\\d{1,3}){3}(:\\d+)?\\b', '<*>', 'g'),
  '\\b0x[0-9a-fA-F]+\\b|\\b[0-9a-fA-F]{8,}\\b', '<*>', 'g'),
  '\\b\\d+(\\.\\d+)?\\b', '<*>', 'g')`;

const ALL_TYPES: ReadonlySet<SinkRecordType> = new Set<SinkRecordType>([
  'event',
  'score',
  'anomaly',
  'incident',
  'deadletter',
  'label',
]);
const SCHEMA_VERSION = '1';
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
const ANOMALOUS_WINDOW_MS = 60_000;

const DDL = `
CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS readings (
  time BIGINT NOT NULL, site VARCHAR NOT NULL, asset VARCHAR NOT NULL, stage VARCHAR, metric VARCHAR NOT NULL,
  value DOUBLE NOT NULL, unit VARCHAR NOT NULL, quality VARCHAR NOT NULL,
  id VARCHAR NOT NULL, source VARCHAR NOT NULL, ingest_time BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS logs (
  time BIGINT NOT NULL, site VARCHAR NOT NULL, asset VARCHAR NOT NULL, stage VARCHAR, level VARCHAR NOT NULL,
  message VARCHAR NOT NULL, fields VARCHAR NOT NULL, id VARCHAR NOT NULL, source VARCHAR NOT NULL, ingest_time BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS media (
  time BIGINT NOT NULL, site VARCHAR NOT NULL, asset VARCHAR NOT NULL, stage VARCHAR, kind VARCHAR NOT NULL,
  uri VARCHAR NOT NULL, content_type VARCHAR NOT NULL, bytes BIGINT NOT NULL, sha256 VARCHAR NOT NULL,
  meta VARCHAR NOT NULL, id VARCHAR NOT NULL, source VARCHAR NOT NULL, ingest_time BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS scores (
  time BIGINT NOT NULL, site VARCHAR NOT NULL, asset VARCHAR NOT NULL, detector VARCHAR NOT NULL,
  metric VARCHAR NOT NULL, score DOUBLE NOT NULL);
CREATE TABLE IF NOT EXISTS anomalies (
  time BIGINT NOT NULL, site VARCHAR NOT NULL, asset VARCHAR NOT NULL, id VARCHAR NOT NULL, detector VARCHAR NOT NULL,
  metric VARCHAR, severity VARCHAR NOT NULL, score DOUBLE NOT NULL, body VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS incidents (
  id VARCHAR PRIMARY KEY, site VARCHAR NOT NULL, status VARCHAR NOT NULL, severity VARCHAR NOT NULL,
  start_time BIGINT NOT NULL, last_time BIGINT NOT NULL, end_time BIGINT, revision BIGINT NOT NULL,
  assets VARCHAR[] NOT NULL, body VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS deadletters (
  time BIGINT NOT NULL, id VARCHAR NOT NULL, component VARCHAR NOT NULL, "where" VARCHAR NOT NULL,
  reason VARCHAR NOT NULL, raw VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS labels (
  start_time BIGINT NOT NULL, end_time BIGINT NOT NULL, scenario VARCHAR NOT NULL, site VARCHAR NOT NULL, body VARCHAR NOT NULL);
CREATE SEQUENCE IF NOT EXISTS incident_action_seq;
CREATE TABLE IF NOT EXISTS incident_actions (
  seq BIGINT NOT NULL DEFAULT nextval('incident_action_seq'), incident_id VARCHAR NOT NULL, action VARCHAR NOT NULL,
  actor VARCHAR NOT NULL, time BIGINT NOT NULL, comment VARCHAR);
`;

const UPSERT_INCIDENT = `
INSERT INTO incidents (id, site, status, severity, start_time, last_time, end_time, revision, assets, body)
VALUES ($id, $site, $status, $severity, $start_time, $last_time, $end_time, $revision, $assets, $body)
ON CONFLICT (id) DO UPDATE SET
  site = excluded.site, status = excluded.status, severity = excluded.severity, start_time = excluded.start_time,
  last_time = excluded.last_time, end_time = excluded.end_time, revision = excluded.revision,
  assets = excluded.assets, body = excluded.body
WHERE excluded.revision > incidents.revision`;

/** Opens (creating if needed) the store at `path`; `':memory:'` gives a throw-away store for tests. */
export async function openEmbeddedStore(path: string, opts: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
  const { id = 'store', logger, ...raw } = opts;
  const params = resolveStoreParams(raw);
  const dbOptions: Record<string, string> = {};
  if (params.threads !== undefined) dbOptions['threads'] = String(params.threads);
  dbOptions['memory_limit'] = `${params.memory_limit_mb}MB`;

  let instance: DuckDBInstance | undefined;
  let conn: DuckDBConnection | undefined;
  try {
    instance = await DuckDBInstance.create(path, dbOptions);
    conn = await instance.connect();
    await conn.run(DDL);
    const found = await rows(conn, `SELECT value FROM store_meta WHERE key = 'schema_version'`);
    if (found.length === 0) {
      await conn.run(`INSERT INTO store_meta VALUES ('schema_version', $v)`, { v: SCHEMA_VERSION });
    } else if (found[0]?.['value'] !== SCHEMA_VERSION) {
      throw new StorageError(
        'E_STORE_OPEN',
        `embedded store ${path} has schema version ${String(found[0]?.['value'])}, this build expects ${SCHEMA_VERSION}`,
      );
    }
  } catch (err) {
    // Release the file lock, or a corrected retry in the same process could not open it.
    conn?.closeSync();
    instance?.closeSync();
    if (err instanceof StorageError) throw err;
    throw new StorageError('E_STORE_OPEN', `could not open embedded store ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }

  // One queue for everything that touches the connection.
  let tail: Promise<unknown> = Promise.resolve();
  let closed = false;
  let closing: Promise<void> | undefined;
  function serial<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new StorageError('E_STORE_CLOSED', `embedded store ${path} is closed (${what})`));
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  }
  function read<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return serial(what, async () => {
      try {
        return await fn();
      } catch (err) {
        throw new StorageError('E_STORE_QUERY', `embedded store ${path}: ${what} failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
    });
  }

  let pruneTimer: NodeJS.Timeout | undefined;
  if (params.retention_hours > 0) {
    pruneTimer = setInterval(() => {
      store.pruneRetention().catch((err: unknown) => {
        logger?.warn({ err, store: path }, 'embedded store retention failed');
      });
    }, params.prune_interval_secs * 1000);
    // Retention must never keep the process alive on its own.
    pruneTimer.unref();
  }

  const store: EmbeddedStore = {
    id,
    accepts: ALL_TYPES,

    write(batch) {
      if (batch.length === 0) return Promise.resolve();
      return serial('write', async () => {
        try {
          // One transaction per batch: a failed batch leaves nothing behind, so a retry cannot duplicate rows.
          await conn.run('BEGIN TRANSACTION');
          try {
            await writeBatch(conn, batch);
            await conn.run('COMMIT');
          } catch (err) {
            await conn.run('ROLLBACK').catch(() => undefined);
            throw err;
          }
        } catch (err) {
          throw new StorageError(
            'E_STORE_WRITE',
            `embedded store ${path}: writing ${batch.length} records failed: ${(err as Error).message}`,
            {
              cause: err,
            },
          );
        }
      });
    },

    close() {
      // Idempotent: every caller waits for the same checkpoint-and-close.
      if (closing) return closing;
      if (pruneTimer) clearInterval(pruneTimer);
      closing = serial('close', async () => {
        try {
          await conn.run('CHECKPOINT');
        } finally {
          conn.closeSync();
          instance.closeSync();
        }
      });
      closed = true;
      return closing;
    },

    prune(beforeMs) {
      return read('prune', async () => {
        const before = toBig(beforeMs);
        const r = await conn.run('DELETE FROM readings WHERE time < $before', { before });
        const s = await conn.run('DELETE FROM scores WHERE time < $before', { before });
        return { readings: r.rowsChanged, scores: s.rowsChanged };
      });
    },

    async pruneRetention() {
      if (params.retention_hours <= 0) return { readings: 0, scores: 0 };
      const latest = await read('retention', async () => {
        const r = await rows(conn, 'SELECT max(time) AS t FROM readings');
        return r[0]?.['t'];
      });
      if (latest === null || latest === undefined) return { readings: 0, scores: 0 };
      return store.prune(num(latest) - params.retention_hours * 3_600_000);
    },

    query(sql, values) {
      return read('query', () => rows(conn, sql, values));
    },

    assets() {
      return read('assets()', () => queryAssets(conn));
    },

    series(site, asset, metric, range, maxPoints) {
      return read(`series(${site}/${asset}/${metric})`, async () => {
        const pts = await minMaxDownsample(
          conn,
          'readings',
          'value',
          'site = $site AND asset = $asset AND metric = $metric',
          { site, asset, metric },
          range,
          maxPoints,
        );
        return pts.map((p) => ({ time: p.time, value: p.value }));
      });
    },

    scores(site, asset, range, maxPoints) {
      return read(`scores(${site}/${asset})`, async () => {
        const groups = await rows(
          conn,
          'SELECT DISTINCT detector, metric FROM scores WHERE site = $site AND asset = $asset AND time BETWEEN $from AND $to ORDER BY ALL',
          { site, asset, from: toBig(range.from), to: toBig(range.to) },
        );
        const out: ScorePoint[] = [];
        // Downsampled per detector/metric: each chart line keeps its own peaks.
        for (const g of groups) {
          const detector = str(g['detector']);
          const metric = str(g['metric']);
          const pts = await minMaxDownsample(
            conn,
            'scores',
            'score',
            'site = $site AND asset = $asset AND detector = $detector AND metric = $metric',
            { site, asset, detector, metric },
            range,
            maxPoints,
          );
          for (const p of pts) out.push({ time: p.time, site, asset, detector, metric, score: p.value });
        }
        return out.sort((a, b) => a.time - b.time);
      });
    },

    anomalies(q) {
      return read('anomalies()', async () => {
        const where: string[] = [];
        const values: Record<string, DuckDBValue> = { limit: limitOf(q.limit) };
        if (q.asset !== undefined) {
          where.push('asset = $asset');
          values['asset'] = q.asset;
        }
        addRange(where, values, 'time', 'time', q.range);
        const r = await rows(
          conn,
          `SELECT body FROM anomalies ${whereSql(where)} ORDER BY time DESC, id LIMIT $limit`,
          values,
        );
        return r.map((row) => JSON.parse(str(row['body'])) as Anomaly);
      });
    },

    incidents(q: IncidentQuery) {
      return read('incidents()', async () => {
        const where: string[] = [];
        const values: Record<string, DuckDBValue> = { limit: limitOf(q.limit) };
        if (q.status !== undefined) {
          where.push('status = $status');
          values['status'] = q.status;
        }
        if (q.asset !== undefined) {
          where.push('list_contains(assets, $asset)');
          values['asset'] = q.asset;
        }
        // An incident matches a range when its lifetime overlaps it.
        addRange(where, values, 'start_time', 'coalesce(end_time, last_time)', q.range);
        const r = await rows(
          conn,
          `SELECT body FROM incidents ${whereSql(where)} ORDER BY last_time DESC, id LIMIT $limit`,
          values,
        );
        return r.map((row) => JSON.parse(str(row['body'])) as Incident);
      });
    },

    incident(incidentId) {
      return read('incident()', async () => {
        const r = await rows(conn, 'SELECT body FROM incidents WHERE id = $id', { id: incidentId });
        const body = r[0]?.['body'];
        return body === undefined ? undefined : (JSON.parse(str(body)) as Incident);
      });
    },

    logs(q: LogQuery) {
      return read('logs()', async () => {
        const where: string[] = [];
        const values: Record<string, DuckDBValue> = { limit: limitOf(q.limit) };
        if (q.text !== undefined && q.text !== '') {
          // contains() rather than LIKE: user text needs no escaping of % and _.
          where.push('contains(lower(message), lower($text))');
          values['text'] = q.text;
        }
        if (q.level !== undefined) {
          where.push('level = $level');
          values['level'] = q.level;
        }
        if (q.asset !== undefined) {
          where.push('asset = $asset');
          values['asset'] = q.asset;
        }
        addRange(where, values, 'time', 'time', q.range);
        const r = await rows(
          conn,
          `SELECT id, time, site, asset, level, message, fields FROM logs ${whereSql(where)} ORDER BY time DESC, id LIMIT $limit`,
          values,
        );
        return r.map((row): StoredLog => ({
          id: str(row['id']),
          time: num(row['time']),
          site: str(row['site']),
          asset: str(row['asset']),
          level: str(row['level']),
          message: str(row['message']),
          fields: JSON.parse(str(row['fields'])) as Record<string, unknown>,
        }));
      });
    },

    media(q) {
      return read('media()', async () => {
        const where: string[] = [];
        const values: Record<string, DuckDBValue> = { limit: limitOf(q.limit) };
        if (q.asset !== undefined) {
          where.push('asset = $asset');
          values['asset'] = q.asset;
        }
        addRange(where, values, 'time', 'time', q.range);
        const r = await rows(
          conn,
          `SELECT id, time, site, asset, kind, uri, content_type, bytes, sha256 FROM media ${whereSql(where)} ORDER BY time DESC, id LIMIT $limit`,
          values,
        );
        return r.map((row): StoredMedia => ({
          id: str(row['id']),
          time: num(row['time']),
          site: str(row['site']),
          asset: str(row['asset']),
          kind: str(row['kind']) === 'audio' ? 'audio' : 'image',
          media: {
            uri: str(row['uri']),
            contentType: str(row['content_type']),
            bytes: num(row['bytes']),
            sha256: str(row['sha256']),
          },
        }));
      });
    },

    deadLetters(limit) {
      return read('deadLetters()', async () => {
        const r = await rows(
          conn,
          'SELECT id, time, component, "where", reason, raw FROM deadletters ORDER BY time DESC, id LIMIT $limit',
          {
            limit: limitOf(limit),
          },
        );
        return r.map((row): DeadLetter => ({
          id: str(row['id']),
          time: num(row['time']),
          component: str(row['component']),
          where: str(row['where']),
          reason: str(row['reason']),
          raw: str(row['raw']),
        }));
      });
    },

    counts() {
      return read('counts()', async () => {
        const r = await rows(
          conn,
          `SELECT 'readings' AS k, count(*) AS n FROM readings
           UNION ALL SELECT 'logs', count(*) FROM logs
           UNION ALL SELECT 'audio', count(*) FROM media WHERE kind = 'audio'
           UNION ALL SELECT 'image', count(*) FROM media WHERE kind = 'image'
           UNION ALL SELECT 'scores', count(*) FROM scores
           UNION ALL SELECT 'anomalies', count(*) FROM anomalies
           UNION ALL SELECT 'incidents', count(*) FROM incidents
           UNION ALL SELECT 'incidents_open', count(*) FROM incidents WHERE status = 'open'
           UNION ALL SELECT 'deadletters', count(*) FROM deadletters
           UNION ALL SELECT 'labels', count(*) FROM labels`,
        );
        const out: Record<string, number> = {};
        for (const row of r) out[str(row['k'])] = num(row['n']);
        return out;
      });
    },

    addIncidentAction(a) {
      return read('addIncidentAction()', async () => {
        const r = await rows(
          conn,
          `INSERT INTO incident_actions (incident_id, action, actor, time, comment)
           VALUES ($incident_id, $action, $actor, $time, $comment) RETURNING seq`,
          {
            incident_id: a.incidentId,
            action: a.action,
            actor: a.actor,
            time: toBig(a.time),
            comment: a.comment ?? null,
          },
        );
        return { ...a, seq: num(r[0]?.['seq']) };
      });
    },

    incidentActions(incidentId) {
      return read('incidentActions()', async () => {
        const r = await rows(
          conn,
          'SELECT seq, incident_id, action, actor, time, comment FROM incident_actions WHERE incident_id = $id ORDER BY seq',
          { id: incidentId },
        );
        return r.map(actionOf);
      });
    },

    latestIncidentActions(incidentIds) {
      return read('latestIncidentActions()', async () => {
        const out = new Map<string, IncidentAction>();
        if (incidentIds.length === 0) return out;
        // Comments do not change an incident's handling state, so they are not "latest".
        const r = await rows(
          conn,
          `SELECT seq, incident_id, action, actor, time, comment FROM incident_actions
           WHERE list_contains($ids, incident_id) AND action <> 'comment'
           QUALIFY row_number() OVER (PARTITION BY incident_id ORDER BY seq DESC) = 1`,
          { ids: listValue([...incidentIds]) },
        );
        for (const row of r) {
          const a = actionOf(row);
          out.set(a.incidentId, a);
        }
        return out;
      });
    },

    logTemplates(q) {
      return read('logTemplates()', async () => {
        const where: string[] = [];
        const values: Record<string, DuckDBValue> = { limit: limitOf(q.limit) };
        if (q.asset !== undefined) {
          where.push('asset = $asset');
          values['asset'] = q.asset;
        }
        addRange(where, values, 'time', 'time', q.range);
        // Rarest first: new and rare templates are what an operator should look at.
        const r = await rows(
          conn,
          `SELECT ${TEMPLATE_SQL} AS template, count(*) AS n, min(time) AS first_time, max(time) AS last_time,
                  list_sort(list_distinct(list(asset))) AS assets, any_value(message) AS example
           FROM logs ${whereSql(where)} GROUP BY template ORDER BY n, last_time DESC LIMIT $limit`,
          values,
        );
        return r.map((row): LogTemplate => ({
          template: str(row['template']),
          count: num(row['n']),
          firstTime: num(row['first_time']),
          lastTime: num(row['last_time']),
          assets: (row['assets'] as unknown[]).map(str),
          example: str(row['example']),
        }));
      });
    },

    labels() {
      return read('labels()', async () => {
        const r = await rows(conn, 'SELECT body FROM labels ORDER BY start_time, scenario');
        return r.map((row) => JSON.parse(str(row['body'])) as Label);
      });
    },
  };
  return store;
}

function actionOf(row: Record<string, unknown>): IncidentAction {
  const a: IncidentAction = {
    seq: num(row['seq']),
    incidentId: str(row['incident_id']),
    action: str(row['action']) as IncidentActionKind,
    actor: str(row['actor']),
    time: num(row['time']),
  };
  if (row['comment'] !== null && row['comment'] !== undefined) a.comment = str(row['comment']);
  return a;
}

function resolveStoreParams(raw: Partial<EmbeddedStoreParams>): EmbeddedStoreParams {
  const withDefaults = Value.Default(EmbeddedStoreParams, Value.Clone(raw));
  if (Value.Check(EmbeddedStoreParams, withDefaults)) return withDefaults;
  const problems = [...Value.Errors(EmbeddedStoreParams, withDefaults)]
    .slice(0, 5)
    .map((e) => `${e.path || '/'} ${e.message}`)
    .join('; ');
  throw new StorageError('E_STORE_PARAMS', `embedded store options are invalid: ${problems}`);
}

// ---------------------------------------------------------------------------------------------
// Writing

async function writeBatch(conn: DuckDBConnection, batch: readonly SinkRecord[]): Promise<void> {
  const appenders = new Map<string, DuckDBAppender>();
  const create = async (table: string): Promise<DuckDBAppender> => {
    const a = await conn.createAppender(table);
    appenders.set(table, a);
    return a;
  };
  // Rows look their appender up synchronously: only a table's first row awaits (an await per row is costly).
  // Incidents are revised many times; only the highest revision of each id in the batch matters,
  // and DuckDB refuses to upsert one key twice in a statement anyway.
  const incidents = new Map<string, Incident>();

  try {
    for (const rec of batch) {
      switch (rec.type) {
        case 'event': {
          const e = rec.event;
          switch (e.kind) {
            case 'reading': {
              const a = appenders.get('readings') ?? (await create('readings'));
              a.appendBigInt(toBig(e.time));
              a.appendVarchar(e.site);
              a.appendVarchar(e.asset);
              optVarchar(a, e.stage);
              a.appendVarchar(e.metric);
              a.appendDouble(e.value);
              a.appendVarchar(e.unit);
              a.appendVarchar(e.quality);
              a.appendVarchar(e.id);
              a.appendVarchar(e.source);
              a.appendBigInt(toBig(e.ingestTime));
              a.endRow();
              break;
            }
            case 'log': {
              const a = appenders.get('logs') ?? (await create('logs'));
              a.appendBigInt(toBig(e.time));
              a.appendVarchar(e.site);
              a.appendVarchar(e.asset);
              optVarchar(a, e.stage);
              a.appendVarchar(e.level);
              a.appendVarchar(e.message);
              a.appendVarchar(JSON.stringify(e.fields));
              a.appendVarchar(e.id);
              a.appendVarchar(e.source);
              a.appendBigInt(toBig(e.ingestTime));
              a.endRow();
              break;
            }
            case 'audio':
            case 'image': {
              const meta =
                e.kind === 'audio'
                  ? { sampleRateHz: e.sampleRateHz, channels: e.channels, durationMs: e.durationMs }
                  : { width: e.width, height: e.height };
              const a = appenders.get('media') ?? (await create('media'));
              a.appendBigInt(toBig(e.time));
              a.appendVarchar(e.site);
              a.appendVarchar(e.asset);
              optVarchar(a, e.stage);
              a.appendVarchar(e.kind);
              a.appendVarchar(e.media.uri);
              a.appendVarchar(e.media.contentType);
              a.appendBigInt(BigInt(e.media.bytes));
              a.appendVarchar(e.media.sha256);
              a.appendVarchar(JSON.stringify(meta));
              a.appendVarchar(e.id);
              a.appendVarchar(e.source);
              a.appendBigInt(toBig(e.ingestTime));
              a.endRow();
              break;
            }
            default:
              assertNever(e);
          }
          break;
        }
        case 'score': {
          const s = rec.score;
          const a = appenders.get('scores') ?? (await create('scores'));
          a.appendBigInt(toBig(s.time));
          a.appendVarchar(s.site);
          a.appendVarchar(s.asset);
          a.appendVarchar(s.detector);
          a.appendVarchar(s.metric);
          a.appendDouble(s.score);
          a.endRow();
          break;
        }
        case 'anomaly': {
          const x = rec.anomaly;
          const a = appenders.get('anomalies') ?? (await create('anomalies'));
          a.appendBigInt(toBig(x.time));
          a.appendVarchar(x.site);
          a.appendVarchar(x.asset);
          a.appendVarchar(x.id);
          a.appendVarchar(x.detector);
          optVarchar(a, x.metric);
          a.appendVarchar(x.severity);
          a.appendDouble(x.score);
          a.appendVarchar(JSON.stringify(x));
          a.endRow();
          break;
        }
        case 'incident': {
          const prev = incidents.get(rec.incident.id);
          if (!prev || rec.incident.revision > prev.revision) incidents.set(rec.incident.id, rec.incident);
          break;
        }
        case 'deadletter': {
          const d = rec.deadLetter;
          const a = appenders.get('deadletters') ?? (await create('deadletters'));
          a.appendBigInt(toBig(d.time));
          a.appendVarchar(d.id);
          a.appendVarchar(d.component);
          a.appendVarchar(d.where);
          a.appendVarchar(d.reason);
          a.appendVarchar(d.raw);
          a.endRow();
          break;
        }
        case 'label': {
          const l = rec.label;
          const a = appenders.get('labels') ?? (await create('labels'));
          a.appendBigInt(toBig(l.startTime));
          a.appendBigInt(toBig(l.endTime));
          a.appendVarchar(l.scenario);
          a.appendVarchar(l.site);
          a.appendVarchar(JSON.stringify(l));
          a.endRow();
          break;
        }
        default:
          assertNever(rec);
      }
    }
  } finally {
    // Closing flushes: rows become visible to the next read in the queue.
    for (const a of appenders.values()) a.closeSync();
  }

  if (incidents.size > 0) {
    const stmt = await conn.prepare(UPSERT_INCIDENT);
    try {
      for (const inc of incidents.values()) {
        stmt.bind({
          id: inc.id,
          site: inc.site,
          status: inc.status,
          severity: inc.severity,
          start_time: toBig(inc.startTime),
          last_time: toBig(inc.lastTime),
          end_time: inc.endTime === undefined ? null : toBig(inc.endTime),
          revision: toBig(inc.revision),
          assets: listValue(inc.assets),
          body: JSON.stringify(inc),
        });
        await stmt.run();
      }
    } finally {
      stmt.destroySync();
    }
  }
}

function optVarchar(a: DuckDBAppender, v: string | undefined): void {
  if (v === undefined) a.appendNull();
  else a.appendVarchar(v);
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * Points of one series in `range`, reduced to at most `maxPoints` when it holds more: the range is
 * cut into maxPoints/2 equal time buckets and each bucket keeps its minimum and its maximum (in
 * time order), so spikes and dips survive the reduction.
 */
async function minMaxDownsample(
  conn: DuckDBConnection,
  table: 'readings' | 'scores',
  valueCol: 'value' | 'score',
  where: string,
  filter: Record<string, DuckDBValue>,
  range: TimeRange,
  maxPoints: number,
): Promise<Array<{ time: number; value: number }>> {
  if (maxPoints < 1 || range.to < range.from) return [];
  const values: Record<string, DuckDBValue> = { ...filter, from: toBig(range.from), to: toBig(range.to) };
  const base = `FROM ${table} WHERE ${where} AND time BETWEEN $from AND $to`;
  const countRows = await rows(conn, `SELECT count(*) AS n ${base}`, values);
  const n = num(countRows[0]?.['n'] ?? 0);
  if (n <= maxPoints) {
    const r = await rows(conn, `SELECT time, ${valueCol} AS v ${base} ORDER BY time`, values);
    return r.map((row) => ({ time: num(row['time']), value: num(row['v']) }));
  }
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  const width = Math.max(1, Math.ceil((Math.trunc(range.to) - Math.trunc(range.from) + 1) / buckets));
  const r = await rows(
    conn,
    `SELECT (time - $from) // $width AS b,
            arg_min(time, ${valueCol}) AS tmin, min(${valueCol}) AS vmin,
            arg_max(time, ${valueCol}) AS tmax, max(${valueCol}) AS vmax
     ${base} GROUP BY b ORDER BY b`,
    { ...values, width: BigInt(width) },
  );
  const out: Array<{ time: number; value: number }> = [];
  for (const row of r) {
    const lo = { time: num(row['tmin']), value: num(row['vmin']) };
    const hi = { time: num(row['tmax']), value: num(row['vmax']) };
    if (maxPoints === 1) out.push(hi);
    else if (lo.time === hi.time) out.push(hi);
    else if (lo.time < hi.time) out.push(lo, hi);
    else out.push(hi, lo);
  }
  return out;
}

async function queryAssets(conn: DuckDBConnection): Promise<AssetSummary[]> {
  const metricRows = await rows(
    conn,
    `SELECT site, asset, metric, arg_max(value, time) AS last, max(time) AS last_time, arg_max(unit, time) AS unit,
            arg_max(stage, time) FILTER (WHERE stage IS NOT NULL) AS stage
     FROM readings GROUP BY site, asset, metric ORDER BY site, asset, metric`,
  );
  // Assets that only log or only send media still exist for the operator.
  const otherRows = await rows(
    conn,
    `SELECT site, asset, arg_max(stage, time) FILTER (WHERE stage IS NOT NULL) AS stage FROM (
       SELECT site, asset, stage, time FROM logs UNION ALL SELECT site, asset, stage, time FROM media)
     GROUP BY site, asset`,
  );
  const latestRows = await rows(
    conn,
    `SELECT greatest(
       coalesce((SELECT max(time) FROM readings), 0), coalesce((SELECT max(time) FROM logs), 0),
       coalesce((SELECT max(time) FROM media), 0), coalesce((SELECT max(time) FROM anomalies), 0)) AS t`,
  );
  const latest = num(latestRows[0]?.['t'] ?? 0);
  const anomalous = await rows(conn, 'SELECT DISTINCT site, asset FROM anomalies WHERE time >= $since', {
    since: toBig(latest - ANOMALOUS_WINDOW_MS),
  });
  const inIncident = await rows(
    conn,
    `SELECT DISTINCT site, unnest(assets) AS asset FROM incidents WHERE status = 'open'`,
  );

  const key = (site: unknown, asset: unknown): string => `${str(site)}\u0000${str(asset)}`;
  const anomalousSet = new Set(anomalous.map((r) => key(r['site'], r['asset'])));
  const incidentSet = new Set(inIncident.map((r) => key(r['site'], r['asset'])));
  const byKey = new Map<string, AssetSummary>();
  const summary = (site: string, asset: string): AssetSummary => {
    const k = key(site, asset);
    let s = byKey.get(k);
    if (!s) {
      s = {
        site,
        asset,
        metrics: [],
        state: incidentSet.has(k) ? 'incident' : anomalousSet.has(k) ? 'anomalous' : 'normal',
      };
      byKey.set(k, s);
    }
    return s;
  };
  for (const r of metricRows) {
    const s = summary(str(r['site']), str(r['asset']));
    if (r['stage'] !== null && r['stage'] !== undefined) s.stage = str(r['stage']);
    s.metrics.push({
      metric: str(r['metric']),
      unit: str(r['unit']),
      last: num(r['last']),
      lastTime: num(r['last_time']),
    });
  }
  for (const r of otherRows) {
    const s = summary(str(r['site']), str(r['asset']));
    if (s.stage === undefined && r['stage'] !== null && r['stage'] !== undefined) s.stage = str(r['stage']);
  }
  return [...byKey.values()].sort((a, b) =>
    a.site === b.site ? a.asset.localeCompare(b.asset) : a.site.localeCompare(b.site),
  );
}

async function rows(
  conn: DuckDBConnection,
  sql: string,
  values?: Record<string, DuckDBValue>,
): Promise<Array<Record<string, unknown>>> {
  const reader = values === undefined ? await conn.runAndReadAll(sql) : await conn.runAndReadAll(sql, values);
  return reader.getRowObjectsJS();
}

function whereSql(where: string[]): string {
  return where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
}

function addRange(
  where: string[],
  values: Record<string, DuckDBValue>,
  startCol: string,
  endCol: string,
  range: TimeRange | undefined,
): void {
  if (!range) return;
  where.push(`${startCol} <= $to AND ${endCol} >= $from`);
  values['from'] = toBig(range.from);
  values['to'] = toBig(range.to);
}

function limitOf(limit: number | undefined): bigint {
  const l = limit === undefined || !Number.isFinite(limit) ? DEFAULT_LIMIT : Math.trunc(limit);
  return BigInt(Math.min(MAX_LIMIT, Math.max(0, l)));
}

function toBig(ms: number): bigint {
  return BigInt(Math.trunc(ms));
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new StorageError('E_STORE_QUERY', `expected a number from the embedded store, got ${typeof v}`);
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  throw new StorageError(
    'E_STORE_QUERY',
    `expected a string from the embedded store, got ${v === null ? 'null' : typeof v}`,
  );
}

function assertNever(x: never): never {
  throw new StorageError('E_STORE_WRITE', `unknown record ${JSON.stringify(x)}`);
}
