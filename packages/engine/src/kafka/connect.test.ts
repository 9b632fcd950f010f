// SASL and TLS options of the config reach every client the driver builds (producer, consumer,
// admin), with the password read from the environment or a file and never from the config.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKafka, securityOptions } from './connect.ts';
import type { DriverOutMessage, KafkaDriver } from './driver.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retimuad-kafka-sec-'));
  await writeFile(join(dir, 'ca.pem'), 'CA PEM');
  await writeFile(join(dir, 'pw'), 'file-secret\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Records the options each driver class is built with. */
function recordingDriver() {
  const seen: Array<{ kind: string; options: Record<string, unknown> }> = [];
  const driver: KafkaDriver = {
    Admin: class {
      constructor(o: object) {
        seen.push({ kind: 'admin', options: o as Record<string, unknown> });
      }
      createTopics() {
        return Promise.resolve();
      }
      close() {
        return Promise.resolve();
      }
    },
    Producer: class {
      constructor(o: object) {
        seen.push({ kind: 'producer', options: o as Record<string, unknown> });
      }
      send(_o: { messages: DriverOutMessage[] }) {
        return Promise.resolve();
      }
      close() {
        return Promise.resolve();
      }
    },
    Consumer: class {
      constructor(o: object) {
        seen.push({ kind: 'consumer', options: o as Record<string, unknown> });
      }
      consume() {
        return Promise.reject(new Error('unused'));
      }
      close() {
        return Promise.resolve();
      }
    },
  };
  return { driver, seen };
}

describe('Kafka SASL/TLS pass-through', () => {
  it('gives producer and admin the SASL credentials (password from the env) and the TLS CA', async () => {
    const { driver, seen } = recordingDriver();
    const { kafka } = await connectKafka(
      {
        brokers: 'b1:9093',
        sasl: { mechanism: 'SCRAM-SHA-512', username: 'retimuad', password_env: 'KPW' },
        tls: { enabled: true, ca_file: join(dir, 'ca.pem'), reject_unauthorized: true, server_name: 'kafka.local' },
      },
      'ingest',
      driver,
      { KPW: 's3cret' },
    );
    await kafka.ensureTopic('t', 1);
    await kafka.produce('t', [{ value: 'x' }]);
    await kafka.close();
    expect(seen.map((s) => s.kind).sort()).toEqual(['admin', 'producer']);
    for (const s of seen) {
      expect(s.options['bootstrapBrokers']).toEqual(['b1:9093']);
      expect(s.options['sasl']).toEqual({ mechanism: 'SCRAM-SHA-512', username: 'retimuad', password: 's3cret' });
      const tls = s.options['tls'] as { ca: Buffer; rejectUnauthorized: boolean; servername: string };
      expect(tls.ca.toString()).toBe('CA PEM');
      expect(tls.rejectUnauthorized).toBe(true);
      expect(tls.servername).toBe('kafka.local');
    }
  });

  it('reads the password from <env>_FILE or password_file, and names what is missing', async () => {
    const sasl = { mechanism: 'PLAIN' as const, username: 'u', password_env: 'RETIMUAD_KAFKA_PASSWORD' };
    expect(
      (await securityOptions({ sasl }, 'w', { RETIMUAD_KAFKA_PASSWORD_FILE: join(dir, 'pw') })).sasl?.password,
    ).toBe('file-secret');
    expect((await securityOptions({ sasl: { ...sasl, password_file: join(dir, 'pw') } }, 'w', {})).sasl?.password).toBe(
      'file-secret',
    );
    await expect(securityOptions({ sasl }, 'worker', {})).rejects.toMatchObject({
      code: 'E_KAFKA_CONFIG',
      message: expect.stringContaining('worker.sasl: no password for user u: set RETIMUAD_KAFKA_PASSWORD') as unknown,
    });
    await expect(
      securityOptions(
        { tls: { enabled: true, reject_unauthorized: true, ca_file: join(dir, 'nope.pem') } },
        'sink',
        {},
      ),
    ).rejects.toMatchObject({
      code: 'E_KAFKA_CONFIG',
      message: expect.stringContaining('sink.tls.ca_file') as unknown,
    });
  });

  it('leaves the driver untouched without sasl/tls', async () => {
    const { driver, seen } = recordingDriver();
    const { kafka } = await connectKafka({ brokers: 'b:9092' }, 'x', driver, {});
    await kafka.produce('t', [{ value: 'x' }]);
    await kafka.close();
    expect(seen[0]?.options['sasl']).toBeUndefined();
    expect(seen[0]?.options['tls']).toBeUndefined();
  });
});
