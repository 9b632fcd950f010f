// Sign-in, roles, API keys and the incident audit trail through the real routes and a real
// (in-memory) embedded store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Incident } from '../../../core/src/schema/events.ts';
import { createAccessControl } from '../auth/access.ts';
import { hashPassword } from '../auth/passwords.ts';
import { openEmbeddedStore, type EmbeddedStore } from '../storage/duckdb-store.ts';
import type { BlobStore } from '../runtime/types.ts';
import { createLiveHub } from './deps.ts';
import { createApiServer, type ApiServer } from './server.ts';

const NOW = 1_700_000_000_000;
const incident: Incident = {
  id: 'inc-1',
  site: 'plant-a',
  assets: ['P-101'],
  status: 'open',
  severity: 'critical',
  modalities: ['reading'],
  startTime: NOW - 5000,
  lastTime: NOW - 1000,
  anomalyCount: 0,
  evidence: [],
  explanation: 'flow high',
  peakScore: 0.9,
  revision: 1,
};
const blobs: BlobStore = {
  put: () => Promise.reject(new Error('unused')),
  get: () => Promise.reject(new Error('unused')),
};

let store: EmbeddedStore;
let api: ApiServer;
let opKey: string;
let viewerKey: string;

beforeAll(async () => {
  store = await openEmbeddedStore(':memory:');
  await store.write([{ type: 'incident', incident }]);
  const access = createAccessControl({
    users: [
      { username: 'olga', role: 'operator', password: await hashPassword('olga-pw') },
      { username: 'vic', role: 'viewer', password: await hashPassword('vic-pw') },
    ],
  });
  opKey = (await access.createApiKey('bot', 'operator')).key;
  viewerKey = (await access.createApiKey('ro', 'viewer')).key;
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

const req = (path: string, init: RequestInit & { key?: string; cookie?: string } = {}): Promise<Response> => {
  const headers = new Headers(init.headers);
  if (init.key) headers.set('authorization', `Bearer ${init.key}`);
  if (init.cookie) headers.set('cookie', init.cookie);
  if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  return Promise.resolve(api.app.request(`http://localhost${path}`, { ...init, headers }));
};

async function signIn(username: string, password: string): Promise<Response> {
  return req('/api/session', { method: 'POST', body: JSON.stringify({ username, password }) });
}

describe('access', () => {
  it('refuses the API without a session or key, but serves the dashboard shell and the OpenAPI document', async () => {
    for (const p of ['/api/incidents', '/api/health', '/metrics', '/api/stream']) {
      const r = await req(p);
      expect(r.status, p).toBe(401);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
    }
    expect((await req('/api/incidents', { key: 'rk_wrong' })).status).toBe(401);
    expect((await req('/openapi.json')).status).toBe(200);
  });

  it('signs in with a password and sets an HttpOnly SameSite=Strict cookie that opens the API', async () => {
    const bad = await signIn('olga', 'nope');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    const ok = await signIn('olga', 'olga-pw');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ name: 'olga', role: 'operator' });
    const cookie = ok.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^retimuad_session=[A-Za-z0-9_-]{40,};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const session = cookie.split(';')[0]!;
    expect(await (await req('/api/session', { cookie: session })).json()).toEqual({ name: 'olga', role: 'operator' });
    expect((await req('/api/incidents', { cookie: session })).status).toBe(200);
    expect((await req('/api/session', { method: 'DELETE', cookie: session })).status).toBe(204);
    expect((await req('/api/incidents', { cookie: session })).status).toBe(401);
  });

  it('refuses writes that are not JSON (a cross-site form cannot post)', async () => {
    const r = await req('/api/incidents/inc-1/actions', {
      method: 'POST',
      key: opKey,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=acknowledge',
    });
    expect(r.status).toBe(415);
  });

  it('lets an operator acknowledge, comment and resolve, recording who and when; a viewer gets 403', async () => {
    const vic = (await signIn('vic', 'vic-pw')).headers.get('set-cookie')!.split(';')[0]!;
    const denied = await req('/api/incidents/inc-1/actions', {
      method: 'POST',
      cookie: vic,
      body: JSON.stringify({ action: 'acknowledge' }),
    });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { message: string } }).error.message).toBe(
      'acknowledge (incident inc-1) needs the operator role; vic is a viewer',
    );
    expect(
      (await req('/api/incidents/inc-1/actions', { method: 'POST', key: viewerKey, body: '{"action":"resolve"}' }))
        .status,
    ).toBe(403);

    const olga = (await signIn('olga', 'olga-pw')).headers.get('set-cookie')!.split(';')[0]!;
    const post = (body: unknown): Promise<Response> =>
      req('/api/incidents/inc-1/actions', { method: 'POST', cookie: olga, body: JSON.stringify(body) });
    expect((await post({ action: 'acknowledge' })).status).toBe(201);
    expect((await post({ action: 'comment' })).status).toBe(400); // a comment needs text
    expect((await post({ action: 'comment', comment: '<img src=x onerror=alert(1)> valve checked' })).status).toBe(201);
    expect((await post({ action: 'delete' })).status).toBe(400);
    const viaKey = await req('/api/incidents/inc-1/actions', {
      method: 'POST',
      key: opKey,
      body: '{"action":"resolve"}',
    });
    expect(viaKey.status).toBe(201);
    expect(
      (await req('/api/incidents/nope/actions', { method: 'POST', key: opKey, body: '{"action":"resolve"}' })).status,
    ).toBe(404);

    const trail = (await (await req('/api/incidents/inc-1/actions', { key: viewerKey })).json()) as Array<
      Record<string, unknown>
    >;
    expect(trail.map((a) => [a['action'], a['actor'], a['time']])).toEqual([
      ['acknowledge', 'olga', NOW],
      ['comment', 'olga', NOW],
      ['resolve', 'key:bot', NOW],
    ]);
    expect(trail[1]!['comment']).toBe('<img src=x onerror=alert(1)> valve checked');
    const latest = (await (await req('/api/incident-handling?ids=inc-1,inc-2', { key: viewerKey })).json()) as Record<
      string,
      { action: string; actor: string }
    >;
    expect(Object.keys(latest)).toEqual(['inc-1']);
    expect(latest['inc-1']).toMatchObject({ action: 'resolve', actor: 'key:bot' });
  });

  it('only an admin may create API keys', async () => {
    const r = await req('/api/keys', {
      method: 'POST',
      key: opKey,
      body: JSON.stringify({ name: 'x', role: 'viewer' }),
    });
    expect(r.status).toBe(403);
  });
});
