/**
 * Errors raised by the Kafka wrapper, each with a stable `code` and the driver's error as `cause`.
 *
 * @example
 * try { await kafka.produce('readings', recs) } catch (e) { if (e instanceof KafkaError && e.code === 'E_KAFKA_PRODUCE') ... }
 */
export type KafkaErrorCode =
  | 'E_KAFKA_CONFIG'
  | 'E_KAFKA_CLIENT_MISSING'
  | 'E_KAFKA_ADMIN'
  | 'E_KAFKA_PRODUCE'
  | 'E_KAFKA_CONSUME'
  | 'E_KAFKA_COMMIT'
  | 'E_KAFKA_CLOSED';

export class KafkaError extends Error {
  override readonly name = 'KafkaError';
  constructor(
    readonly code: KafkaErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
