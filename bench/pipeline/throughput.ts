/**
 * Embedded pipeline throughput: the real Pipeline with examples/plant.yaml's detectors, correlator
 * and sinks (embedded DuckDB store, alerts file, console, plus the live feed `retimuad run` adds),
 * fed as fast as it takes events from an in-memory source that replays a pre-generated simulator
 * run. Cases: sensors and logs only; with media (audio clips and camera frames → feature
 * readings); with media and the ONNX model stages. A peer case without sinks is measured in the
 * same run, so the sinks' share reads as a ratio on a busy machine.
 *
 * Prints events/s and events per CPU second (this process, all threads: the figure to compare on
 * a shared machine) per case with the time share of each stage (decode+queue in the source,
 * detectors/correlator, media, models, each sink's write), and writes data/bench/pipeline.json.
 * Profile a case with `node --cpu-prof --cpu-prof-dir=/tmp/prof bin/run-ts.mjs bench/pipeline/throughput.ts --case core`.
 *
 * @example
 * node bin/run-ts.mjs bench/pipeline/throughput.ts                       # all cases, 900 simulated s each
 * node bin/run-ts.mjs bench/pipeline/throughput.ts --sim-secs 300 --case core,media
 * node bin/run-ts.mjs bench/pipeline/throughput.ts --case core --batch-max 5000   # larger store transactions
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import type { Event, MediaRef } from '../../packages/core/src/schema/events.ts';
import { createPlant } from '../../packages/core/src/simulator/plant.ts';
import { loadConfigFile } from '../../packages/engine/src/config/load.ts';
import { createMetrics } from '../../packages/engine/src/runtime/metrics.ts';
import { Pipeline } from '../../packages/engine/src/runtime/pipeline.ts';
import { componentSchemas, sinkTypes } from '../../packages/engine/src/runtime/registry.ts';
import type { BlobStore, Sink, Source } from '../../packages/engine/src/runtime/types.ts';
import { createMediaFeatureStage, type MediaFeatureStage } from '../../packages/engine/src/runtime/media-features.ts';
import { createModelStage, type ModelStage } from '../../packages/engine/src/models/stage.ts';
import { createLiveHub, createLiveSink } from '../../packages/engine/src/api/deps.ts';
import {
  materialise,
  plantOptionsFrom,
  SimulatorSourceParams,
} from '../../packages/engine/src/sources/simulator/index.ts';
import { Value } from '@sinclair/typebox/value';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const simSecs = Number(opt('sim-secs') ?? 900);
if (!(simSecs > 0)) throw new Error(`--sim-secs: expected a positive number, got ${opt('sim-secs')}`);
const CASES = ['core', 'core-nosinks', 'media', 'media+models'] as const;
type CaseName = (typeof CASES)[number];
const wanted = (opt('case') ?? CASES.join(',')).split(',') as CaseName[];
for (const c of wanted)
  if (!CASES.includes(c)) throw new Error(`--case: expected some of ${CASES.join(',')}, got ${c}`);
const batchMax = opt('batch-max') === undefined ? undefined : Number(opt('batch-max'));
if (batchMax !== undefined && !(Number.isInteger(batchMax) && batchMax > 0))
  throw new Error(`--batch-max: expected a positive integer, got ${opt('batch-max')}`);
const configFile = join(ROOT, 'examples/plant.yaml');
const outFile = opt('json') ?? join(ROOT, 'data/bench/pipeline.json');

function memoryBlobs(): BlobStore {
  const map = new Map<string, Uint8Array>();
  return {
    put(bytes, contentType): Promise<MediaRef> {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      map.set(`blob://${sha256}`, bytes);
      return Promise.resolve({ uri: `blob://${sha256}`, contentType, bytes: bytes.length, sha256 });
    },
    get(uri) {
      const b = map.get(uri);
      return b ? Promise.resolve(b) : Promise.reject(new Error(`no blob ${uri}`));
    },
  };
}

/** The simulator's output for `simSecs`, ending a minute before now (so no event is in the future). */
async function generate(withMedia: boolean, rawSource: unknown, blobs: BlobStore): Promise<Event[]> {
  const params = Value.Default(SimulatorSourceParams, structuredClone(rawSource)) as SimulatorSourceParams;
  const start = Date.now() - simSecs * 1000 - 60_000;
  const plant = createPlant(
    plantOptionsFrom(
      { ...params, source: 'plant', ...(withMedia ? {} : { audio_every_secs: 0, image_every_secs: 0 }) },
      start,
    ),
  );
  const events: Event[] = [];
  for (const o of plant.advance(start + simSecs * 1000 - 1)) {
    if (o.type === 'label') continue;
    events.push({ ...(await materialise(o, blobs)), ingestTime: 0 });
  }
  return events;
}

/** Sums the wall time of a function's calls (sync or async) under `name`. */
function timed<A extends unknown[], R>(acc: Map<string, number>, name: string, fn: (...a: A) => R): (...a: A) => R {
  return (...a: A): R => {
    const t0 = performance.now();
    const r = fn(...a);
    if (r instanceof Promise) {
      return r.finally(() => acc.set(name, (acc.get(name) ?? 0) + performance.now() - t0)) as R;
    }
    acc.set(name, (acc.get(name) ?? 0) + performance.now() - t0);
    return r;
  };
}

interface CaseResult {
  case: CaseName;
  events: number;
  derived_readings: number;
  wall_s: number;
  cpu_s: number;
  events_per_s: number;
  /** Events per CPU second of this process (all threads): the figure that survives a busy machine. */
  events_per_cpu_s: number;
  incidents: number;
  anomalies: number;
  /** Records handed to sinks, by type. */
  records: Record<string, number>;
  /** Share of the wall time per stage (sums may exceed 1 where stages overlap, e.g. sinks in parallel). */
  shares: Record<string, number>;
}

async function runCase(name: CaseName, events: Event[], blobs: BlobStore): Promise<CaseResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'retimuad-pipebench-'));
  const logger = pino({ level: 'silent' });
  const config = await loadConfigFile(configFile, componentSchemas());
  config.dataDir = dataDir;
  config.runtime.checkpoint_interval_secs = 0;
  if (batchMax !== undefined) config.runtime.batch_max = batchMax;
  const metrics = createMetrics();
  const abort = new AbortController();
  const acc = new Map<string, number>();
  const sinks: Sink[] = [];
  if (name !== 'core-nosinks') {
    for (const s of config.sinks) {
      const sink = await sinkTypes[s.type]!.create(s.id, s.options, {
        logger,
        metrics,
        signal: abort.signal,
        dataPath: (p) => join(dataDir, p),
      });
      sinks.push(sink);
    }
    sinks.push(createLiveSink(createLiveHub({ bufferSize: 2000, logger })));
  }
  let incidents = 0;
  let anomalies = 0;
  for (const s of sinks) {
    const write = s.write.bind(s);
    s.write = timed(acc, `sink:${s.id}`, write);
  }
  // Counts outputs (the same in every case with sinks or not).
  const records: Record<string, number> = {};
  sinks.push({
    id: 'bench-count',
    accepts: new Set(['event', 'score', 'anomaly', 'incident', 'deadletter', 'label']),
    write(batch) {
      for (const r of batch) {
        records[r.type] = (records[r.type] ?? 0) + 1;
        if (r.type === 'incident') incidents++;
        else if (r.type === 'anomaly') anomalies++;
      }
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  });
  let media: MediaFeatureStage | undefined;
  let models: ModelStage | undefined;
  if (name === 'media' || name === 'media+models') {
    media = createMediaFeatureStage({ blobs, logger });
    media.derive = timed(acc, 'media', media.derive.bind(media));
  }
  if (name === 'media+models') {
    models = await createModelStage({ entries: config.models ?? [], baseDir: dirname(configFile), blobs, logger });
    models.derive = timed(acc, 'models', models.derive.bind(models));
  }
  let derived = 0;
  const source: Source = {
    id: 'replay',
    async run(out) {
      for (const e of events) {
        // Only the synchronous part (validation, queue push): waiting for queue space is not a cost.
        const t0 = performance.now();
        const pushed = out.emit({ ...e, ingestTime: Date.now() });
        acc.set('source:decode', (acc.get('source:decode') ?? 0) + performance.now() - t0);
        await pushed;
      }
    },
  };
  const pipeline = new Pipeline({
    config,
    sources: [source],
    sinks,
    logger,
    metrics,
    blobs,
    fresh: true,
    ...(media !== undefined ? { media } : {}),
    ...(models !== undefined ? { models } : {}),
  });
  const proc = pipeline.processor;
  const process1 = proc.process.bind(proc);
  proc.process = timed(acc, 'detectors+correlator', (e: Event, out: Parameters<typeof proc.process>[1]) => {
    if (e.source !== 'replay' && e.source !== 'plant') derived++;
    return process1(e, out);
  });
  proc.advance = timed(acc, 'ticks', proc.advance.bind(proc));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await pipeline.start();
  await pipeline.done;
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  await pipeline.closeSinks();
  await models?.close();
  abort.abort();
  rmSync(dataDir, { recursive: true, force: true });
  const shares: Record<string, number> = {};
  for (const [k, v] of [...acc.entries()].sort((a, b) => b[1] - a[1])) shares[k] = +(v / 1000 / wall).toFixed(3);
  return {
    case: name,
    events: events.length,
    derived_readings: derived,
    wall_s: +wall.toFixed(3),
    cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(3),
    events_per_s: Math.round(events.length / wall),
    events_per_cpu_s: Math.round(events.length / ((cpu.user + cpu.system) / 1e6)),
    incidents,
    anomalies,
    records,
    shares,
  };
}

async function main(): Promise<void> {
  const config = await loadConfigFile(configFile, componentSchemas());
  const sourceRaw = config.sources.find((s) => s.type === 'simulator')?.options ?? {};
  const blobs = memoryBlobs();
  const plain = await generate(false, sourceRaw, blobs);
  const withMedia = wanted.some((c) => c.startsWith('media')) ? await generate(true, sourceRaw, blobs) : [];
  process.stdout.write(
    `pipeline throughput: examples/plant.yaml (batch_max ${batchMax ?? 'as configured'}), ${simSecs} simulated s (${plain.length} events without media, ${withMedia.length} with), load ${loadavg()[0]?.toFixed(1)}\n`,
  );
  const results: CaseResult[] = [];
  for (const c of wanted) {
    const r = await runCase(c, c.startsWith('media') ? withMedia : plain, blobs);
    results.push(r);
    const shares = Object.entries(r.shares)
      .map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`)
      .join(', ');
    process.stdout.write(
      `${c.padEnd(13)} ${String(r.events_per_s).padStart(8)} events/s, ${String(r.events_per_cpu_s).padStart(6)} per CPU s  (${r.events} events in ${r.wall_s} s wall, ${r.cpu_s} s CPU; ${r.incidents} incident revisions, ${r.anomalies} anomalies; records ${JSON.stringify(r.records)})\n              ${shares}\n`,
    );
  }
  const json = {
    bench: 'pipeline',
    when: new Date().toISOString(),
    sim_secs: simSecs,
    batch_max: batchMax ?? null,
    load_1m: loadavg()[0],
    results,
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`written to ${outFile}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`pipeline bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
