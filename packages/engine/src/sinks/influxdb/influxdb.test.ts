import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../runtime/types.ts';
import { memoryLogger, T0 } from '../testing.ts';
import { createInfluxSink, InfluxSinkError } from './influxdb.ts';
import { readingRecords } from './testing.ts';

/** A local HTTP server whose answers are scripted: a status, or a function of the body. */
type Answer = number | ((body: string) => { status: number; body?: string });
let server: Server;
let url: string;
let requests: Array<{ url: string; headers: IncomingHttpHeaders; body: string }> = [];
let script: Answer[] = [];
let fallback: Answer = 204;

beforeAll(async () => {
  server = createServer((req, res) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => {
      requests.push({ url: req.url ?? '', headers: req.headers, body: data });
      const a = script.shift() ?? fallback;
      const r = typeof a === 'number' ? { status: a } : a(data);
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(r.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  requests = [];
  script = [];
  fallback = 204;
});

const fast = { backoff_initial_ms: 1, backoff_max_ms: 5 };

describe('influxdb sink (scripted server)', () => {
  it('chunks by batch_size and targets the v1 endpoint', async () => {
    const sink = await createInfluxSink({ url, database: 'plant', batch_size: 40 }, { logger: memoryLogger().logger });
    await sink.write(readingRecords(100, T0));
    expect(requests.map((r) => r.body.split('\n').length).sort()).toEqual([20, 40, 40]);
    expect(requests[0]?.url).toBe('/write?db=plant&precision=ms');
    expect(requests[0]?.headers['authorization']).toBeUndefined();
  });

  it('uses /api/v2/write with a token read from the environment', async () => {
    const sink = await createInfluxSink(
      { url, api: 'v2', org: 'ops', bucket: 'plant', token_env: 'MY_TOKEN' },
      { logger: memoryLogger().logger, env: { MY_TOKEN: 's3cret' } },
    );
    await sink.write(readingRecords(1, T0));
    expect(requests[0]?.url).toBe('/api/v2/write?org=ops&bucket=plant&precision=ms');
    expect(requests[0]?.headers['authorization']).toBe('Token s3cret');
  });

  it('sends HTTP Basic for a v1 user', async () => {
    const sink = await createInfluxSink(
      { url, username: 'writer', token_env: 'PW' },
      { logger: memoryLogger().logger, env: { PW: 'pw' } },
    );
    await sink.write(readingRecords(1, T0));
    expect(requests[0]?.headers['authorization']).toBe(`Basic ${Buffer.from('writer:pw').toString('base64')}`);
  });

  it('refuses bad configuration with named problems', async () => {
    const { logger } = memoryLogger();
    await expect(createInfluxSink({ url, api: 'v2', org: 'ops' }, { logger })).rejects.toMatchObject({
      code: 'E_INFLUX_PARAMS',
      message: /needs both \/org and \/bucket/,
    });
    await expect(createInfluxSink({ url, token_env: 'NOPE' }, { logger, env: {} })).rejects.toMatchObject({
      code: 'E_INFLUX_PARAMS',
      message: /NOPE is not set/,
    });
    await expect(createInfluxSink({ url: 'ftp://x' }, { logger })).rejects.toMatchObject({
      code: 'E_INFLUX_PARAMS',
      message: /\/url/,
    });
  });

  it('retries 503 and 429 with back-off, then succeeds', async () => {
    script = [503, 429];
    const sink = await createInfluxSink({ url, ...fast }, { logger: memoryLogger().logger, random: () => 0.5 });
    await sink.write(readingRecords(3, T0));
    expect(requests).toHaveLength(3);
    expect(sink.stats()).toMatchObject({ written: 3, retries: 2 });
  });

  it('gives up after max_retries with E_INFLUX_GAVE_UP naming the last problem', async () => {
    fallback = () => ({ status: 500, body: '{"error":"engine down"}' });
    const sink = await createInfluxSink({ url, max_retries: 2, ...fast }, { logger: memoryLogger().logger });
    const err = await sink.write(readingRecords(3, T0)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfluxSinkError);
    expect(err).toMatchObject({
      code: 'E_INFLUX_GAVE_UP',
      message: /after 3 attempts; last problem: HTTP 500: engine down/,
    });
  });

  it('fails at once on 401 (retrying cannot fix credentials)', async () => {
    script = [() => ({ status: 401, body: '{"error":"authorization failed"}' })];
    const sink = await createInfluxSink({ url, ...fast }, { logger: memoryLogger().logger });
    await expect(sink.write(readingRecords(1, T0))).rejects.toMatchObject({
      code: 'E_INFLUX_REJECTED',
      message: /401: authorization failed/,
    });
    expect(requests).toHaveLength(1);
  });

  it('isolates the bad lines of a 400 by halving, dead-letters them, writes the rest', async () => {
    const bad = (body: string): boolean => body.includes('asset=P-103');
    fallback = (body) =>
      bad(body) ? { status: 400, body: '{"error":"partial write: field type conflict"}' } : { status: 204 };
    const dead: DeadLetter[] = [];
    const sink = await createInfluxSink(
      { url },
      { logger: memoryLogger().logger, onDeadLetter: (d) => void dead.push(d), clock: { now: () => T0 } },
    );
    await sink.write(readingRecords(40, T0, { assets: 10 }));
    expect(dead).toHaveLength(4);
    expect(
      dead.every((d) => d.raw.includes('asset=P-103') && d.reason === 'HTTP 400: partial write: field type conflict'),
    ).toBe(true);
    expect(sink.stats()).toMatchObject({ written: 36, rejected: 4 });
  });

  it('after the shutdown signal, still makes one attempt (the last flush) but no retries', async () => {
    const shutdown = new AbortController();
    shutdown.abort();
    const sink = await createInfluxSink({ url, ...fast }, { logger: memoryLogger().logger, signal: shutdown.signal });
    await sink.write(readingRecords(2, T0));
    expect(sink.stats().written).toBe(2);
    script = [503];
    await expect(sink.write(readingRecords(2, T0))).rejects.toMatchObject({ code: 'E_INFLUX_ABORTED' });
    expect(requests).toHaveLength(2);
  });

  it('close waits for writes in flight, then refuses new ones', async () => {
    script = [503];
    const sink = await createInfluxSink({ url, ...fast }, { logger: memoryLogger().logger });
    const w = sink.write(readingRecords(2, T0));
    await sink.close();
    await w;
    expect(sink.stats().written).toBe(2);
    await expect(sink.write(readingRecords(1, T0))).rejects.toMatchObject({ code: 'E_INFLUX_CLOSED' });
  });

  it('with spill_dir, write() only queues; lines outlive a down server and a restart, in order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'influx-outbox-'));
    try {
      const outbox = { spill_dir: dir, retry_initial_backoff_ms: 1, retry_max_backoff_ms: 5, drain_timeout_ms: 200 };
      fallback = 503; // down
      const first = await createInfluxSink(
        { url, max_retries: 0, ...fast, ...outbox },
        { logger: memoryLogger().logger },
      );
      const recs = readingRecords(35, T0, { metric: 'outbox_probe' });
      await first.write(recs.slice(0, 30)); // resolves although nothing was written
      await first.close(); // down: spilled for the next start
      expect(first.stats().outbox).toMatchObject({ delivered: 0, spilledEvents: 30, buffered: 0 });
      // A request the closing sink aborted may still reach the server a moment later: let it land
      // (answered 503) before counting this test's deliveries.
      await new Promise((r) => setTimeout(r, 100));
      fallback = 204; // back
      requests = [];
      const second = await createInfluxSink(
        { url, max_retries: 0, ...fast, ...outbox },
        { logger: memoryLogger().logger },
      );
      await second.write(recs.slice(30));
      await second.close();
      expect(second.stats().outbox).toMatchObject({ recovered: 30, delivered: 35, spilledEvents: 0, dropped: 0 });
      // Only this test's lines: an earlier test's sink may still be retrying against the same server.
      const lines = requests.flatMap((r) => r.body.split('\n')).filter((l) => l.includes('outbox_probe'));
      expect(lines.map((l) => /value=([\d.]+)/.exec(l)?.[1])).toEqual(recs.map((_, i) => String(i * 0.5)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
