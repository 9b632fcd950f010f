// Walks every operation of the OpenAPI document — and checks that every route the server has is
// in the document — so no route can be added without access control: without credentials and
// with a wrong key every protected operation answers 401, an ingest-only key 403, a viewer 403 on
// every write and admin route; and every refused write is in the audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createAccessControl } from '../auth/access.ts';
import { openEmbeddedStore, type EmbeddedStore } from '../storage/duckdb-store.ts';
import type { BlobStore } from '../runtime/types.ts';
import { createLiveHub } from './deps.ts';
import { openApiDocument } from './openapi.ts';
import { createApiServer, type ApiServer } from './server.ts';

const NOW = 1_700_000_000_000;
const blobs: BlobStore = {
  put: () => Promise.reject(new Error('unused')),
  get: () => Promise.reject(new Error('unused')),
};
type Doc = { paths: Record<string, Record<string, { security?: unknown[] }>> };
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** Operations anyone may call: the dashboard shell, this document, and signing in. */
const PUBLIC = new Set(['GET /', 'GET /{file}', 'GET /openapi.json', 'POST /api/session']);
/** Read operations that still need more than viewer. */
const ADMIN_READS = new Set(['GET /api/keys', 'GET /api/audit']);
/** Writes a viewer may do (on their own session). */
const VIEWER_WRITES = new Set(['DELETE /api/session']);

let store: EmbeddedStore;
let api: ApiServer;
const keys: Record<'viewer' | 'ingest' | 'admin', string> = { viewer: '', ingest: '', admin: '' };

beforeAll(async () => {
  store = await openEmbeddedStore(':memory:');
  const access = createAccessControl({ users: [], now: () => NOW });
  for (const role of ['viewer', 'ingest', 'admin'] as const) keys[role] = (await access.createApiKey(role, role)).key;
  api = createApiServer({
    store,
    actions: store,
    access,
    registry: new Registry(),
    live: createLiveHub(),
    health: () => ({ status: 'ok', uptimeSecs: 1, components: [], queue: { depth: 0, capacity: 1 }, deadLetters: 0 }),
    blobs,
    logger: pino({ level: 'silent' }),
    clock: { now: () => NOW },
  });
});
afterAll(async () => {
  await store.close();
});

const operations = (): Array<{ method: string; path: string; url: string }> => {
  const doc = openApiDocument() as Doc;
  const out: Array<{ method: string; path: string; url: string }> = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const m of METHODS)
      if (item[m] !== undefined) {
        const url = path.replace('{id}', 'inc-1').replace('{sha256}', 'a'.repeat(64)).replace('{file}', 'main.js');
        out.push({ method: m.toUpperCase(), path, url });
      }
  return out;
};

const call = (method: string, url: string, key?: string): Promise<Response> => {
  const headers = new Headers({ 'content-type': 'application/json' });
  if (key !== undefined) headers.set('authorization', `Bearer ${key}`);
  return Promise.resolve(
    api.app.request(`http://localhost${url}`, {
      method,
      headers,
      ...(method === 'GET' ? {} : { body: '{"action":"acknowledge","name":"x","role":"viewer"}' }),
    }),
  );
};

describe('access on every route of the OpenAPI document', () => {
  it('documents every route the server serves', () => {
    const documented = new Set(operations().map((o) => `${o.method} ${o.path}`));
    const served = api.app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}')}`);
    expect(served.length).toBeGreaterThan(20);
    for (const s of served) expect(documented, `${s} is served but not in openapi.json`).toContain(s);
  });

  it('answers 401 without credentials and with a wrong key, 403 to an ingest key', async () => {
    const ops = operations().filter((o) => !PUBLIC.has(`${o.method} ${o.path}`));
    expect(ops.length).toBeGreaterThan(20);
    for (const o of ops) {
      const what = `${o.method} ${o.path}`;
      expect((await call(o.method, o.url)).status, `${what} without credentials`).toBe(401);
      expect((await call(o.method, o.url, 'rk_wrong')).status, `${what} with a wrong key`).toBe(401);
      expect((await call(o.method, o.url, keys.ingest)).status, `${what} with an ingest key`).toBe(403);
    }
  });

  it('refuses a viewer on every write and admin route with 403', async () => {
    const ops = operations().filter(
      (o) =>
        !PUBLIC.has(`${o.method} ${o.path}`) &&
        !VIEWER_WRITES.has(`${o.method} ${o.path}`) &&
        (o.method !== 'GET' || ADMIN_READS.has(`${o.method} ${o.path}`)),
    );
    expect(ops.map((o) => `${o.method} ${o.path}`)).toEqual(
      expect.arrayContaining(['POST /api/keys', 'GET /api/keys', 'GET /api/audit', 'POST /api/incidents/{id}/actions']),
    );
    for (const o of ops)
      expect((await call(o.method, o.url, keys.viewer)).status, `${o.method} ${o.path} as viewer`).toBe(403);
  });

  it('serves the public operations without credentials', async () => {
    expect((await call('GET', '/openapi.json')).status).toBe(200);
    expect((await call('POST', '/api/session')).status).toBe(400); // reached the handler: fields missing
  });

  it('records every write, refused or not, in the audit log that admins query', async () => {
    await call('POST', '/api/keys', keys.viewer);
    const created = await call('POST', '/api/keys', keys.admin);
    expect(created.status).toBe(201);
    const res = await call('GET', '/api/audit?limit=1000', keys.admin);
    expect(res.status).toBe(200);
    const log = (await res.json()) as Array<{ actor: string; action: string; outcome: string; status: number }>;
    const writes = operations().filter((o) => o.method !== 'GET');
    for (const w of writes) {
      const action = `${w.method} ${w.path.replace(/\{(\w+)\}/g, ':$1')}`;
      expect(
        log.some((r) => r.action === action),
        `${action} is not in the audit log`,
      ).toBe(true);
    }
    expect(log).toContainEqual(
      expect.objectContaining({ actor: 'key:admin', action: 'POST /api/keys', outcome: 'ok', status: 201 }),
    );
    expect(log).toContainEqual(
      expect.objectContaining({ actor: 'key:viewer', action: 'POST /api/keys', outcome: 'denied', status: 403 }),
    );
    expect(log).toContainEqual(expect.objectContaining({ actor: 'anonymous', outcome: 'denied', status: 401 }));
    const filtered = (await (await call('GET', '/api/audit?actor=key:admin', keys.admin)).json()) as unknown[];
    expect(filtered.length).toBeGreaterThan(0);
    expect(filtered.every((r) => (r as { actor: string }).actor === 'key:admin')).toBe(true);
  });
});
