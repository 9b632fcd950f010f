/**
 * MQTT ingest: subscribes to topics on an MQTT broker (a plant's edge gateway, Mosquitto, ...)
 * and treats each message payload like an HTTP body (one JSON event, an array, or NDJSON).
 * QoS 1/2 messages are acknowledged only after their records are stored in Kafka (accepted to
 * their topic, rejected to the dead letters), so a crash before the ack makes the broker resend.
 *
 * Devices authenticate at the broker (its password file and ACLs decide who may publish on which
 * topic); ingest itself signs in with `username` and a password from the environment or a file,
 * and verifies an `mqtts://` broker against `ca` when given.
 *
 * @example
 * const m = await startMqttIngest({ url: 'mqtt://127.0.0.1:1883', topics: ['plant/+/events'], qos: 1, write, ... });
 * await m.close();
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock } from '../runtime/types.ts';
import type { IngestStats } from './http.ts';
import { splitPayload, validateRecords, type Validated } from './records.ts';

export interface MqttIngestOptions {
  url: string;
  topics: readonly string[];
  qos: 0 | 1 | 2;
  client_id?: string;
  username?: string;
  password?: string;
  /** PEM CA(s) for mqtts://. */
  ca?: string;
  write(accepted: Validated['accepted'], rejected: Validated['rejected'], now: number): Promise<void>;
  max_message_bytes: number;
  max_media_bytes: number;
  site?: string;
  clock: Clock;
  logger: Logger;
  stats?: IngestStats;
}

export class MqttIngestError extends Error {
  readonly code = 'E_INGEST_MQTT';
}

export async function startMqttIngest(o: MqttIngestOptions): Promise<{ client: MqttClient; close(): Promise<void> }> {
  const stats = o.stats ?? { requests: 0, accepted: 0, rejected: 0, failed: 0 };
  const log = o.logger.child({ component: 'ingest-mqtt' });

  async function handle(topic: string, payload: Buffer): Promise<void> {
    stats.requests++;
    const now = o.clock.now();
    const where = `mqtt ${topic}`;
    let v: Validated;
    if (payload.byteLength > o.max_message_bytes) {
      const reason = `message of ${payload.byteLength} bytes exceeds max_message_bytes ${o.max_message_bytes}`;
      v = {
        accepted: [],
        rejected: [
          {
            index: 0,
            reason,
            errors: [{ path: '/', message: reason }],
            raw: payload.subarray(0, 256).toString('utf8'),
            where,
          },
        ],
      };
    } else {
      const records = splitPayload(payload.toString('utf8'), undefined);
      v = validateRecords(records, {
        now,
        source: 'mqtt',
        max_media_bytes: o.max_media_bytes,
        where,
        ...(o.site === undefined ? {} : { site: o.site }),
      });
    }
    await o.write(v.accepted, v.rejected, now);
    stats.accepted += v.accepted.length;
    stats.rejected += v.rejected.length;
  }

  const client: MqttClient = mqtt.connect(o.url, {
    clientId: o.client_id ?? `retimuad-ingest-${process.pid}`,
    // A persistent session keeps QoS 1/2 messages queued on the broker while we are away.
    clean: o.client_id === undefined,
    reconnectPeriod: 1000,
    ...(o.username === undefined ? {} : { username: o.username }),
    ...(o.password === undefined ? {} : { password: o.password }),
    ...(o.ca === undefined ? {} : { ca: o.ca }),
  });
  // mqtt.js sends PUBACK/PUBREC only once handleMessage calls back: we call back after Kafka
  // acknowledged the records. On failure the error ends the connection without an ack, and the
  // broker redelivers QoS 1/2 messages of a persistent session (client_id set) on reconnect.
  client.handleMessage = (packet, callback) => {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    handle(packet.topic, payload).then(
      () => callback(),
      (err: unknown) => {
        stats.failed++;
        log.error({ err, topic: packet.topic }, 'mqtt message not stored; not acknowledged');
        callback(err instanceof Error ? err : new Error(String(err)));
      },
    );
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no CONNACK within 10 s')), 10_000);
      client.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
      client.once('error', (err) => {
        clearTimeout(t);
        reject(err);
      });
    });
  } catch (err) {
    await client.endAsync(true).catch(() => undefined);
    throw new MqttIngestError(`cannot connect to MQTT broker ${o.url}: ${(err as Error).message}`, { cause: err });
  }
  client.on('error', (err) => log.warn({ err }, 'mqtt client error'));
  await client.subscribeAsync([...o.topics], { qos: o.qos });
  log.info({ url: o.url, topics: o.topics }, 'mqtt ingest subscribed');
  return { client, close: () => client.endAsync() };
}
