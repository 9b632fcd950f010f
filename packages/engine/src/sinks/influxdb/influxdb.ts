/**
 * InfluxDB sink: readings, detector scores, anomalies and incidents as line protocol (schema in
 * `schema.ts`), written in batches of `batch_size` lines, `concurrency` requests at a time.
 *
 * Endpoints, chosen by `api`:
 * - `v1` (InfluxDB 1.x, and the 1.x compatibility API of 2.x/3.x):
 *   `POST {url}/write?db={database}[&rp={retention_policy}]&precision=ms`; with `username`, the
 *   secret is its password (HTTP Basic), without, the secret (if any) is sent as `Token <secret>`.
 * - `v2` (InfluxDB 2.x and 3.x): `POST {url}/api/v2/write?org={org}&bucket={bucket}&precision=ms`
 *   with `Authorization: Token <secret>`.
 * The secret never sits in the config: `token_env` names an environment variable, `token_file`
 * a file (a mounted Docker/Kubernetes secret).
 *
 * Delivery: network errors, timeouts, 408/429/5xx are retried with exponential back-off and
 * jitter, up to `max_retries` times, then the write throws E_INFLUX_GAVE_UP (the runtime spills the
 * batch to `undelivered-<id>.jsonl`). A 400/413 means some lines are bad or the body too big: the
 * chunk is split in halves until the bad lines are isolated, and each bad line goes to the dead
 * letters with the server's reason; re-sending the good ones is harmless because a point with the
 * same series and time is overwritten, not duplicated. 401/403/404 (wrong credentials, unknown
 * database or bucket) fail at once with E_INFLUX_REJECTED: retrying cannot fix configuration.
 * Once the runtime's shutdown signal fires, a request still gets its one attempt (the last flush
 * comes after that signal) but no retries: what fails then is spilled to disk, not waited for.
 *
 * With `spill_dir` set, writes go through the durable outbox (`../outbox.ts`): write() queues the
 * line-protocol lines (memory, spilled to disk when full or while the server is down) and a
 * background deliverer sends them in order, retrying forever with back-off, so an outage of any
 * length within `max_spill_bytes` loses nothing; a restart resumes what was spilled.
 *
 * @example
 * const sink = await createInfluxSink({ url: 'http://127.0.0.1:8086', database: 'retimuad', create_database: true }, { logger });
 * await sink.write([{ type: 'event', event: reading }]); // → readings,asset=P-101,… value=41.2 1700000000000
 */
import { gzipSync } from 'node:zlib';
import { Type, type Static } from '@sinclair/typebox';
import type { DeadLetter, Sink, SinkRecord, SinkRecordType } from '../../runtime/types.ts';
import { deadLetterWriter, resolveSinkParams, trackedWrites, type SinkDeps } from '../common.ts';
import { OutboxParamProps, openOutbox, outboxWriter, type OutboxStats } from '../outbox.ts';
import { keepAliveClient } from './http.ts';
import { recordToLine } from './line-protocol.ts';
import { backoffDelay, describeFetchError, readSecret, retryableStatus, sleep } from './retry.ts';

export const InfluxSinkParams = Type.Object(
  {
    url: Type.String({
      pattern: '^https?://',
      default: 'http://127.0.0.1:8086',
      description: 'Base URL of the InfluxDB HTTP API.',
    }),
    api: Type.Union([Type.Literal('v1'), Type.Literal('v2')], {
      default: 'v1',
      description:
        'v1: /write?db= (InfluxDB 1.x or the 1.x compatibility API); v2: /api/v2/write?org=&bucket= (InfluxDB 2.x, 3.x).',
    }),
    database: Type.String({ minLength: 1, default: 'retimuad', description: 'v1: database to write to.' }),
    retention_policy: Type.Optional(
      Type.String({ minLength: 1, description: 'v1: retention policy (default: the database default).' }),
    ),
    create_database: Type.Boolean({ default: false, description: 'v1: run CREATE DATABASE (idempotent) at start.' }),
    org: Type.Optional(Type.String({ minLength: 1, description: 'v2: organisation name or id.' })),
    bucket: Type.Optional(Type.String({ minLength: 1, description: 'v2: bucket name (3.x: database name).' })),
    username: Type.Optional(
      Type.String({ minLength: 1, description: 'v1: user name; the secret is then its password (HTTP Basic).' }),
    ),
    token_env: Type.Optional(
      Type.String({ minLength: 1, description: 'Environment variable holding the token (v2) or password/token (v1).' }),
    ),
    token_file: Type.Optional(
      Type.String({ minLength: 1, description: 'File holding the secret, used when token_env is unset or empty.' }),
    ),
    batch_size: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 10_000,
      description: 'Lines per HTTP request (InfluxDB suggests 5000 to 10000).',
    }),
    concurrency: Type.Integer({ minimum: 1, maximum: 16, default: 2, description: 'Requests in flight at once.' }),
    gzip: Type.Boolean({
      default: false,
      description: 'Send bodies gzip-compressed (saves bandwidth, costs CPU: on loopback about 25% slower).',
    }),
    timeout_ms: Type.Integer({ minimum: 1, default: 10_000, description: 'Per-request timeout.' }),
    max_retries: Type.Integer({
      minimum: 0,
      maximum: 1000,
      default: 10,
      description: 'Retries of a request after the first attempt.',
    }),
    backoff_initial_ms: Type.Integer({
      minimum: 0,
      default: 200,
      description: 'Delay before the first retry; doubles each retry.',
    }),
    backoff_max_ms: Type.Integer({ minimum: 0, default: 10_000, description: 'Upper bound of any one delay.' }),
    ...OutboxParamProps,
  },
  { additionalProperties: false },
);
export type InfluxSinkParams = Static<typeof InfluxSinkParams>;

export type InfluxSinkErrorCode =
  'E_INFLUX_PARAMS' | 'E_INFLUX_CLOSED' | 'E_INFLUX_REJECTED' | 'E_INFLUX_GAVE_UP' | 'E_INFLUX_ABORTED';

export class InfluxSinkError extends Error {
  override readonly name = 'InfluxSinkError';
  constructor(
    readonly code: InfluxSinkErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface InfluxSinkDeps extends SinkDeps {
  /** Where lines the server refused go, with its reason (the runtime appends them to deadletters.jsonl). */
  onDeadLetter?: (dl: DeadLetter) => void | Promise<void>;
  /** Randomness for jitter, in [0, 1); injectable for tests. */
  random?: () => number;
  env?: NodeJS.ProcessEnv;
}

export interface InfluxSink extends Sink {
  /** Lines written and lines dead-lettered since start. */
  stats(): { written: number; rejected: number; requests: number; retries: number; outbox?: OutboxStats };
  /** The write URL, without credentials (for logs and tests). */
  readonly writeUrl: string;
}

const ACCEPTS: ReadonlySet<SinkRecordType> = new Set<SinkRecordType>(['event', 'score', 'anomaly', 'incident']);

function validateTarget(p: InfluxSinkParams): void {
  if (p.api === 'v2' && (p.org === undefined || p.bucket === undefined)) {
    throw new InfluxSinkError(
      'E_INFLUX_PARAMS',
      `influxdb sink: api "v2" needs both /org and /bucket (got ${p.org === undefined ? 'no org' : 'no bucket'})`,
    );
  }
  if (p.username !== undefined && p.api !== 'v1') {
    throw new InfluxSinkError(
      'E_INFLUX_PARAMS',
      'influxdb sink: /username is for api "v1" only; api "v2" authenticates with a token',
    );
  }
}

export async function createInfluxSink(raw: unknown, deps: InfluxSinkDeps): Promise<InfluxSink> {
  let params: InfluxSinkParams;
  try {
    params = resolveSinkParams('influxdb', InfluxSinkParams, raw);
  } catch (err) {
    throw new InfluxSinkError('E_INFLUX_PARAMS', (err as Error).message, { cause: err });
  }
  validateTarget(params);
  const id = deps.id ?? 'influxdb';
  const log = deps.logger;
  const random = deps.random ?? Math.random;
  const base = params.url.replace(/\/+$/, '');
  let secret: string | undefined;
  try {
    secret = readSecret({ env: params.token_env, file: params.token_file }, `influxdb sink ${id}`, deps.env);
  } catch (err) {
    throw new InfluxSinkError('E_INFLUX_PARAMS', (err as Error).message, { cause: err });
  }
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', 'user-agent': 'retimu-ad' };
  if (secret !== undefined) {
    headers['authorization'] =
      params.username !== undefined
        ? `Basic ${Buffer.from(`${params.username}:${secret}`).toString('base64')}`
        : `Token ${secret}`;
  }
  if (params.gzip) headers['content-encoding'] = 'gzip';
  const writeUrl =
    params.api === 'v1'
      ? `${base}/write?${new URLSearchParams({ db: params.database, ...(params.retention_policy !== undefined ? { rp: params.retention_policy } : {}), precision: 'ms' }).toString()}`
      : `${base}/api/v2/write?${new URLSearchParams({ org: params.org ?? '', bucket: params.bucket ?? '', precision: 'ms' }).toString()}`;

  const closing = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, closing.signal]) : closing.signal;
  const counts = { written: 0, rejected: 0, requests: 0, retries: 0 };
  // One kept-alive connection per request in flight (fetch cost ~4× the client CPU per request).
  const client = keepAliveClient(params.concurrency);
  closing.signal.addEventListener('abort', () => client.close(), { once: true });
  const writeDeadLetter = deadLetterWriter(id, deps);

  if (params.api === 'v1' && params.create_database) {
    try {
      const res = await fetch(`${base}/query`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(headers['authorization'] ? { authorization: headers['authorization'] } : {}),
        },
        body: new URLSearchParams({ q: `CREATE DATABASE "${params.database.replace(/["\\]/g, '\\$&')}"` }).toString(),
        signal: AbortSignal.timeout(params.timeout_ms),
      });
      const text = await res.text();
      if (!res.ok || text.includes('"error"'))
        log.warn(
          { status: res.status, body: text.slice(0, 200) },
          `influxdb: CREATE DATABASE ${params.database} failed`,
        );
    } catch (err) {
      // Not fatal: the server may come up later, and writes retry.
      log.warn(
        { problem: describeFetchError(err, params.timeout_ms) },
        `influxdb: cannot reach ${base} to create database ${params.database}; writes will retry`,
      );
    }
  }

  async function deadLetter(line: string, reason: string): Promise<void> {
    counts.rejected++;
    deps.metrics?.discarded('rejected_by_store');
    log.warn({ reason, line: line.slice(0, 300) }, 'influxdb refused a line; dead-lettered');
    await writeDeadLetter(`influxdb ${writeUrl}`, reason, line);
  }

  /** One POST with retries; returns undefined on success, or the 400/413 problem for the caller to bisect. */
  async function post(body: string, n: number): Promise<{ status: number; problem: string } | undefined> {
    const payload = params.gzip ? gzipSync(body) : body;
    let lastProblem = '';
    for (let attempt = 0; attempt <= params.max_retries; attempt++) {
      if (signal.aborted && attempt > 0)
        throw new InfluxSinkError(
          'E_INFLUX_ABORTED',
          `influxdb sink ${id}: ${n} lines not written, shutting down (${lastProblem || 'before first attempt'})`,
        );
      counts.requests++;
      try {
        const res = await client.post(writeUrl, headers, payload, closing.signal, params.timeout_ms);
        const text = res.text;
        if (res.status >= 200 && res.status < 300) return undefined;
        const reason = influxErrorText(text) || res.header('x-influxdb-error') || text.slice(0, 300);
        lastProblem = `HTTP ${res.status}${reason ? `: ${reason}` : ''}`;
        if (res.status === 400 || res.status === 413 || res.status === 422)
          return { status: res.status, problem: lastProblem };
        if (!retryableStatus(res.status)) {
          throw new InfluxSinkError(
            'E_INFLUX_REJECTED',
            `influxdb sink ${id}: ${writeUrl} refused the write with ${lastProblem}`,
          );
        }
      } catch (err) {
        if (err instanceof InfluxSinkError) throw err;
        if (closing.signal.aborted)
          throw new InfluxSinkError('E_INFLUX_ABORTED', `influxdb sink ${id}: ${n} lines not written, shutting down`, {
            cause: err,
          });
        lastProblem = describeFetchError(err, params.timeout_ms);
      }
      if (attempt === params.max_retries) break;
      counts.retries++;
      const delay = backoffDelay(
        { initial_ms: params.backoff_initial_ms, max_ms: params.backoff_max_ms },
        attempt,
        random,
      );
      log.warn(
        { url: writeUrl, attempt: attempt + 1, delayMs: Math.round(delay), lines: n, problem: lastProblem },
        'influxdb write failed, retrying',
      );
      await sleep(delay, signal);
    }
    throw new InfluxSinkError(
      'E_INFLUX_GAVE_UP',
      `influxdb sink ${id}: gave up writing ${n} lines to ${writeUrl} after ${params.max_retries + 1} attempts; last problem: ${lastProblem}`,
    );
  }

  /** Writes lines; on a 400/413 halves the chunk until the bad lines are alone, then dead-letters them. */
  async function writeChunk(lines: readonly string[]): Promise<void> {
    const problem = await post(lines.join('\n'), lines.length);
    if (problem === undefined) {
      counts.written += lines.length;
      return;
    }
    if (lines.length === 1) return deadLetter(lines[0] ?? '', problem.problem);
    const mid = lines.length >> 1;
    await writeChunk(lines.slice(0, mid));
    await writeChunk(lines.slice(mid));
  }

  function toLines(batch: readonly SinkRecord[]): string[] {
    const lines: string[] = [];
    for (const rec of batch) {
      const line = recordToLine(rec);
      if (line !== undefined) lines.push(line);
    }
    return lines;
  }

  async function writeLines(lines: readonly string[]): Promise<void> {
    const chunks: string[][] = [];
    for (let i = 0; i < lines.length; i += params.batch_size) chunks.push(lines.slice(i, i + params.batch_size));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks.length) {
        const chunk = chunks[next++];
        if (chunk) await writeChunk(chunk);
      }
    };
    await Promise.all(Array.from({ length: Math.min(params.concurrency, chunks.length) }, worker));
  }

  /**
   * The direct path: each request slot encodes its own next batch_size lines just before sending
   * them, so encoding one chunk overlaps the server's work on the others (encoding everything
   * first left the server idle meanwhile, then the client idle while it wrote).
   */
  async function writeRecords(batch: readonly SinkRecord[]): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batch.length) {
        const lines: string[] = [];
        while (next < batch.length && lines.length < params.batch_size) {
          const rec = batch[next++];
          const line = rec === undefined ? undefined : recordToLine(rec);
          if (line !== undefined) lines.push(line);
        }
        if (lines.length > 0) await writeChunk(lines);
      }
    };
    const slots = Math.min(params.concurrency, Math.ceil(batch.length / params.batch_size));
    await Promise.all(Array.from({ length: slots }, worker));
  }

  if (params.spill_dir !== undefined) {
    const outbox = await openOutbox<string>(
      { ...params, spill_dir: params.spill_dir },
      {
        id,
        logger: log,
        deliver: writeLines,
        abortDelivery: () => closing.abort(),
        onDeadLetter: async (lines, reason) => {
          for (const line of lines) await writeDeadLetter(`influxdb outbox ${params.spill_dir ?? ''}`, reason, line);
        },
        chunkMaxEvents: Math.min(params.batch_size, params.buffer_max_events),
        // One delivery fills `concurrency` requests of batch_size lines.
        deliverMaxEvents: params.batch_size * params.concurrency,
        ...(deps.metrics !== undefined ? { metrics: deps.metrics } : {}),
        ...(deps.metricsRegistry !== undefined ? { registry: deps.metricsRegistry } : {}),
        random,
      },
    );
    return {
      id,
      accepts: ACCEPTS,
      writeUrl,
      stats: () => ({ ...counts, outbox: outbox.stats() }),
      ...outboxWriter(
        outbox,
        toLines,
        () => new InfluxSinkError('E_INFLUX_CLOSED', `influxdb sink ${id} is closed`),
        () => closing.abort(),
      ),
    };
  }

  return {
    id,
    accepts: ACCEPTS,
    writeUrl,
    stats: () => ({ ...counts }),
    ...trackedWrites(
      (batch) => writeRecords(batch),
      closing,
      () => new InfluxSinkError('E_INFLUX_CLOSED', `influxdb sink ${id} is closed`),
    ),
  };
}

/** InfluxDB 1.x answers {"error":"..."}, 2.x {"code":"...","message":"..."}. */
function influxErrorText(text: string): string {
  if (!text.startsWith('{')) return '';
  try {
    const j = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (typeof j.error === 'string') return j.error;
    if (typeof j.message === 'string') return j.message;
  } catch {
    // not JSON after all
  }
  return '';
}
