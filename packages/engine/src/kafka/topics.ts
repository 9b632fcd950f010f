/**
 * The Kafka topic layout of RETIMU-AD: one topic per modality (readings, logs, audio, images)
 * plus anomalies, incidents and dead letters, under a configurable prefix. Records
 * are JSON; the record key keeps what must stay ordered on one partition (an asset, a stage or a
 * site), incidents are keyed by incident id in a compacted topic so rewrites of a revision are
 * idempotent. Media travel by reference (a blob URI), never as bytes.
 *
 * @example
 * const layout = topicLayout({ prefix: 'retimuad' });
 * layout.forEvent(reading);                 // 'retimuad.readings'
 * partitionKey(reading, 'asset');           // 'plant-a/P-101'
 * await ensureTopics(kafka, layout, { event_partitions: 6 });
 */
import type { Event, Modality } from '../../../core/src/schema/events.ts';
import type { KafkaClient } from './client.ts';
import { KafkaError } from './errors.ts';

export type TopicRole = 'readings' | 'logs' | 'audio' | 'images' | 'anomalies' | 'incidents' | 'deadletters';
export const TOPIC_ROLES: readonly TopicRole[] = [
  'readings',
  'logs',
  'audio',
  'images',
  'anomalies',
  'incidents',
  'deadletters',
];
export const EVENT_ROLES: readonly TopicRole[] = ['readings', 'logs', 'audio', 'images'];

const ROLE_OF_MODALITY: Record<Modality, TopicRole> = {
  reading: 'readings',
  log: 'logs',
  audio: 'audio',
  image: 'images',
};

/**
 * What decides an event's partition. `asset` (site/asset) keeps each asset's events in order and
 * spreads a plant over partitions; `stage` (site/stage) keeps a whole process stage together, so a
 * worker's correlator sees every anomaly of a stage (use it with `correlator.group_by: stage`);
 * `site` puts a site on one partition (cross-asset mode signals, `group_by: site`).
 */
export type KeyBy = 'asset' | 'stage' | 'site';

export interface TopicLayout {
  readonly prefix: string;
  name(role: TopicRole): string;
  forEvent(e: Pick<Event, 'kind'>): string;
  /** The role of a topic name of this layout, or undefined if it is not one of ours. */
  roleOf(topic: string): TopicRole | undefined;
}

const PREFIX = /^[A-Za-z0-9._-]{1,200}$/;

export function topicLayout(opts: { prefix?: string } = {}): TopicLayout {
  const prefix = opts.prefix ?? 'retimuad';
  if (!PREFIX.test(prefix)) {
    throw new KafkaError('E_KAFKA_CONFIG', `topic prefix '${prefix}': expected 1-200 characters of A-Z a-z 0-9 . _ -`);
  }
  const names = new Map<TopicRole, string>(TOPIC_ROLES.map((r) => [r, `${prefix}.${r}`]));
  const roles = new Map<string, TopicRole>([...names].map(([r, n]) => [n, r]));
  return {
    prefix,
    name: (role) => names.get(role)!,
    forEvent: (e) => names.get(ROLE_OF_MODALITY[e.kind])!,
    roleOf: (topic) => roles.get(topic),
  };
}

/** The record key for an event: events with the same key land on one partition, in order. */
export function partitionKey(e: Pick<Event, 'site' | 'asset' | 'stage'>, keyBy: KeyBy): string {
  switch (keyBy) {
    case 'asset':
      return `${e.site}/${e.asset}`;
    case 'stage':
      // Assets without a stage keep per-asset order.
      return e.stage === undefined ? `${e.site}/${e.asset}` : `${e.site}/stage:${e.stage}`;
    case 'site':
      return e.site;
  }
}

/** What the driver gives an assigner about the cluster: partitions per topic. */
export interface AssignerMetadata {
  topics: Map<string, { partitionsCount: number }>;
}
export interface MemberAssignment {
  memberId: string;
  assignments: Map<string, { topic: string; partitions: number[] }>;
}

/**
 * Group assignment that co-partitions: partition p of every subscribed topic goes to the same
 * member (members sorted by id, p mod their number). With the modality topics keyed alike and of
 * equal partition counts (ensureTopics enforces it), one member owns every modality of an asset
 * (or stage, or site). The driver's default, round robin over the flattened topic-partitions,
 * splits them as soon as the partition count is not a multiple of the member count.
 */
export function coPartitionAssigner(
  _current: string,
  members: ReadonlyMap<string, unknown>,
  topics: ReadonlySet<string>,
  metadata: AssignerMetadata,
): MemberAssignment[] {
  const ids = [...members.keys()].sort();
  const out: MemberAssignment[] = ids.map((memberId) => ({ memberId, assignments: new Map() }));
  if (out.length === 0) return out;
  for (const topic of [...topics].sort()) {
    const n = metadata.topics.get(topic)?.partitionsCount ?? 0;
    for (let p = 0; p < n; p++) {
      const m = out[p % out.length]!;
      let a = m.assignments.get(topic);
      if (a === undefined) m.assignments.set(topic, (a = { topic, partitions: [] }));
      a.partitions.push(p);
    }
  }
  return out;
}

/**
 * Refuses topics meant to be co-partitioned whose partition counts differ: events of one key
 * would land on different partition numbers and so on different workers.
 */
export function checkCoPartitioned(counts: ReadonlyMap<string, number>, where: string): void {
  const distinct = new Set(counts.values());
  if (distinct.size <= 1) return;
  const list = [...counts].map(([t, n]) => `${t}=${n}`).join(', ');
  throw new KafkaError(
    'E_KAFKA_CONFIG',
    `${where}: topics read together must have equal partition counts so that one worker owns every modality of a key; got ${list} (add partitions with kafka-topics.sh --alter --partitions, or recreate them)`,
  );
}

export interface EnsureTopicsOptions {
  /** Partitions of each modality topic and of anomalies; the unit of parallelism of workers. Default 6. */
  event_partitions?: number;
  /** Partitions of incidents and dead letters. Default 3. */
  output_partitions?: number;
  /** Retention of modality topics; default 7 days. */
  retention_ms?: number;
}

/** Creates every topic of the layout that is missing; returns what it did per topic. */
export async function ensureTopics(
  kafka: KafkaClient,
  layout: TopicLayout,
  opts: EnsureTopicsOptions = {},
): Promise<Record<string, 'created' | 'exists'>> {
  const events = opts.event_partitions ?? 6;
  const outputs = opts.output_partitions ?? 3;
  const retention = String(opts.retention_ms ?? 7 * 24 * 3600 * 1000);
  const plan: Array<[TopicRole, number, Record<string, string>]> = [
    ...EVENT_ROLES.map((r): [TopicRole, number, Record<string, string>] => [r, events, { 'retention.ms': retention }]),
    ['anomalies', events, { 'retention.ms': retention }],
    // Keyed by incident id: compaction keeps the latest revision of each incident.
    ['incidents', outputs, { 'cleanup.policy': 'compact' }],
    ['deadletters', outputs, { 'retention.ms': retention }],
  ];
  const out: Record<string, 'created' | 'exists'> = {};
  for (const [role, partitions, configs] of plan) {
    out[layout.name(role)] = await kafka.ensureTopic(layout.name(role), partitions, configs);
  }
  // Topics that existed already may have been made with other counts: modality topics and
  // anomalies are keyed alike and must stay co-partitioned.
  const keyed = [...EVENT_ROLES, 'anomalies' as const].map((r) => layout.name(r));
  if (keyed.some((t) => out[t] === 'exists')) {
    checkCoPartitioned(await kafka.partitionCounts(keyed), `ensureTopics(${layout.prefix})`);
  }
  return out;
}

/** What the stack's console (`retimuad api`) reads by default: the workers' output and the signals, logs and media references. */
export const DEFAULT_API_TOPICS: readonly TopicRole[] = [
  'incidents',
  'anomalies',
  'deadletters',
  'readings',
  'logs',
  'audio',
  'images',
];
