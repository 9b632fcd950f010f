// Outage test for the webhook sink against a real receiver process (a separate Node process
// listening on TCP, appending each alert it accepts to a file before answering 200): the receiver
// is killed for OUTAGE_SECS (60) while incidents keep coming, then started again on the same
// port; every incident must then have reached it, with the sink's memory bounded by its outbox.
// Run with the other outage tests: npx vitest run --config packages/engine/src/sinks/vitest.outage.config.ts
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  every,
  expectOutboxDrained,
  OUTAGE_SECS,
  outboxFigures,
  serverOutage,
  recordOutage,
  waitFor,
} from '../outage-testing.ts';
import { incidentFixture, memoryLogger, T0 } from '../testing.ts';
import { createWebhookSink } from './webhook.ts';

const PORT = Number(process.env['RETIMUAD_OUTAGE_WEBHOOK_PORT'] ?? '18099');

// The receiver: persists, then acknowledges (so a 200 means the alert is kept).
const RECEIVER = `
const http = require('node:http');
const fs = require('node:fs');
const [port, file] = process.argv.slice(1);
const server = http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const p = JSON.parse(body);
    fs.appendFileSync(file, p.alerts.map((a) => a.labels.incident_id + ' ' + a.status).join('\\n') + '\\n');
    res.writeHead(200).end('ok');
  });
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

function startReceiver(file: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', RECEIVER, String(PORT), file], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`webhook receiver exited with ${code} before listening on ${PORT}`)));
  });
}

function stopReceiver(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function receivedIds(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[0] ?? '');
}

describe('webhook sink across a real receiver outage', () => {
  it(`delivers every incident raised during a ${OUTAGE_SECS} s outage of the receiver`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'webhook-outage-'));
    const file = join(dir, 'received.txt');
    const BUFFER = 50;
    let receiver = await startReceiver(file);
    const sink = createWebhookSink(
      {
        url: `http://127.0.0.1:${PORT}/hook`,
        timeout_ms: 2000,
        max_retries: 0,
        spill_dir: join(dir, 'spill'),
        buffer_max_events: BUFFER,
        retry_initial_backoff_ms: 200,
        retry_max_backoff_ms: 2000,
      },
      { logger: memoryLogger().logger },
    );
    let sent = 0;
    const stream = every(100, async (i) => {
      sent++;
      await sink.write([
        {
          type: 'incident',
          incident: incidentFixture({ id: `inc-outage-${i}`, startTime: T0 + i * 1000, lastTime: T0 + i * 1000 }),
        },
      ]);
    });
    try {
      const { downAt, upAt, duringOutage } = await serverOutage(
        {
          stop: () => stopReceiver(receiver),
          start: async () => {
            receiver = await startReceiver(file);
          },
        },
        () => sink.outboxStats(),
      );
      await stream.stop();
      const drained = await waitFor(async () => new Set(await receivedIds(file)).size >= sent, 60_000, 500);
      const catchUp = (Date.now() - upAt) / 1000;
      await sink.close();
      const ids = await receivedIds(file);
      const unique = new Set(ids);
      const lost = Array.from({ length: sent }, (_, i) => `inc-outage-${i}`).filter((id) => !unique.has(id)).length;
      const s = sink.outboxStats();
      await recordOutage('webhook', {
        server: 'Node HTTP receiver process (killed and restarted)',
        outage_secs: Math.round((upAt - downAt) / 1000),
        events_sent: sent,
        delivered: unique.size,
        lost,
        duplicates: ids.length - unique.size,
        ...outboxFigures(s, BUFFER),
        catch_up_secs: Math.round(catchUp * 10) / 10,
      });
      expect(drained).toBe(true);
      expect(lost).toBe(0);
      expect(unique.size).toBe(sent);
      expectOutboxDrained(duringOutage, s, BUFFER + 1);
    } finally {
      await stream.stop();
      await sink.close();
      await stopReceiver(receiver);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
