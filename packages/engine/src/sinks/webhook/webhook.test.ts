import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SinkError } from '../common.ts';
import { incidentFixture, memoryLogger, T0 } from '../testing.ts';
import { ZERO_TIME, createWebhookSink, labelsFingerprint, type AlertmanagerPayload } from './webhook.ts';

interface Received {
  headers: IncomingMessage['headers'];
  body: AlertmanagerPayload;
}

/** A real local receiver whose answer to each request is scripted. */
let server: Server;
let url: string;
let received: Received[] = [];
let script: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(data) as AlertmanagerPayload });
      const status = script.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'unavailable');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  received = [];
  script = [];
});

const fast = { backoff_initial_ms: 5, backoff_max_ms: 20, timeout_ms: 2000 };
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('webhook sink', () => {
  it('retries 503s with back-off, then delivers an Alertmanager v4 payload', async () => {
    script = [503, 503];
    const { logger, lines } = memoryLogger();
    const sink = createWebhookSink({ url, ...fast, headers: { authorization: 'Bearer t0k' } }, { logger });
    const inc = incidentFixture();
    await sink.write([{ type: 'incident', incident: inc }]);
    await sink.close();

    expect(received).toHaveLength(3);
    // Every attempt carries the same payload.
    expect(received[1]!.body).toEqual(received[0]!.body);
    expect(received[2]!.body).toEqual(received[0]!.body);
    expect(lines.filter((l) => l.msg.includes('retrying'))).toHaveLength(2);

    const { headers, body } = received[2]!;
    expect(headers['content-type']).toBe('application/json');
    expect(headers['authorization']).toBe('Bearer t0k');
    expect(body.version).toBe('4');
    expect(body.status).toBe('firing');
    expect(body.receiver).toBe('retimu-ad');
    expect(body.truncatedAlerts).toBe(0);
    expect(body.externalURL).toBe('http://localhost:8080');
    expect(body.groupLabels).toEqual({ alertname: 'RetimuAdIncident', incident_id: inc.id, site: 'plant-a' });
    expect(body.groupKey).toBe(`{}:{alertname="RetimuAdIncident", incident_id="${inc.id}", site="plant-a"}`);
    expect(body.alerts).toHaveLength(1);
    const a = body.alerts[0]!;
    expect(a.status).toBe('firing');
    expect(a.labels).toEqual({
      alertname: 'RetimuAdIncident',
      severity: 'warning',
      site: 'plant-a',
      asset: 'P-101',
      incident_id: inc.id,
      stage: 'intake',
    });
    expect(body.commonLabels).toEqual(a.labels);
    expect(a.annotations['summary']).toBe('[warning] plant-a P-101, V-7: flow_m3h 41.2 > 40 for 35 s');
    expect(a.annotations['description']).toContain('3 failed logins');
    expect(a.startsAt).toBe(new Date(T0).toISOString());
    expect(a.startsAt).toMatch(RFC3339);
    expect(a.endsAt).toBe(ZERO_TIME);
    expect(a.generatorURL).toBe(`http://localhost:8080/#/incidents/${inc.id}`);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(a.fingerprint).toBe(labelsFingerprint(a.labels));
  });

  it('sends only status and severity changes, with a fingerprint stable from firing to resolved', async () => {
    const { logger } = memoryLogger();
    const sink = createWebhookSink({ url, ...fast }, { logger });
    const inc = (over: Parameters<typeof incidentFixture>[0]) => ({
      type: 'incident' as const,
      incident: incidentFixture(over),
    });
    await sink.write([inc({ revision: 1 })]);
    await sink.write([inc({ revision: 2, anomalyCount: 4 }), inc({ revision: 3, anomalyCount: 5 })]); // nothing new
    await sink.write([inc({ revision: 1 })]); // stale replay
    expect(received).toHaveLength(1);

    await sink.write([inc({ revision: 4, severity: 'critical' })]);
    expect(received).toHaveLength(2);
    const escalation = received[1]!.body;
    expect(escalation.status).toBe('firing');
    expect(escalation.alerts.map((a) => [a.status, a.labels['severity']])).toEqual([
      ['firing', 'critical'],
      ['resolved', 'warning'],
    ]);
    // The superseded warning alert is closed under the fingerprint it was opened with.
    expect(escalation.alerts[1]!.fingerprint).toBe(received[0]!.body.alerts[0]!.fingerprint);
    expect(escalation.alerts[1]!.endsAt).toMatch(RFC3339);
    expect(escalation.commonLabels['severity']).toBeUndefined();
    expect(escalation.commonLabels['incident_id']).toBe('inc-plant-a-1');

    await sink.write([inc({ revision: 5, severity: 'critical', status: 'resolved', endTime: T0 + 90_000 })]);
    expect(received).toHaveLength(3);
    const resolved = received[2]!.body;
    expect(resolved.status).toBe('resolved');
    expect(resolved.alerts).toHaveLength(1);
    expect(resolved.alerts[0]!.endsAt).toBe(new Date(T0 + 90_000).toISOString());
    expect(resolved.alerts[0]!.fingerprint).toBe(escalation.alerts[0]!.fingerprint);
    await sink.close();

    // Another process computes the same fingerprint for the same labels, whatever their order.
    const labels = received[0]!.body.alerts[0]!.labels;
    const reversed = Object.fromEntries(Object.entries(labels).reverse());
    expect(labelsFingerprint(reversed)).toBe(received[0]!.body.alerts[0]!.fingerprint);
    expect(labelsFingerprint({ ...labels, site: 'plant-b' })).not.toBe(labelsFingerprint(labels));
  });

  it('gives up after max_retries with E_WEBHOOK_GAVE_UP, and sends the incident again on its next revision', async () => {
    script = [500, 502, 503, 429];
    const { logger } = memoryLogger();
    const sink = createWebhookSink({ url, ...fast, max_retries: 2 }, { logger });
    const err = await sink.write([{ type: 'incident', incident: incidentFixture() }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).code).toBe('E_WEBHOOK_GAVE_UP');
    expect((err as SinkError).message).toContain('after 3 attempts');
    expect((err as SinkError).message).toContain('HTTP 503');
    expect(received).toHaveLength(3);
    // Not remembered as sent: a later revision with no change is still delivered (429 is retried).
    await sink.write([{ type: 'incident', incident: incidentFixture({ revision: 2 }) }]);
    expect(received).toHaveLength(5);
    await sink.close();
  });

  it('does not retry a 4xx other than 429', async () => {
    script = [400];
    const { logger } = memoryLogger();
    const sink = createWebhookSink({ url, ...fast }, { logger });
    await expect(sink.write([{ type: 'incident', incident: incidentFixture() }])).rejects.toMatchObject({
      code: 'E_WEBHOOK_REJECTED',
    });
    expect(received).toHaveLength(1);
    await sink.close();
  });

  it('retries network errors (nothing listening) and reports the last problem', async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const { logger, lines } = memoryLogger();
    const sink = createWebhookSink({ url: `http://127.0.0.1:${port}/`, ...fast, max_retries: 1 }, { logger });
    await expect(sink.write([{ type: 'incident', incident: incidentFixture() }])).rejects.toMatchObject({
      code: 'E_WEBHOOK_GAVE_UP',
      message: expect.stringContaining('ECONNREFUSED') as unknown,
    });
    expect(lines.filter((l) => l.msg.includes('retrying'))).toHaveLength(1);
    await sink.close();
  });

  it('validates its parameters and names the bad one', () => {
    const { logger } = memoryLogger();
    expect(() => createWebhookSink({ url: 'ftp://x' }, { logger })).toThrow(/webhook sink: \/url/);
    expect(() => createWebhookSink({ url, max_retries: -1 }, { logger })).toThrow(/max_retries/);
  });
});

describe('webhook sink timeouts', () => {
  it('treats a receiver slower than timeout_ms as a failure and retries', async () => {
    let calls = 0;
    const slow = createServer((req, res) => {
      calls++;
      req.resume();
      // The first request never gets an answer in time; the second is answered at once.
      if (calls === 1) setTimeout(() => res.end('late'), 1000).unref();
      else res.end('ok');
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const { logger, lines } = memoryLogger();
      const port = (slow.address() as AddressInfo).port;
      const sink = createWebhookSink({ url: `http://127.0.0.1:${port}/`, ...fast, timeout_ms: 100 }, { logger });
      await sink.write([{ type: 'incident', incident: incidentFixture() }]);
      await sink.close();
      expect(calls).toBe(2);
      expect(lines.find((l) => l.msg.includes('retrying'))?.['problem']).toBe('timed out after 100 ms');
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });

  it('with spill_dir, keeps incidents on disk while the receiver fails, then delivers them in order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'webhook-outbox-'));
    try {
      script = Array.from({ length: 1000 }, () => 503); // down
      const sink = createWebhookSink(
        { url, ...fast, max_retries: 0, spill_dir: dir, retry_initial_backoff_ms: 1, retry_max_backoff_ms: 5 },
        { logger: memoryLogger().logger },
      );
      for (let i = 0; i < 5; i++)
        await sink.write([{ type: 'incident', incident: incidentFixture({ id: `inc-${i}`, revision: 1 }) }]);
      while ((sink.outboxStats()?.spilledEvents ?? 0) < 5) await new Promise((r) => setTimeout(r, 2));
      const failed = received.length;
      script = []; // up again
      while ((sink.outboxStats()?.delivered ?? 0) < 5) await new Promise((r) => setTimeout(r, 2));
      await sink.write([
        {
          type: 'incident',
          incident: incidentFixture({ id: 'inc-0', revision: 2, status: 'resolved', endTime: T0 + 60_000 }),
        },
      ]);
      await sink.close();
      expect(failed).toBeGreaterThan(0);
      const ok = received.slice(failed).map((r) => `${r.body.alerts[0]?.labels['incident_id'] ?? ''}:${r.body.status}`);
      expect(ok).toEqual([
        'inc-0:firing',
        'inc-1:firing',
        'inc-2:firing',
        'inc-3:firing',
        'inc-4:firing',
        'inc-0:resolved',
      ]);
      expect(sink.outboxStats()).toMatchObject({ delivered: 6, dropped: 0, spilledEvents: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
