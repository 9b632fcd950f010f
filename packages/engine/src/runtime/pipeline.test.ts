import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from './pipeline.ts';
import { createMetrics } from './metrics.ts';
import { arraySource, MemorySink, noBlobs, reading, silentLogger, testConfig } from './testing.ts';
import type { Source } from './types.ts';

async function runOnce(dataDir: string, source: Source, sink: MemorySink, fresh = false) {
  const p = new Pipeline({
    config: testConfig(dataDir),
    sources: [source],
    sinks: [sink],
    logger: silentLogger,
    metrics: createMetrics({ defaultMetrics: false }),
    blobs: noBlobs,
    fresh,
  });
  const r = await p.start();
  await p.done;
  await p.stop();
  return { p, restored: r.restored };
}

describe('pipeline', () => {
  it('validates, detects, correlates and delivers to sinks; bad records become dead letters', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'retimuad-pipe-'));
    const sink = new MemorySink();
    const items: unknown[] = [];
    for (let i = 0; i < 20; i++) items.push(reading(i, i === 12 ? 50 : 5));
    items.push({ kind: 'reading', id: 'bad', value: 'abc' });
    items.push(42);
    const { p } = await runOnce(dir, arraySource('src', items), sink);
    expect(sink.of('event')).toHaveLength(20);
    expect(sink.of('score')).toHaveLength(15); // 5 warm-up points give null scores
    const anomalies = sink.of('anomaly');
    expect(anomalies).toHaveLength(1);
    expect(anomalies[0]?.anomaly.reason).toBe('flow_m3h 50 > 10');
    expect(sink.of('incident')[0]?.incident.status).toBe('open');
    const dls = sink.of('deadletter').map((r) => r.deadLetter);
    expect(dls).toHaveLength(2);
    expect(dls[0]?.reason).toMatch(/\/value: expected a finite number, got "abc"/);
    expect(dls[1]?.reason).toMatch(/^\/: expected a JSON object, got 42/);
    const onDisk = (await readFile(join(dir, 'deadletters.jsonl'), 'utf8')).trim().split('\n');
    expect(onDisk).toHaveLength(2);
    expect(p.deadLetterCount).toBe(2);
    expect(sink.closed).toBe(true);
  });

  it('resumes from its checkpoint with no re-warm-up and no duplicated incident', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'retimuad-pipe-'));
    const first = new MemorySink();
    const a: unknown[] = [];
    for (let i = 0; i < 10; i++) a.push(reading(i, i >= 8 ? 50 : 5));
    await runOnce(dir, arraySource('src', a), first);
    const incident = first.of('incident').at(-1)?.incident;
    expect(incident?.status).toBe('open');

    const second = new MemorySink();
    const b: unknown[] = [];
    for (let i = 10; i < 14; i++) b.push(reading(i, 50));
    const { restored } = await runOnce(dir, arraySource('src', b), second);
    expect(restored).toBe(true);
    // The first reading after restart is scored at once: the state was restored, not re-warmed.
    expect(second.of('score')).toHaveLength(4);
    const ids = new Set(second.of('incident').map((r) => r.incident.id));
    expect([...ids]).toEqual([incident?.id]);
    expect(second.of('incident').at(-1)?.incident.anomalyCount).toBe(6);

    // --fresh ignores the checkpoint and warms up again.
    const third = new MemorySink();
    await runOnce(dir, arraySource('src', b), third, true);
    expect(third.of('score')).toHaveLength(0);
  });

  it('dead-letters late, future and duplicate events with the reason, and processes the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'retimuad-pipe-'));
    const sink = new MemorySink();
    const items: unknown[] = [reading(1000, 5), reading(1001, 5), reading(1001, 5)];
    items.push(reading(300, 5)); // 701 s behind the newest: late
    items.push(reading(900, 5)); // 101 s behind: out of order but within the allowed lateness
    items.push({ ...reading(1002, 5), time: Date.now() + 3_600_000, ingestTime: Date.now() }); // an hour ahead
    await runOnce(dir, arraySource('src', items), sink);
    expect(sink.of('event').map((r) => r.event.id)).toEqual(['r1000', 'r1001', 'r900']);
    const reasons = sink.of('deadletter').map((r) => r.deadLetter.reason);
    expect(reasons[0]).toBe('duplicate: event id r1001 was already processed');
    expect(reasons[1]).toMatch(
      /^late: event time 2026-01-01T00:05:00.000Z is 701 s behind the newest event \(allowed lateness 600 s\)$/,
    );
    expect(reasons[2]).toMatch(/^future: event time .* is 3600 s ahead of its ingest time \(limit 300 s\)$/);
  });

  it('applies backpressure: a bounded queue never holds more than its capacity', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'retimuad-pipe-'));
    const sink = new MemorySink();
    let maxDepth = 0;
    const holder: { pipeline?: Pipeline } = {};
    const src: Source = {
      id: 'fast',
      async run(out) {
        for (let i = 0; i < 500; i++) {
          await out.emit(reading(i, 5));
          maxDepth = Math.max(maxDepth, holder.pipeline?.queueDepth ?? 0);
        }
      },
    };
    const pipeline = new Pipeline({
      config: testConfig(dir),
      sources: [src],
      sinks: [sink],
      logger: silentLogger,
      metrics: createMetrics({ defaultMetrics: false }),
      blobs: noBlobs,
    });
    holder.pipeline = pipeline;
    await pipeline.start();
    await pipeline.done;
    expect(sink.of('event')).toHaveLength(500);
    expect(maxDepth).toBeLessThanOrEqual(16);
  });

  it('keeps processing while a slow sink writes: one write at a time per sink, in order, at most batch_max each, all delivered', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'retimuad-pipe-'));
    const events: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    let maxBatch = 0;
    const slow = new MemorySink('slow');
    const write = slow.write.bind(slow);
    slow.write = async (batch) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      maxBatch = Math.max(maxBatch, batch.length);
      await new Promise((r) => setTimeout(r, 5));
      for (const rec of batch) if (rec.type === 'event') events.push(rec.event.id);
      inFlight--;
      return write(batch);
    };
    const items: unknown[] = [];
    for (let i = 0; i < 400; i++) items.push(reading(i, 5));
    const p = new Pipeline({
      config: testConfig(dir, { runtime: { ...testConfig(dir).runtime, batch_max: 50, checkpoint_interval_secs: 0 } }),
      sources: [arraySource('src', items)],
      sinks: [slow],
      logger: silentLogger,
      metrics: createMetrics({ defaultMetrics: false }),
      blobs: noBlobs,
      fresh: true,
    });
    await p.start();
    await p.done;
    // Everything is delivered before `done`, and the checkpoint written after it covers it all.
    expect(events).toEqual(items.map((r) => (r as { id: string }).id));
    expect(maxInFlight).toBe(1);
    expect(maxBatch).toBeLessThanOrEqual(50);
    const cp = JSON.parse(await readFile(p.checkpointFile, 'utf8')) as { watermark: number };
    expect(cp.watermark).toBe((items.at(-1) as { time: number }).time);
    await p.stop();
  });
});
