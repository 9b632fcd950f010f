/**
 * Benchmark of the cross-topic merge (merge.ts): records/s through push+pop with 1 topic (a
 * readings-only worker) and 4 topics (readings, logs, audio, images of one partition), against a
 * peer measured in the same run (a plain array queue, the floor). Prints one JSON line.
 *
 * @example
 * node bin/run-ts.mjs packages/engine/src/worker/merge-bench.ts 2000000
 */
import { TopicMerge } from './merge.ts';

const N = Number(process.argv[2] ?? 1_000_000);
const T0 = Date.UTC(2026, 0, 1);

function peer(): number {
  const q: number[] = [];
  let sum = 0;
  const t = performance.now();
  for (let i = 0; i < N; i++) {
    q.push(i);
    sum += q.shift()!;
  }
  const s = (performance.now() - t) / 1000;
  if (sum < 0) throw new Error('unreachable');
  return N / s;
}

function merged(topics: readonly string[]): number {
  const m = new TopicMerge<number>({ wait_ms: 500, idle_ms: 5000 });
  for (const tp of topics) m.addTopic(tp, undefined, 0);
  const offsets = topics.map(() => 0n);
  let out = 0;
  const t = performance.now();
  for (let i = 0; i < N; i++) {
    const k = i % topics.length;
    m.push(topics[k]!, offsets[k]!, T0 + Math.floor(i / topics.length) * 10, i, 0);
    offsets[k]!++;
    while (m.pop(0) !== undefined) out++;
  }
  const s = (performance.now() - t) / 1000;
  if (out + m.buffered !== N) throw new Error(`lost records: ${out} + ${m.buffered} != ${N}`);
  return N / s;
}

const best = (f: () => number) => Math.max(f(), f(), f());
const floor = best(peer);
const one = best(() => merged(['readings']));
const four = best(() => merged(['audio', 'images', 'logs', 'readings']));
process.stdout.write(
  `${JSON.stringify({
    records: N,
    peer_queue_per_s: Math.round(floor),
    merge_1_topic_per_s: Math.round(one),
    merge_4_topics_per_s: Math.round(four),
    ns_per_record_1_topic: Math.round(1e9 / one),
    ns_per_record_4_topics: Math.round(1e9 / four),
    ratio_1_topic_to_peer: +(one / floor).toFixed(3),
    ratio_4_topics_to_peer: +(four / floor).toFixed(3),
  })}\n`,
);
