// Broker-restart test: records are produced with our Kafka client (acks=all, as the kafka sink and
// the ingest produce) to a private broker (own ports and data dir, scripts/services/kafka.sh with
// RETIMUAD_KAFKA_* overrides, so the shared broker is never restarted). The broker is stopped for
// OUTAGE_SECS (60) mid-stream and started again; every record the broker acknowledged must then be
// read back. Records refused while it was down are counted (the producer saw the error, so a sink
// or the ingest keeps them), not lost.
// Run with the other outage tests: npx vitest run --config packages/engine/src/sinks/vitest.outage.config.ts
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../kafka/client.ts';
import { loadKafkaDriver, type KafkaDriver } from '../../kafka/driver.ts';
import { readAll } from '../../worker/testing.ts';
import { every, OUTAGE_SECS, privateService, recordOutage, servicesDir, sleep } from '../outage-testing.ts';

const PORT = Number(process.env['RETIMUAD_OUTAGE_KAFKA_PORT'] ?? '19092');
const svc = privateService('kafka', {
  RETIMUAD_KAFKA_PORT: String(PORT),
  RETIMUAD_KAFKA_CONTROLLER_PORT: String(PORT + 1),
  RETIMUAD_KAFKA_DIR: join(servicesDir, 'kafka-outage'),
});

afterAll(async () => {
  await svc.run('stop');
});

/** Resolves to the promise's value, or 'timeout' after ms (the promise keeps running). */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<'timeout'>((r) => (t = setTimeout(() => r('timeout'), ms)))]).finally(() =>
    clearTimeout(t),
  );
}

describe('kafka broker restart', () => {
  it(`loses no acknowledged record when the broker stops for ${OUTAGE_SECS} s mid-stream`, async () => {
    const broker = await svc.run('start');
    const driver: KafkaDriver = await loadKafkaDriver();
    const newClient = (): KafkaClient =>
      new KafkaClient({ brokers: [broker], clientId: 'outage-test', driver, connect_timeout_ms: 2000 });
    const topic = `outage-${Date.now()}`;
    let kafka = newClient();
    await kafka.ensureTopic(topic, 3);
    const acked = new Set<string>();
    let refused = 0;
    let sent = 0;
    let failuresInRow = 0;
    let ackedAfterRestart = 0;
    let restarted = false;
    const stream = every(100, async () => {
      const ids = Array.from({ length: 10 }, () => `k-${sent++}`);
      const res = await within(
        kafka
          .produce(
            topic,
            ids.map((id) => ({ key: id, value: JSON.stringify({ id }) })),
          )
          .then(
            () => 'ok' as const,
            () => 'error' as const,
          ),
        10_000,
      );
      if (res === 'ok') {
        for (const id of ids) acked.add(id);
        failuresInRow = 0;
        if (restarted) ackedAfterRestart += ids.length;
      } else {
        // Not acknowledged: the producer knows, so a sink would retry or spill them.
        refused += ids.length;
        if (++failuresInRow % 5 === 0) {
          // A client that lost its broker for long is replaced rather than trusted to reconnect.
          const old = kafka;
          kafka = newClient();
          void old.close().catch(() => undefined);
        }
      }
    });
    let downAt = 0;
    let upAt = 0;
    try {
      await sleep(5000);
      await svc.run('stop');
      downAt = Date.now();
      await sleep(OUTAGE_SECS * 1000);
      await svc.run('start');
      upAt = Date.now();
      restarted = true;
      await sleep(10_000);
    } finally {
      await stream.stop();
    }
    const reader = newClient();
    const back = await readAll(reader, topic, `outage-reader-${Date.now()}`, 5000);
    await reader.close();
    await kafka.close();
    const read = new Set(back.map((r) => (JSON.parse(r.value) as { id: string }).id));
    const lost = [...acked].filter((id) => !read.has(id)).length;
    await recordOutage('kafka', {
      server: `Kafka broker at ${broker} (private, restarted with SIGTERM)`,
      outage_secs: Math.round((upAt - downAt) / 1000),
      events_sent: sent,
      delivered: read.size,
      lost,
      duplicates: back.length - read.size,
      notes: `acks=all; acknowledged ${acked.size}, refused while down ${refused} (the producer saw the error), acknowledged after the restart ${ackedAfterRestart}`,
    });
    expect(acked.size).toBeGreaterThan(0);
    expect(ackedAfterRestart).toBeGreaterThan(0);
    expect(lost).toBe(0);
  });
});
