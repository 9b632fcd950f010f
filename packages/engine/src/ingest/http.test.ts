// The HTTP endpoint's own logic (limits, answers, status codes) with a recording writer; the
// path to a real Kafka broker is tested in ingest.integration.ts.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { Principal } from '../auth/access.ts';
import { createIngestApp, type IngestStats } from './http.ts';
import { RateLimiter } from './limits.ts';
import type { Validated } from './records.ts';

const T = Date.UTC(2026, 0, 1);
const line = (id: string, value: unknown) =>
  JSON.stringify({
    kind: 'reading',
    id,
    time: T,
    site: 's',
    asset: 'P-1',
    metric: 'flow_m3h',
    value,
    unit: 'm3/h',
    quality: 'good',
  });

function app(opts: { fail?: boolean; max_body_bytes?: number } = {}) {
  const writes: Array<{ accepted: Validated['accepted']; rejected: Validated['rejected'] }> = [];
  const a = createIngestApp({
    write: (accepted, rejected) => {
      if (opts.fail === true)
        return Promise.reject(Object.assign(new Error('broker down'), { code: 'E_KAFKA_PRODUCE' }));
      writes.push({ accepted, rejected });
      return Promise.resolve();
    },
    max_body_bytes: opts.max_body_bytes ?? 10_000,
    max_media_bytes: 1000,
    clock: { now: () => T + 1 },
    logger: pino({ level: 'silent' }),
  });
  return { a, writes };
}

const post = (a: ReturnType<typeof app>['a'], body: string | ReadableStream, headers: Record<string, string> = {}) =>
  a.request('/ingest', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-ndjson', ...headers },
    ...(typeof body === 'string' ? {} : { duplex: 'half' }),
  });

describe('POST /ingest', () => {
  it('stores valid records, dead-letters the rest and answers with each rejection', async () => {
    const { a, writes } = app();
    const res = await post(a, [line('a', 1), line('b', 'abc'), '{oops', line('c', 3)].join('\n'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      accepted: number;
      rejected: number;
      errors: Array<{ index: number; line: number; reason: string }>;
    };
    expect([body.accepted, body.rejected]).toEqual([2, 2]);
    expect(body.errors.map((e) => [e.index, e.line])).toEqual([
      [1, 2],
      [2, 3],
    ]);
    expect(body.errors[0]?.reason).toMatch(/^\/value: expected a finite number/);
    expect(writes[0]?.accepted.map((e) => e.id)).toEqual(['a', 'c']);
    expect(writes[0]?.rejected.map((r) => r.where)).toEqual([
      'http POST /ingest record 1 (line 2)',
      'http POST /ingest record 2 (line 3)',
    ]);
  });

  it('answers 400 when nothing is valid or the body is empty', async () => {
    const { a } = app();
    expect((await post(a, line('b', 'x'))).status).toBe(400);
    expect((await post(a, '\n')).status).toBe(400);
  });

  it('refuses a body over the limit with 413 before parsing, by Content-Length or while streaming', async () => {
    const { a, writes } = app({ max_body_bytes: 100 });
    const big = `${line('a', 1)}\n${line('b', 2)}`;
    expect((await post(a, big, { 'content-length': String(big.length) })).status).toBe(413);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode(`${line(`s${i}`, i)}\n`));
        c.close();
      },
    });
    const res = await post(a, stream);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('E_INGEST_TOO_LARGE');
    expect(writes).toHaveLength(0);
  });

  it('answers 503 with the writer error code when records could not be stored', async () => {
    const { a } = app({ fail: true });
    const res = await post(a, line('a', 1));
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('E_KAFKA_PRODUCE');
  });
});

describe('POST /ingest: credentials and rate limits, before the body is read', () => {
  const KEYS: Record<string, Principal> = {
    rk_gw: { name: 'key:gw', role: 'ingest', via: 'api_key' },
    rk_ro: { name: 'key:ro', role: 'viewer', via: 'api_key' },
  };
  function guarded(limits: { addr?: number; key?: number } = {}) {
    let t = T;
    const writes: number[] = [];
    const registry = new Registry();
    const stats: IngestStats = { requests: 0, accepted: 0, rejected: 0, failed: 0 };
    const a = createIngestApp({
      write: (accepted) => {
        writes.push(accepted.length);
        return Promise.resolve();
      },
      max_body_bytes: 10_000,
      max_media_bytes: 1000,
      clock: { now: () => t },
      logger: pino({ level: 'silent' }),
      authenticate: (k) => KEYS[k],
      limits: {
        ...(limits.addr === undefined
          ? {}
          : { per_address: new RateLimiter({ rate_per_sec: 1, burst: limits.addr, now: () => t }) }),
        ...(limits.key === undefined
          ? {}
          : { per_key: new RateLimiter({ rate_per_sec: 0.5, burst: limits.key, now: () => t }) }),
      },
      registry,
      stats,
    });
    return { a, writes, registry, stats, advance: (ms: number) => (t += ms) };
  }

  it('needs an API key of the ingest role: 401 without or with a wrong key, 403 for a viewer key', async () => {
    const { a, writes } = guarded();
    const noKey = await post(a, line('a', 1));
    expect(noKey.status).toBe(401);
    expect(((await noKey.json()) as { error: { code: string } }).error.code).toBe('E_INGEST_UNAUTHENTICATED');
    expect((await post(a, line('a', 1), { authorization: 'Bearer rk_nope' })).status).toBe(401);
    const viewer = await post(a, line('a', 1), { 'x-api-key': 'rk_ro' });
    expect(viewer.status).toBe(403);
    expect(((await viewer.json()) as { error: { message: string } }).error.message).toBe(
      'key:ro is a viewer key: sending records needs a key of the ingest role',
    );
    expect(writes).toEqual([]);
    expect((await post(a, line('a', 1), { authorization: 'Bearer rk_gw' })).status).toBe(200);
    expect(writes).toEqual([1]);
  });

  it('answers 429 with Retry-After per key and per address, counts it, and recovers with time', async () => {
    const { a, registry, stats, advance } = guarded({ key: 2 });
    const gw = { authorization: 'Bearer rk_gw' };
    expect((await post(a, line('a', 1), gw)).status).toBe(200);
    expect((await post(a, line('b', 1), gw)).status).toBe(200);
    const limited = await post(a, line('c', 1), gw);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('E_INGEST_RATE_LIMITED');
    expect(stats.rate_limited).toBe(1);
    advance(2000);
    expect((await post(a, line('d', 1), gw)).status).toBe(200);
    advance(2000); // scraping /metrics takes a token of the key as well
    const metrics = await (await a.request('/metrics', { headers: gw })).text();
    expect(metrics).toContain('retimuad_ingest_requests_total{outcome="rate_limited"} 1');
    expect(metrics).toContain('retimuad_ingest_requests_total{outcome="ok"} 3');
    expect(await registry.metrics()).toContain('outcome="rate_limited"');
    expect((await a.request('/metrics')).status).toBe(401);

    const byAddr = guarded({ addr: 1 });
    expect((await post(byAddr.a, line('a', 1))).status).toBe(401); // costs a token too: guessing keys is limited
    const r = await post(byAddr.a, line('a', 1), gw);
    expect(r.status).toBe(429);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(
      /^too many requests from address/,
    );
  });
});
