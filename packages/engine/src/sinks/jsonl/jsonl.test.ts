import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Anomaly } from '../../../../core/src/schema/events.ts';
import { incidentFixture, memoryLogger, T0 } from '../testing.ts';
import { createJsonlSink } from './jsonl.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retimu-jsonl-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const anomaly: Anomaly = {
  id: 'an-1',
  time: T0,
  site: 'plant-a',
  asset: 'P-101',
  detector: 'z1',
  detectorType: 'rolling_zscore',
  modality: 'reading',
  score: 0.7,
  severity: 'warning',
  reason: 'flow high',
};

async function linesOf(path: string): Promise<unknown[]> {
  const text = await readFile(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
}

describe('jsonl sink', () => {
  it('appends one line per incident revision, skipping repeats, and only incidents by default', async () => {
    const path = join(dir, 'nested', 'alerts.jsonl');
    const { logger } = memoryLogger();
    const sink = createJsonlSink({ path }, { logger });
    expect([...sink.accepts]).toEqual(['incident']);
    const r1 = incidentFixture({ revision: 1 });
    const r2 = incidentFixture({ revision: 2, anomalyCount: 4 });
    await sink.write([{ type: 'incident', incident: r1 }, { type: 'anomaly', anomaly }]);
    await sink.write([
      { type: 'incident', incident: r1 }, // retried batch: already written
      { type: 'incident', incident: r2 },
      { type: 'incident', incident: r2 },
    ]);
    await sink.close();
    expect(await linesOf(path)).toEqual([
      { type: 'incident', incident: r1 },
      { type: 'incident', incident: r2 },
    ]);

    // A new sink on the same file appends rather than truncating.
    const again = createJsonlSink({ path }, { logger });
    const other = incidentFixture({ id: 'inc-2' });
    await again.write([{ type: 'incident', incident: other }]);
    await again.close();
    expect(await linesOf(path)).toHaveLength(3);
  });

  it('writes anomalies too when included, in batch order, without interleaving concurrent writes', async () => {
    const path = join(dir, 'all.jsonl');
    const { logger } = memoryLogger();
    const sink = createJsonlSink({ path, include: ['incident', 'anomaly'] }, { logger });
    const writes = Array.from({ length: 50 }, (_, i) =>
      sink.write([
        { type: 'anomaly', anomaly: { ...anomaly, id: `an-${i}` } },
        { type: 'incident', incident: incidentFixture({ id: `inc-${i}` }) },
      ]),
    );
    await Promise.all(writes);
    await sink.close();
    const lines = (await linesOf(path)) as Array<{ type: string; anomaly?: Anomaly; incident?: { id: string } }>;
    expect(lines).toHaveLength(100);
    lines.forEach((l, k) => {
      const i = Math.floor(k / 2);
      if (k % 2 === 0) expect(l.anomaly?.id).toBe(`an-${i}`);
      else expect(l.incident?.id).toBe(`inc-${i}`);
    });
  });

  it('rejects writes after close and bad params', async () => {
    const { logger } = memoryLogger();
    const sink = createJsonlSink({ path: join(dir, 'x.jsonl') }, { logger });
    await sink.close();
    await expect(sink.write([])).rejects.toMatchObject({ code: 'E_SINK_CLOSED' });
    expect(() => createJsonlSink({ path: 'a', include: ['score'] }, { logger })).toThrow(/\/include/);
    expect(() => createJsonlSink({}, { logger })).toThrow(/\/path/);
  });

  it('reports a file it cannot append to with E_JSONL_WRITE', async () => {
    const { logger } = memoryLogger();
    // The path is an existing directory: opening it for append fails.
    const sink = createJsonlSink({ path: dir }, { logger });
    await expect(sink.write([{ type: 'incident', incident: incidentFixture() }])).rejects.toMatchObject({ code: 'E_JSONL_WRITE' });
    await sink.close();
  });
});
