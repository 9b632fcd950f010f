// The HTTP endpoint's own logic (limits, answers, status codes) with a recording writer; the
// path to a real Kafka broker is tested in ingest.integration.ts.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createIngestApp } from './http.ts';
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
