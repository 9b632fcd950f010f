/**
 * `retimuad ingest --config F`: the ingest process. HTTP `POST /ingest` and/or MQTT subscriptions
 * in, validated, to the Kafka topic layout; rejected records to the dead-letter topic. Its config
 * is a small YAML file (schema below: the type, the validation and the docs are one definition):
 *
 * Access: `POST /ingest` needs an API key of the `ingest` role (from the users file's `apiKeys`,
 * or RETIMUAD_INGEST_API_KEY / RETIMUAD_INGEST_API_KEY_FILE); with none configured, the start
 * fails unless `auth.required: false`. Requests are rate limited per remote address and per
 * key (token buckets, 429 + Retry-After). The MQTT password comes from the environment or a file.
 *
 * @example
 * site: plant-a
 * kafka: { brokers: 127.0.0.1:9092, key_by: stage }
 * http: { port: 8088, max_body_bytes: 1048576, tls_cert_file: /etc/retimuad/tls.crt, tls_key_file: /etc/retimuad/tls.key }
 * mqtt: { url: mqtts://broker:8883, topics: [plant/+/events], qos: 1, username: retimuad-ingest }
 */
import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { createAccessControl, loadUsersFile, type AccessControl } from '../auth/access.ts';
import { sha256Hex } from '../auth/passwords.ts';
import { readSecret, readSecretFile } from '../auth/secrets.ts';
import { loadTls } from '../api/tls.ts';
import { RateLimiter } from './limits.ts';
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
        tls_cert_file: Type.Optional(
          Type.String({ minLength: 1, description: 'PEM certificate: serve HTTPS (with tls_key_file).' }),
        ),
        tls_key_file: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key of tls_cert_file.' })),
        rate_limit: Type.Object(
          {
            per_key_requests_per_sec: Type.Number({ exclusiveMinimum: 0, default: 50 }),
            per_key_burst_requests: Type.Integer({ minimum: 1, default: 100 }),
            per_address_requests_per_sec: Type.Number({ exclusiveMinimum: 0, default: 100 }),
            per_address_burst_requests: Type.Integer({ minimum: 1, default: 200 }),
          },
          {
            additionalProperties: false,
            default: {},
            description: 'Token buckets per API key and per remote address; over the limit → 429 with Retry-After.',
          },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    auth: Type.Object(
      {
        required: Type.Boolean({
          default: true,
          description: 'POST /ingest needs an API key of the ingest role; false only for closed test rigs.',
        }),
        users_file: Type.Optional(
          Type.String({
            minLength: 1,
            description: 'Users file whose apiKeys (role ingest) are accepted; default RETIMUAD_USERS_FILE.',
          }),
        ),
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
          username: Type.Optional(Type.String({ minLength: 1, description: 'User name at the broker.' })),
          password_env: Type.String({
            minLength: 1,
            default: 'RETIMUAD_MQTT_PASSWORD',
            description: 'Environment variable holding the broker password (or <name>_FILE holding its path).',
          }),
          ca_file: Type.Optional(
            Type.String({ minLength: 1, description: 'PEM CA to verify an mqtts:// broker with.' }),
          ),
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

/**
 * The keys `POST /ingest` accepts: the users file's API keys (only those of the ingest role
 * pass the route) plus RETIMUAD_INGEST_API_KEY(_FILE), hashed in memory. Undefined when
 * `auth.required` is false.
 */
export async function ingestAccess(
  cfg: IngestConfig,
  env: Record<string, string | undefined>,
): Promise<AccessControl | undefined> {
  if (!cfg.auth.required) return undefined;
  const path = cfg.auth.users_file ?? env['RETIMUAD_USERS_FILE'];
  const file = path === undefined ? undefined : await loadUsersFile(path);
  const keys = [...(file?.apiKeys ?? [])];
  const envKey = await readSecret(env, 'RETIMUAD_INGEST_API_KEY');
  if (envKey !== undefined) keys.push({ name: 'env', role: 'ingest', hash: `sha256$${sha256Hex(envKey)}` });
  if (!keys.some((k) => k.role === 'ingest'))
    throw new IngestConfigError(
      `ingest /auth: no API key of the ingest role is configured: set RETIMUAD_INGEST_API_KEY or RETIMUAD_INGEST_API_KEY_FILE, add one to the users file${path === undefined ? ' (RETIMUAD_USERS_FILE or auth.users_file)' : ` ${path}`}, or set auth.required: false`,
    );
  return createAccessControl({ users: [], apiKeys: keys });
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
  deps: {
    logger?: Logger;
    clock?: Clock;
    driver?: KafkaDriver;
    env?: Record<string, string | undefined>;
    registry?: Registry;
  } = {},
): Promise<RunningIngest> {
  const logger = deps.logger ?? pino({ level: process.env['RETIMUAD_LOG_LEVEL'] ?? 'info' });
  const clock = deps.clock ?? systemClock;
  const env = deps.env ?? process.env;
  // Credentials, TLS files and the MQTT password are checked before connecting to anything.
  const access = await ingestAccess(cfg, env);
  if ((cfg.http.tls_cert_file === undefined) !== (cfg.http.tls_key_file === undefined))
    throw new IngestConfigError('ingest /http: tls_cert_file and tls_key_file go together');
  const tls =
    cfg.http.tls_cert_file !== undefined && cfg.http.tls_key_file !== undefined
      ? await loadTls({ cert_file: cfg.http.tls_cert_file, key_file: cfg.http.tls_key_file }, 'ingest http')
      : undefined;
  const mqttPassword = cfg.mqtt?.username === undefined ? undefined : await readSecret(env, cfg.mqtt.password_env);
  if (cfg.mqtt?.username !== undefined && mqttPassword === undefined)
    throw new IngestConfigError(
      `ingest /mqtt: no password for user ${cfg.mqtt.username}: set ${cfg.mqtt.password_env} or ${cfg.mqtt.password_env}_FILE`,
    );
  const mqttCa =
    cfg.mqtt?.ca_file === undefined ? undefined : await readSecretFile(cfg.mqtt.ca_file, 'ingest /mqtt/ca_file');
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
      const rl = cfg.http.rate_limit;
      const now = () => clock.now();
      const app = createIngestApp({
        write: (a, r, now) => httpWriter.write(a, r, now),
        max_body_bytes: cfg.http.max_body_bytes,
        max_media_bytes: cfg.max_media_bytes,
        clock,
        logger,
        stats,
        ...site,
        ...(access === undefined ? {} : { authenticate: (k: string) => access.fromApiKey(k) }),
        limits: {
          per_address: new RateLimiter({
            rate_per_sec: rl.per_address_requests_per_sec,
            burst: rl.per_address_burst_requests,
            now,
          }),
          per_key: new RateLimiter({
            rate_per_sec: rl.per_key_requests_per_sec,
            burst: rl.per_key_burst_requests,
            now,
          }),
        },
        ...(deps.registry === undefined ? {} : { registry: deps.registry }),
      });
      const l = await listenIngest(app, cfg.http.port, cfg.http.host, tls);
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
        ...(cfg.mqtt.username === undefined || mqttPassword === undefined
          ? {}
          : { username: cfg.mqtt.username, password: mqttPassword }),
        ...(mqttCa === undefined ? {} : { ca: mqttCa }),
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
