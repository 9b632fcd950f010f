// Fuzzing of the ingest edges — HTTP POST /ingest, MQTT messages through a real (in-process)
// MQTT broker — and of the pipeline's admission policy (late, future, duplicate, out-of-order;
// ADR 0005). Inputs: malformed JSON, wrong types, missing fields, NaN/Infinity, huge payloads,
// invalid UTF-8, far past/future timestamps, duplicates, shuffled order. The invariant: nothing
// throws or answers 5xx; every record is either accepted or handed to the dead letters with a
// reason; oversized payloads are refused before parsing. Counts go to data/reliability/fuzz.json.
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import fc from 'fast-check';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createIngestApp } from '../../packages/engine/src/ingest/http.ts';
import { startMqttIngest } from '../../packages/engine/src/ingest/mqtt.ts';
import type { Validated } from '../../packages/engine/src/ingest/records.ts';
import { Pipeline } from '../../packages/engine/src/runtime/pipeline.ts';
import { createMetrics } from '../../packages/engine/src/runtime/metrics.ts';
import {
  arraySource,
  MemorySink,
  noBlobs,
  reading,
  silentLogger,
  testConfig,
} from '../../packages/engine/src/runtime/testing.ts';
import { fuzzTally } from './figures.ts';

const NOW = Date.UTC(2026, 0, 1, 12);
const LIMIT = 64 * 1024;
const tally = fuzzTally('ingest');
afterAll(() => tally.save());

const good = (i: number): Record<string, unknown> => ({
  kind: 'reading',
  id: `f${i}`,
  time: NOW - i * 1000,
  site: 's',
  asset: 'P-1',
  metric: 'flow_m3h',
  value: 1.5,
  unit: 'm3/h',
  quality: 'good',
});
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** One bad (or good) record as bytes, by category. */
const record: fc.Arbitrary<{ cat: string; bytes: Uint8Array }> = fc.oneof(
  fc.nat(1000).map((i) => ({ cat: 'valid', bytes: enc(JSON.stringify(good(i))) })),
  fc.tuple(fc.nat(1000), fc.nat(200), fc.string({ maxLength: 3 })).map(([i, at, ins]) => {
    const s = JSON.stringify(good(i));
    return { cat: 'malformed JSON', bytes: enc(s.slice(0, at % s.length) + ins + s.slice((at % s.length) + 1)) };
  }),
  fc
    .tuple(fc.nat(1000), fc.constantFrom('value', 'time', 'kind', 'asset', 'metric', 'quality', 'id'), fc.jsonValue())
    .map(([i, k, v]) => ({ cat: 'wrong type', bytes: enc(JSON.stringify({ ...good(i), [k]: v })) })),
  fc
    .tuple(
      fc.nat(1000),
      fc.subarray(['kind', 'id', 'time', 'asset', 'metric', 'value', 'unit', 'quality'], { minLength: 1 }),
    )
    .map(([i, drop]) => {
      const r = good(i);
      for (const k of drop) delete r[k];
      return { cat: 'missing fields', bytes: enc(JSON.stringify(r)) };
    }),
  fc
    .tuple(fc.nat(1000), fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '-1e999', 'null'))
    .map(([i, v]) => ({ cat: 'NaN/Infinity', bytes: enc(JSON.stringify(good(i)).replace('1.5', v)) })),
  fc
    .tuple(
      fc.nat(1000),
      fc.constantFrom(
        0,
        -1,
        1e15,
        8.64e15 + 1,
        NOW + 10 * 365 * 86_400_000,
        '1900-01-01T00:00:00Z',
        '9999-12-31T23:59:59Z',
      ),
    )
    .map(([i, t]) => ({ cat: 'far past/future time', bytes: enc(JSON.stringify({ ...good(i), time: t })) })),
  fc.tuple(fc.nat(1000), fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.nat(100)).map(([i, junk, at]) => {
    const b = enc(JSON.stringify(good(i)));
    const k = at % b.length;
    // Bytes that are never valid UTF-8 (0x80..0xff lone continuation / lead bytes) spliced in.
    return {
      cat: 'invalid UTF-8',
      bytes: Uint8Array.from([...b.slice(0, k), ...junk.map((x) => 0x80 | x), ...b.slice(k)]),
    };
  }),
  fc.uint8Array({ maxLength: 300 }).map((b) => ({ cat: 'random bytes', bytes: b })),
);

const join0 = (parts: Uint8Array[]): Uint8Array => {
  const out: number[] = [];
  parts.forEach((p, i) => {
    if (i > 0) out.push(0x0a);
    out.push(...p);
  });
  return Uint8Array.from(out);
};

describe('fuzz: HTTP ingest', () => {
  const writes: Array<{ accepted: number; rejected: Validated['rejected'] }> = [];
  const app = createIngestApp({
    write: (accepted, rejected) => {
      writes.push({ accepted: accepted.length, rejected });
      return Promise.resolve();
    },
    max_body_bytes: LIMIT,
    max_media_bytes: 1 << 20,
    clock: { now: () => NOW },
    logger: pino({ level: 'silent' }),
  });

  it('answers 200/400/413, never 5xx; every record is accepted or dead-lettered with a reason', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 12 }), async (recs) => {
        for (const r of recs) tally.add(`http: ${r.cat}`, 1);
        writes.length = 0;
        const res = await app.request('/ingest', {
          method: 'POST',
          body: Buffer.from(join0(recs.map((r) => r.bytes))),
          headers: { 'content-type': 'application/x-ndjson' },
        });
        expect([200, 400]).toContain(res.status);
        const body = (await res.json()) as { accepted?: number; rejected?: number; errors?: Array<{ reason: string }> };
        if (writes.length === 0) {
          // Only a body without any record is refused without a write.
          expect(res.status).toBe(400);
          return;
        }
        const w = writes[0]!;
        expect(body.accepted).toBe(w.accepted);
        expect(body.rejected).toBe(w.rejected.length);
        for (const d of w.rejected) {
          expect(d.reason.length).toBeGreaterThan(3);
          expect(d.where).toMatch(/^http POST \/ingest record \d+/);
        }
        for (const e of body.errors ?? []) expect(e.reason.length).toBeGreaterThan(3);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses huge payloads with 413 before parsing, whatever their content', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: LIMIT + 1, max: LIMIT * 4 }), fc.boolean(), async (size, declared) => {
        tally.add('http: huge payload', 1);
        writes.length = 0;
        const body = new Uint8Array(size).fill(0x7b);
        const res = await app.request('/ingest', {
          method: 'POST',
          body: declared ? body : new Blob([body]).stream(),
          headers: declared ? { 'content-length': String(size) } : {},
          ...(declared ? {} : { duplex: 'half' }),
        });
        expect(res.status).toBe(413);
        expect(writes).toHaveLength(0);
      }),
      { numRuns: 40 },
    );
  });
});

describe('fuzz: MQTT ingest through a real MQTT broker', () => {
  it('every message is handled: records accepted or dead-lettered with a reason; oversize refused unparsed', async () => {
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let records = 0;
    let rejected = 0;
    const stats = { requests: 0, accepted: 0, rejected: 0, failed: 0 };
    const ing = await startMqttIngest({
      url,
      topics: ['fuzz/#'],
      qos: 1,
      write: (a, r) => {
        records += a.length + r.length;
        rejected += r.length;
        for (const d of r) expect(d.reason.length).toBeGreaterThan(3);
        return Promise.resolve();
      },
      max_message_bytes: 4096,
      max_media_bytes: 1 << 20,
      clock: { now: () => NOW },
      logger: pino({ level: 'silent' }),
      stats,
    });
    const pub = await mqtt.connectAsync(url);
    try {
      const samples = fc.sample(fc.array(record, { minLength: 1, maxLength: 6 }), { numRuns: 200, seed: 7 });
      for (const recs of samples) {
        for (const r of recs) tally.add(`mqtt: ${r.cat}`, 1);
        await pub.publishAsync('fuzz/a', Buffer.from(join0(recs.map((r) => r.bytes))), { qos: 1 });
      }
      for (let i = 0; i < 20; i++) {
        await pub.publishAsync('fuzz/big', Buffer.alloc(5000 + i * 100, 0x5b), { qos: 1 });
        tally.add('mqtt: huge payload', 1);
      }
      const deadline = Date.now() + 15_000;
      while (stats.requests < samples.length + 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(stats.requests).toBe(samples.length + 20);
      expect(stats.failed).toBe(0);
      expect(records).toBeGreaterThanOrEqual(samples.length + 20);
      expect(rejected).toBeGreaterThanOrEqual(20);
    } finally {
      await pub.endAsync();
      await ing.close();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    }
  }, 30_000);
});

describe('fuzz: admission of late, future, duplicate and out-of-order events (ADR 0005)', () => {
  it('every event is processed once or dead-lettered with its reason; duplicates never processed twice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'retimuad-fuzz-adm-'));
    try {
      const item = fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: 0, max: 2000 }).map((i) => ({ cat: 'in order / out of order', i })) },
        { weight: 2, arbitrary: fc.nat(2000).map((i) => ({ cat: 'duplicate', i })) },
        { weight: 1, arbitrary: fc.integer({ min: -100_000, max: -1000 }).map((i) => ({ cat: 'far past', i })) },
        {
          weight: 1,
          arbitrary: fc.integer({ min: 400 * 86_400, max: 4000 * 86_400 }).map((i) => ({ cat: 'far future', i })),
        },
      );
      let run = 0;
      const reasons = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(fc.array(item, { minLength: 5, maxLength: 40 }), async (items) => {
          const stream = items.map((x, k) => {
            tally.add(`pipeline: ${x.cat}`, 1);
            // Duplicates repeat an earlier event's id; others get a fresh id.
            const prev = k > 0 ? items[x.i % k] : undefined;
            const id = x.cat === 'duplicate' && prev !== undefined ? `e${x.i % k}` : `e${k}`;
            return { ...reading(x.i, 5), id, ingestTime: undefined };
          });
          const sink = new MemorySink();
          const p = new Pipeline({
            config: testConfig(join(dir, String(run++))),
            sources: [arraySource('fuzz', stream)],
            sinks: [sink],
            logger: silentLogger,
            metrics: createMetrics({ defaultMetrics: false }),
            blobs: noBlobs,
            fresh: true,
          });
          await p.start();
          await p.done;
          await p.stop();
          const events = sink.of('event').map((r) => r.event.id);
          const dls = sink.of('deadletter').map((r) => r.deadLetter);
          expect(events.length + dls.length).toBe(stream.length);
          expect(new Set(events).size).toBe(events.length);
          for (const d of dls) {
            expect(d.reason).toMatch(/^(late|future|duplicate|\/time)/);
            const kind = /^(\w+|\/time)/.exec(d.reason)![1]!;
            reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
          }
        }),
        { numRuns: 25 },
      );
      // The property is not vacuous: each refusal reason of the policy was exercised.
      for (const k of ['late', 'future', 'duplicate']) expect(reasons.get(k) ?? 0, k).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
