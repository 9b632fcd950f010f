/**
 * `retimuad ingest --config F`: the ingest process. HTTP `POST /ingest` and/or MQTT subscriptions
 * in, validated, to the Kafka topic layout; rejected records to the dead-letter topic. Its config
 * is a small YAML file (schema below: the type, the validation and the docs are one definition):
 *
 * @example
 * site: plant-a
 * kafka: { brokers: 127.0.0.1:9092, key_by: stage }
 * http: { port: 8088, max_body_bytes: 1048576 }
 * mqtt: { url: mqtt://127.0.0.1:1883, topics: [plant/+/events], qos: 1 }
 */
import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import pino, { type Logger } from 'pino';
import { parse } from 'yaml';
import { connectKafka, KafkaConnectionParams } from '../kafka/connect.ts';
import type { KafkaDriver } from '../kafka/driver.ts';
import { ensureTopics } from '../kafka/topics.ts';
import { systemClock, type Clock } from '../runtime/types.ts';
import { createIngestApp, listenIngest, type IngestStats } from './http.ts';
import { startMqttIngest } from './mqtt.ts';
import { IngestWriter } from './records.ts';

export const IngestConfig = Type.Object(
  {
    site: Type.Optional(Type.String({ minLength: 1, description: 'Site given to records that carry none.' })),
    max_media_bytes: Type.Integer({
      minimum: 0,
      default: 8 * 1024 * 1024,
      description: 'Largest media blob an audio/image reference may declare.',
    }),
    kafka: Type.Object(
      {
        ...KafkaConnectionParams,
        key_by: Type.Union([Type.Literal('asset'), Type.Literal('stage'), Type.Literal('site')], {
          default: 'asset',
          description: 'Partition key: site/asset, site/stage or site (see docs/kafka.md).',
        }),
        ensure_topics: Type.Boolean({ default: true, description: 'Create missing topics at start.' }),
        event_partitions: Type.Integer({
          minimum: 1,
          default: 6,
          description: 'Partitions of the event topics it creates.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    http: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        host: Type.String({ default: '127.0.0.1', description: 'Address to listen on; loopback by default.' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8088 }),
        max_body_bytes: Type.Integer({
          minimum: 1,
          default: 1024 * 1024,
          description: 'Larger request bodies are refused (413) before parsing.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    mqtt: Type.Optional(
      Type.Object(
        {
          url: Type.String({ minLength: 1, description: 'Broker URL, e.g. mqtt://127.0.0.1:1883.' }),
          topics: Type.Array(Type.String({ minLength: 1 }), {
            minItems: 1,
            description: 'Topic filters to subscribe to (+ and # allowed).',
          }),
          qos: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], { default: 1 }),
          client_id: Type.Optional(
            Type.String({
              minLength: 1,
              description: 'Fixed client id: a persistent session keeps messages while ingest is down.',
            }),
          ),
          max_message_bytes: Type.Integer({ minimum: 1, default: 256 * 1024 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type IngestConfig = Static<typeof IngestConfig>;

export class IngestConfigError extends Error {
  readonly code = 'E_INGEST_CONFIG';
}

/** Parses and validates ingest config text; problems name the file and the path. */
export function parseIngestConfig(text: string, file: string): IngestConfig {
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (err) {
    throw new IngestConfigError(`${file}: not YAML: ${(err as Error).message}`);
  }
  const v = Value.Default(IngestConfig, Value.Clone(raw));
  if (!Value.Check(IngestConfig, v)) {
    const problems = [...Value.Errors(IngestConfig, v)]
      .slice(0, 10)
      .map(
        (e) =>
          `${file} ${e.path || '/'}: ${e.message}${e.value === undefined ? '' : `, got ${JSON.stringify(e.value)}`}`,
      );
    throw new IngestConfigError(problems.join('\n'));
  }
  return v;
}

export interface RunningIngest {
  url: string | undefined;
  stats: IngestStats;
  close(): Promise<void>;
}

export async function startIngest(
  cfg: IngestConfig,
  deps: { logger?: Logger; clock?: Clock; driver?: KafkaDriver } = {},
): Promise<RunningIngest> {
  const logger = deps.logger ?? pino({ level: process.env['RETIMUAD_LOG_LEVEL'] ?? 'info' });
  const clock = deps.clock ?? systemClock;
  const { kafka, layout } = await connectKafka(cfg.kafka, 'ingest', deps.driver);
  if (cfg.kafka.ensure_topics) await ensureTopics(kafka, layout, { event_partitions: cfg.kafka.event_partitions });
  const stats: IngestStats = { requests: 0, accepted: 0, rejected: 0, failed: 0 };
  const httpWriter = new IngestWriter(kafka, layout, cfg.kafka.key_by, 'ingest-http');
  const mqttWriter = new IngestWriter(kafka, layout, cfg.kafka.key_by, 'ingest-mqtt');
  const site = cfg.site === undefined ? {} : { site: cfg.site };
  const closers: Array<() => Promise<void>> = [];
  let url: string | undefined;
  try {
    if (cfg.http.enabled) {
      const app = createIngestApp({
        write: (a, r, now) => httpWriter.write(a, r, now),
        max_body_bytes: cfg.http.max_body_bytes,
        max_media_bytes: cfg.max_media_bytes,
        clock,
        logger,
        stats,
        ...site,
      });
      const l = await listenIngest(app, cfg.http.port, cfg.http.host);
      url = l.url;
      closers.push(() => l.close());
    }
    if (cfg.mqtt !== undefined) {
      const m = await startMqttIngest({
        url: cfg.mqtt.url,
        topics: cfg.mqtt.topics,
        qos: cfg.mqtt.qos,
        write: (a, r, now) => mqttWriter.write(a, r, now),
        max_message_bytes: cfg.mqtt.max_message_bytes,
        max_media_bytes: cfg.max_media_bytes,
        clock,
        logger,
        stats,
        ...site,
        ...(cfg.mqtt.client_id === undefined ? {} : { client_id: cfg.mqtt.client_id }),
      });
      closers.push(() => m.close());
    }
  } catch (err) {
    for (const c of closers) await c().catch(() => undefined);
    await kafka.close();
    throw err;
  }
  return {
    url,
    stats,
    close: async () => {
      for (const c of closers.reverse()) await c();
      await kafka.close();
    },
  };
}

/** Runs until SIGINT/SIGTERM. */
export async function runIngestCommand(file: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new IngestConfigError(`${file}: cannot read the file (${(err as Error).message})`);
  }
  const cfg = parseIngestConfig(text, file);
  const ing = await startIngest(cfg);
  process.stdout.write(
    `${JSON.stringify({ event: 'listening', http: ing.url !== undefined ? `${ing.url}/ingest` : null, mqtt: cfg.mqtt?.url ?? null, topics_prefix: cfg.kafka.topic_prefix })}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await ing.close();
}
