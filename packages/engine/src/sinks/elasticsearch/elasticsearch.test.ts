import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../runtime/types.ts';
import { incidentFixture, memoryLogger, T0 } from '../testing.ts';
import { anomalyDoc, deadLetterDoc, incidentDoc, logDoc } from './documents.ts';
import { createElasticsearchSink } from './elasticsearch.ts';
import { ES_DYNAMIC_OBJECTS, esFieldPaths, esIndexName, type EsKind } from './schema.ts';

function leafPaths(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? leafPaths(v as Record<string, unknown>, p) : [p];
  });
}

const log = {
  kind: 'log' as const,
  id: 'l1',
  time: T0,
  ingestTime: T0 + 3,
  site: 'plant-a',
  asset: 'PLC-1',
  source: 'sim',
  level: 'warn' as const,
  message: 'failed login',
  fields: { 'user.name': 'op', 'event.kind': 'spoofed', slot: 3, 'host.name': 'scada-01' },
};

describe('ECS documents', () => {
  it('write only fields the index templates map (or their keyword-mapped dynamic objects)', () => {
    const docs: Array<[EsKind, Record<string, unknown>]> = [
      ['logs', logDoc(log, 'r').doc],
      [
        'anomalies',
        anomalyDoc(
          {
            id: 'a',
            time: T0,
            site: 's',
            asset: 'a',
            detector: 'd',
            detectorType: 't',
            modality: 'reading',
            metric: 'm',
            score: 1,
            severity: 'warning',
            reason: 'r',
            value: 2,
            eventId: 'e',
            detail: { z: 1 },
          },
          'r',
        ).doc,
      ],
      ['incidents', incidentDoc(incidentFixture({ endTime: T0 + 1, stage: 'intake' }), 'r').doc],
      [
        'deadletters',
        deadLetterDoc({ id: 'd', time: T0, component: 'c', where: 'w', reason: 'r', raw: '{}' }, 'r').doc,
      ],
    ];
    for (const [kind, doc] of docs) {
      const mapped = esFieldPaths(kind);
      const unmapped = leafPaths(doc).filter(
        (p) => !mapped.has(p) && !ES_DYNAMIC_OBJECTS.some((d) => p.startsWith(`${d}.`)),
      );
      expect({ kind, unmapped }).toEqual({ kind, unmapped: [] });
    }
  });

  it('keep ECS log fields, never let a log overwrite what the sink sets, and stringify the rest', () => {
    const d = logDoc(log, 'retimuad');
    expect(d.index).toBe(esIndexName('retimuad', 'logs', T0));
    expect(d.index).toBe('retimuad-logs-2023.11');
    expect(d.doc).toMatchObject({
      user: { name: 'op' },
      host: { name: 'scada-01' },
      event: { kind: 'event' },
      retimuad: { fields: { 'event.kind': 'spoofed', slot: '3' } },
    });
    expect(incidentDoc(incidentFixture({ revision: 7 }), 'x')).toMatchObject({
      index: 'x-incidents',
      id: 'inc-plant-a-1',
      version: 7,
    });
  });
});

let server: Server;
let url: string;
let bulkAnswers: Array<(lines: string[]) => unknown> = [];
let bodies: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (!req.url?.startsWith('/_bulk')) return res.end('{"acknowledged":true}');
      bodies.push(data);
      const lines = data.trim().split('\n');
      const answer =
        bulkAnswers.shift() ??
        ((l: string[]) => ({
          errors: false,
          items: l.filter((_, i) => i % 2 === 0).map(() => ({ index: { status: 201 } })),
        }));
      res.end(JSON.stringify(answer(lines)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  bulkAnswers = [];
  bodies = [];
});

describe('elasticsearch sink per-item handling (scripted server)', () => {
  it('retries items refused for now (429), dead-letters items refused for good, accepts incident conflicts', async () => {
    bulkAnswers.push(() => ({
      errors: true,
      items: [
        { index: { status: 201 } },
        { index: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } },
        {
          index: {
            status: 400,
            error: { type: 'mapper_parsing_exception', reason: 'failed to parse field [source.ip]' },
          },
        },
        { index: { status: 409, error: { type: 'version_conflict_engine_exception', reason: 'newer version' } } },
      ],
    }));
    const dead: DeadLetter[] = [];
    const sink = await createElasticsearchSink(
      { url, backoff_initial_ms: 1, backoff_max_ms: 2 },
      { logger: memoryLogger().logger, onDeadLetter: (d) => void dead.push(d) },
    );
    await sink.write([
      { type: 'event', event: { ...log, id: 'ok' } },
      { type: 'event', event: { ...log, id: 'busy' } },
      { type: 'event', event: { ...log, id: 'bad' } },
      { type: 'incident', incident: incidentFixture() },
    ]);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toContain('"_id":"busy"');
    expect(bodies[1]?.trim().split('\n')).toHaveLength(2);
    expect(dead.map((d) => [d.where, d.reason])).toEqual([
      ['elasticsearch retimuad-logs-2023.11/bad', '400 mapper_parsing_exception: failed to parse field [source.ip]'],
    ]);
    expect(sink.stats()).toMatchObject({ indexed: 2, rejected: 1, conflicts: 1, retries: 1 });
    expect(bodies[0]).toContain('"version":1,"version_type":"external"');
    await sink.close();
  });

  it('with spill_dir, keeps documents through 503s and indexes each once the server answers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-outbox-'));
    try {
      let failing = 3;
      bulkAnswers.push(
        ...Array.from({ length: 3 }, () => (l: string[]) => {
          failing--;
          return { errors: true, items: l.filter((_, i) => i % 2 === 0).map(() => ({ index: { status: 503 } })) };
        }),
      );
      const sink = await createElasticsearchSink(
        {
          url,
          max_retries: 0,
          backoff_initial_ms: 1,
          backoff_max_ms: 2,
          spill_dir: dir,
          retry_initial_backoff_ms: 1,
          retry_max_backoff_ms: 5,
        },
        { logger: memoryLogger().logger },
      );
      for (let i = 0; i < 4; i++) await sink.write([{ type: 'event', event: { ...log, id: `l-${i}` } }]);
      await sink.close();
      expect(failing).toBe(0);
      expect(sink.stats()).toMatchObject({ indexed: 4, outbox: { delivered: 4, dropped: 0, spilledEvents: 0 } });
      // The bodies after the three refused ones carry each document exactly once, in order.
      const ids = bodies.slice(3).flatMap((b) => [...b.matchAll(/"_id":"(l-\d)"/g)].map((m) => m[1]));
      expect(ids).toEqual(['l-0', 'l-1', 'l-2', 'l-3']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
