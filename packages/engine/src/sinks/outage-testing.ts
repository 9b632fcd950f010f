/**
 * Helpers for the outage tests (`*.outage.ts`, run by `vitest.outage.config.ts` beside this file): run a private
 * instance of a real service through scripts/services/<name>.sh with port/dir overrides (the
 * shared instances other tests use are never touched), stream records into a sink on a timer
 * while the server is stopped and started, and record the figures in
 * data/reliability/outages.json (one entry per test, merged under a lock since the four tests
 * run at once).
 *
 * @example
 * const svc = privateService('influxdb', { RETIMUAD_INFLUXDB_PORT: '18086', RETIMUAD_INFLUXDB_DIR: dir });
 * const url = await svc.run('start'); … await svc.run('stop'); … await svc.run('start');
 * await recordOutage('influxdb', { outage_secs: 60, sent: 9000, delivered: 9000, lost: 0 });
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rmdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import type { OutboxStats } from './outbox.ts';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const servicesDir = process.env['RETIMUAD_SERVICES_DIR'] ?? join(homedir(), '.cache/retimuad-services');

/** How long each outage lasts; RETIMUAD_OUTAGE_SECS shortens it when trying the tests by hand. */
export const OUTAGE_SECS = Number(process.env['RETIMUAD_OUTAGE_SECS'] ?? '60');

export interface PrivateService {
  /** Runs the script's command with the overrides; returns the last stdout line (the address on start). */
  run(cmd: 'start' | 'stop' | 'status'): Promise<string>;
}

export function privateService(name: 'influxdb' | 'opensearch' | 'kafka', env: Record<string, string>): PrivateService {
  const sh = join(repoRoot, `scripts/services/${name}.sh`);
  return {
    async run(cmd) {
      const { stdout } = await promisify(execFile)(sh, [cmd], {
        env: { ...process.env, ...env },
        timeout: 300_000,
      });
      return stdout.trim().split('\n').at(-1) ?? '';
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every `everyMs` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(
  cond: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 500,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await sleep(everyMs);
  }
}

/**
 * Calls `tick(i)` every `everyMs` until stopped, one at a time (a slow tick delays the next rather
 * than piling up); the returned stop() resolves after the last tick.
 */
export function every(everyMs: number, tick: (i: number) => Promise<void>): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const t0 = Date.now();
      await tick(i);
      await sleep(Math.max(0, everyMs - (Date.now() - t0)));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

export interface OutageFigures {
  server: string;
  outage_secs: number;
  events_sent: number;
  delivered: number;
  lost: number;
  duplicates?: number;
  max_buffered?: number;
  buffer_max_events?: number;
  spilled_bytes_total?: number;
  retries?: number;
  /** Seconds from the server answering again to the last record being in the store. */
  catch_up_secs?: number;
  notes?: string;
}

/** Merges one test's figures into data/reliability/outages.json (mkdir as a lock: the tests finish concurrently). */
export async function recordOutage(name: string, figures: OutageFigures): Promise<void> {
  const dir = join(repoRoot, 'data/reliability');
  const file = join(dir, 'outages.json');
  const lock = `${file}.lock`;
  await mkdir(dir, { recursive: true });
  for (let i = 0; ; i++) {
    try {
      await mkdir(lock);
      break;
    } catch {
      if (i > 200) throw new Error(`cannot lock ${lock} (remove it if no outage test runs)`);
      await sleep(50);
    }
  }
  try {
    let all: { updated?: string; tests?: Record<string, unknown> } = {};
    try {
      all = JSON.parse(await readFile(file, 'utf8')) as typeof all;
    } catch {
      // first entry
    }
    const tests = { ...(all.tests ?? {}), [name]: { ...figures, at: new Date().toISOString() } };
    await writeFile(`${file}.tmp`, `${JSON.stringify({ updated: new Date().toISOString(), tests }, null, 2)}\n`);
    await rename(`${file}.tmp`, file);
  } finally {
    await rmdir(lock);
  }
}

/**
 * The outage itself, the same for every sink test: records already flowing, the server runs 5 s,
 * is stopped for OUTAGE_SECS, the outbox is sampled (it must have spilled), the server is started
 * again and records keep flowing 5 s more.
 */
export async function serverOutage<S>(
  server: { stop(): Promise<unknown>; start(): Promise<unknown> },
  sample: () => S,
): Promise<{ downAt: number; upAt: number; duringOutage: S }> {
  await sleep(5000);
  await server.stop();
  const downAt = Date.now();
  await sleep(OUTAGE_SECS * 1000);
  const duringOutage = sample();
  await server.start();
  const upAt = Date.now();
  await sleep(5000);
  return { downAt, upAt, duringOutage };
}

/** The outbox figures every sink outage test records. */
export function outboxFigures(
  s: OutboxStats | undefined,
  bufferMax: number,
): Pick<OutageFigures, 'max_buffered' | 'buffer_max_events' | 'spilled_bytes_total' | 'retries'> {
  return {
    max_buffered: s?.maxBuffered ?? -1,
    buffer_max_events: bufferMax,
    spilled_bytes_total: s?.spilledBytesTotal ?? 0,
    retries: s?.retries ?? 0,
  };
}

/** After the outage: it spilled while the server was down, ends empty, dropped nothing, stayed bounded. */
export function expectOutboxDrained(
  duringOutage: OutboxStats | undefined,
  end: OutboxStats | undefined,
  maxInMemory: number,
): void {
  expect(duringOutage?.spilledEvents).toBeGreaterThan(0);
  expect(end).toMatchObject({ dropped: 0, buffered: 0, spilledEvents: 0 });
  expect(end?.maxBuffered).toBeLessThanOrEqual(maxInMemory);
}
