/**
 * A small Kafka client for the engine: create a topic, produce records, consume them as a
 * member of a consumer group with explicit (manual) offset commits. It wraps a driver
 * (`@platformatic/kafka`, see driver.ts) so sources and sinks see one narrow API and stable
 * error codes. Smoke level: no transactions, no schema registry, no custom partitioners.
 *
 * @example
 * const kafka = new KafkaClient({ brokers: ['127.0.0.1:9092'], clientId: 'retimuad', driver: await loadKafkaDriver() });
 * await kafka.ensureTopic('readings', 3);
 * await kafka.produce('readings', [{ key: 'pump-1', value: JSON.stringify(reading) }]);
 * const sub = await kafka.subscribe({ topics: ['readings'], groupId: 'detectors', from: 'committed' });
 * for await (const rec of sub) { handle(rec.value); await rec.commit(); }
 * await sub.close(); await kafka.close();
 */
import type {
  DriverAdmin,
  DriverConsumer,
  DriverGroupJoin,
  DriverInMessage,
  DriverProducer,
  DriverStream,
  KafkaDriver,
} from './driver.ts';
import { KafkaError } from './errors.ts';
import { coPartitionAssigner } from './topics.ts';

export interface KafkaClientOptions {
  /** Bootstrap brokers as host:port. */
  brokers: readonly string[];
  clientId: string;
  driver: KafkaDriver;
  /** Connection timeout per broker; default 5000. */
  connect_timeout_ms?: number;
}

export interface KafkaRecordOut {
  key?: string | Buffer;
  value: string | Buffer;
  headers?: Readonly<Record<string, string>>;
}

export interface KafkaRecordIn {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer | undefined;
  value: Buffer;
  /** Broker/producer timestamp, epoch ms. */
  timestamp_ms: number;
  headers: Record<string, string>;
  /** Commit this record's offset (and all earlier ones of its partition) for the group. */
  commit(): Promise<void>;
}

export interface SubscribeOptions {
  topics: readonly string[];
  groupId: string;
  /**
   * Where to start: 'committed' resumes after the group's last commit (a group with no
   * commit starts at the earliest record), 'earliest' and 'latest' ignore commits.
   */
  from?: 'committed' | 'earliest' | 'latest';
  /** How long the broker may hold a fetch open when there is no data; default 500. */
  max_wait_ms?: number;
  session_timeout_ms?: number;
  /**
   * Called after every group join (start and each rebalance) with the partitions this member
   * now owns, before records of the new assignment are delivered.
   */
  onAssignment?: (assignment: KafkaAssignment) => void;
  /**
   * How the group leader splits partitions: 'co_partitioned' (default) gives partition p of every
   * topic to one member (see coPartitionAssigner); 'round_robin' is the driver's own.
   */
  assignment?: 'co_partitioned' | 'round_robin';
}

/** The partitions a group member owns in one generation of the group. */
export interface KafkaAssignment {
  generation: number;
  memberId: string;
  partitions: Array<{ topic: string; partitions: number[] }>;
}

export interface KafkaSubscription extends AsyncIterable<KafkaRecordIn> {
  /**
   * The same records in arrays of up to `max`: every record already fetched is handed over at
   * once, so a consumer pays one promise per batch instead of several per record. Optional so
   * that test doubles may offer records one by one.
   */
  batches?(max?: number): AsyncIterable<KafkaRecordIn[]>;
  /** Leave the group and stop fetching; uncommitted records will be delivered again. */
  close(): Promise<void>;
}

/** The parts of a Node Readable (the driver's stream is one) that batches() reads directly. */
interface ReadableLike {
  read(): DriverInMessage | null;
  on(event: 'readable' | 'end' | 'close' | 'error', fn: (err?: unknown) => void): unknown;
  off(event: 'readable' | 'end' | 'close' | 'error', fn: (err?: unknown) => void): unknown;
  readonly readableEnded?: boolean;
  readonly destroyed?: boolean;
}

const isReadable = (s: unknown): s is ReadableLike =>
  typeof (s as Partial<ReadableLike>).read === 'function' && typeof (s as Partial<ReadableLike>).on === 'function';

const BROKER = /^[^\s:]+:\d{1,5}$/;

/** Parse a comma-separated broker list (e.g. RETIMUAD_KAFKA_BROKERS); throws E_KAFKA_CONFIG. */
export function parseBrokers(list: string, where = 'broker list'): string[] {
  const brokers = list
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (brokers.length === 0)
    throw new KafkaError('E_KAFKA_CONFIG', `${where}: expected host:port[,host:port...], got '${list}'`);
  for (const b of brokers) {
    const port = Number(b.slice(b.lastIndexOf(':') + 1));
    if (!BROKER.test(b) || port < 1 || port > 65535) {
      throw new KafkaError('E_KAFKA_CONFIG', `${where}: '${b}' is not host:port with a port in 1..65535`);
    }
  }
  return brokers;
}

const toBuffer = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class KafkaClient {
  readonly brokers: readonly string[];
  readonly #options: KafkaClientOptions;
  #producer: DriverProducer | undefined;
  readonly #subscriptions = new Set<KafkaSubscription>();
  #closed = false;

  constructor(options: KafkaClientOptions) {
    this.brokers = parseBrokers(options.brokers.join(','), `KafkaClient(${options.clientId}).brokers`);
    this.#options = options;
  }

  #base() {
    return {
      clientId: this.#options.clientId,
      bootstrapBrokers: [...this.brokers],
      connectTimeout: this.#options.connect_timeout_ms ?? 5000,
    };
  }

  #assertOpen(op: string): void {
    if (this.#closed)
      throw new KafkaError('E_KAFKA_CLOSED', `KafkaClient(${this.#options.clientId}).${op}: client is closed`);
  }

  /**
   * Create the topic if missing, with topic-level configs such as `{ 'cleanup.policy': 'compact' }`.
   * Resolves 'created' or 'exists' (an existing topic is left as it is).
   */
  async ensureTopic(
    topic: string,
    partitions = 1,
    configs: Readonly<Record<string, string>> = {},
  ): Promise<'created' | 'exists'> {
    this.#assertOpen('ensureTopic');
    const admin = new this.#options.driver.Admin(this.#base());
    const cfg = Object.entries(configs).map(([name, value]) => ({ name, value }));
    try {
      await admin.createTopics({
        topics: [topic],
        partitions,
        replicas: 1,
        ...(cfg.length > 0 ? { configs: cfg } : {}),
      });
      return 'created';
    } catch (err) {
      if (isTopicExists(err)) return 'exists';
      throw new KafkaError(
        'E_KAFKA_ADMIN',
        `cannot create topic '${topic}' on ${this.brokers.join(',')}: ${describe(err)}`,
        { cause: err },
      );
    } finally {
      await admin.close().catch(() => undefined);
    }
  }

  /** Partition count of each topic (topics that do not exist are left out). */
  async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    this.#assertOpen('partitionCounts');
    const admin = new this.#options.driver.Admin(this.#base()) as DriverAdmin & {
      metadata?: (o: { topics: string[] }) => Promise<{ topics: Map<string, { partitionsCount: number }> }>;
    };
    try {
      if (admin.metadata === undefined) throw new Error('the driver has no metadata()');
      const out = new Map<string, number>();
      // One topic per request: the driver fails a whole request for one unknown topic.
      for (const t of topics) {
        try {
          const n = (await admin.metadata({ topics: [t] })).topics.get(t)?.partitionsCount;
          if (n !== undefined) out.set(t, n);
        } catch (err) {
          if (!/unknown topic/i.test(describe(err))) throw err;
        }
      }
      return out;
    } catch (err) {
      throw new KafkaError(
        'E_KAFKA_ADMIN',
        `cannot read the partitions of ${topics.join(',')} on ${this.brokers.join(',')}: ${describe(err)}`,
        { cause: err },
      );
    } finally {
      await admin.close().catch(() => undefined);
    }
  }

  /** Send records to one topic; resolves once all are acknowledged by all in-sync replicas. */
  async produce(topic: string, records: readonly KafkaRecordOut[]): Promise<void> {
    this.#assertOpen('produce');
    if (records.length === 0) return;
    this.#producer ??= new this.#options.driver.Producer({ ...this.#base(), acks: -1 });
    const messages = records.map((r) => ({
      topic,
      value: toBuffer(r.value),
      ...(r.key === undefined ? {} : { key: toBuffer(r.key) }),
      ...(r.headers === undefined
        ? {}
        : { headers: new Map(Object.entries(r.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)] as const)) }),
    }));
    try {
      await this.#producer.send({ messages });
    } catch (err) {
      throw new KafkaError(
        'E_KAFKA_PRODUCE',
        `cannot produce ${records.length} record(s) to '${topic}' on ${this.brokers.join(',')}: ${describe(err)}`,
        {
          cause: err,
        },
      );
    }
  }

  /** Join a consumer group and stream its records; offsets are committed only by `record.commit()`. */
  async subscribe(options: SubscribeOptions): Promise<KafkaSubscription> {
    this.#assertOpen('subscribe');
    const from = options.from ?? 'committed';
    const consumerOptions = {
      ...this.#base(),
      groupId: options.groupId,
      sessionTimeout: options.session_timeout_ms ?? 10_000,
      heartbeatInterval: 500,
      // @platformatic/kafka's consumer option (its leader runs the assignment client-side).
      ...((options.assignment ?? 'co_partitioned') === 'co_partitioned'
        ? { partitionAssigner: coPartitionAssigner }
        : {}),
    };
    const consumer = new this.#options.driver.Consumer(consumerOptions);
    const onAssignment = options.onAssignment;
    if (onAssignment !== undefined) {
      consumer.on?.('consumer:group:join', (p: DriverGroupJoin) =>
        onAssignment({
          generation: p.generationId ?? -1,
          memberId: p.memberId,
          partitions: (p.assignments ?? []).map((a) => ({
            topic: a.topic,
            partitions: [...a.partitions].sort((x, y) => x - y),
          })),
        }),
      );
    }
    let stream: DriverStream;
    try {
      // A topic just created may not be in every broker's metadata yet: retry "unknown topic"
      // for a few seconds rather than failing a worker that starts alongside its producer.
      for (let attempt = 0; ; attempt++) {
        try {
          stream = await consumer.consume({
            topics: [...options.topics],
            mode: from,
            fallbackMode: 'earliest',
            autocommit: false,
            maxWaitTime: options.max_wait_ms ?? 500,
          });
          break;
        } catch (err) {
          if (attempt >= 20 || !/unknown topic/i.test(describe(err))) throw err;
          await new Promise((r) => setTimeout(r, 250 * Math.min(4, attempt + 1)));
        }
      }
    } catch (err) {
      await consumer.close(true).catch(() => undefined);
      throw new KafkaError(
        'E_KAFKA_CONSUME',
        `group '${options.groupId}' cannot consume ${options.topics.join(',')}: ${describe(err)}`,
        {
          cause: err,
        },
      );
    }
    const sub = new Subscription(consumer, stream, options.groupId, () => this.#subscriptions.delete(sub));
    this.#subscriptions.add(sub);
    return sub;
  }

  /** Close the producer and every open subscription. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((s) => s.close()));
    await this.#producer?.close();
    this.#producer = undefined;
  }
}

function isTopicExists(err: unknown): boolean {
  // The driver reports per-topic failures as an AggregateError of protocol errors.
  const list: unknown[] = err instanceof AggregateError ? err.errors : [err];
  return (
    list.length > 0 &&
    list.every(
      (e) => typeof e === 'object' && e !== null && (e as { apiId?: unknown }).apiId === 'TOPIC_ALREADY_EXISTS',
    )
  );
}

class Subscription implements KafkaSubscription {
  #closed = false;
  constructor(
    private readonly consumer: DriverConsumer,
    private readonly stream: DriverStream,
    private readonly groupId: string,
    private readonly onClose: () => void,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<KafkaRecordIn> {
    try {
      for await (const m of this.stream) yield this.#record(m);
    } catch (err) {
      if (this.#closed) return;
      throw new KafkaError('E_KAFKA_CONSUME', `group '${this.groupId}' stopped consuming: ${describe(err)}`, {
        cause: err,
      });
    }
  }

  async *batches(max = 1000): AsyncIterable<KafkaRecordIn[]> {
    const stream = this.stream;
    if (!isReadable(stream)) {
      for await (const r of this) yield [r];
      return;
    }
    // As Node's own async iterator over a Readable does, but draining every buffered record.
    let wake: (() => void) | undefined;
    let failure: unknown;
    let ended = false;
    const onReadable = () => wake?.();
    const onEnd = () => {
      ended = true;
      wake?.();
    };
    const onError = (err?: unknown) => {
      failure = err ?? new Error('stream failed');
      wake?.();
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onError);
    try {
      for (;;) {
        const out: KafkaRecordIn[] = [];
        for (let m = stream.read(); m !== null; m = out.length < max ? stream.read() : null) out.push(this.#record(m));
        if (out.length > 0) {
          yield out;
          continue;
        }
        if (failure !== undefined) {
          if (this.#closed) return;
          throw new KafkaError('E_KAFKA_CONSUME', `group '${this.groupId}' stopped consuming: ${describe(failure)}`, {
            cause: failure,
          });
        }
        if (ended || stream.readableEnded === true || stream.destroyed === true) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onError);
    }
  }

  #record(m: DriverInMessage): KafkaRecordIn {
    const headers: Record<string, string> = {};
    for (const [k, v] of m.headers) headers[k.toString()] = v.toString();
    const groupId = this.groupId;
    return {
      topic: m.topic,
      partition: m.partition,
      offset: m.offset,
      key: m.key ?? undefined,
      value: m.value ?? Buffer.alloc(0),
      timestamp_ms: Number(m.timestamp),
      headers,
      async commit() {
        try {
          await m.commit();
        } catch (err) {
          throw new KafkaError(
            'E_KAFKA_COMMIT',
            `group '${groupId}' cannot commit ${m.topic}[${m.partition}]@${m.offset}: ${describe(err)}`,
            {
              cause: err,
            },
          );
        }
      },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.onClose();
    try {
      await this.stream.close();
    } finally {
      await this.consumer.close();
    }
  }
}
