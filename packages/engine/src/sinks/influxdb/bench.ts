/**
 * InfluxDB sink throughput against the real server (scripts/services/influxdb.sh, or
 * RETIMUAD_INFLUXDB_URL), beside two peers measured in the same run: the line-protocol encoder
 * alone (our CPU cost per point) and a minimal node:http client POSTing pre-built bodies of the
 * same lines with the same batch size and concurrency (the server's ceiling on this machine: what
 * no client can beat). Sink paths: `direct` (write() resolves once delivered; each call carries
 * batch_size × concurrency records so every request slot is used) and `outbox` (spill_dir set,
 * the registry's default: write() queues, a background deliverer sends; memory big enough that
 * nothing spills, the pass-through path). Runs are interleaved peer/sink, `--reps` times, so a
 * noisy neighbour hits both. Prints a table and one JSON line. Goal (issue 5): 300,000 points/s.
 *
 * @example
 * node bin/run-ts.mjs packages/engine/src/sinks/influxdb/bench.ts --points 200000 --reps 2
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { homedir, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { createInfluxSink } from './influxdb.ts';
import { recordToLine } from './line-protocol.ts';
import { influxQuery, influxScalar, influxUrl, readingRecords } from './testing.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const points = arg('points', 200_000);
const reps = arg('reps', 1);
const T0 = 1_700_000_000_000;
const url = await influxUrl();
const logger = pino({ level: 'warn' });

/** CPU seconds used so far by the local influxd (from its pid file and /proc), undefined if not ours. */
function influxdCpuSecs(): number | undefined {
  try {
    const dir = process.env['RETIMUAD_SERVICES_DIR'] ?? `${homedir()}/.cache/retimuad-services`;
    const pid = readFileSync(`${dir}/influxdb/influxd.pid`, 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks (100 Hz)
  } catch {
    return undefined;
  }
}
const records = readingRecords(points, T0, { assets: 200 });

// CPU time beside wall time: on a shared, loaded machine the wall-clock rate mostly measures the load.
const e0 = performance.now();
const c0 = process.cpuUsage();
const lines: string[] = [];
for (const r of records) lines.push(recordToLine(r) ?? '');
const encodeSecs = (performance.now() - e0) / 1000;
const c1 = process.cpuUsage(c0);
const encodeCpuSecs = (c1.user + c1.system) / 1e6;
const bytes = lines.reduce((n, l) => n + l.length + 1, 0);

type Path = 'peer' | 'direct' | 'outbox';
interface Run {
  path: Path;
  batch_size: number;
  concurrency: number;
  gzip: boolean;
  secs: number;
  points_per_sec: number;
  client_cpu_secs: number;
  server_cpu_secs?: number;
  stored: unknown;
}

/** The peer: pre-built bodies, plain node:http with keep-alive, `concurrency` requests in flight. */
async function peer(db: string, batchSize: number, concurrency: number, gzip: boolean): Promise<void> {
  const bodies: Array<string | Buffer> = [];
  for (let i = 0; i < lines.length; i += batchSize) {
    const body = lines.slice(i, i + batchSize).join('\n');
    bodies.push(gzip ? gzipSync(body) : body);
  }
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = `${url}/write?db=${db}&precision=ms`;
  const post = (body: string | Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            'content-length': Buffer.byteLength(body),
            ...(gzip ? { 'content-encoding': 'gzip' } : {}),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 204 ? resolve() : reject(new Error(`peer write: HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) await post(bodies[next++] ?? '');
    }),
  );
  agent.destroy();
}

async function sinkRun(db: string, path: Path, batchSize: number, concurrency: number, gzip: boolean): Promise<void> {
  const spill = path === 'outbox' ? await mkdtemp(join(tmpdir(), 'retimuad-influx-bench-')) : undefined;
  const sink = await createInfluxSink(
    {
      url,
      database: db,
      batch_size: batchSize,
      concurrency,
      gzip,
      // Memory for all of it: this measures the pass-through path, not the disk spill.
      ...(spill !== undefined ? { spill_dir: spill, buffer_max_events: points, drain_timeout_ms: 600_000 } : {}),
    },
    { logger },
  );
  // direct: the caller waits for delivery, so one call must fill every request slot.
  const step = path === 'direct' ? batchSize * concurrency : 10_000;
  for (let i = 0; i < records.length; i += step) await sink.write(records.slice(i, i + step));
  await sink.close();
  if (spill !== undefined) await rm(spill, { recursive: true, force: true });
}

async function measure(path: Path, batchSize: number, concurrency: number, gzip: boolean): Promise<Run> {
  const db = `bench_${process.pid}_${path}_${batchSize}_${concurrency}_${gzip ? 'gz' : 'raw'}`;
  await influxQuery(url, db, `CREATE DATABASE "${db}"`);
  const s0 = influxdCpuSecs();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  if (path === 'peer') await peer(db, batchSize, concurrency, gzip);
  else await sinkRun(db, path, batchSize, concurrency, gzip);
  const secs = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const s1 = influxdCpuSecs();
  const stored = await influxScalar(url, db, 'SELECT count("value") FROM "readings"');
  await influxQuery(url, db, `DROP DATABASE "${db}"`);
  return {
    path,
    batch_size: batchSize,
    concurrency,
    gzip,
    secs: Math.round(secs * 1000) / 1000,
    points_per_sec: Math.round(points / secs),
    client_cpu_secs: Math.round((cu.user + cu.system) / 1e4) / 100,
    ...(s0 !== undefined && s1 !== undefined ? { server_cpu_secs: Math.round((s1 - s0) * 100) / 100 } : {}),
    stored,
  };
}

const configs: Array<[number, number, boolean]> = [
  [5000, 4, false],
  [10_000, 2, false],
  [10_000, 4, false],
  [10_000, 4, true],
];
const runs: Run[] = [];
for (let rep = 0; rep < reps; rep++)
  for (const [b, c, gz] of configs)
    for (const path of ['peer', 'direct', 'outbox'] as const) runs.push(await measure(path, b, c, gz));

const out = process.stdout;
out.write(
  `InfluxDB sink → ${url}, ${points} reading points (${(bytes / points).toFixed(0)} bytes/line), load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}\n`,
);
out.write(
  `encoder alone: ${Math.round(points / encodeSecs).toLocaleString('en')} points/s wall, ${Math.round(points / encodeCpuSecs).toLocaleString('en')} points per CPU-second\n`,
);
for (const r of runs)
  out.write(
    `${r.path.padEnd(6)} batch_size ${r.batch_size}, concurrency ${r.concurrency}${r.gzip ? ', gzip' : ''}: ${r.points_per_sec.toLocaleString('en')} points/s (${r.secs} s, client CPU ${r.client_cpu_secs} s${r.server_cpu_secs !== undefined ? `, influxd CPU ${r.server_cpu_secs} s` : ''}, stored ${String(r.stored)})\n`,
  );
out.write(
  `${JSON.stringify({ bench: 'influxdb_sink', url, points, encode_points_per_sec: Math.round(points / encodeSecs), encode_points_per_cpu_sec: Math.round(points / encodeCpuSecs), loadavg: loadavg(), runs })}\n`,
);
