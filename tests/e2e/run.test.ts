// End to end: the embedded system as `retimuad run` starts it (simulator → detectors → correlator →
// DuckDB store, webhook, API), with a real local HTTP server receiving the Alertmanager webhook.
import { describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtemp, readFile, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startSystem } from '../../packages/engine/src/cli/run.ts';
import type { Incident } from '../../packages/core/src/schema/events.ts';

interface AmAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function config(dir: string, hook: string): Promise<string> {
  const file = join(dir, 'plant.yaml');
  const base = await readFile(join(import.meta.dirname, '../../examples/plant.yaml'), 'utf8');
  const text = base
    .replace('data_dir: ../data', `data_dir: ${dir}/data`)
    .replace('speed: realtime', 'speed: max\n    duration_secs: 300\n    start_time: 2026-01-01T00:00:00Z\n    schedule: [{ scenario: pump_cavitation, at_secs: 120, duration_secs: 90 }]')
    .replace('  - id: console\n    type: console\n', `  - id: hook\n    type: webhook\n    url: ${hook}\n    backoff_initial_ms: 10\n`)
    .replace('port: 8080', 'port: 0')
    .replaceAll('../models/', `${join(import.meta.dirname, '../../models')}/`);
  await writeFile(file, text);
  return file;
}

describe('embedded system end to end', () => {
  it('raises an incident for a scripted fault, serves it on the API, sends an Alertmanager webhook, and resumes from its checkpoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'retimuad-e2e-'));
    const payloads: Array<{ version: string; status: string; alerts: AmAlert[] }> = [];
    let failFirst = 1;
    const server = createServer((req, res) => {
      void body(req).then((b) => {
        if (failFirst-- > 0) {
          res.writeHead(503).end();
          return;
        }
        payloads.push(JSON.parse(b) as (typeof payloads)[number]);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const file = await config(dir, hook);
    const lines: string[] = [];

    const sys = await startSystem({ config: file, print: (l) => lines.push(l), auth: { disabled: true } });
    expect(lines[0]).toBe('Started fresh (no checkpoint)');
    expect(sys.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    await sys.pipeline.done; // the simulator stops after 300 simulated seconds

    const incidents = (await (await fetch(`${sys.url}/api/incidents?limit=50`)).json()) as Incident[];
    const cav = incidents.find((i) => i.assets.includes('P-101') && i.startTime >= Date.UTC(2026, 0, 1, 0, 2) && i.startTime <= Date.UTC(2026, 0, 1, 0, 3, 30));
    expect(cav, JSON.stringify(incidents.map((i) => [i.assets, new Date(i.startTime).toISOString()]))).toBeDefined();
    expect(cav?.explanation).toMatch(/P-101/);
    const assets = (await (await fetch(`${sys.url}/api/assets`)).json()) as Array<{ asset: string }>;
    expect(assets.length).toBeGreaterThanOrEqual(10);
    const metrics = await (await fetch(`${sys.url}/metrics`)).text();
    expect(metrics).toMatch(/retimuad_component_received_total\{component="plant",component_kind="source",record="reading"\} \d+/);
    expect(metrics).toMatch(/retimuad_event_latency_seconds_bucket/);

    // The webhook got a valid Alertmanager v4 payload despite a 503 on the first try.
    expect(payloads.length).toBeGreaterThan(0);
    const p = payloads[0]!;
    expect(p.version).toBe('4');
    const a = p.alerts[0]!;
    expect(a.status).toBe('firing');
    expect(a.labels['alertname']).toBeDefined();
    expect(a.labels['severity']).toMatch(/warning|critical/);
    expect(new Date(a.startsAt).getTime()).toBeGreaterThan(0);
    expect(a.endsAt).toBe('0001-01-01T00:00:00Z');
    expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    await sys.stop();
    await access(sys.pipeline.checkpointFile);

    // Restart on the same data directory: state resumes (no re-warm-up), no incident duplicated.
    const before = new Set(incidents.map((i) => i.id));
    const sys2 = await startSystem({ config: file, print: (l) => lines.push(l), auth: { disabled: true } });
    expect(lines).toContain(`Resumed from checkpoint ${sys2.pipeline.checkpointFile}`);
    await sys2.pipeline.done;
    const after = (await (await fetch(`${sys2.url}/api/incidents?limit=200`)).json()) as Incident[];
    const ids = after.map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of before) expect(ids).toContain(id);
    await sys2.stop();
    server.close();
  }, 120_000);
});
