/**
 * InfluxDB sink throughput against the real server (scripts/services/influxdb.sh, or
 * RETIMUAD_INFLUXDB_URL): points/s through the sink for a few batch sizes and concurrencies,
 * beside the line-protocol encoder alone (the peer: the CPU cost on our side). Prints a table and
 * one JSON line. Goal (issue 5): at least 300,000 points/s.
 *
 * @example
 * node bin/run-ts.mjs packages/engine/src/sinks/influxdb/bench.ts --points 400000
 */
import { readFileSync } from 'node:fs';
import { homedir, loadavg } from 'node:os';
import { pino } from 'pino';
import { createInfluxSink } from './influxdb.ts';
import { recordToLine } from './line-protocol.ts';
import { influxQuery, influxScalar, influxUrl, readingRecords } from './testing.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const points = arg('points', 400_000);
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
let bytes = 0;
for (const r of records) bytes += (recordToLine(r) ?? '').length + 1;
const encodeSecs = (performance.now() - e0) / 1000;
const c1 = process.cpuUsage(c0);
const encodeCpuSecs = (c1.user + c1.system) / 1e6;

const runs: Array<{
  batch_size: number;
  concurrency: number;
  points: number;
  secs: number;
  points_per_sec: number;
  server_cpu_secs?: number;
  points_per_server_cpu_sec?: number;
  stored: unknown;
}> = [];
for (const [batchSize, concurrency] of [
  [5000, 2],
  [10000, 2],
  [10000, 4],
] as const) {
  const db = `bench_${process.pid}_${batchSize}_${concurrency}`;
  const sink = await createInfluxSink(
    { url, database: db, create_database: true, batch_size: batchSize, concurrency },
    { logger },
  );
  const t0 = performance.now();
  const s0 = influxdCpuSecs();
  // As the pipeline hands them over: batches of 10,000 records.
  for (let i = 0; i < records.length; i += 10_000) await sink.write(records.slice(i, i + 10_000));
  await sink.close();
  const secs = (performance.now() - t0) / 1000;
  const s1 = influxdCpuSecs();
  const serverCpu = s0 !== undefined && s1 !== undefined ? s1 - s0 : undefined;
  const stored = await influxScalar(url, db, 'SELECT count("value") FROM "readings"');
  await influxQuery(url, db, `DROP DATABASE "${db}"`);
  runs.push({
    batch_size: batchSize,
    concurrency,
    points,
    secs: Math.round(secs * 1000) / 1000,
    points_per_sec: Math.round(points / secs),
    ...(serverCpu !== undefined
      ? { server_cpu_secs: serverCpu, points_per_server_cpu_sec: Math.round(points / serverCpu) }
      : {}),
    stored,
  });
}

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
    `batch_size ${r.batch_size}, concurrency ${r.concurrency}: ${r.points_per_sec.toLocaleString('en')} points/s (${r.secs} s, stored ${String(r.stored)}${r.points_per_server_cpu_sec !== undefined ? `; influxd ${r.points_per_server_cpu_sec.toLocaleString('en')} points per CPU-second` : ''})\n`,
  );
out.write(
  `${JSON.stringify({ bench: 'influxdb_sink', url, points, encode_points_per_sec: Math.round(points / encodeSecs), encode_points_per_cpu_sec: Math.round(points / encodeCpuSecs), loadavg: loadavg(), runs })}\n`,
);
