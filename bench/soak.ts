/**
 * Soak test (by hand, not in CI): runs the embedded pipeline — the detectors, correlator and
 * store/alert sinks of examples/plant.yaml — fed by a paced generator at twice a rated throughput
 * for N minutes, and samples every few seconds: RSS and heap, queue depth, source backlog
 * (events due but not yet accepted by the pipeline), events processed, and the ingest-to-sink
 * latency p50/p99 of the window. Prints a table, writes data/bench/soak.json, and flags growth:
 * the least-squares slope of RSS and heap over the second half, in MiB per minute.
 *
 * The rated throughput is an input (`--rated-eps`, default 1000 events/s, i.e. about thirty
 * plants like the simulator's); the generator runs at `--factor` (default 2) times it.
 *
 * @example
 * node bin/run-ts.mjs bench/soak.ts                       # 10 minutes at 2 × 1000 events/s
 * node bin/run-ts.mjs bench/soak.ts --minutes 2 --rated-eps 500 --sample-secs 5
 * node bin/run-ts.mjs bench/soak.ts --minutes 3 --rated-eps 3000 --batch-max 5000
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfigFile } from '../packages/engine/src/config/load.ts';
import { createMetrics } from '../packages/engine/src/runtime/metrics.ts';
import { Pipeline } from '../packages/engine/src/runtime/pipeline.ts';
import { componentSchemas, sinkTypes } from '../packages/engine/src/runtime/registry.ts';
import type { BlobStore, Sink, SinkRecord, SinkRecordType, Source } from '../packages/engine/src/runtime/types.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0)
    throw new Error(`--${name}: expected a positive number, got ${process.argv[i + 1]}`);
  return v;
}
const minutes = arg('minutes', 10);
const ratedEps = arg('rated-eps', 1000);
const factor = arg('factor', 2);
const sampleSecs = arg('sample-secs', 5);
const targetEps = ratedEps * factor;
// Overrides the config's runtime.batch_max (records per sink write; larger batches mean fewer
// DuckDB transactions — see bench/pipeline/throughput.ts --batch-max).
const batchMaxArg = process.argv.includes('--batch-max') ? arg('batch-max', 1000) : undefined;
// Overrides the embedded store's DuckDB memory cap (memory_limit_mb): a low cap shows within
// minutes that RSS levels off where the cache is full.
const memoryLimitArg = process.argv.includes('--memory-limit-mb') ? arg('memory-limit-mb', 1024) : undefined;
const configFile = join(ROOT, 'examples/plant.yaml');
const outFile = join(ROOT, 'data/bench/soak.json');

/** Plant-like channels: 60 assets × 5 metrics the plant config's detectors watch. */
const METRICS = ['flow_m3h', 'pressure_kpa', 'vibration_mm_s', 'current_a', 'ph'] as const;
const BASE: Record<(typeof METRICS)[number], number> = {
  flow_m3h: 40,
  pressure_kpa: 300,
  vibration_mm_s: 2,
  current_a: 12,
  ph: 7.2,
};
const ASSETS = Array.from({ length: 60 }, (_, i) => `P-${100 + i}`);

/** Emits readings at `eps` per wall second; a spike now and then keeps the correlator busy. */
function pacedSource(eps: number, stop: AbortSignal, counters: { started: number; emitted: number }): Source {
  return {
    id: 'soak',
    async run(out) {
      const t0 = performance.now();
      counters.started = t0;
      let n = 0;
      let seed = 12345;
      const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
      while (!stop.aborted) {
        const due = Math.floor(((performance.now() - t0) / 1000) * eps);
        while (n < due && !stop.aborted) {
          const asset = ASSETS[n % ASSETS.length]!;
          const metric = METRICS[Math.floor(n / ASSETS.length) % METRICS.length]!;
          const spike = rnd() < 0.0005 ? 8 : 0;
          const value = BASE[metric] * (1 + 0.02 * (rnd() - 0.5) + spike * 0.1);
          await out.emitRaw(
            {
              kind: 'reading',
              id: `soak-${n}`,
              time: Date.now(),
              site: 'plant-a',
              asset,
              metric,
              value,
              unit: '',
              quality: 'good',
            },
            'soak',
          );
          n++;
          counters.emitted = n;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** Records ingest-to-sink latency of every event (what an operator waits for). */
class LatencySink implements Sink {
  readonly id = 'soak-latency';
  readonly accepts: ReadonlySet<SinkRecordType> = new Set<SinkRecordType>(['event', 'incident']);
  latencies: number[] = [];
  processed = 0;
  incidents = 0;
  write(batch: readonly SinkRecord[]): Promise<void> {
    const now = Date.now();
    for (const r of batch) {
      if (r.type === 'event') {
        this.processed++;
        this.latencies.push(now - r.event.ingestTime);
      } else if (r.type === 'incident') this.incidents++;
    }
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const slopePerMin = (pts: Array<{ t: number; v: number }>): number => {
  if (pts.length < 3) return Number.NaN;
  const mt = pts.reduce((a, p) => a + p.t, 0) / pts.length;
  const mv = pts.reduce((a, p) => a + p.v, 0) / pts.length;
  const num = pts.reduce((a, p) => a + (p.t - mt) * (p.v - mv), 0);
  const den = pts.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  return (num / den) * 60; // per minute (t in seconds)
};
const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'retimuad-soak-'));
  const logger = pino({ level: 'warn' });
  const config = await loadConfigFile(configFile, componentSchemas());
  config.dataDir = dataDir;
  if (batchMaxArg !== undefined) config.runtime.batch_max = Math.round(batchMaxArg);
  const metrics = createMetrics();
  const abort = new AbortController();
  const sinks: Sink[] = [];
  for (const s of config.sinks) {
    if (s.type === 'console') continue; // a terminal is not what is being soaked
    const t = sinkTypes[s.type]!;
    if (s.type === 'embedded_store' && memoryLimitArg !== undefined)
      s.options = { ...s.options, memory_limit_mb: Math.round(memoryLimitArg) };
    sinks.push(
      await t.create(s.id, s.options, {
        logger,
        metrics,
        signal: abort.signal,
        dataPath: (p) => join(dataDir, p),
      }),
    );
  }
  const lat = new LatencySink();
  sinks.push(lat);
  const counters = { started: Number.NaN, emitted: 0 };
  const stopSource = new AbortController();
  const noBlobs: BlobStore = {
    put: () => Promise.reject(new Error('soak: no media')),
    get: () => Promise.reject(new Error('soak: no media')),
  };
  const pipeline = new Pipeline({
    config,
    sources: [pacedSource(targetEps, stopSource.signal, counters)],
    sinks,
    logger,
    metrics,
    blobs: noBlobs,
    fresh: true,
    live_time: true,
  });
  await pipeline.start();
  const t0 = performance.now();
  const samples: Array<Record<string, number>> = [];
  let lastProcessed = 0;
  // CPU of this process (all threads, DuckDB's included): events per CPU second does not depend
  // on how much of the shared machine the others leave, so a rated throughput can be argued from it.
  let lastCpu = process.cpuUsage();
  let lastCpuWall = performance.now();
  process.stdout.write(
    `soak: ${minutes} min at ${factor} × ${ratedEps} = ${targetEps} events/s, sampling every ${sampleSecs} s (data in ${dataDir})\n`,
  );
  process.stdout.write(
    't_s    rss_mib heap_mib queue backlog  events/s   lat_p50_ms lat_p99_ms incidents load  cpu% ev/cpu_s\n',
  );
  while ((performance.now() - t0) / 60_000 < minutes) {
    await new Promise((r) => setTimeout(r, sampleSecs * 1000));
    const m = process.memoryUsage();
    const t = (performance.now() - t0) / 1000;
    const cpuNow = process.cpuUsage();
    const cpuSecs = (cpuNow.user - lastCpu.user + cpuNow.system - lastCpu.system) / 1e6;
    const cpuWall = (performance.now() - lastCpuWall) / 1000;
    lastCpu = cpuNow;
    lastCpuWall = performance.now();
    const window = lat.latencies;
    lat.latencies = [];
    const s = {
      t_s: Math.round(t),
      rss_mib: +(m.rss / MiB).toFixed(1),
      heap_mib: +(m.heapUsed / MiB).toFixed(1),
      queue_depth: pipeline.queueDepth,
      // Events due by the pace but not yet taken by the pipeline (it makes the source wait when its queue is full).
      backlog_events: Number.isNaN(counters.started)
        ? 0
        : Math.max(0, Math.floor(((performance.now() - counters.started) / 1000) * targetEps) - counters.emitted),
      processed_eps: Math.round((lat.processed - lastProcessed) / sampleSecs),
      latency_p50_ms: quantile(window, 0.5),
      latency_p99_ms: quantile(window, 0.99),
      incidents: lat.incidents,
      cpu_pct: Math.round((cpuSecs / cpuWall) * 100),
      events_per_cpu_s: cpuSecs > 0 ? Math.round((lat.processed - lastProcessed) / cpuSecs) : 0,
      // Other processes compete for the CPU on shared machines: read the figures against this.
      load_1m: +(loadavg()[0] ?? 0).toFixed(1),
    };
    lastProcessed = lat.processed;
    samples.push(s);
    process.stdout.write(
      `${String(s.t_s).padEnd(6)} ${String(s.rss_mib).padStart(7)} ${String(s.heap_mib).padStart(8)} ${String(s.queue_depth).padStart(5)} ${String(s.backlog_events).padStart(7)} ${String(s.processed_eps).padStart(9)} ${String(s.latency_p50_ms).padStart(12)} ${String(s.latency_p99_ms).padStart(10)} ${String(s.incidents).padStart(9)} ${String(s.load_1m).padStart(5)} ${String(s.cpu_pct).padStart(5)} ${String(s.events_per_cpu_s).padStart(8)}\n`,
    );
  }
  stopSource.abort();
  await pipeline.stop();
  abort.abort();
  const half = samples.slice(Math.floor(samples.length / 2));
  const rssSlope = slopePerMin(half.map((s) => ({ t: s.t_s!, v: s.rss_mib! })));
  const heapSlope = slopePerMin(half.map((s) => ({ t: s.t_s!, v: s.heap_mib! })));
  const backlogSlope = slopePerMin(half.map((s) => ({ t: s.t_s!, v: s.backlog_events! })));
  // Growth is flagged above 1 MiB/min of RSS (or heap), or a backlog that keeps growing.
  const flags = [
    ...(rssSlope > 1 ? [`RSS grows ${rssSlope.toFixed(2)} MiB/min over the second half`] : []),
    ...(heapSlope > 1 ? [`heap grows ${heapSlope.toFixed(2)} MiB/min over the second half`] : []),
    ...(backlogSlope > targetEps * 0.01 * 60
      ? [`backlog grows ${Math.round(backlogSlope)} events/min: the pipeline does not keep up`]
      : []),
  ];
  const all = samples.map((s) => s.processed_eps!);
  const perCpu = samples.map((s) => s.events_per_cpu_s!).filter((v) => v > 0);
  const result = {
    when: new Date().toISOString(),
    minutes,
    rated_eps: ratedEps,
    batch_max: config.runtime.batch_max,
    factor,
    target_eps: targetEps,
    emitted: counters.emitted,
    processed: lat.processed,
    mean_processed_eps: Math.round(all.reduce((a, b) => a + b, 0) / Math.max(1, all.length)),
    incidents: lat.incidents,
    median_events_per_cpu_s: quantile(perCpu, 0.5),
    second_half: {
      rss_slope_mib_per_min: +rssSlope.toFixed(3),
      heap_slope_mib_per_min: +heapSlope.toFixed(3),
      backlog_slope_events_per_min: Math.round(backlogSlope),
      latency_p99_ms_max: Math.max(...half.map((s) => s.latency_p99_ms!).filter(Number.isFinite)),
    },
    growth_flags: flags,
    samples,
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    `\nprocessed ${result.processed} of ${result.emitted} emitted (mean ${result.mean_processed_eps} events/s, median ${result.median_events_per_cpu_s} per CPU second); ` +
      `second half: RSS ${result.second_half.rss_slope_mib_per_min} MiB/min, heap ${result.second_half.heap_slope_mib_per_min} MiB/min, ` +
      `backlog ${result.second_half.backlog_slope_events_per_min} events/min\n` +
      (flags.length === 0 ? 'no growth flagged\n' : `GROWTH: ${flags.join('; ')}\n`) +
      `written to ${outFile}\n`,
  );
  rmSync(dataDir, { recursive: true, force: true });
  process.exitCode = flags.length === 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 2;
});
