/**
 * Kafka source: reads events (JSON, one per record) from the modality topics of the layout as a
 * member of a consumer group. In `retimuad run` it feeds the embedded pipeline and commits
 * offsets once records are handed to the pipeline's queue (at-most-once across a crash between
 * the queue and the checkpoint); `retimuad worker` reads the same options but checkpoints state
 * and offsets together (see worker/worker.ts).
 *
 * @example
 * sources:
 *   - id: bus
 *     type: kafka
 *     brokers: 127.0.0.1:9092
 *     group_id: retimuad-detectors
 *     topics: [readings, logs]
 */
import { Type, type Static } from '@sinclair/typebox';
import { connectKafka, KafkaConnectionParams } from '../../kafka/connect.ts';
import type { KafkaDriver } from '../../kafka/driver.ts';
import type { KafkaRecordIn } from '../../kafka/client.ts';
import { EVENT_ROLES } from '../../kafka/topics.ts';
import type { ComponentContext, Source, SourceOutput } from '../../runtime/types.ts';

const EventRole = Type.Union(EVENT_ROLES.map((r) => Type.Literal(r)));

export const KafkaSourceParams = Type.Object(
  {
    ...KafkaConnectionParams,
    group_id: Type.String({
      minLength: 1,
      default: 'retimuad-detectors',
      description: 'Consumer group; workers of one group share the partitions.',
    }),
    topics: Type.Array(EventRole, {
      minItems: 1,
      uniqueItems: true,
      default: ['readings', 'logs', 'audio', 'images'],
      description: 'Which modality topics to read (names under topic_prefix).',
    }),
    from: Type.Union([Type.Literal('committed'), Type.Literal('earliest'), Type.Literal('latest')], {
      default: 'committed',
      description: 'Where a group starts: after its last commit (earliest when it has none), or ignoring commits.',
    }),
    commit_interval_ms: Type.Integer({
      minimum: 1,
      default: 1000,
      description: '`retimuad run` commits handed-over offsets this often.',
    }),
    state_dir: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          '`retimuad worker` only: directory shared by all workers of the group for per-partition state snapshots; default <data_dir>/kafka-state/<group_id>.',
      }),
    ),
    checkpoint_interval_ms: Type.Integer({
      minimum: 10,
      default: 1000,
      description: '`retimuad worker`: state + offset checkpoint period.',
    }),
  },
  { additionalProperties: false },
);
export type KafkaSourceParams = Static<typeof KafkaSourceParams>;

export function createKafkaSource(id: string, params: KafkaSourceParams, driver?: KafkaDriver): Source {
  return {
    id,
    async run(out: SourceOutput, ctx: ComponentContext): Promise<void> {
      const { kafka, layout } = await connectKafka(params, id, driver);
      const sub = await kafka.subscribe({
        topics: params.topics.map((r) => layout.name(r)),
        groupId: params.group_id,
        from: params.from,
        max_wait_ms: 200,
      });
      const onAbort = () => void sub.close();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      const last = new Map<string, KafkaRecordIn>();
      let lastCommit = ctx.clock.now();
      const commit = async () => {
        lastCommit = ctx.clock.now();
        const recs = [...last.values()];
        last.clear();
        for (const r of recs) {
          await r.commit().catch((err: unknown) => ctx.logger.warn({ err }, 'offset commit failed'));
        }
      };
      try {
        for await (const rec of sub) {
          const where = `kafka ${rec.topic}[${rec.partition}]@${rec.offset}`;
          let raw: unknown;
          try {
            raw = JSON.parse(rec.value.toString('utf8'));
          } catch (err) {
            await out.reject(rec.value.toString('utf8'), where, `not JSON: ${(err as Error).message}`);
            raw = undefined;
          }
          if (raw !== undefined) await out.emitRaw(raw, where);
          last.set(`${rec.topic}[${rec.partition}]`, rec);
          if (ctx.clock.now() - lastCommit >= params.commit_interval_ms) await commit();
          if (ctx.signal.aborted) break;
        }
        await commit();
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
        await kafka.close();
      }
    },
  };
}
