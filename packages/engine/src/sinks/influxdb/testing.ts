/**
 * Helpers for the InfluxDB tests and benchmark: start the real server through
 * scripts/services/influxdb.sh (or use RETIMUAD_INFLUXDB_URL), run InfluxQL, and make records.
 *
 * @example
 * const url = await influxUrl();
 * const rows = await influxQuery(url, 'db', 'SELECT count(value) FROM readings');
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Reading } from '../../../../core/src/schema/events.ts';
import type { SinkRecord } from '../../runtime/types.ts';

export const influxSh = fileURLToPath(new URL('../../../../../scripts/services/influxdb.sh', import.meta.url));

export async function influxService(cmd: 'start' | 'stop' | 'status'): Promise<string> {
  const { stdout } = await promisify(execFile)(influxSh, [cmd], { timeout: 120_000 });
  return stdout.trim().split('\n').at(-1) ?? '';
}

/** The server to test against: RETIMUAD_INFLUXDB_URL, else the local one started now. */
export async function influxUrl(): Promise<string> {
  const env = process.env['RETIMUAD_INFLUXDB_URL'];
  if (env !== undefined && env !== '') return env;
  return influxService('start');
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Runs one InfluxQL statement; returns its series, throws on an error answer. */
export async function influxQuery(url: string, db: string, q: string): Promise<InfluxSeries[]> {
  const res = await fetch(`${url}/query?${new URLSearchParams({ db, q, epoch: 'ms' }).toString()}`, { method: 'POST' });
  const j = (await res.json()) as { results?: Array<{ series?: InfluxSeries[]; error?: string }>; error?: string };
  const r = j.results?.[0];
  if (!res.ok || j.error !== undefined || r?.error !== undefined)
    throw new Error(`InfluxQL "${q}" failed: ${j.error ?? r?.error ?? res.status}`);
  return r?.series ?? [];
}

/** The first value of the first row, e.g. a count. */
export async function influxScalar(url: string, db: string, q: string): Promise<unknown> {
  const s = await influxQuery(url, db, q);
  return s[0]?.values[0]?.[1];
}

export function readingRecords(n: number, t0: number, opts: { assets?: number; metric?: string } = {}): SinkRecord[] {
  const assets = opts.assets ?? 10;
  const out: SinkRecord[] = [];
  for (let i = 0; i < n; i++) {
    const event: Reading = {
      kind: 'reading',
      id: `r-${i}`,
      time: t0 + Math.floor(i / assets),
      ingestTime: t0 + Math.floor(i / assets),
      site: 'plant-a',
      asset: `P-${100 + (i % assets)}`,
      source: 'test',
      stage: 'intake',
      metric: opts.metric ?? 'flow_m3h',
      value: i * 0.5,
      unit: 'm3/h',
      quality: 'good',
    };
    out.push({ type: 'event', event });
  }
  return out;
}
