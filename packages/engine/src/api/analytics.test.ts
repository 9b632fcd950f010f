// GET /api/analytics over real HTTP (port 0) and a real in-memory DuckDB store filled with
// readings whose answers are known: a planted spike, a level step (drift) and a steady channel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Value } from '@sinclair/typebox/value';
import type { AnalysisResult } from '../../../core/src/analytics/types.ts';
import { findingsOf } from '../../../core/src/analytics/findings.ts';
import { analyze } from '../analytics/analyze.ts';
import { reading } from '../analytics/testing.ts';
import { createAccessControl } from '../auth/access.ts';
import { openEmbeddedStore, type EmbeddedStore } from '../storage/duckdb-store.ts';
import type { BlobStore, SinkRecord } from '../runtime/types.ts';
import { createLiveHub, type ApiDeps } from './deps.ts';
import { AnalysisResultSchema, openApiDocument } from './openapi.ts';
import { createApiServer } from './server.ts';

const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;
/** Two hours of 5-second readings; "now" is the end of them. */
const N = 1440;
const NOW = T0 + N * 5000;

const blobs: BlobStore = {
  put: () => Promise.reject(new Error('unused')),
  get: () => Promise.reject(new Error('unused')),
};

let store: EmbeddedStore;
const servers: Array<{ url: string; close(): Promise<void> }> = [];
let url: string;
let bare: string;
let viewerKey: string;

function deps(extra: Partial<ApiDeps>): ApiDeps {
  return {
    store,
    registry: new Registry(),
    live: createLiveHub(),
    health: () => ({ status: 'ok', uptimeSecs: 1, components: [], queue: { depth: 0, capacity: 1 }, deadLetters: 0 }),
    blobs,
    logger: pino({ level: 'silent' }),
    clock: { now: () => NOW },
    ...extra,
  };
}

beforeAll(async () => {
  store = await openEmbeddedStore(':memory:', { retention_hours: 0 });
  const recs: SinkRecord[] = [];
  for (let i = 0; i < N; i++) {
    const t = T0 + i * 5000;
    // Deterministic wiggle instead of noise: the answers below do not depend on a generator.
    const w = Math.sin(i * 0.7) + 0.5 * Math.sin(i * 0.13);
    recs.push(reading(t, 'P-101', 'flow_m3h', i === 300 || i === 301 ? 95 : 40 + w));
    recs.push(reading(t, 'P-101', 'pressure_bar', (i < N / 2 ? 3 : 6) + 0.1 * w));
    recs.push(reading(t, 'T-201', 'level_m', 2 + 0.05 * w));
  }
  await store.write(recs);
  const access = createAccessControl({ users: [] });
  viewerKey = (await access.createApiKey('ro', 'viewer')).key;
  const withAnalyze = createApiServer(deps({ access, analyze: (o) => analyze(store.query.bind(store), o) })).listen(
    0,
    '127.0.0.1',
  );
  const without = createApiServer(deps({})).listen(0, '127.0.0.1');
  const [a, b] = await Promise.all([withAnalyze, without]);
  servers.push(a, b);
  url = a.url;
  bare = b.url;
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await store?.close();
});

/** `key: null` sends no credentials. */
const get = (path: string, base = url, key: string | null = viewerKey): Promise<Response> =>
  fetch(`${base}${path}`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });

async function errorOf(res: Response): Promise<{ code: string; message: string; param?: string }> {
  return ((await res.json()) as { error: { code: string; message: string; param?: string } }).error;
}

describe('GET /api/analytics', () => {
  it('answers a viewer with the analyses of the range: stats, outlier bins, drift, trends, clusters', async () => {
    const res = await get(`/api/analytics?from=${T0}&to=${NOW}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const r = (await res.json()) as AnalysisResult;
    expect(r.engine).toBe('duckdb');
    expect([r.from, r.to]).toEqual([T0, NOW]);
    expect(r.stats.map((s) => `${s.asset}/${s.metric}`)).toEqual([
      'P-101/flow_m3h',
      'P-101/pressure_bar',
      'T-201/level_m',
    ]);
    for (const s of r.stats) expect(s.count).toBe(N);
    const flow = r.stats.find((s) => s.metric === 'flow_m3h')!;
    expect(flow.max).toBe(95);
    expect(flow.percentiles.p50).toBeCloseTo(40, 0);
    // The two 95s sit in the top bin, far from the rest, and are flagged there.
    const hFlow = r.histograms.find((h) => h.metric === 'flow_m3h')!;
    expect(hFlow.outlierBins).toContain(hFlow.counts.length - 1);
    expect(hFlow.firstTime[hFlow.counts.length - 1]).toBe(T0 + 300 * 5000);
    expect(r.drifts.find((d) => d.metric === 'pressure_bar')?.drifted).toBe(true);
    expect(r.drifts.find((d) => d.metric === 'level_m')?.drifted).toBe(false);
    expect(r.trends.find((t) => t.metric === 'pressure_bar')!.points.length).toBeGreaterThan(50);
    expect(r.clusterings.map((c) => c.asset)).toEqual(['P-101', 'T-201']);
    // The JSON is what the OpenAPI document promises.
    expect([...Value.Errors(AnalysisResultSchema, r)].map((e) => e.path)).toEqual([]);
    const doc = openApiDocument() as { paths: Record<string, { get?: { parameters: Array<{ name: string }> } }> };
    expect(doc.paths['/api/analytics']?.get?.parameters.map((p) => p.name)).toEqual(['from', 'to', 'asset']);
    // The console lists findings built from this JSON by the shared helper.
    const kinds = new Set(findingsOf(r).map((f) => f.detectorType));
    expect(kinds).toContain('histogram_outlier');
    expect(kinds).toContain('drift');
  }, 30_000);

  it('defaults to the last hour and narrows to one asset', async () => {
    const res = await get('/api/analytics?asset=T-201');
    expect(res.status).toBe(200);
    const r = (await res.json()) as AnalysisResult;
    expect([r.from, r.to]).toEqual([NOW - HOUR, NOW]);
    expect(r.stats.map((s) => s.asset)).toEqual(['T-201']);
    expect(r.stats[0]?.count).toBe(HOUR / 5000);
    expect(r.clusterings.map((c) => c.asset)).toEqual(['T-201']);
  }, 30_000);

  it('accepts ISO-8601 bounds and answers an empty range with empty analyses', async () => {
    const from = new Date(T0 - 3 * HOUR).toISOString();
    const to = new Date(T0 - HOUR).toISOString();
    const res = await get(`/api/analytics?from=${from}&to=${to}`);
    expect(res.status).toBe(200);
    const r = (await res.json()) as AnalysisResult;
    expect(r.stats).toEqual([]);
    expect(r.histograms).toEqual([]);
    expect(r.clusterings).toEqual([]);
  });

  it.each([
    ['from after to', `from=${NOW}&to=${T0}`, 'from', /must not be after "to"/],
    ['a range over 7 days', `from=${NOW - 8 * 24 * HOUR}&to=${NOW}`, 'from', /7 days, got 691200 s/],
    ['a range under a minute', `from=${NOW - 5000}&to=${NOW}`, 'to', /60 s to 7 days, got 5 s/],
    ['a malformed time', 'from=yesterday', 'from', /epoch milliseconds or an ISO-8601/],
    ['a bad asset name', 'asset=%3Cscript%3E', 'asset', /expected a name/],
    ['an unknown parameter', 'assets=P-101', 'assets', /accepts from, to, asset/],
  ])('answers 400 naming the parameter for %s', async (_what, qs, param, message) => {
    const res = await get(`/api/analytics?${qs}`);
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('bad_param');
    expect(err.param).toBe(param);
    expect(err.message).toMatch(message);
  });

  it('needs a principal', async () => {
    const res = await get('/api/analytics', url, null);
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe('unauthenticated');
  });

  it('answers 503 when the server has no analytics', async () => {
    const res = await get('/api/analytics', bare, null);
    expect(res.status).toBe(503);
    const err = await errorOf(res);
    expect(err.code).toBe('unavailable');
    expect(err.message).toMatch(/batch analytics are not available/);
  });

  it('refuses a third concurrent analysis with 429 while two are running', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    const slow = await createApiServer(
      deps({
        analyze: async (o) => {
          started++;
          await gate;
          return analyze(store.query.bind(store), o);
        },
      }),
    ).listen(0, '127.0.0.1');
    servers.push(slow);
    const first = [get('/api/analytics', slow.url, null), get('/api/analytics', slow.url, null)];
    while (started < 2) await new Promise((r) => setTimeout(r, 5));
    const third = await get('/api/analytics', slow.url, null);
    expect(third.status).toBe(429);
    expect((await errorOf(third)).code).toBe('busy');
    release();
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
    // Finished analyses free their slots.
    expect((await get('/api/analytics', slow.url, null)).status).toBe(200);
  }, 30_000);
});
