import { describe, expect, it } from 'vitest';
import type { DriverConsumer, KafkaDriver } from '../kafka/driver.ts';
import { WorkerConfigError } from './errors.ts';
import { checkInstanceId, withGroupInstanceId } from './instance-id.ts';

describe('static group membership', () => {
  it('accepts Kafka-legal instance ids and names the setting when refusing one', () => {
    expect(checkInstanceId('worker-0.plant_a', 'RETIMUAD_WORKER_INSTANCE_ID')).toBe('worker-0.plant_a');
    for (const bad of ['', 'a b', 'x/y', 'é', 'w'.repeat(250)]) {
      const err = (() => {
        try {
          checkInstanceId(bad, 'RETIMUAD_WORKER_INSTANCE_ID');
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(WorkerConfigError);
      expect((err as WorkerConfigError).code).toBe('E_WORKER_CONFIG');
      expect((err as Error).message).toMatch(/^RETIMUAD_WORKER_INSTANCE_ID: expected a group instance id/);
    }
  });

  it('adds groupInstanceId to every consumer the driver builds and leaves producers and admins alone', () => {
    const seen: Array<{ kind: string; options: Record<string, unknown> }> = [];
    const record = (kind: string) =>
      class {
        constructor(options: Record<string, unknown>) {
          seen.push({ kind, options });
        }
      };
    const base = {
      Producer: record('producer'),
      Consumer: record('consumer'),
      Admin: record('admin'),
    } as unknown as KafkaDriver;
    const d = withGroupInstanceId(base, 'w-1');
    const c: DriverConsumer = new d.Consumer({ clientId: 'c', bootstrapBrokers: ['b:1'], groupId: 'g' });
    new d.Producer({ clientId: 'p', bootstrapBrokers: ['b:1'] });
    expect(c).toBeInstanceOf(base.Consumer);
    expect(seen).toEqual([
      { kind: 'consumer', options: { clientId: 'c', bootstrapBrokers: ['b:1'], groupId: 'g', groupInstanceId: 'w-1' } },
      { kind: 'producer', options: { clientId: 'p', bootstrapBrokers: ['b:1'] } },
    ]);
    expect(d.Admin).toBe(base.Admin);
  });
});
