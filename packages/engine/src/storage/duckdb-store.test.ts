import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Anomaly, AudioClip, Incident, Label, LogRecord, Reading } from '../../../core/src/schema/events.ts';
import type { SinkRecord } from '../runtime/types.ts';
import { openEmbeddedStore, type EmbeddedStore } from './duckdb-store.ts';
import { StorageError } from './errors.ts';

const T0 = 1_700_000_000_000;

function reading(i: number, over: Partial<Reading> = {}): Reading {
  return {
    kind: 'reading',
    id: `r-${i}`,
    time: T0 + i * 1000,
    ingestTime: T0 + i * 1000 + 5,
    site: 'plant-a',
    asset: 'P-101',
    stage: 'intake',
    source: 'test',
    metric: 'flow_m3h',
    value: i,
    unit: 'm3/h',
    quality: 'good',
    ...over,
  };
}

function anomaly(id: string, time: number, asset = 'P-101'): Anomaly {
  return {
    id,
    time,
    site: 'plant-a',
    asset,
    detector: 'z1',
    detectorType: 'rolling_zscore',
    modality: 'reading',
    metric: 'flow_m3h',
    score: 0.9,
    severity: 'warning',
    reason: 'flow_m3h 41.2 > 40',
    detail: { threshold: 40 },
  };
}

function incident(id: string, revision: number, over: Partial<Incident> = {}): Incident {
  return {
    id,
    site: 'plant-a',
    assets: ['P-101'],
    status: 'open',
    severity: 'warning',
    modalities: ['reading'],
    startTime: T0,
    lastTime: T0 + revision * 1000,
    anomalyCount: revision,
    evidence: [anomaly(`a-${id}-${revision}`, T0)],
    explanation: `revision ${revision}`,
    peakScore: 0.8,
    revision,
    ...over,
  };
}

const ev = (event: SinkRecord & { type: 'event' }): SinkRecord => event;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retimu-store-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openEmbeddedStore (file)', () => {
  it('writes every record type, reads them back, and keeps them across close/reopen', async () => {
    const path = join(dir, 'roundtrip.duckdb');
    const store = await openEmbeddedStore(path, { retention_hours: 0 });
    const log: LogRecord = {
      kind: 'log',
      id: 'l-1',
      time: T0 + 500,
      ingestTime: T0 + 501,
      site: 'plant-a',
      asset: 'PLC-1',
      source: 'syslog',
      level: 'warn',
      message: 'Login FAILED for user admin (50% of quota)',
      fields: { 'user.name': 'admin', 'event.outcome': 'failure', attempts: 3 },
    };
    const clip: AudioClip = {
      kind: 'audio',
      id: 'au-1',
      time: T0 + 700,
      ingestTime: T0 + 701,
      site: 'plant-a',
      asset: 'P-101',
      source: 'mic',
      media: { uri: `blob://${'b'.repeat(64)}`, contentType: 'audio/wav', bytes: 32000, sha256: 'b'.repeat(64) },
      sampleRateHz: 16000,
      channels: 1,
      durationMs: 1000,
    };
    const label: Label = {
      scenario: 'pump_cavitation',
      kind: 'fault',
      site: 'plant-a',
      assets: ['P-101'],
      modalities: ['reading', 'audio'],
      startTime: T0,
      endTime: T0 + 60_000,
      description: 'cavitation',
    };
    await store.write([
      ...[0, 1, 2].map((i) => ev({ type: 'event', event: reading(i) })),
      { type: 'event', event: log },
      { type: 'event', event: clip },
      {
        type: 'score',
        score: { time: T0, site: 'plant-a', asset: 'P-101', detector: 'z1', metric: 'flow_m3h', score: 0.25 },
      },
      { type: 'anomaly', anomaly: anomaly('an-1', T0 + 2000) },
      { type: 'incident', incident: incident('inc-1', 1) },
      {
        type: 'deadletter',
        deadLetter: { id: 'd1', time: T0, component: 'decode', where: 'file.csv:17', reason: 'bad value', raw: 'x,y' },
      },
      { type: 'label', label },
    ]);
    const expected = {
      readings: 3,
      logs: 1,
      audio: 1,
      image: 0,
      scores: 1,
      anomalies: 1,
      incidents: 1,
      incidents_open: 1,
      deadletters: 1,
      labels: 1,
    };
    expect(await store.counts()).toEqual(expected);
    // Closing twice (runtime shutdown racing a signal handler) closes once.
    await Promise.all([store.close(), store.close()]);
    await expect(store.counts()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' });

    const again = await openEmbeddedStore(path, { retention_hours: 0 });
    try {
      expect(await again.counts()).toEqual(expected);
      expect(await again.series('plant-a', 'P-101', 'flow_m3h', { from: T0, to: T0 + 10_000 }, 100)).toEqual([
        { time: T0, value: 0 },
        { time: T0 + 1000, value: 1 },
        { time: T0 + 2000, value: 2 },
      ]);
      expect(await again.logs({ text: 'login failed' })).toEqual([
        {
          id: 'l-1',
          time: T0 + 500,
          site: 'plant-a',
          asset: 'PLC-1',
          level: 'warn',
          message: log.message,
          fields: log.fields,
        },
      ]);
      expect(await again.logs({ text: '50%' })).toHaveLength(1);
      expect(await again.logs({ text: 'nothing like this' })).toHaveLength(0);
      expect(await again.logs({ level: 'error' })).toHaveLength(0);
      expect(await again.media({ asset: 'P-101' })).toEqual([
        { id: 'au-1', time: T0 + 700, site: 'plant-a', asset: 'P-101', kind: 'audio', media: clip.media },
      ]);
      expect(await again.anomalies({})).toEqual([anomaly('an-1', T0 + 2000)]);
      expect(await again.anomalies({ range: { from: T0 + 3000, to: T0 + 9000 } })).toEqual([]);
      expect(await again.incident('inc-1')).toEqual(incident('inc-1', 1));
      expect(await again.incident('nope')).toBeUndefined();
      expect(await again.deadLetters(10)).toEqual([
        { id: 'd1', time: T0, component: 'decode', where: 'file.csv:17', reason: 'bad value', raw: 'x,y' },
      ]);
      expect(await again.labels()).toEqual([label]);
      expect(await again.scores('plant-a', 'P-101', { from: T0, to: T0 + 1 }, 10)).toEqual([
        { time: T0, site: 'plant-a', asset: 'P-101', detector: 'z1', metric: 'flow_m3h', score: 0.25 },
      ]);
    } finally {
      await again.close();
    }
  });
});

describe('openEmbeddedStore (memory)', () => {
  let store: EmbeddedStore;
  beforeAll(async () => {
    store = await openEmbeddedStore(':memory:', { retention_hours: 0 });
  });
  afterAll(async () => {
    await store.close();
  });

  it('upserts incidents by id keeping the highest revision, in and across batches', async () => {
    await store.write([
      { type: 'incident', incident: incident('inc-u', 1) },
      { type: 'incident', incident: incident('inc-u', 3) },
      { type: 'incident', incident: incident('inc-u', 2) },
    ]);
    expect((await store.incident('inc-u'))?.revision).toBe(3);
    // An older revision arriving late (replay, retry) must not overwrite the newer one.
    await store.write([{ type: 'incident', incident: incident('inc-u', 2, { status: 'resolved' }) }]);
    expect(await store.incident('inc-u')).toEqual(incident('inc-u', 3));
    await store.write([
      {
        type: 'incident',
        incident: incident('inc-u', 4, { status: 'resolved', endTime: T0 + 9000, assets: ['P-101', 'V-7'] }),
      },
    ]);
    const got = await store.incident('inc-u');
    expect(got?.revision).toBe(4);
    expect(got?.status).toBe('resolved');
    expect((await store.incidents({ asset: 'V-7' })).map((i) => i.id)).toEqual(['inc-u']);
    expect(await store.incidents({ status: 'open', asset: 'V-7' })).toEqual([]);
    expect((await store.counts())['incidents']).toBe(1);
  });

  it('downsamples a long series to at most maxPoints, keeping each bucket min and max', async () => {
    const n = 10_000;
    const batch: SinkRecord[] = [];
    for (let i = 0; i < n; i++) {
      // A slow sine with a single spike and a single dip that a naive decimation would miss.
      const value = i === 4321 ? 1000 : i === 7777 ? -1000 : Math.sin(i / 500);
      batch.push({ type: 'event', event: reading(i, { asset: 'DS-1', metric: 'level_m', value, id: `ds-${i}` }) });
    }
    await store.write(batch);
    const range = { from: T0, to: T0 + (n - 1) * 1000 };
    for (const maxPoints of [2, 3, 100, 501]) {
      const pts = await store.series('plant-a', 'DS-1', 'level_m', range, maxPoints);
      expect(pts.length).toBeLessThanOrEqual(maxPoints);
      expect(pts.length).toBeGreaterThan(0);
      const values = pts.map((p) => p.value);
      expect(Math.max(...values)).toBe(1000);
      expect(Math.min(...values)).toBe(-1000);
      for (let i = 1; i < pts.length; i++) expect(pts[i]!.time).toBeGreaterThan(pts[i - 1]!.time);
    }
    const one = await store.series('plant-a', 'DS-1', 'level_m', range, 1);
    expect(one).toEqual([{ time: T0 + 4321 * 1000, value: 1000 }]);
    // A range holding fewer points than asked comes back untouched.
    const few = await store.series('plant-a', 'DS-1', 'level_m', { from: T0, to: T0 + 9000 }, 100);
    expect(few).toHaveLength(10);
    expect(await store.series('plant-a', 'DS-1', 'level_m', range, 0)).toEqual([]);
  });

  it('downsamples scores per detector and metric', async () => {
    const batch: SinkRecord[] = [];
    for (let i = 0; i < 2000; i++) {
      for (const detector of ['z1', 'cusum']) {
        batch.push({
          type: 'score',
          score: {
            time: T0 + i * 1000,
            site: 'plant-a',
            asset: 'SC-1',
            detector,
            metric: 'flow_m3h',
            score: i === 1500 ? 1 : 0.1,
          },
        });
      }
    }
    await store.write(batch);
    const pts = await store.scores('plant-a', 'SC-1', { from: T0, to: T0 + 2_000_000 }, 50);
    for (const detector of ['z1', 'cusum']) {
      const mine = pts.filter((p) => p.detector === detector);
      expect(mine.length).toBeLessThanOrEqual(50);
      expect(mine.some((p) => p.score === 1 && p.time === T0 + 1_500_000)).toBe(true);
    }
  });

  it('derives asset state: incident > anomalous (last 60 s of the data) > normal', async () => {
    const s = await openEmbeddedStore(':memory:', { retention_hours: 0 });
    try {
      await s.write([
        ...['A', 'B', 'C', 'D'].map((asset, i) => ev({ type: 'event', event: reading(100, { asset, id: `x-${i}` }) })),
        ev({
          type: 'event',
          event: reading(101, { asset: 'A', metric: 'pressure_bar', unit: 'bar', value: 2.5, id: 'x-p' }),
        }),
        { type: 'anomaly', anomaly: anomaly('an-b', T0 + 100_000 - 30_000, 'B') },
        // D's anomaly is older than a minute before the latest data: D is normal again.
        { type: 'anomaly', anomaly: anomaly('an-d', T0 + 101_000 - 61_000, 'D') },
        { type: 'incident', incident: incident('inc-c', 1, { assets: ['C', 'B'] }) },
        { type: 'incident', incident: incident('inc-a-old', 2, { assets: ['A'], status: 'resolved', endTime: T0 }) },
      ]);
      const assets = await s.assets();
      const state = Object.fromEntries(assets.map((a) => [a.asset, a.state]));
      expect(state).toEqual({ A: 'normal', B: 'incident', C: 'incident', D: 'normal' });
      const a = assets.find((x) => x.asset === 'A');
      expect(a?.stage).toBe('intake');
      expect(a?.metrics).toEqual([
        { metric: 'flow_m3h', unit: 'm3/h', last: 100, lastTime: T0 + 100_000 },
        { metric: 'pressure_bar', unit: 'bar', last: 2.5, lastTime: T0 + 101_000 },
      ]);
      await s.write([
        {
          type: 'incident',
          incident: incident('inc-c', 2, { assets: ['C', 'B'], status: 'resolved', endTime: T0 + 1 }),
        },
      ]);
      const after = Object.fromEntries((await s.assets()).map((x) => [x.asset, x.state]));
      expect(after).toEqual({ A: 'normal', B: 'anomalous', C: 'normal', D: 'normal' });
    } finally {
      await s.close();
    }
  });

  it('prunes readings and scores older than a cutoff, and applies retention_hours against the newest reading', async () => {
    const s = await openEmbeddedStore(':memory:', { retention_hours: 1 });
    try {
      const hour = 3_600_000;
      await s.write([
        ev({ type: 'event', event: reading(0, { time: T0 }) }),
        ev({ type: 'event', event: reading(1, { time: T0 + 2 * hour }) }),
        ev({ type: 'event', event: reading(2, { time: T0 + 3 * hour }) }),
        {
          type: 'score',
          score: { time: T0, site: 'plant-a', asset: 'P-101', detector: 'z1', metric: 'flow_m3h', score: 0.1 },
        },
        { type: 'anomaly', anomaly: anomaly('keep-me', T0) },
      ]);
      // Newest reading at T0+3h, 1 h retention: the cutoff is T0+2h, exclusive.
      expect(await s.pruneRetention()).toEqual({ readings: 1, scores: 1 });
      const c = await s.counts();
      expect(c['readings']).toBe(2);
      expect(c['anomalies']).toBe(1);
      expect(await s.prune(T0 + 4 * hour)).toEqual({ readings: 2, scores: 0 });
    } finally {
      await s.close();
    }
  });

  it('serialises concurrent writes and reads in call order', async () => {
    const s = await openEmbeddedStore(':memory:', { retention_hours: 0 });
    try {
      const ops: Array<Promise<unknown>> = [];
      const seen: number[] = [];
      for (let k = 0; k < 20; k++) {
        ops.push(s.write([ev({ type: 'event', event: reading(k, { asset: 'Q', id: `q-${k}` }) })]));
        ops.push(s.counts().then((c) => seen.push(c['readings'] ?? -1)));
      }
      await Promise.all(ops);
      expect(seen).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
    } finally {
      await s.close();
    }
  });

  it('rejects invalid options with E_STORE_PARAMS', async () => {
    await expect(openEmbeddedStore(':memory:', { retention_hours: -1 })).rejects.toBeInstanceOf(StorageError);
    await expect(openEmbeddedStore(':memory:', { retention_hours: -1 })).rejects.toMatchObject({
      code: 'E_STORE_PARAMS',
      message: expect.stringContaining('retention_hours') as unknown,
    });
  });
});

describe('openEmbeddedStore (atomic batches)', () => {
  it('writes nothing of a batch that fails part-way, and reports E_STORE_WRITE', async () => {
    const s = await openEmbeddedStore(':memory:', { retention_hours: 0 });
    try {
      const bad = { ...reading(2), unit: null } as unknown as Reading; // a null unit cannot be appended
      const err = await s
        .write([
          ev({ type: 'event', event: reading(1) }),
          { type: 'incident', incident: incident('inc-x', 1) },
          ev({ type: 'event', event: bad }),
        ])
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).code).toBe('E_STORE_WRITE');
      const c = await s.counts();
      expect(c['readings']).toBe(0);
      expect(c['incidents']).toBe(0);
      // The store is still usable after the failed batch.
      await s.write([ev({ type: 'event', event: reading(3) })]);
      expect((await s.counts())['readings']).toBe(1);
    } finally {
      await s.close();
    }
  });
});

describe('openEmbeddedStore (memory)', () => {
  it('caps DuckDB memory at memory_limit_mb (default 1024 MB), so a long run does not take 80% of RAM', async () => {
    for (const [opts, want] of [
      [{}, 1024],
      [{ memory_limit_mb: 256 }, 256],
    ] as const) {
      const s = await openEmbeddedStore(':memory:', { retention_hours: 0, ...opts });
      try {
        const [row] = await s.query("SELECT current_setting('memory_limit') AS m");
        // DuckDB reports the limit in its own units (e.g. "976.5 MiB" for 1024 MB).
        const m = /^([\d.]+) (KiB|MiB|GiB)$/.exec(String(row?.['m']));
        expect(m).not.toBeNull();
        const bytes = Number(m?.[1]) * { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 }[m?.[2] as 'KiB' | 'MiB' | 'GiB'];
        expect(Math.abs(bytes - want * 1e6) / (want * 1e6)).toBeLessThan(0.01);
      } finally {
        await s.close();
      }
    }
  });
});

describe('openEmbeddedStore (retention timer)', () => {
  it('prunes on its own every prune_interval_secs', async () => {
    const s = await openEmbeddedStore(':memory:', { retention_hours: 1, prune_interval_secs: 0.02 });
    try {
      await s.write([
        ev({ type: 'event', event: reading(0) }),
        ev({ type: 'event', event: reading(1, { time: T0 + 2 * 3_600_000 }) }),
      ]);
      let readings = 2;
      for (let i = 0; i < 100 && readings > 1; i++) {
        await new Promise((r) => setTimeout(r, 20));
        readings = (await s.counts())['readings'] ?? -1;
      }
      expect(readings).toBe(1);
    } finally {
      await s.close();
    }
  });
});

describe('openEmbeddedStore (schema version)', () => {
  it('refuses a file written by another schema version with E_STORE_OPEN, and releases it', async () => {
    const path = join(dir, 'version.duckdb');
    const s = await openEmbeddedStore(path, { retention_hours: 0 });
    await s.query(`UPDATE store_meta SET value = '999' WHERE key = 'schema_version'`);
    await s.close();
    await expect(openEmbeddedStore(path, { retention_hours: 0 })).rejects.toMatchObject({
      code: 'E_STORE_OPEN',
      message: expect.stringContaining('schema version 999') as unknown,
    });
    // The failed open let go of the file: it can be opened (and repaired) again.
    const again = await openEmbeddedStore(path, { retention_hours: 0 }).catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 'E_STORE_OPEN' });
  });
});
