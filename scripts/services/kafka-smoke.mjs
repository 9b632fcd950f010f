#!/usr/bin/env node
// Produce/consume smoke test and rough throughput figure for a Kafka client
// against a real broker. The client packages are NOT repo dependencies: run it
// from a scratch dir where they are installed, e.g.
//   mkdir -p /tmp/kafka-eval && cd /tmp/kafka-eval && npm init -y >/dev/null
//   npm install @platformatic/kafka@1.35.0
//   node /work/main/scripts/services/kafka-smoke.mjs --client platformatic --messages 20000
// Options: --client platformatic|confluent, --brokers 127.0.0.1:9092,
//   --messages N (20000), --batch N (500), --partitions N (3), --timeout-secs N (120).
// Checks: every produced message is consumed once (consumer group, manual
// commits), and a second member of the same group resumes after the committed
// offsets. Prints one JSON line with the figures; exit code 1 on failure.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    client: { type: 'string', default: 'platformatic' },
    brokers: { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' },
    messages: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '500' },
    partitions: { type: 'string', default: '3' },
    'timeout-secs': { type: 'string', default: '120' },
  },
});
const brokers = opt.brokers.split(',');
const total = Number(opt.messages);
const batch = Number(opt.batch);
const partitions = Number(opt.partitions);
const tail = 10; // messages produced after the commit, to check resumption
const run = `${Date.now()}-${process.pid}`;
const topic = `retimuad-smoke-${run}`;
const groupId = `retimuad-smoke-group-${run}`;

// Resolve the client from the current directory (the scratch dir), not from
// this file's location inside the repo.
const requireHere = createRequire(join(process.cwd(), 'noop.js'));
async function load(name) {
  try {
    return await import(pathToFileURL(requireHere.resolve(name)).href);
  } catch (err) {
    throw new Error(`cannot load ${name} from ${process.cwd()}: install it there first (${err.message})`);
  }
}

const reading = (i, phase) =>
  JSON.stringify({ kind: 'reading', site: 'smoke', sensor: `s${i % 16}`, t: 1_700_000_000_000 + i, value: i * 0.5, phase });

const timer = setTimeout(() => {
  process.stderr.write(`kafka-smoke: timed out after ${opt['timeout-secs']} s\n`);
  process.exit(1);
}, Number(opt['timeout-secs']) * 1000);
timer.unref();

async function platformatic() {
  const k = await load('@platformatic/kafka');
  const base = { bootstrapBrokers: brokers, clientId: 'retimuad-smoke' };
  const admin = new k.Admin(base);
  await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  await admin.close();

  const producer = new k.Producer({ ...base, serializers: k.stringSerializers, acks: -1 });
  const send = async (from, to, phase) => {
    for (let i = from; i < to; i += batch) {
      const messages = [];
      for (let j = i; j < Math.min(to, i + batch); j++) messages.push({ topic, key: `s${j % 16}`, value: reading(j, phase) });
      await producer.send({ messages });
    }
  };
  const t0 = performance.now();
  await send(0, total, 'before');
  const produceMs = performance.now() - t0;

  const consumeOnce = async (mode, want) => {
    const consumer = new k.Consumer({ ...base, groupId, deserializers: k.stringDeserializers, sessionTimeout: 10000, heartbeatInterval: 500 });
    const stream = await consumer.consume({ topics: [topic], mode, fallbackMode: 'earliest', autocommit: false, maxWaitTime: 200 });
    const last = new Map();
    const seen = [];
    for await (const msg of stream) {
      seen.push(JSON.parse(msg.value));
      last.set(msg.partition, msg);
      if (seen.length >= want) break;
    }
    // Manual commit: the last message of each partition commits everything before it.
    for (const msg of last.values()) await msg.commit();
    await stream.close();
    await consumer.close();
    return seen;
  };
  const t1 = performance.now();
  const first = await consumeOnce('earliest', total);
  const consumeMs = performance.now() - t1;
  await send(total, total + tail, 'after');
  const second = await consumeOnce('committed', tail);
  await producer.close();
  return { produceMs, consumeMs, first, second };
}

async function confluent() {
  const mod = await load('@confluentinc/kafka-javascript');
  const { Kafka, logLevel } = (mod.default ?? mod).KafkaJS;
  const kafka = new Kafka({ kafkaJS: { brokers, clientId: 'retimuad-smoke', logLevel: logLevel.ERROR } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] });
  await admin.disconnect();

  const producer = kafka.producer({ kafkaJS: { acks: -1 } });
  await producer.connect();
  const send = async (from, to, phase) => {
    for (let i = from; i < to; i += batch) {
      const messages = [];
      for (let j = i; j < Math.min(to, i + batch); j++) messages.push({ key: `s${j % 16}`, value: reading(j, phase) });
      await producer.send({ topic, messages });
    }
  };
  const t0 = performance.now();
  await send(0, total, 'before');
  const produceMs = performance.now() - t0;

  const consumeOnce = async (want) => {
    const consumer = kafka.consumer({ kafkaJS: { groupId, fromBeginning: true, autoCommit: false } });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    const seen = [];
    const last = new Map();
    await new Promise((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            if (seen.length >= want) return;
            seen.push(JSON.parse(message.value.toString()));
            last.set(partition, message.offset);
            if (seen.length >= want) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.commitOffsets(
      [...last].map(([partition, offset]) => ({ topic, partition, offset: (BigInt(offset) + 1n).toString() })),
    );
    await consumer.disconnect();
    return seen;
  };
  const t1 = performance.now();
  const first = await consumeOnce(total);
  const consumeMs = performance.now() - t1;
  await send(total, total + tail, 'after');
  const second = await consumeOnce(tail);
  await producer.disconnect();
  return { produceMs, consumeMs, first, second };
}

const clients = { platformatic, confluent };
const fn = clients[opt.client];
if (!fn) throw new Error(`--client must be one of ${Object.keys(clients).join(', ')}, got '${opt.client}'`);

const r = await fn();
const problems = [];
const ids = new Set(r.first.map((m) => m.t));
if (r.first.length !== total || ids.size !== total) problems.push(`first pass: ${r.first.length} messages, ${ids.size} distinct, want ${total}`);
if (r.second.length !== tail || r.second.some((m) => m.phase !== 'after')) {
  problems.push(`after commit: got ${r.second.length} messages (${r.second.filter((m) => m.phase !== 'after').length} already consumed), want ${tail} new`);
}
const result = {
  client: opt.client,
  brokers,
  topic,
  messages: total,
  bytes_per_message: Buffer.byteLength(reading(total - 1, 'before')),
  produce_msgs_per_s: Math.round(total / (r.produceMs / 1000)),
  consume_msgs_per_s: Math.round(total / (r.consumeMs / 1000)),
  consume_ms_including_group_join: Math.round(r.consumeMs),
  ok: problems.length === 0,
  problems,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(result.ok ? 0 : 1);
