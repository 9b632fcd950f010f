/**
 * The slice of `@platformatic/kafka` that the engine uses, typed structurally, and a loader
 * that finds the package at run time. Structural types keep this folder compiling before the
 * package is a dependency, and let unit tests pass a fake driver.
 *
 * @example
 * const driver = await loadKafkaDriver();                       // from the repo's node_modules
 * const driver2 = await loadKafkaDriver({ resolveFrom: '/tmp/kafka-eval' }); // from a scratch dir
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KafkaError } from './errors.ts';

/** The package this driver shape was written against (see docs/adr/0003-kafka-client.md). */
export const KAFKA_DRIVER_PACKAGE = '@platformatic/kafka';

export interface DriverBaseOptions {
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout?: number;
  retries?: number;
}

export interface DriverOutMessage {
  topic: string;
  key?: Buffer;
  value: Buffer;
  headers?: Map<Buffer, Buffer>;
}

export interface DriverInMessage {
  topic: string;
  partition: number;
  offset: bigint;
  key?: Buffer | null | undefined;
  value?: Buffer | null | undefined;
  timestamp: bigint;
  headers: Map<Buffer, Buffer>;
  commit(): void | Promise<void>;
}

export interface DriverStream extends AsyncIterable<DriverInMessage> {
  close(): Promise<void>;
}

export interface DriverProducer {
  send(options: { messages: DriverOutMessage[] }): Promise<unknown>;
  close(force?: boolean): Promise<void>;
}

/** Group membership as the driver reports it after each join (rebalance). */
export interface DriverGroupJoin {
  groupId: string;
  memberId: string;
  generationId?: number;
  assignments?: Array<{ topic: string; partitions: number[] }>;
}

export interface DriverConsumer {
  /** Group events; optional so test doubles without a group can omit it. */
  on?(event: 'consumer:group:join', listener: (payload: DriverGroupJoin) => void): unknown;
  consume(options: {
    topics: string[];
    mode: 'earliest' | 'latest' | 'committed';
    fallbackMode: 'earliest' | 'latest' | 'fail';
    autocommit: false;
    maxWaitTime: number;
  }): Promise<DriverStream>;
  close(force?: boolean): Promise<void>;
}

export interface DriverAdmin {
  createTopics(options: {
    topics: string[];
    partitions: number;
    replicas: number;
    configs?: Array<{ name: string; value: string }>;
  }): Promise<unknown>;
  close(): Promise<void>;
}

export interface KafkaDriver {
  Producer: new (options: DriverBaseOptions & { acks?: number }) => DriverProducer;
  Consumer: new (
    options: DriverBaseOptions & { groupId: string; sessionTimeout?: number; heartbeatInterval?: number },
  ) => DriverConsumer;
  Admin: new (options: DriverBaseOptions) => DriverAdmin;
}

/** SASL and TLS settings in @platformatic/kafka's option shape (`sasl`, `tls` of its BaseOptions). */
export interface DriverSecurity {
  sasl?: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string };
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean; servername?: string };
}

/**
 * The same driver, with `security` merged into the options of every Producer, Consumer and Admin
 * it builds, so the client wrapper stays unaware of credentials.
 */
export function withSecurity(d: KafkaDriver, security: DriverSecurity): KafkaDriver {
  const extra = {
    ...(security.sasl === undefined ? {} : { sasl: security.sasl }),
    ...(security.tls === undefined ? {} : { tls: security.tls }),
  };
  const Producer = d.Producer;
  const Consumer = d.Consumer;
  const Admin = d.Admin;
  return {
    Producer: class extends Producer {
      constructor(o: ConstructorParameters<typeof Producer>[0]) {
        super({ ...o, ...extra });
      }
    },
    Consumer: class extends Consumer {
      constructor(o: ConstructorParameters<typeof Consumer>[0]) {
        super({ ...o, ...extra });
      }
    },
    Admin: class extends Admin {
      constructor(o: ConstructorParameters<typeof Admin>[0]) {
        super({ ...o, ...extra });
      }
    },
  };
}

export interface LoadDriverOptions {
  /** Directory whose node_modules holds the package; default: resolve from this file. */
  resolveFrom?: string;
}

/** Import the Kafka client package; fails with E_KAFKA_CLIENT_MISSING when it is not installed. */
export async function loadKafkaDriver(options: LoadDriverOptions = {}): Promise<KafkaDriver> {
  const base = options.resolveFrom === undefined ? import.meta.url : join(options.resolveFrom, 'noop.js');
  let resolved: string;
  try {
    resolved = createRequire(base).resolve(KAFKA_DRIVER_PACKAGE);
  } catch (cause) {
    const where = options.resolveFrom ?? 'the repository';
    throw new KafkaError(
      'E_KAFKA_CLIENT_MISSING',
      `${KAFKA_DRIVER_PACKAGE} is not installed in ${where}: add it with npm (see docs/adr/0003-kafka-client.md)`,
      { cause },
    );
  }
  const mod = (await import(pathToFileURL(resolved).href)) as Partial<Record<keyof KafkaDriver, unknown>>;
  for (const name of ['Producer', 'Consumer', 'Admin'] as const) {
    if (typeof mod[name] !== 'function') {
      throw new KafkaError(
        'E_KAFKA_CLIENT_MISSING',
        `${resolved} does not export class ${name}: unsupported ${KAFKA_DRIVER_PACKAGE} version`,
      );
    }
  }
  return mod as KafkaDriver;
}
