/**
 * Static group membership for workers (Kafka's `group.instance.id`, KIP-345). A worker that was
 * killed and comes back with the same instance id takes its partitions back at once, in the same
 * generation; without it the restarted process waits until the broker expires its dead
 * predecessor's session (session_timeout_ms, 6 s: the broker's minimum), and the group rebalances
 * twice. The broker also fences the old member id, so a zombie of the same instance cannot commit.
 * The id must be unique per worker (a pod or host name); two live workers with one id fence
 * each other.
 *
 * @example
 * const driver = withGroupInstanceId(await loadKafkaDriver(), 'worker-0');
 * const { kafka } = await connectKafka(params, 'bus-worker', driver);
 */
import type { KafkaDriver } from '../kafka/driver.ts';
import { WorkerConfigError } from './errors.ts';

// Kafka accepts the characters and length of a topic name for group.instance.id.
const LEGAL = /^[A-Za-z0-9._-]{1,249}$/;

/** Throws E_WORKER_CONFIG naming `where` unless `id` is a legal group.instance.id. */
export function checkInstanceId(id: string, where: string): string {
  if (!LEGAL.test(id)) {
    throw new WorkerConfigError(
      `${where}: expected a group instance id of 1 to 249 characters from [A-Za-z0-9._-], got '${id}'`,
    );
  }
  return id;
}

/** The same driver, whose consumers join their group as the static member `id`. */
export function withGroupInstanceId(d: KafkaDriver, id: string): KafkaDriver {
  const Consumer = d.Consumer;
  return {
    Producer: d.Producer,
    Admin: d.Admin,
    Consumer: class extends Consumer {
      constructor(o: ConstructorParameters<typeof Consumer>[0]) {
        // The driver's option object takes groupInstanceId; our structural type does not list it.
        super({ ...o, groupInstanceId: id } as typeof o);
      }
    },
  };
}
