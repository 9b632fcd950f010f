import { describe, expect, it } from 'vitest';
import { KafkaClient, parseBrokers } from './client.ts';
import type { DriverInMessage, DriverOutMessage, KafkaDriver } from './driver.ts';
import { loadKafkaDriver } from './driver.ts';
import { KafkaError } from './errors.ts';

/** An in-memory stand-in for the driver: one partition per topic, records kept in arrays. */
function fakeDriver(opts: { createError?: Error; sendError?: Error; commitError?: Error } = {}) {
  const log = new Map<string, DriverOutMessage[]>();
  const committed = new Map<string, bigint>(); // `${group}/${topic}` -> next offset
  const calls = {
    adminClosed: 0,
    producerClosed: 0,
    consumerClosed: 0,
    streamClosed: 0,
    consumeOptions: [] as unknown[],
  };
  const driver: KafkaDriver = {
    Admin: class {
      createTopics(o: { topics: string[] }) {
        if (opts.createError !== undefined) return Promise.reject(opts.createError);
        for (const t of o.topics) log.set(t, log.get(t) ?? []);
        return Promise.resolve();
      }
      close() {
        calls.adminClosed++;
        return Promise.resolve();
      }
    },
    Producer: class {
      send(o: { messages: DriverOutMessage[] }) {
        if (opts.sendError !== undefined) return Promise.reject(opts.sendError);
        for (const m of o.messages) log.set(m.topic, [...(log.get(m.topic) ?? []), m]);
        return Promise.resolve();
      }
      close() {
        calls.producerClosed++;
        return Promise.resolve();
      }
    },
    Consumer: class {
      constructor(private readonly o: { groupId: string }) {}
      consume(o: { topics: string[]; mode: string }) {
        calls.consumeOptions.push(o);
        const groupId = this.o.groupId;
        const items: DriverInMessage[] = [];
        for (const topic of o.topics) {
          const start = o.mode === 'committed' ? Number(committed.get(`${groupId}/${topic}`) ?? 0n) : 0;
          (log.get(topic) ?? []).slice(start).forEach((m, i) => {
            const offset = BigInt(start + i);
            items.push({
              topic,
              partition: 0,
              offset,
              key: m.key,
              value: m.value,
              timestamp: 1_700_000_000_123n,
              headers: m.headers ?? new Map<Buffer, Buffer>(),
              commit: () => {
                if (opts.commitError !== undefined) return Promise.reject(opts.commitError);
                committed.set(`${groupId}/${topic}`, offset + 1n);
                return Promise.resolve();
              },
            });
          });
        }
        return Promise.resolve({
          async *[Symbol.asyncIterator]() {
            // A real stream delivers asynchronously; so does this one.
            for (const m of items) yield await Promise.resolve(m);
          },
          close() {
            calls.streamClosed++;
            return Promise.resolve();
          },
        });
      }
      close() {
        calls.consumerClosed++;
        return Promise.resolve();
      }
    },
  };
  return { driver, log, committed, calls };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof KafkaError ? e.code : `not a KafkaError: ${String(e)}`;
  }
  return 'resolved';
}

const client = (driver: KafkaDriver) => new KafkaClient({ brokers: ['127.0.0.1:9092'], clientId: 'unit', driver });

describe('parseBrokers', () => {
  it('splits and trims a comma-separated list', () => {
    expect(parseBrokers(' a:9092, 127.0.0.1:19092 ')).toEqual(['a:9092', '127.0.0.1:19092']);
  });
  it.each(['', 'localhost', 'a:0', 'a:70000', 'a b:1'])('rejects %j with E_KAFKA_CONFIG', (bad) => {
    expect(() => parseBrokers(bad, 'RETIMUAD_KAFKA_BROKERS')).toThrow(KafkaError);
    expect(() => parseBrokers(bad, 'RETIMUAD_KAFKA_BROKERS')).toThrow(/RETIMUAD_KAFKA_BROKERS/);
  });
});

describe('KafkaClient', () => {
  it('creates a topic once and reports an existing one as exists', async () => {
    const exists = new AggregateError([
      Object.assign(new Error('Topic with this name already exists.'), { apiId: 'TOPIC_ALREADY_EXISTS' }),
    ]);
    const fresh = fakeDriver();
    expect(await client(fresh.driver).ensureTopic('t', 3)).toBe('created');
    const dup = fakeDriver({ createError: exists });
    expect(await client(dup.driver).ensureTopic('t', 3)).toBe('exists');
    expect(fresh.calls.adminClosed + dup.calls.adminClosed).toBe(2);
  });

  it('wraps other admin failures as E_KAFKA_ADMIN with the cause and still closes the admin', async () => {
    const boom = new Error('Cannot connect to any broker.');
    const f = fakeDriver({ createError: boom });
    const err = await client(f.driver)
      .ensureTopic('t')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).code).toBe('E_KAFKA_ADMIN');
    expect((err as KafkaError).cause).toBe(boom);
    expect((err as KafkaError).message).toMatch(/'t'.*127\.0\.0\.1:9092.*Cannot connect/);
    expect(f.calls.adminClosed).toBe(1);
  });

  it('produces strings as buffers with keys and headers, and consumes them back', async () => {
    const f = fakeDriver();
    const k = client(f.driver);
    await k.produce('r', [
      { key: 'pump-1', value: '{"v":1}', headers: { source: 'sim' } },
      { value: Buffer.from('raw') },
    ]);
    const sub = await k.subscribe({ topics: ['r'], groupId: 'g', from: 'earliest' });
    const got = [];
    for await (const rec of sub) got.push(rec);
    expect(got.map((r) => [r.key?.toString(), r.value.toString(), r.headers, r.offset, r.timestamp_ms])).toEqual([
      ['pump-1', '{"v":1}', { source: 'sim' }, 0n, 1_700_000_000_123],
      [undefined, 'raw', {}, 1n, 1_700_000_000_123],
    ]);
    expect(f.calls.consumeOptions).toEqual([
      { topics: ['r'], mode: 'earliest', fallbackMode: 'earliest', autocommit: false, maxWaitTime: 500 },
    ]);
    await sub.close();
    expect([f.calls.streamClosed, f.calls.consumerClosed]).toEqual([1, 1]);
  });

  it('resumes a group after its committed offset and never commits on its own', async () => {
    const f = fakeDriver();
    const k = client(f.driver);
    await k.produce(
      'r',
      ['a', 'b', 'c'].map((value) => ({ value })),
    );
    const first = await k.subscribe({ topics: ['r'], groupId: 'g' });
    for await (const rec of first) if (rec.value.toString() === 'b') await rec.commit();
    await first.close();
    const second = await k.subscribe({ topics: ['r'], groupId: 'g' });
    const rest = [];
    for await (const rec of second) rest.push(rec.value.toString());
    expect(rest).toEqual(['c']);
    expect(f.committed.get('g/r')).toBe(2n);
    await k.close();
  });

  it('wraps produce and commit failures with stable codes', async () => {
    expect(
      await codeOf(client(fakeDriver({ sendError: new Error('down') }).driver).produce('r', [{ value: 'x' }])),
    ).toBe('E_KAFKA_PRODUCE');
    const f = fakeDriver({ commitError: new Error('rebalancing') });
    const k = client(f.driver);
    await k.produce('r', [{ value: 'x' }]);
    const sub = await k.subscribe({ topics: ['r'], groupId: 'g' });
    const codes = [];
    for await (const rec of sub) codes.push(await codeOf(rec.commit()));
    expect(codes).toEqual(['E_KAFKA_COMMIT']);
  });

  it('close() ends subscriptions and the producer, is idempotent, and later calls fail with E_KAFKA_CLOSED', async () => {
    const f = fakeDriver();
    const k = client(f.driver);
    await k.produce('r', [{ value: 'x' }]);
    await k.subscribe({ topics: ['r'], groupId: 'g' });
    await k.close();
    await k.close();
    expect([f.calls.producerClosed, f.calls.consumerClosed]).toEqual([1, 1]);
    expect(await codeOf(k.produce('r', [{ value: 'y' }]))).toBe('E_KAFKA_CLOSED');
    expect(await codeOf(k.subscribe({ topics: ['r'], groupId: 'g' }))).toBe('E_KAFKA_CLOSED');
  });

  it('rejects a malformed broker list at construction', () => {
    expect(() => new KafkaClient({ brokers: ['localhost'], clientId: 'unit', driver: fakeDriver().driver })).toThrow(
      /KafkaClient\(unit\)\.brokers/,
    );
  });
});

describe('loadKafkaDriver', () => {
  it('fails with E_KAFKA_CLIENT_MISSING naming where it looked', async () => {
    const err = await loadKafkaDriver({ resolveFrom: '/nonexistent/retimuad-kafka' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).code).toBe('E_KAFKA_CLIENT_MISSING');
    expect((err as KafkaError).message).toContain('/nonexistent/retimuad-kafka');
  });
});
