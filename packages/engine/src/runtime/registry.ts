/**
 * The one explicit registry of source and sink types: config `type:` → options schema and
 * factory. Adding a component means adding a line here; nothing registers itself on import.
 *
 * @example
 * const src = sourceTypes.simulator.create('plant', options, deps);
 */
import type { TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import { createFileSource, FileSourceParams } from '../sources/file/index.ts';
import { createSimulatorSource, SimulatorSourceParams } from '../sources/simulator/index.ts';
import { createKafkaSource, KafkaSourceParams } from '../sources/kafka/index.ts';
import { createKafkaSink, KafkaSinkParams } from '../sinks/kafka/kafka.ts';
import { ConsoleSinkParams, createConsoleSink } from '../sinks/console/console.ts';
import { createJsonlSink, JsonlSinkParams } from '../sinks/jsonl/jsonl.ts';
import { createWebhookSink, WebhookSinkParams } from '../sinks/webhook/webhook.ts';
import { createInfluxSink, InfluxSinkParams, type InfluxSinkDeps } from '../sinks/influxdb/influxdb.ts';
import { createElasticsearchSink, ElasticsearchSinkParams } from '../sinks/elasticsearch/elasticsearch.ts';
import { appendDeadLetterTo } from '../sinks/influxdb/retry.ts';
import { withSpillDir } from '../sinks/outbox.ts';
import { EmbeddedStoreParams, openEmbeddedStore, type EmbeddedStore } from '../storage/duckdb-store.ts';
import { createParquetSink, ParquetSinkParams } from '../sinks/parquet/parquet.ts';
import { detectorRegistry } from '../../../core/src/detectors/registry.ts';
import type { ComponentSchemas } from '../config/load.ts';
import type { Metrics } from './metrics.ts';
import type { Sink, Source } from './types.ts';

export interface FactoryDeps {
  logger: Logger;
  metrics: Metrics;
  /** Resolves a path option relative to the config's data directory. */
  dataPath(p: string): string;
  signal: AbortSignal;
}

interface SourceType {
  schema: TSchema;
  create(id: string, options: Record<string, unknown>, deps: FactoryDeps): Source;
}
interface SinkType {
  schema: TSchema;
  create(id: string, options: Record<string, unknown>, deps: FactoryDeps): Promise<Sink>;
}

export const sourceTypes: Record<string, SourceType> = {
  simulator: {
    schema: SimulatorSourceParams,
    create: (id, o) => createSimulatorSource({ ...(o as object), id } as Parameters<typeof createSimulatorSource>[0]),
  },
  file: {
    schema: FileSourceParams,
    create: (id, o, d) =>
      createFileSource(id, { ...(o as FileSourceParams), path: d.dataPath((o as FileSourceParams).path) }),
  },
  kafka: {
    schema: KafkaSourceParams,
    create: (id, o) => createKafkaSource(id, o as KafkaSourceParams),
  },
};

export const sinkTypes: Record<string, SinkType> = {
  embedded_store: {
    schema: EmbeddedStoreParams,
    create: async (id, o, d) =>
      openEmbeddedStore(d.dataPath('retimuad.duckdb'), { ...o, id, logger: d.logger.child({ component: id }) }),
  },
  jsonl: {
    schema: JsonlSinkParams,
    create: (id, o, d) =>
      Promise.resolve(
        createJsonlSink(
          { ...o, path: d.dataPath(String(o['path'])) },
          { id, logger: d.logger.child({ component: id }), signal: d.signal },
        ),
      ),
  },
  console: {
    schema: ConsoleSinkParams,
    create: (id, o, d) => Promise.resolve(createConsoleSink(o, { id, logger: d.logger.child({ component: id }) })),
  },
  kafka: {
    schema: KafkaSinkParams,
    create: (id, o, d) => createKafkaSink(o, { id, logger: d.logger.child({ component: id }), signal: d.signal }),
  },
  webhook: {
    schema: WebhookSinkParams,
    // Every store-like sink gets a durable outbox under data/spill/<id> (survives server outages).
    create: (id, o, d) =>
      Promise.resolve(
        createWebhookSink(
          withSpillDir(id, o, (p) => d.dataPath(p)),
          {
            id,
            logger: d.logger.child({ component: id }),
            signal: d.signal,
            metrics: d.metrics.component(id, 'sink'),
            metricsRegistry: d.metrics.registry,
            onDeadLetter: appendDeadLetterTo(d.dataPath('deadletters.jsonl')),
          },
        ),
      ),
  },
  influxdb: {
    schema: InfluxSinkParams,
    create: (id, o, d) =>
      createInfluxSink(
        withSpillDir(id, o, (p) => d.dataPath(p)),
        { id, ...storeSinkDeps(id, d) },
      ),
  },
  elasticsearch: {
    schema: ElasticsearchSinkParams,
    create: (id, o, d) =>
      createElasticsearchSink(
        withSpillDir(id, o, (p) => d.dataPath(p)),
        { id, ...storeSinkDeps(id, d) },
      ),
  },
  parquet: {
    schema: ParquetSinkParams,
    create: (id, o, d) =>
      createParquetSink(
        { ...o, path: d.dataPath(String(o['path'])) },
        { id, logger: d.logger.child({ component: id }) },
      ),
  },
};

/** What the store sinks (InfluxDB, Elasticsearch) get: a child logger, counters, and refused records appended to deadletters.jsonl. */
function storeSinkDeps(id: string, d: FactoryDeps): Omit<InfluxSinkDeps, 'id'> {
  return {
    logger: d.logger.child({ component: id }),
    metrics: d.metrics.component(id, 'sink'),
    metricsRegistry: d.metrics.registry,
    signal: d.signal,
    onDeadLetter: appendDeadLetterTo(d.dataPath('deadletters.jsonl')),
  };
}

export function componentSchemas(): ComponentSchemas {
  return {
    sources: Object.fromEntries(Object.entries(sourceTypes).map(([k, v]) => [k, v.schema])),
    sinks: Object.fromEntries(Object.entries(sinkTypes).map(([k, v]) => [k, v.schema])),
    detectors: detectorRegistry,
  };
}

export function isEmbeddedStore(s: Sink): s is EmbeddedStore {
  return (
    typeof (s as Partial<EmbeddedStore>).incidents === 'function' &&
    typeof (s as Partial<EmbeddedStore>).prune === 'function'
  );
}
