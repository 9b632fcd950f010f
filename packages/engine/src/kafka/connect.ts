/**
 * Shared connection options of every Kafka component (source, sink, ingest, worker, simulate):
 * one TypeBox schema for the `brokers`, `topic_prefix`, `client_id`, `sasl` and `tls` options,
 * and a helper that loads the driver and builds a KafkaClient from them. SASL and TLS settings
 * are passed through to `@platformatic/kafka` unchanged in meaning; the SASL password is read
 * only from the environment or a file (`password_env` / `<password_env>_FILE` / `password_file`).
 *
 * @example
 * const { kafka, layout } = await connectKafka({ brokers: '127.0.0.1:9092', topic_prefix: 'retimuad' }, 'worker');
 * // kafka: { brokers: b:9093, sasl: { mechanism: SCRAM-SHA-512, username: retimuad }, tls: { ca_file: /etc/ca.pem } }
 */
import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import { readSecret, readSecretFile } from '../auth/secrets.ts';
import { KafkaClient, parseBrokers } from './client.ts';
import { loadKafkaDriver, withSecurity, type DriverSecurity, type KafkaDriver } from './driver.ts';
import { KafkaError } from './errors.ts';
import { topicLayout, type TopicLayout } from './topics.ts';

export const KafkaConnectionParams = {
  brokers: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
    default: '127.0.0.1:9092',
    description: 'Bootstrap brokers: "host:port,host:port" or a list.',
  }),
  topic_prefix: Type.String({
    default: 'retimuad',
    description: 'Topics are <prefix>.readings, <prefix>.incidents, ...',
  }),
  client_id: Type.Optional(
    Type.String({ minLength: 1, description: 'Kafka client id; default retimuad-<component id>.' }),
  ),
  sasl: Type.Optional(
    Type.Object(
      {
        mechanism: Type.Union([Type.Literal('PLAIN'), Type.Literal('SCRAM-SHA-256'), Type.Literal('SCRAM-SHA-512')], {
          description: 'SASL mechanism the brokers accept.',
        }),
        username: Type.String({ minLength: 1 }),
        password_env: Type.String({
          minLength: 1,
          default: 'RETIMUAD_KAFKA_PASSWORD',
          description: 'Environment variable holding the password (or <name>_FILE holding its path).',
        }),
        password_file: Type.Optional(
          Type.String({ minLength: 1, description: 'File holding the password; wins over password_env.' }),
        ),
      },
      { additionalProperties: false, description: 'SASL authentication; the password never appears in config.' },
    ),
  ),
  tls: Type.Optional(
    Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        ca_file: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of the CA(s) to trust.' })),
        cert_file: Type.Optional(Type.String({ minLength: 1, description: 'PEM client certificate (mutual TLS).' })),
        key_file: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key of cert_file.' })),
        reject_unauthorized: Type.Boolean({
          default: true,
          description: 'Refuse brokers whose certificate does not verify.',
        }),
        server_name: Type.Optional(Type.String({ minLength: 1, description: 'SNI / certificate host name.' })),
      },
      { additionalProperties: false, description: 'TLS to the brokers.' },
    ),
  ),
};
const _connectionSchema = Type.Object(KafkaConnectionParams);
export type KafkaConnection = Partial<Static<typeof _connectionSchema>>;

let cachedDriver: Promise<KafkaDriver> | undefined;

/** Resolves `sasl`/`tls` options into the driver's shape: reads the password and PEM files. */
export async function securityOptions(
  o: KafkaConnection,
  componentId: string,
  env: Record<string, string | undefined> = process.env,
): Promise<DriverSecurity> {
  const out: DriverSecurity = {};
  if (o.sasl !== undefined) {
    const s = o.sasl;
    const envName = s.password_env ?? 'RETIMUAD_KAFKA_PASSWORD';
    const password =
      s.password_file !== undefined
        ? await readSecretFile(s.password_file, `${componentId}.sasl.password_file`)
        : await readSecret(env, envName);
    if (password === undefined)
      throw new KafkaError(
        'E_KAFKA_CONFIG',
        `${componentId}.sasl: no password for user ${s.username}: set ${envName} or ${envName}_FILE, or sasl.password_file`,
      );
    out.sasl = { mechanism: s.mechanism, username: s.username, password };
  }
  if (o.tls !== undefined && o.tls.enabled !== false) {
    const t = o.tls;
    const pem = async (path: string | undefined, field: string): Promise<Buffer | undefined> => {
      if (path === undefined) return undefined;
      try {
        return await readFile(path);
      } catch (err) {
        throw new KafkaError(
          'E_KAFKA_CONFIG',
          `${componentId}.tls.${field}: cannot read ${path} (${(err as Error).message})`,
          { cause: err },
        );
      }
    };
    if ((t.cert_file === undefined) !== (t.key_file === undefined))
      throw new KafkaError('E_KAFKA_CONFIG', `${componentId}.tls: cert_file and key_file go together`);
    const [ca, cert, key] = await Promise.all([
      pem(t.ca_file, 'ca_file'),
      pem(t.cert_file, 'cert_file'),
      pem(t.key_file, 'key_file'),
    ]);
    out.tls = {
      rejectUnauthorized: t.reject_unauthorized ?? true,
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
      ...(t.server_name === undefined ? {} : { servername: t.server_name }),
    };
  }
  return out;
}

export async function connectKafka(
  o: KafkaConnection,
  componentId: string,
  driver?: KafkaDriver,
  env: Record<string, string | undefined> = process.env,
): Promise<{ kafka: KafkaClient; layout: TopicLayout; brokers: string[] }> {
  const list = Array.isArray(o.brokers) ? o.brokers.join(',') : (o.brokers ?? '127.0.0.1:9092');
  const brokers = parseBrokers(list, `${componentId}.brokers`);
  const layout = topicLayout({ prefix: o.topic_prefix ?? 'retimuad' });
  const security = await securityOptions(o, componentId, env);
  const base = driver ?? (await (cachedDriver ??= loadKafkaDriver()));
  const d = security.sasl === undefined && security.tls === undefined ? base : withSecurity(base, security);
  const kafka = new KafkaClient({ brokers, clientId: o.client_id ?? `retimuad-${componentId}`, driver: d });
  return { kafka, layout, brokers };
}
