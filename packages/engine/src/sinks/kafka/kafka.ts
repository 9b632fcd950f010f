/**
 * Kafka sink: writes pipeline output to the topic layout (kafka/topics.ts) as JSON. Anomalies
 * are keyed by site/asset, incidents by incident id (a compacted topic: rewriting a revision is
 * idempotent, the latest revision wins), dead letters by the rejecting component; events, when
 * included, go to their modality topic keyed like the ingest does. A batch resolves only once the
 * broker acknowledged every record (acks=all), so a worker may commit its input offsets after it.
 *
 * @example
 * sinks:
 *   - id: bus
 *     type: kafka
 *     brokers: 127.0.0.1:9092
 *     include: [anomaly, incident, deadletter]
 */
import { Type, type Static } from '@sinclair/typebox';
import type { KafkaClient, KafkaRecordOut } from '../../kafka/client.ts';
import { connectKafka, KafkaConnectionParams } from '../../kafka/connect.ts';
import type { KafkaDriver } from '../../kafka/driver.ts';
import { ensureTopics, partitionKey, type KeyBy, type TopicLayout } from '../../kafka/topics.ts';
import type { Sink, SinkRecord, SinkRecordType } from '../../runtime/types.ts';
import { resolveSinkParams, type SinkDeps } from '../common.ts';

export const KafkaSinkParams = Type.Object(
  {
    ...KafkaConnectionParams,
    include: Type.Array(
      Type.Union([
        Type.Literal('anomaly'),
        Type.Literal('incident'),
        Type.Literal('deadletter'),
        Type.Literal('event'),
      ]),
      {
        minItems: 1,
        uniqueItems: true,
        default: ['anomaly', 'incident', 'deadletter'],
        description: 'Record types written.',
      },
    ),
    key_by: Type.Union([Type.Literal('asset'), Type.Literal('stage'), Type.Literal('site')], {
      default: 'asset',
      description: 'Partition key of events (when `event` is included): site/asset, site/stage or site.',
    }),
    ensure_topics: Type.Boolean({ default: true, description: 'Create missing topics of the layout at start.' }),
    event_partitions: Type.Integer({
      minimum: 1,
      default: 6,
      description: 'Partitions of topics it creates for events and anomalies.',
    }),
  },
  { additionalProperties: false },
);
export type KafkaSinkParams = Static<typeof KafkaSinkParams>;

/** Groups sink records by topic, keyed as the layout says; records of other types are skipped. */
export function toKafkaRecords(
  batch: readonly SinkRecord[],
  layout: TopicLayout,
  include: ReadonlySet<SinkRecordType>,
  keyBy: KeyBy,
): Map<string, KafkaRecordOut[]> {
  const out = new Map<string, KafkaRecordOut[]>();
  const put = (topic: string, rec: KafkaRecordOut) => {
    let list = out.get(topic);
    if (list === undefined) out.set(topic, (list = []));
    list.push(rec);
  };
  for (const r of batch) {
    if (!include.has(r.type)) continue;
    switch (r.type) {
      case 'anomaly':
        put(layout.name('anomalies'), {
          key: `${r.anomaly.site}/${r.anomaly.asset}`,
          value: JSON.stringify(r.anomaly),
        });
        break;
      case 'incident':
        put(layout.name('incidents'), {
          key: r.incident.id,
          value: JSON.stringify(r.incident),
          headers: { revision: String(r.incident.revision), status: r.incident.status },
        });
        break;
      case 'deadletter':
        put(layout.name('deadletters'), { key: r.deadLetter.component, value: JSON.stringify(r.deadLetter) });
        break;
      case 'event':
        put(layout.forEvent(r.event), { key: partitionKey(r.event, keyBy), value: JSON.stringify(r.event) });
        break;
      case 'score':
      case 'label':
        break;
    }
  }
  return out;
}

export async function createKafkaSink(raw: unknown, deps: SinkDeps & { driver?: KafkaDriver }): Promise<Sink> {
  const params = resolveSinkParams('kafka', KafkaSinkParams, raw);
  const id = deps.id ?? 'kafka';
  const { kafka, layout } = await connectKafka(params, id, deps.driver);
  if (params.ensure_topics) await ensureTopics(kafka, layout, { event_partitions: params.event_partitions });
  return new KafkaSink(id, kafka, layout, params);
}

class KafkaSink implements Sink {
  readonly accepts: ReadonlySet<SinkRecordType>;
  constructor(
    readonly id: string,
    private readonly kafka: KafkaClient,
    private readonly layout: TopicLayout,
    private readonly params: KafkaSinkParams,
  ) {
    this.accepts = new Set(params.include);
  }

  async write(batch: readonly SinkRecord[]): Promise<void> {
    const byTopic = toKafkaRecords(batch, this.layout, this.accepts, this.params.key_by);
    await Promise.all([...byTopic].map(([topic, recs]) => this.kafka.produce(topic, recs)));
  }

  close(): Promise<void> {
    return this.kafka.close();
  }
}
