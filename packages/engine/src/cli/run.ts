/**
 * `retimuad run`: the embedded system in one process — sources (the plant simulator by
 * default) → pipeline → embedded store, alerts and the dashboard/API. Prints the dashboard URL.
 * SIGINT/SIGTERM stop it gracefully (queue drained, sinks flushed, checkpoint written); the
 * next start resumes from the checkpoint.
 *
 * @example
 * retimuad run                          # examples/plant.yaml, dashboard on http://127.0.0.1:8080/
 * retimuad run --config my.yaml --port 9000 --fresh
 */
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { loadConfigFile, type PipelineConfig } from '../config/load.ts';
import { createMetrics, type Metrics } from '../runtime/metrics.ts';
import { Pipeline } from '../runtime/pipeline.ts';
import { componentSchemas, isEmbeddedStore, sinkTypes, sourceTypes, type FactoryDeps } from '../runtime/registry.ts';
import type { Sink, Source } from '../runtime/types.ts';
import { createFsBlobStore } from '../storage/blobs.ts';
import { createApiServer } from '../api/server.ts';
import { apiTls } from '../api/tls.ts';
import { analyze } from '../analytics/analyze.ts';
import { createLiveHub, createLiveSink, type HealthReport } from '../api/deps.ts';
import { createMediaFeatureStage } from '../runtime/media-features.ts';
import { createModelStage } from '../models/stage.ts';
import { dirname } from 'node:path';
// --- access (issue 7) ---
import { setupAccess, type AccessControl, type AccessSeed } from '../auth/access.ts';
// --- end access ---

export interface RunOptions {
  config: string;
  port?: number;
  host?: string;
  fresh?: boolean;
  dataDir?: string;
  logLevel?: string;
  // --- access (issue 7) ---
  /**
   * Sign-in for the API and dashboard: users and API keys given here (plain secrets, hashed at
   * start; for tests and embedding) join the users file and RETIMUAD_ADMIN_PASSWORD.
   * `{ disabled: true }` serves the API without sign-in (only for tests that need an open API).
   */
  auth?: AccessSeed & { disabled?: boolean };
  // --- end access ---
  /** Where human-facing lines go (the URL, incidents); stdout by default. */
  print?: (line: string) => void;
}

export interface RunningSystem {
  url: string | undefined;
  pipeline: Pipeline;
  config: PipelineConfig;
  stop(): Promise<void>;
}

export function makeLogger(dataDir: string, level: string): Logger {
  // Full logs go to a file; the terminal only shows warnings and errors (plus what `print` says).
  return pino(
    { level, base: { pid: process.pid } },
    pino.multistream([
      { level: 'trace', stream: pino.destination({ dest: join(dataDir, 'retimuad.log'), mkdir: true, sync: false }) },
      { level: 'warn', stream: pino.destination({ dest: 2, sync: false }) },
    ]),
  );
}

export async function startSystem(opts: RunOptions): Promise<RunningSystem> {
  const print = opts.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  const config = await loadConfigFile(opts.config, componentSchemas());
  if (opts.dataDir !== undefined) config.dataDir = resolve(opts.dataDir);
  if (opts.port !== undefined) config.api.port = opts.port;
  if (opts.host !== undefined) config.api.host = opts.host;
  await mkdir(config.dataDir, { recursive: true });
  const logger = makeLogger(config.dataDir, opts.logLevel ?? process.env['RETIMUAD_LOG_LEVEL'] ?? 'info');
  // --- access (issue 7) ---
  // Before anything starts, so a bad users file stops the start cleanly.
  let access: AccessControl | undefined;
  if (config.api.enabled && opts.auth?.disabled !== true) {
    const { disabled: _d, ...seed } = opts.auth ?? {};
    access = await setupAccess({ dataDir: config.dataDir, env: process.env, print, seed });
  }
  // --- end access ---
  const metrics = createMetrics();
  const blobs = createFsBlobStore(join(config.dataDir, 'blobs'));
  const abort = new AbortController();
  const deps: FactoryDeps = {
    logger,
    metrics,
    signal: abort.signal,
    dataPath: (p) => (isAbsolute(p) ? p : join(config.dataDir, p)),
  };
  const sinks: Sink[] = [];
  for (const s of config.sinks) {
    const t = sinkTypes[s.type];
    if (t === undefined) throw new Error(`unknown sink type ${s.type}`);
    sinks.push(await t.create(s.id, s.options, deps));
  }
  const sources: Source[] = config.sources.map((s) => {
    const t = sourceTypes[s.type];
    if (t === undefined) throw new Error(`unknown source type ${s.type}`);
    return t.create(s.id, s.options, deps);
  });
  const hub = createLiveHub({ bufferSize: 2000, logger });
  sinks.push(createLiveSink(hub));

  const media = createMediaFeatureStage({ blobs, logger: logger.child({ component: 'media-features' }) });
  const models =
    (config.models ?? []).length > 0
      ? await createModelStage({
          entries: config.models ?? [],
          baseDir: dirname(resolve(opts.config)),
          blobs,
          logger: logger.child({ component: 'model-stage' }),
        })
      : undefined;
  const pipeline = new Pipeline({
    config,
    sources,
    sinks,
    logger,
    metrics,
    blobs,
    media,
    ...(models !== undefined ? { models } : {}),
    fresh: opts.fresh === true,
    live_time: true,
  });
  const { restored } = await pipeline.start();
  print(restored ? `Resumed from checkpoint ${pipeline.checkpointFile}` : 'Started fresh (no checkpoint)');

  let url: string | undefined;
  let closeApi: (() => Promise<void>) | undefined;
  const store = sinks.find(isEmbeddedStore);
  if (config.api.enabled) {
    if (store === undefined) throw new Error(`${config.file}: the API needs an embedded_store sink to read from`);
    const api = createApiServer({
      ...(access === undefined ? {} : { access }),
      actions: store,
      store,
      analyze: (o) => analyze(store.query.bind(store), o),
      registry: metrics.registry,
      live: hub,
      health: () => healthReport(pipeline, metrics),
      blobs,
      logger,
      ...apiTls(config.api),
    });
    const listening = await api.listen(config.api.port, config.api.host);
    url = listening.url;
    closeApi = () => listening.close();
    print(`RETIMU-AD dashboard: ${url}`);
  }
  print(`Data directory: ${config.dataDir} (logs in retimuad.log)`);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Sinks get their abort only after the pipeline's final flush, so the last batch is delivered.
      await pipeline.stop();
      abort.abort();
      await closeApi?.();
    })());
  return { url, pipeline, config, stop };
}

export function healthReport(pipeline: Pipeline, metrics: Metrics): HealthReport {
  const components = metrics.all().map((c) => {
    const h: HealthReport['components'][number] = {
      id: c.id,
      kind: c.kind,
      received: c.received,
      emitted: c.emitted,
      discarded: c.discarded,
    };
    if (c.lastError !== undefined) h.lastError = c.lastError;
    return h;
  });
  const degraded = components.some((c) => c.lastError !== undefined) || pipeline.queueDepth >= pipeline.queueCapacity;
  return {
    status: degraded ? 'degraded' : 'ok',
    uptimeSecs: Math.round((Date.now() - pipeline.startedAt) / 1000),
    components,
    queue: { depth: pipeline.queueDepth, capacity: pipeline.queueCapacity },
    deadLetters: pipeline.deadLetterCount,
    detectors: pipeline.processor.instances.map((inst) => {
      const s = pipeline.processor.stats.get(inst.cfg.id);
      return {
        id: inst.cfg.id,
        type: inst.cfg.def.type,
        keys: inst.states.size,
        steps: s?.steps ?? 0,
        anomalies: s?.anomalies ?? 0,
      };
    }),
    models: Object.entries(pipeline.modelStats()).map(([id, s]) => ({ id, ...s })),
    lagMs: pipeline.processor.eventTime > 0 ? Math.max(0, Date.now() - pipeline.processor.eventTime) : 0,
  };
}

/** Runs until SIGINT/SIGTERM, then stops gracefully. */
export async function runCommand(opts: RunOptions): Promise<void> {
  const sys = await startSystem(opts);
  let signalled = false;
  const onSignal = (sig: string) => {
    signalled = true;
    process.stdout.write(`\n${sig}: stopping (draining, writing checkpoint)…\n`);
    void sys.stop().then(() => {
      process.stdout.write(`Stopped. Checkpoint: ${sys.pipeline.checkpointFile}\n`);
      process.exit(0);
    });
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  await sys.pipeline.done;
  if (sys.url !== undefined && !signalled) {
    // Finite sources ended: keep the dashboard up for inspection until a signal arrives.
    process.stdout.write(`All sources finished; the dashboard stays up at ${sys.url} until Ctrl-C.\n`);
    await new Promise(() => {});
  }
  await sys.stop();
}
