/**
 * The command-line glue of `retimuad simulate --to kafka`: connects, creates the topic layout if
 * missing, runs the simulator into the topics and prints a one-line summary (plus JSON).
 *
 * @example
 * retimuad simulate --to kafka --brokers 127.0.0.1:9092 --duration-secs 600 --key-by stage --speed 60
 */
import { resolve } from 'node:path';
import { connectKafka } from './connect.ts';
import { simulateToKafka, type SimulateToKafkaSummary } from './simulate.ts';
import { ensureTopics, type KeyBy } from './topics.ts';

export interface SimulateToKafkaCommand {
  brokers: string;
  topicPrefix: string;
  seed: number;
  durationSecs: number;
  startTime: number;
  scenarios?: string[];
  keyBy: KeyBy;
  speed?: number;
  blobsDir: string;
  partitions: number;
  print?: (line: string) => void;
}

export async function runSimulateToKafka(o: SimulateToKafkaCommand): Promise<SimulateToKafkaSummary> {
  const print = o.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  const { kafka, layout, brokers } = await connectKafka(
    { brokers: o.brokers, topic_prefix: o.topicPrefix, client_id: 'retimuad-simulate' },
    'simulate',
  );
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  try {
    await ensureTopics(kafka, layout, { event_partitions: o.partitions });
    const s = await simulateToKafka({
      kafka,
      layout,
      seed: o.seed,
      durationSecs: o.durationSecs,
      startTime: o.startTime,
      keyBy: o.keyBy,
      blobsDir: resolve(o.blobsDir),
      signal: abort.signal,
      ...(o.scenarios === undefined ? {} : { scenarios: o.scenarios }),
      ...(o.speed === undefined ? {} : { speed: o.speed }),
    });
    const events =
      (s.counts['reading'] ?? 0) + (s.counts['log'] ?? 0) + (s.counts['audio'] ?? 0) + (s.counts['image'] ?? 0);
    print(
      `produced ${events} events to ${layout.prefix}.* on ${brokers.join(',')} in ${(s.wall_ms / 1000).toFixed(1)} s ` +
        `(${Math.round(events / Math.max(s.wall_ms / 1000, 0.001))} events/s); media in ${resolve(o.blobsDir)}`,
    );
    print(JSON.stringify({ counts: s.counts, wall_ms: s.wall_ms, labels: s.labels.length }));
    return s;
  } finally {
    process.removeListener('SIGINT', onSignal);
    await kafka.close();
  }
}
