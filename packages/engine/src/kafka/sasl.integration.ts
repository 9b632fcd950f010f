// SASL against a real broker: a private Kafka instance (scripts/services/kafka.sh with
// RETIMUAD_KAFKA_* overrides: own ports and data dir, the shared test broker is not touched) with a
// SASL_PLAINTEXT listener (PLAIN). Our connection options (`sasl:` with the password from the
// environment) must produce and consume through it; a wrong password must fail with an error that
// says so, not hang. Part of `npm test`.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privateService, servicesDir } from '../sinks/outage-testing.ts';
import { connectKafka } from './connect.ts';
import { KafkaError } from './errors.ts';

const BASE = Number(process.env['RETIMUAD_SASL_KAFKA_PORT'] ?? '19392');
const SASL_PORT = BASE + 2;
const PASSWORD = `pw-${process.pid}-${Date.now()}`;
const svc = privateService('kafka', {
  RETIMUAD_KAFKA_PORT: String(BASE),
  RETIMUAD_KAFKA_CONTROLLER_PORT: String(BASE + 1),
  RETIMUAD_KAFKA_SASL_PORT: String(SASL_PORT),
  RETIMUAD_KAFKA_SASL_USERS: `retimuad:${PASSWORD}`,
  RETIMUAD_KAFKA_DIR: join(servicesDir, 'kafka-sasl'),
});
const brokers = `127.0.0.1:${SASL_PORT}`;
const sasl = { mechanism: 'PLAIN' as const, username: 'retimuad', password_env: 'SASL_TEST_PASSWORD' };

beforeAll(async () => {
  // The listener config is written at start: a previous run's instance may have another password.
  await svc.run('stop');
  await svc.run('start');
}, 300_000);

afterAll(async () => {
  await svc.run('stop');
}, 120_000);

describe('Kafka with SASL/PLAIN (real broker)', () => {
  it('produces and consumes with the password read from the environment', async () => {
    const { kafka } = await connectKafka({ brokers, sasl }, 'sasl-test', undefined, {
      SASL_TEST_PASSWORD: PASSWORD,
    });
    try {
      const topic = `sasl-${Date.now()}`;
      await kafka.ensureTopic(topic, 1);
      await kafka.produce(topic, [{ key: 'a', value: 'hello over SASL' }]);
      const sub = await kafka.subscribe({ topics: [topic], groupId: `sasl-${Date.now()}`, from: 'earliest' });
      let got: string | undefined;
      for await (const rec of sub) {
        got = rec.value.toString();
        break;
      }
      await sub.close();
      expect(got).toBe('hello over SASL');
    } finally {
      await kafka.close();
    }
  }, 120_000);

  it('refuses a wrong password with an authentication error naming the brokers', async () => {
    const { kafka } = await connectKafka({ brokers, sasl }, 'sasl-test-wrong', undefined, {
      SASL_TEST_PASSWORD: 'not-the-password',
    });
    const err = await kafka.produce(`sasl-wrong-${Date.now()}`, [{ value: 'x' }]).catch((e: unknown) => e);
    await kafka.close();
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).message).toContain(brokers);
    expect(String((err as KafkaError).message) + String((err as Error).cause)).toMatch(/auth|SASL|credentials/i);
  }, 120_000);
});
