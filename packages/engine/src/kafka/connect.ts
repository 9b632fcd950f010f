/**
 * Shared connection options of every Kafka component (source, sink, ingest, worker, simulate):
 * one TypeBox schema for the `brokers`, `topic_prefix` and `client_id` options, and a helper that
 * loads the driver and builds a KafkaClient from them.
 *
 * @example
 * const { kafka, layout } = await connectKafka({ brokers: '127.0.0.1:9092', topic_prefix: 'retimuad' }, 'worker');
 */
import { Type, type Static } from '@sinclair/typebox';
import { KafkaClient, parseBrokers } from './client.ts';
import { loadKafkaDriver, type KafkaDriver } from './driver.ts';
import { topicLayout, type TopicLayout } from './topics.ts';

export const KafkaConnectionParams = {
  brokers: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
    default: '127.0.0.1:9092',
    description: 'Bootstrap brokers: "host:port,host:port" or a list.',
  }),
  topic_prefix: Type.String({
    default: 'retimuad',
    description: 'Topics are <prefix>.readings, <prefix>.incidents, ...',
  }),
  client_id: Type.Optional(
    Type.String({ minLength: 1, description: 'Kafka client id; default retimuad-<component id>.' }),
  ),
};
const _connectionSchema = Type.Object(KafkaConnectionParams);
export type KafkaConnection = Partial<Static<typeof _connectionSchema>>;

let cachedDriver: Promise<KafkaDriver> | undefined;

export async function connectKafka(
  o: KafkaConnection,
  componentId: string,
  driver?: KafkaDriver,
): Promise<{ kafka: KafkaClient; layout: TopicLayout; brokers: string[] }> {
  const list = Array.isArray(o.brokers) ? o.brokers.join(',') : (o.brokers ?? '127.0.0.1:9092');
  const brokers = parseBrokers(list, `${componentId}.brokers`);
  const layout = topicLayout({ prefix: o.topic_prefix ?? 'retimuad' });
  const d = driver ?? (await (cachedDriver ??= loadKafkaDriver()));
  const kafka = new KafkaClient({ brokers, clientId: o.client_id ?? `retimuad-${componentId}`, driver: d });
  return { kafka, layout, brokers };
}
