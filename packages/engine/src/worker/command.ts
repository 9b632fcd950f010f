/**
 * `retimuad worker --config F`: starts one consumer-group member from a pipeline config. The
 * config's `kafka` source names the brokers, topics, group and the shared state directory; its
 * detectors and correlator run per partition; its sinks (typically a `kafka` sink) get the output.
 * Status lines (assignments, restores, checkpoints) go to stdout as JSON, one per line.
 *
 * @example
 * retimuad worker --config examples/kafka-worker.yaml
 * // {"event":"assigned","generation":1,"member":"…","partitions":["retimuad.readings[0]",…]}
 */
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { loadConfigFile, type PipelineConfig } from '../config/load.ts';
import { connectKafka } from '../kafka/connect.ts';
import { componentSchemas, sinkTypes, type FactoryDeps } from '../runtime/registry.ts';
import { createMetrics } from '../runtime/metrics.ts';
import type { Sink } from '../runtime/types.ts';
import type { KafkaSourceParams } from '../sources/kafka/index.ts';
import { makeLogger } from '../cli/run.ts';
import { createDirStateStore } from './state-store.ts';
import { Worker, type WorkerStatus } from './worker.ts';

export class WorkerConfigError extends Error {
  readonly code = 'E_WORKER_CONFIG';
}

export interface StartWorkerOptions {
  config: string | PipelineConfig;
  /** Overrides the source's state_dir. */
  stateDir?: string;
  /** Overrides the source's group_id. */
  groupId?: string;
  logger?: Logger;
  onStatus?: (s: WorkerStatus) => void;
}

export async function startWorker(
  opts: StartWorkerOptions,
): Promise<{ worker: Worker; done: Promise<void>; stop(): Promise<void> }> {
  const config = typeof opts.config === 'string' ? await loadConfigFile(opts.config, componentSchemas()) : opts.config;
  const sources = config.sources.filter((s) => s.type === 'kafka');
  if (sources.length !== 1) {
    throw new WorkerConfigError(
      `${config.file}: /sources: a worker needs exactly one source of type kafka, found ${sources.length}`,
    );
  }
  const src = sources[0]!;
  const params = src.options as KafkaSourceParams;
  await mkdir(config.dataDir, { recursive: true });
  const logger = opts.logger ?? makeLogger(config.dataDir, process.env['RETIMUAD_LOG_LEVEL'] ?? 'info');
  const groupId = opts.groupId ?? params.group_id;
  const stateDir = resolve(
    opts.stateDir ??
      (params.state_dir !== undefined ? abs(config, params.state_dir) : join(config.dataDir, 'kafka-state', groupId)),
  );
  const abort = new AbortController();
  const deps: FactoryDeps = {
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
    signal: abort.signal,
    dataPath: (p) => abs(config, p),
  };
  const sinks: Sink[] = [];
  for (const s of config.sinks) {
    const t = sinkTypes[s.type];
    if (t === undefined) throw new WorkerConfigError(`${config.file}: unknown sink type ${s.type}`);
    sinks.push(await t.create(s.id, s.options, deps));
  }
  const { kafka, layout } = await connectKafka(params, `${src.id}-worker`);
  const worker = new Worker({
    kafka,
    topics: params.topics.map((r) => layout.name(r)),
    groupId,
    detectors: config.detectors,
    correlator: config.correlator,
    sinks,
    store: createDirStateStore(stateDir),
    logger,
    site: config.site,
    checkpoint_interval_ms: params.checkpoint_interval_ms,
    batch_max: config.runtime.batch_max,
    ...(opts.onStatus === undefined ? {} : { onStatus: opts.onStatus }),
  });
  const done = worker.run().finally(async () => {
    abort.abort();
    for (const s of sinks)
      await s.close().catch((err: unknown) => logger.error({ err, sink: s.id }, 'sink close failed'));
    await kafka.close();
  });
  return {
    worker,
    done,
    stop: async () => {
      worker.stop();
      await done;
    },
  };
}

function abs(config: PipelineConfig, p: string): string {
  return isAbsolute(p) ? p : join(config.dataDir, p);
}

/** Runs until SIGINT/SIGTERM, then checkpoints and leaves the group. */
export async function runWorkerCommand(opts: Omit<StartWorkerOptions, 'onStatus'>): Promise<void> {
  const w = await startWorker({ ...opts, onStatus: (s) => process.stdout.write(`${JSON.stringify(s)}\n`) });
  const onSignal = () => void w.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await w.done;
}
