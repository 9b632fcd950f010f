/**
 * `retimuad api --config F`: the operator console and HTTP API of the Kafka stack (ADR 0008).
 * It reads the workers' output (anomalies, incidents, dead letters) and the modality topics from
 * Kafka with its own consumer group into its own embedded DuckDB store, and serves the same
 * console, API, live feed and operator actions as `retimuad run` from it. Offsets are committed
 * only after a batch is stored, so a restart loses nothing; replayed anomalies and dead letters are
 * dropped by id, incidents keep their highest revision.
 *
 * @example
 * const api = await startStackApi({ config: 'deploy/retimuad/worker.yaml', port: 8080 });
 * console.log(api.url);          // http://127.0.0.1:8080/
 * await api.stop();
 */
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { analyze } from '../analytics/analyze.ts';
import { setupAccess, type AccessControl, type AccessSeed } from '../auth/access.ts';
import { makeLogger } from '../cli/run.ts';
import { loadConfigFile, type PipelineConfig } from '../config/load.ts';
import type { KafkaRecordIn, KafkaSubscription } from '../kafka/client.ts';
import { connectKafka, type KafkaConnection } from '../kafka/connect.ts';
import { TOPIC_ROLES, type TopicRole } from '../kafka/topics.ts';
import { createMetrics } from '../runtime/metrics.ts';
import { componentSchemas } from '../runtime/registry.ts';
import type { SinkRecord } from '../runtime/types.ts';
import { createFsBlobStore } from '../storage/blobs.ts';
import { openEmbeddedStore, type EmbeddedStoreOptions } from '../storage/duckdb-store.ts';
import { decodeBusRecord, RecentIds } from './bus-records.ts';
import { createLiveHub, createLiveSink, type HealthReport } from './deps.ts';
import { apiTls } from './tls.ts';
import { createApiServer } from './server.ts';

export class StackApiConfigError extends Error {
  readonly code = 'E_API_CONFIG';
}

import { DEFAULT_API_TOPICS } from '../kafka/topics.ts';
export { DEFAULT_API_TOPICS };

export interface StackApiOptions {
  /** A pipeline config (the workers' file will do): its kafka source or sink gives brokers and prefix, `api` host/port, `data_dir` the store's folder. */
  config: string | PipelineConfig;
  port?: number;
  host?: string;
  dataDir?: string;
  /** Consumer group of this api process; default `retimuad-api`. Each api instance needs its own. */
  groupId?: string;
  topics?: readonly TopicRole[];
  /** Where media blobs are read from (shared with ingest/simulator); default <data_dir>/blobs. */
  blobsDir?: string;
  /** Sign-in as in `retimuad run`; `{ disabled: true }` only for tests. */
  auth?: AccessSeed & { disabled?: boolean };
  /** Store batches of up to this many records; default 5000. */
  batch_max?: number;
  /** ... and at least this often; default 200. */
  flush_interval_ms?: number;
  logger?: Logger;
  print?: (line: string) => void;
}

export interface StackApi {
  url: string;
  /** Records stored so far, by topic role, and records refused (bad JSON or shape). */
  counts(): { stored: Partial<Record<TopicRole, number>>; refused: number; duplicates: number };
  stop(): Promise<void>;
}

function kafkaConnection(config: PipelineConfig): KafkaConnection {
  const c = [...config.sources, ...config.sinks].find((x) => x.type === 'kafka');
  if (c === undefined) {
    throw new StackApiConfigError(
      `${config.file}: /sources: \`retimuad api\` reads Kafka; expected a source or sink of type kafka naming brokers and topic_prefix`,
    );
  }
  // Everything of the connection (brokers, prefix, SASL/TLS), but not the component's client id.
  const { client_id: _id, ...conn } = c.options as KafkaConnection;
  return conn;
}

export async function startStackApi(opts: StackApiOptions): Promise<StackApi> {
  const print = opts.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  const config = typeof opts.config === 'string' ? await loadConfigFile(opts.config, componentSchemas()) : opts.config;
  const dataDir = resolve(opts.dataDir ?? config.dataDir);
  await mkdir(dataDir, { recursive: true });
  const logger = opts.logger ?? makeLogger(dataDir, process.env['RETIMUAD_LOG_LEVEL'] ?? 'info');
  const log = logger.child({ component: 'api-bus' });
  const roles = opts.topics ?? DEFAULT_API_TOPICS;
  for (const r of roles) {
    if (!TOPIC_ROLES.includes(r)) {
      throw new StackApiConfigError(
        `--topics: '${String(r)}' is not a topic of the layout (${TOPIC_ROLES.join(', ')})`,
      );
    }
  }
  const conn = kafkaConnection(config);
  let access: AccessControl | undefined;
  if (opts.auth?.disabled !== true) {
    const { disabled: _d, ...seed } = opts.auth ?? {};
    access = await setupAccess({ dataDir, env: process.env, print, seed });
  }

  const storeCfg = config.sinks.find((s) => s.type === 'embedded_store');
  const store = await openEmbeddedStore(join(dataDir, 'retimuad.duckdb'), {
    ...((storeCfg?.options ?? {}) as Partial<EmbeddedStoreOptions>),
    id: 'store',
    logger: logger.child({ component: 'store' }),
  });
  const metrics = createMetrics();
  const bus = metrics.component('kafka-bus', 'source');
  const storeStats = metrics.component('store', 'sink');
  const hub = createLiveHub({ bufferSize: 2000, logger });
  const live = createLiveSink(hub);
  const blobsDir = opts.blobsDir ?? join(dataDir, 'blobs');
  const blobs = createFsBlobStore(isAbsolute(blobsDir) ? blobsDir : resolve(blobsDir));
  const startedAt = Date.now();

  const { kafka, layout } = await connectKafka(conn, 'api');
  const batchMax = opts.batch_max ?? 5000;
  const flushMs = opts.flush_interval_ms ?? 200;
  const pending: SinkRecord[] = [];
  const last = new Map<string, KafkaRecordIn>();
  const seen = new RecentIds(200_000);
  const stored: Partial<Record<TopicRole, number>> = {};
  const pendingRoles: TopicRole[] = [];
  let refused = 0;
  let duplicates = 0;
  let deadLetters = 0;
  let lastError: string | undefined;
  let stopping = false;

  // One flush at a time, in order: a batch is stored before the offsets that cover it are committed.
  let chain: Promise<void> = Promise.resolve();
  const flushOnce = async (): Promise<void> => {
    if (pending.length === 0 && last.size === 0) return;
    const batch = pending.splice(0);
    const batchRoles = pendingRoles.splice(0);
    const commits = [...last.values()];
    last.clear();
    try {
      if (batch.length > 0) {
        await store.write(batch);
        await live.write(batch);
        storeStats.received(batch.length, 'record');
      }
      lastError = undefined;
    } catch (err) {
      // Keep the batch and its offsets for the next flush: nothing is committed that is not stored.
      lastError = (err as Error).message;
      storeStats.error(lastError);
      log.error({ err, records: batch.length }, 'storing a batch from Kafka failed; will retry');
      pending.unshift(...batch);
      pendingRoles.unshift(...batchRoles);
      for (const r of commits) {
        const k = `${r.topic}[${r.partition}]`;
        if (!last.has(k)) last.set(k, r);
      }
      return;
    }
    for (const role of batchRoles) stored[role] = (stored[role] ?? 0) + 1;
    for (const r of commits) {
      await r
        .commit()
        .catch((err: unknown) => log.warn({ err, topic: r.topic, partition: r.partition }, 'offset commit failed'));
    }
  };
  const flush = (): Promise<void> => (chain = chain.then(flushOnce));
  const timer = setInterval(() => void flush(), flushMs);
  timer.unref();

  const topicNames = roles.map((r) => layout.name(r));
  const sub: KafkaSubscription = await kafka.subscribe({
    topics: topicNames,
    groupId: opts.groupId ?? 'retimuad-api',
    from: 'committed',
    max_wait_ms: 200,
    onAssignment: (a) => log.info({ generation: a.generation, partitions: a.partitions }, 'partitions assigned'),
  });

  const consumed = (async () => {
    for await (const rec of sub) {
      // After the final flush: not stored, not committed, so read again at the next start.
      if (stopping) continue;
      const role = layout.roleOf(rec.topic);
      last.set(`${rec.topic}[${rec.partition}]`, rec);
      if (role === undefined) continue;
      bus.received(1, role);
      const r = decodeBusRecord(role, rec.value, rec.timestamp_ms);
      if (!r.ok) {
        refused++;
        bus.discarded('invalid');
        log.warn(
          { topic: rec.topic, partition: rec.partition, offset: rec.offset.toString(), reason: r.reason },
          'record refused',
        );
        continue;
      }
      const id =
        r.record.type === 'anomaly'
          ? `a:${r.record.anomaly.id}`
          : r.record.type === 'deadletter'
            ? `d:${r.record.deadLetter.id}`
            : undefined;
      if (id !== undefined && !seen.add(id)) {
        duplicates++;
        bus.discarded('duplicate');
        continue;
      }
      if (r.record.type === 'deadletter') deadLetters++;
      pending.push(r.record);
      pendingRoles.push(role);
      // Backpressure: the fetch loop waits while the store catches up.
      if (pending.length >= batchMax) await flush();
    }
  })().catch((err: unknown) => {
    lastError = (err as Error).message;
    log.error({ err }, 'consuming from Kafka stopped');
  });

  const health = (): HealthReport => {
    const components = metrics.all().map((c) => ({
      id: c.id,
      kind: c.kind,
      received: c.received,
      emitted: c.emitted,
      discarded: c.discarded,
      ...(c.lastError === undefined ? {} : { lastError: c.lastError }),
    }));
    return {
      status: lastError === undefined ? 'ok' : 'degraded',
      uptimeSecs: Math.round((Date.now() - startedAt) / 1000),
      components,
      queue: { depth: pending.length, capacity: batchMax },
      deadLetters,
    };
  };
  const api = createApiServer({
    ...(access === undefined ? {} : { access }),
    actions: store,
    store,
    analyze: (o) => analyze(store.query.bind(store), o),
    registry: metrics.registry,
    live: hub,
    health,
    blobs,
    logger,
    ...apiTls(config.api),
  });
  const listening = await api.listen(opts.port ?? config.api.port, opts.host ?? config.api.host);
  print(`RETIMU-AD dashboard (Kafka stack): ${listening.url}`);
  print(`Reading ${topicNames.join(', ')} on ${kafka.brokers.join(',')}; store ${join(dataDir, 'retimuad.duckdb')}`);

  let stopped: Promise<void> | undefined;
  return {
    url: listening.url,
    counts: () => ({ stored: { ...stored }, refused, duplicates }),
    stop: () =>
      (stopped ??= (async () => {
        clearInterval(timer);
        // Store and commit what was read while the group is still joined (commits need it).
        stopping = true;
        await flush();
        await sub.close().catch((err: unknown) => log.warn({ err }, 'closing the subscription failed'));
        await consumed;
        await listening.close();
        await kafka.close();
        await store.close();
      })()),
  };
}

/** Runs until SIGINT/SIGTERM. */
export async function runStackApiCommand(opts: Omit<StackApiOptions, 'print'>): Promise<void> {
  const api = await startStackApi(opts);
  await new Promise<void>((done) => {
    const onSignal = () => void api.stop().then(done);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}
