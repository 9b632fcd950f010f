/**
 * `retimuad worker --config F`: starts one consumer-group member from a pipeline config. The
 * config's `kafka` source names the brokers, topics, group and the shared state directory; its
 * detectors and correlator run once per partition number, fed by that partition of every topic
 * (worker.ts, merge.ts); its sinks (typically a `kafka` sink) get the output.
 * Status lines (assignments, restores, checkpoints) go to stdout as JSON, one per line.
 *
 * @example
 * retimuad worker --config examples/kafka-worker.yaml
 * // {"event":"assigned","generation":1,"member":"…","partitions":["retimuad.readings[0]",…]}
 */
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { loadConfigFile, type PipelineConfig } from '../config/load.ts';
import { connectKafka } from '../kafka/connect.ts';
import { loadKafkaDriver } from '../kafka/driver.ts';
import { checkCoPartitioned } from '../kafka/topics.ts';
import { componentSchemas, sinkTypes, type FactoryDeps } from '../runtime/registry.ts';
import { createMetrics } from '../runtime/metrics.ts';
import type { Sink } from '../runtime/types.ts';
import type { KafkaSourceParams } from '../sources/kafka/index.ts';
import { WorkerConfigError } from './errors.ts';
import { checkInstanceId, withGroupInstanceId } from './instance-id.ts';
import { createDirStateStore } from './state-store.ts';
import { Worker, type CheckpointStep, type WorkerStatus } from './worker.ts';

export { WorkerConfigError };

export interface StartWorkerOptions {
  config: string | PipelineConfig;
  /** Overrides the source's state_dir. */
  stateDir?: string;
  /** Overrides the source's group_id. */
  groupId?: string;
  logger?: Logger;
  onStatus?: (s: WorkerStatus) => void;
  /**
   * Static group membership (Kafka group.instance.id; the CLI reads RETIMUAD_WORKER_INSTANCE_ID):
   * a restarted worker takes its partitions back at once instead of waiting out its dead
   * predecessor's session. Unique per worker. See instance-id.ts.
   */
  instanceId?: string;
  /** Test-only crash injection, "step[:n]" (see parseFailpoint); the CLI reads RETIMUAD_WORKER_FAILPOINT. */
  failpoint?: string;
}

const CHECKPOINT_STEPS: readonly CheckpointStep[] = ['output-written', 'state-saved', 'offset-committed'];

/**
 * Parses a failpoint "step[:n]": the process SIGKILLs itself at the n-th (default 1st) time it
 * reaches that step inside a checkpoint. The crash test uses it to die exactly between writing
 * output, saving state and committing offsets, windows a random kill rarely hits.
 */
export function parseFailpoint(spec: string): { step: CheckpointStep; nth: number } {
  const [step, n, ...rest] = spec.split(':');
  const nth = n === undefined ? 1 : Number(n);
  const known = CHECKPOINT_STEPS.find((s) => s === step);
  if (known === undefined || rest.length > 0 || !Number.isInteger(nth) || nth < 1) {
    throw new WorkerConfigError(
      `RETIMUAD_WORKER_FAILPOINT: expected ${CHECKPOINT_STEPS.join('|')} optionally followed by :n (n >= 1), got '${spec}'`,
    );
  }
  return { step: known, nth };
}

export async function startWorker(
  opts: StartWorkerOptions,
): Promise<{ worker: Worker; done: Promise<void>; stop(): Promise<void> }> {
  const failpoint = opts.failpoint === undefined ? undefined : parseFailpoint(opts.failpoint);
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
  const logger = opts.logger ?? workerLogger(config.dataDir, process.env['RETIMUAD_LOG_LEVEL'] ?? 'info');
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
  const driver =
    opts.instanceId === undefined
      ? undefined
      : withGroupInstanceId(await loadKafkaDriver(), checkInstanceId(opts.instanceId, 'worker instance id'));
  const { kafka, layout } = await connectKafka(params, `${src.id}-worker`, driver);
  // The group co-partitions its topics (kafka/topics.ts coPartitionAssigner): that only puts one
  // key's modalities on one worker when every topic has the same partition count.
  const counts = await kafka.partitionCounts(params.topics.map((r) => layout.name(r)));
  try {
    checkCoPartitioned(counts, `${config.file}: /sources/${config.sources.indexOf(src)}/topics`);
  } catch (err) {
    await kafka.close();
    throw err;
  }
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
    ...(failpoint === undefined ? {} : { onCheckpointStep: crashAt(failpoint.step, failpoint.nth, logger) }),
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

/**
 * The same logging as `retimuad run` (cli/run.ts makeLogger): everything to a file in the data
 * dir, warnings to stderr. Not imported from there because cli/run.ts pulls in the API server,
 * analytics and model stages, a second of module loading on every worker (re)start.
 */
function workerLogger(dataDir: string, level: string): Logger {
  return pino(
    { level, base: { pid: process.pid } },
    pino.multistream([
      { level: 'trace', stream: pino.destination({ dest: join(dataDir, 'retimuad.log'), mkdir: true, sync: false }) },
      { level: 'warn', stream: pino.destination({ dest: 2, sync: false }) },
    ]),
  );
}

function crashAt(step: CheckpointStep, nth: number, logger: Logger): (s: CheckpointStep) => void {
  let seen = 0;
  return (s) => {
    if (s !== step || ++seen < nth) return;
    logger.warn({ failpoint: `${step}:${nth}` }, 'failpoint reached: SIGKILL');
    logger.flush?.();
    process.kill(process.pid, 'SIGKILL');
  };
}

function abs(config: PipelineConfig, p: string): string {
  return isAbsolute(p) ? p : join(config.dataDir, p);
}

/** Runs until SIGINT/SIGTERM, then checkpoints and leaves the group. */
export async function runWorkerCommand(opts: Omit<StartWorkerOptions, 'onStatus'>): Promise<void> {
  const failpoint = process.env['RETIMUAD_WORKER_FAILPOINT'];
  const instanceId = process.env['RETIMUAD_WORKER_INSTANCE_ID'];
  const w = await startWorker({
    ...opts,
    ...(instanceId === undefined || instanceId === '' || opts.instanceId !== undefined ? {} : { instanceId }),
    onStatus: (s) => process.stdout.write(`${JSON.stringify(s)}\n`),
    ...(failpoint === undefined || failpoint === '' ? {} : { failpoint }),
  });
  const onSignal = () => void w.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await w.done;
}
