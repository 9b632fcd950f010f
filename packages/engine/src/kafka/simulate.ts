/**
 * `retimuad simulate --to kafka`: runs the plant simulator and produces its events to the
 * modality topics, keyed so each asset (or stage, or site) stays on one partition, as fast as
 * the broker takes them or paced at a multiple of real time. Audio and image bytes go to a
 * content-addressed blob directory; the events carry only the reference, and media larger than
 * `max_media_bytes` are refused (Kafka records stay small).
 *
 * @example
 * await simulateToKafka({ kafka, layout, seed: 42, durationSecs: 600, startTime: Date.UTC(2026, 0, 1), keyBy: 'stage', blobsDir: 'data/blobs' });
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Label } from '../../../core/src/schema/events.ts';
import { createPlant } from '../../../core/src/simulator/plant.ts';
import { isScenarioName, SCENARIO_NAMES, type ScenarioName } from '../../../core/src/simulator/scenarios.ts';
import { materialise } from '../sources/simulator/index.ts';
import { createFsBlobStore } from '../storage/blobs.ts';
import type { KafkaClient, KafkaRecordOut } from './client.ts';
import { KafkaError } from './errors.ts';
import { partitionKey, type KeyBy, type TopicLayout } from './topics.ts';

export interface SimulateToKafkaOptions {
  kafka: KafkaClient;
  layout: TopicLayout;
  seed: number;
  durationSecs: number;
  startTime: number;
  site?: string;
  scenarios?: string[];
  keyBy: KeyBy;
  /** Where media bytes go (shared with workers and the API). */
  blobsDir: string;
  /** Simulated seconds per wall second; undefined: as fast as possible. */
  speed?: number;
  /** Simulated seconds per produce batch; default 10. */
  chunk_secs?: number;
  /** Largest media blob referenced; default 8 MiB. */
  max_media_bytes?: number;
  signal?: AbortSignal;
}

export interface SimulateToKafkaSummary {
  counts: Record<string, number>;
  labels: Label[];
  wall_ms: number;
}

export async function simulateToKafka(o: SimulateToKafkaOptions): Promise<SimulateToKafkaSummary> {
  const unknown = (o.scenarios ?? []).filter((s) => !isScenarioName(s));
  if (unknown.length > 0) {
    throw new KafkaError(
      'E_KAFKA_CONFIG',
      `--scenarios: unknown ${unknown.join(', ')}; expected some of ${SCENARIO_NAMES.join(', ')}`,
    );
  }
  const programme = o.scenarios as ScenarioName[] | undefined;
  const plant = createPlant({
    seed: o.seed,
    startTime: o.startTime,
    site: o.site ?? 'plant-a',
    ...(programme === undefined ? {} : programme.length === 0 ? { schedule: 'none' as const } : { programme }),
  });
  const blobs = createFsBlobStore(o.blobsDir);
  const maxMedia = o.max_media_bytes ?? 8 * 1024 * 1024;
  const chunk = (o.chunk_secs ?? 10) * 1000;
  const end = o.startTime + o.durationSecs * 1000;
  const counts: Record<string, number> = { reading: 0, log: 0, audio: 0, image: 0, label: 0, media_refused: 0 };
  const labels: Label[] = [];
  const t0 = Date.now();
  for (let t = o.startTime; t < end && o.signal?.aborted !== true;) {
    t = Math.min(t + chunk, end);
    const byTopic = new Map<string, KafkaRecordOut[]>();
    for (const out of plant.advance(t === end ? end - 1 : t)) {
      if (out.type === 'label') {
        labels.push(out.label);
        counts['label']!++;
        continue;
      }
      if (out.type === 'media' && out.bytes.byteLength > maxMedia) {
        counts['media_refused']!++;
        continue;
      }
      const ev = await materialise(out, blobs);
      const topic = o.layout.forEvent(ev);
      let list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, (list = []));
      list.push({ key: partitionKey(ev, o.keyBy), value: JSON.stringify(ev) });
      counts[ev.kind] = (counts[ev.kind] ?? 0) + 1;
    }
    await Promise.all([...byTopic].map(([topic, recs]) => o.kafka.produce(topic, recs)));
    if (o.speed !== undefined) {
      // Pace on the simulated clock: chunk end in wall time = t0 + simulated elapsed / speed.
      const due = t0 + (t - o.startTime) / o.speed - Date.now();
      if (due > 0)
        await sleep(due, undefined, o.signal === undefined ? {} : { signal: o.signal }).catch(() => undefined);
    }
  }
  return { counts, labels, wall_ms: Date.now() - t0 };
}
