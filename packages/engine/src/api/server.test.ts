import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { Value } from '@sinclair/typebox/value';
import { Anomaly as AnomalySchema, Reading } from '../../../core/src/schema/events.ts';
import type { Anomaly, Incident, Label } from '../../../core/src/schema/events.ts';
import type {
  AssetSummary,
  BlobStore,
  DeadLetter,
  IncidentQuery,
  LogQuery,
  ScorePoint,
  SeriesPoint,
  StoreReader,
  StoredLog,
  StoredMedia,
  TimeRange,
} from '../runtime/types.ts';
import { createLiveHub, type HealthReport } from './deps.ts';
import { createApiServer, sniffContentType } from './server.ts';

const NOW = 1_700_000_000_000;
const anomaly: Anomaly = {
  id: 'an-1',
  time: NOW - 1000,
  site: 'plant-a',
  asset: 'P-101',
  detector: 'flow-z',
  detectorType: 'zscore',
  modality: 'reading',
  metric: 'flow_m3h',
  score: 0.97,
  severity: 'critical',
  reason: 'flow 41.2 > 40 for 35 s',
  value: 41.2,
};
const incident: Incident = {
  id: 'inc-1',
  site: 'plant-a',
  assets: ['P-101'],
  status: 'open',
  severity: 'critical',
  modalities: ['reading'],
  startTime: NOW - 5000,
  lastTime: NOW - 1000,
  anomalyCount: 1,
  evidence: [anomaly],
  explanation: 'flow high',
  peakScore: 0.97,
  revision: 1,
};
const health: HealthReport = {
  status: 'ok',
  uptimeSecs: 12,
  components: [{ id: 'sim', kind: 'source', received: 0, emitted: 10, discarded: 0 }],
  queue: { depth: 1, capacity: 1000 },
  deadLetters: 0,
};

/** An in-memory store that records what the routes asked for. */
class FakeStore implements StoreReader {
  calls: Array<[string, unknown]> = [];
  fail = false;
  private note(name: string, arg: unknown): void {
    if (this.fail) throw new Error('disk on fire at /secret/path');
    this.calls.push([name, arg]);
  }
  assets(): Promise<AssetSummary[]> {
    this.note('assets', undefined);
    return Promise.resolve([
      {
        site: 'plant-a',
        asset: 'P-101',
        stage: 'intake',
        metrics: [{ metric: 'flow_m3h', unit: 'm3/h', last: 41, lastTime: NOW }],
        state: 'incident',
      },
    ]);
  }
  series(site: string, asset: string, metric: string, range: TimeRange, maxPoints: number): Promise<SeriesPoint[]> {
    this.note('series', { site, asset, metric, range, maxPoints });
    return Promise.resolve([{ time: range.from, value: 1 }]);
  }
  scores(site: string, asset: string, range: TimeRange, maxPoints: number): Promise<ScorePoint[]> {
    this.note('scores', { site, asset, range, maxPoints });
    return Promise.resolve([]);
  }
  anomalies(q: { asset?: string; range?: TimeRange; limit?: number }): Promise<Anomaly[]> {
    this.note('anomalies', q);
    return Promise.resolve([anomaly]);
  }
  incidents(q: IncidentQuery): Promise<Incident[]> {
    this.note('incidents', q);
    return Promise.resolve([incident]);
  }
  incident(id: string): Promise<Incident | undefined> {
    this.note('incident', id);
    return Promise.resolve(id === incident.id ? incident : undefined);
  }
  logs(q: LogQuery): Promise<StoredLog[]> {
    this.note('logs', q);
    return Promise.resolve([]);
  }
  media(q: { asset?: string; range?: TimeRange; limit?: number }): Promise<StoredMedia[]> {
    this.note('media', q);
    return Promise.resolve([]);
  }
  deadLetters(limit: number): Promise<DeadLetter[]> {
    this.note('deadLetters', limit);
    return Promise.resolve([]);
  }
  counts(): Promise<Record<string, number>> {
    return Promise.resolve({});
  }
  labels(): Promise<Label[]> {
    this.note('labels', undefined);
    return Promise.resolve([]);
  }
  last(): [string, unknown] | undefined {
    return this.calls.at(-1);
  }
}

class FakeBlobs implements BlobStore {
  readonly blobs = new Map<string, Uint8Array>();
  put(bytes: Uint8Array, contentType: string) {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    this.blobs.set(sha256, bytes);
    return Promise.resolve({ uri: `blob://${sha256}`, contentType, bytes: bytes.length, sha256 });
  }
  get(uri: string): Promise<Uint8Array> {
    // Same codes as the file-system blob store (storage/blobs.ts).
    if (uri.endsWith('e'.repeat(64)))
      return Promise.reject(Object.assign(new Error(`could not read blob ${uri}: EIO`), { code: 'E_BLOB_IO' }));
    const b = this.blobs.get(uri.replace('blob://', ''));
    if (!b) return Promise.reject(Object.assign(new Error(`blob ${uri} not found`), { code: 'E_BLOB_NOT_FOUND' }));
    return Promise.resolve(b);
  }
}

const store = new FakeStore();
const blobs = new FakeBlobs();
const live = createLiveHub();
const registry = new Registry();
new Counter({ name: 'retimuad_test_events_total', help: 'test counter', registers: [registry] }).inc(3);
const logs: string[] = [];
const logger = pino({ level: 'info' }, { write: (s: string) => void logs.push(s) });
const api = createApiServer({
  store,
  registry,
  live,
  health: () => health,
  blobs,
  logger,
  clock: { now: () => NOW },
  sseHeartbeatMs: 50,
});
let base = '';
let close: () => Promise<void>;

beforeAll(async () => {
  const s = await api.listen(0, '127.0.0.1');
  base = s.url;
  close = () => s.close();
});
afterAll(async () => {
  await close();
});

const get = (path: string): Promise<Response> => fetch(`${base}${path}`);
async function errorOf(path: string): Promise<{ status: number; code: string; param?: string; message: string }> {
  const res = await get(path);
  const body = (await res.json()) as { error: { code: string; param?: string; message: string } };
  return { status: res.status, ...body.error };
}

describe('read routes', () => {
  it('serves health, assets, labels and dead letters as JSON without caching', async () => {
    const res = await get('/api/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual(health);
    expect(((await (await get('/api/assets')).json()) as AssetSummary[])[0]?.asset).toBe('P-101');
    expect(await (await get('/api/labels')).json()).toEqual([]);
    await get('/api/deadletters?limit=7');
    expect(store.last()).toEqual(['deadLetters', 7]);
  });

  it('passes the series range and point budget to the store, defaulting to the last hour', async () => {
    expect((await get('/api/series?site=plant-a&asset=P-101&metric=flow_m3h')).status).toBe(200);
    expect(store.last()).toEqual([
      'series',
      {
        site: 'plant-a',
        asset: 'P-101',
        metric: 'flow_m3h',
        range: { from: NOW - 3_600_000, to: NOW },
        maxPoints: 1000,
      },
    ]);
    await get('/api/scores?site=plant-a&asset=P-101&from=2023-11-14T22:00:00Z&to=1700000000000&max_points=50');
    expect(store.last()).toEqual([
      'scores',
      { site: 'plant-a', asset: 'P-101', range: { from: Date.parse('2023-11-14T22:00:00Z'), to: NOW }, maxPoints: 50 },
    ]);
  });

  it('passes filters of anomalies, incidents, logs and media, leaving out what was not asked', async () => {
    await get('/api/anomalies?asset=P-101&limit=5');
    expect(store.last()).toEqual(['anomalies', { asset: 'P-101', limit: 5 }]);
    await get('/api/incidents?status=open');
    expect(store.last()).toEqual(['incidents', { status: 'open', limit: 100 }]);
    await get('/api/logs?q=login%20failed&level=warn&from=1699999000000');
    expect(store.last()).toEqual([
      'logs',
      { text: 'login failed', level: 'warn', range: { from: 1_699_999_000_000, to: NOW }, limit: 200 },
    ]);
    await get('/api/media?asset=CAM-1&from=1699999000000&to=1699999500000&limit=3');
    expect(store.last()).toEqual([
      'media',
      { asset: 'CAM-1', range: { from: 1_699_999_000_000, to: 1_699_999_500_000 }, limit: 3 },
    ]);
  });

  it('returns one incident by id, and 404 for an unknown one', async () => {
    const res = await get('/api/incidents/inc-1');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(incident);
    const e = await errorOf('/api/incidents/nope');
    expect(e).toMatchObject({ status: 404, code: 'not_found' });
    expect(e.message).toContain('"nope"');
  });

  it('answers 404 with JSON for unknown API routes', async () => {
    expect(await errorOf('/api/nothing')).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('hides store failures behind a 500 that names the route, and logs them', async () => {
    store.fail = true;
    try {
      const e = await errorOf('/api/assets');
      expect(e).toEqual({ status: 500, code: 'internal', message: 'internal error while serving /api/assets' });
      expect(logs.some((l) => l.includes('disk on fire'))).toBe(true);
    } finally {
      store.fail = false;
    }
  });
});

describe('parameter validation', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['/api/series?asset=P-101&metric=m', 'site', /is required/],
    ['/api/series?site=plant-a&asset=P%20101&metric=m', 'asset', /expected a name/],
    ['/api/series?site=a&asset=b&metric=m&max_points=1', 'max_points', /from 2 to 20000/],
    ['/api/series?site=a&asset=b&metric=m&max_points=12abc', 'max_points', /expected an integer/],
    ['/api/scores?site=a&asset=b&from=yesterday', 'from', /epoch milliseconds or an ISO-8601/],
    ['/api/scores?site=a&asset=b&from=1700000000001&to=1700000000000', 'from', /must not be after "to"/],
    ['/api/anomalies?limit=0', 'limit', /from 1 to 5000/],
    ['/api/anomalies?form=1700000000000', 'form', /unknown parameter; this route accepts asset, from, to, limit/],
    ['/api/incidents?status=closed', 'status', /expected one of open, resolved/],
    ['/api/logs?level=loud', 'level', /expected one of trace/],
    [`/api/logs?q=${'x'.repeat(201)}`, 'q', /at most 200 characters/],
    ['/api/deadletters?limit=-1', 'limit', /from 1 to 5000/],
    ['/api/stream?types=reading,gossip', 'types', /unknown type "gossip"/],
    ['/api/blobs/ABC', 'sha256', /64 lower-case hex digits/],
  ];
  it.each(cases)('%s → 400 naming %s', async (path, param, message) => {
    const e = await errorOf(path);
    expect(e.status).toBe(400);
    expect(e.code).toBe('bad_param');
    expect(e.param).toBe(param);
    expect(e.message).toContain(`"${param}"`);
    expect(e.message).toMatch(message);
  });
});

describe('blobs', () => {
  it('serves a stored blob with its content type and a long cache, and 404 when absent', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const ref = await blobs.put(png, 'image/png');
    const res = await get(`/api/blobs/${ref.sha256}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(png);
    expect(await errorOf(`/api/blobs/${'0'.repeat(64)}`)).toMatchObject({ status: 404, code: 'not_found' });
    // A read failure is not "absent": it must surface as a server error.
    expect(await errorOf(`/api/blobs/${'e'.repeat(64)}`)).toMatchObject({ status: 500, code: 'internal' });
  });

  it('recognises common image and audio formats and falls back to opaque bytes', () => {
    const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
    expect(sniffContentType(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffContentType(new Uint8Array([...ascii('RIFF'), 0, 0, 0, 0, ...ascii('WAVE')]))).toBe('audio/wav');
    expect(sniffContentType(new Uint8Array([...ascii('RIFF'), 0, 0, 0, 0, ...ascii('WEBP')]))).toBe('image/webp');
    expect(sniffContentType(new Uint8Array(ascii('OggS')))).toBe('audio/ogg');
    expect(sniffContentType(new Uint8Array(ascii('<html><script>')))).toBe('application/octet-stream');
    expect(sniffContentType(new Uint8Array([]))).toBe('application/octet-stream');
  });
});

/** Reads an SSE response until `until` matches the text received so far. */
async function readUntil(res: Response, until: RegExp, timeoutMs = 3000): Promise<string> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (!until.test(text)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(until)}; got ${JSON.stringify(text)}`);
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
    }
    return text;
  } finally {
    await reader.cancel();
  }
}

describe('live stream', () => {
  it('delivers published messages as named events, with heartbeats', async () => {
    const ac = new AbortController();
    const res = await fetch(`${base}/api/stream`, { signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // Publish once the subscription exists (the connected comment is written after subscribing).
    const reading = new Promise<string>((resolve, reject) => {
      readUntil(res, /event: anomaly\ndata: .*\n\n[\s\S]*: heartbeat/).then(resolve, reject);
    });
    await waitFor(() => live.stats().subscribers === 1);
    live.publish({ type: 'anomaly', data: anomaly });
    const text = await reading;
    ac.abort();
    const data = /event: anomaly\ndata: (.*)\n/.exec(text)?.[1];
    expect(JSON.parse(data!)).toEqual(anomaly);
    expect(text).toContain('retry: 3000');
    // A new client gets the current health at once, before any live message.
    expect(text.indexOf('event: health')).toBeLessThan(text.indexOf('event: anomaly'));
    expect(JSON.parse(/event: health\ndata: (.*)\n/.exec(text)![1]!)).toEqual(health);
    await waitFor(() => live.stats().subscribers === 0);
  });

  it('sends only the requested message types', async () => {
    const ac = new AbortController();
    const res = await fetch(`${base}/api/stream?types=incident`, { signal: ac.signal });
    const reading = readUntil(res, /event: incident\n/);
    await waitFor(() => live.stats().subscribers === 1);
    live.publish({ type: 'anomaly', data: anomaly });
    live.publish({ type: 'incident', data: incident });
    const text = await reading;
    ac.abort();
    expect(text).not.toContain('event: anomaly');
    await waitFor(() => live.stats().subscribers === 0);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('metrics and OpenAPI', () => {
  it('exposes Prometheus text with the registry content type', async () => {
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(registry.contentType);
    const text = await res.text();
    expect(text).toContain('retimuad_test_events_total 3');
    // Requests are counted by route pattern, so blob shas and ids do not become labels.
    expect(text).toMatch(/retimuad_api_requests_total\{route="\/api\/incidents\/:id",status="404"\} [1-9]/);
  });

  it('describes every route in a valid OpenAPI 3.1 document whose references resolve', async () => {
    const doc = (await (await get('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, { get?: unknown }>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    const routes = api.app.routes
      .filter((r) => r.method === 'GET')
      .map((r) => r.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}'));
    expect(routes.length).toBeGreaterThan(10);
    for (const p of routes) expect(doc.paths[p]?.get, `route ${p} in openapi.json`).toBeDefined();
    for (const p of Object.keys(doc.paths)) expect(routes, `documented path ${p} exists`).toContain(p);
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) {
      const name = /#\/components\/schemas\/(\w+)/.exec(r)?.[1];
      expect(name && doc.components.schemas[name], r).toBeTruthy();
    }
    // Event schemas are the event model's own, not copies typed by hand.
    const { $id: _id, ...readingSchema } = JSON.parse(JSON.stringify(Reading)) as Record<string, unknown>;
    expect(doc.components.schemas.Reading).toEqual(readingSchema);
    // The incident example conforms to the published schema's Anomaly part.
    expect(Value.Check(AnomalySchema, anomaly)).toBe(true);
  });
});

describe('dashboard and security headers', () => {
  it('serves the dashboard page and bundle', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('/main.js');
    const js = await get('/main.js');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await get('/nope.js')).status).toBe(404);
  });

  it.each(['/', '/api/health', '/api/incidents?status=bad'])('%s carries the security headers', async (path) => {
    const res = await get(path);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });
});

describe('shutdown', () => {
  it('closes promptly while a client still holds an event stream open', async () => {
    const hub = createLiveHub();
    const other = createApiServer({
      store,
      registry,
      live: hub,
      health: () => health,
      blobs,
      logger,
      clock: { now: () => NOW },
    });
    const s = await other.listen(0, '127.0.0.1');
    const res = await fetch(`${s.url}/api/stream`);
    await waitFor(() => hub.stats().subscribers === 1);
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(hub.stats().subscribers).toBe(0);
    await res.body?.cancel().catch(() => undefined);
  });
});
