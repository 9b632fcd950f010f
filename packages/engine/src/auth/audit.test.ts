import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryAuditLog, openAuditLog, verifyAuditFile } from './audit.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retimuad-audit-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('audit log', () => {
  it('appends chained records to a 0600 file, continues the chain after a reopen, and detects edits', async () => {
    const path = join(dir, 'audit.jsonl');
    let t = 1000;
    const a = await openAuditLog(path, { now: () => t++ });
    await a.record({ actor: 'olga', action: 'POST /api/incidents/:id/actions', target: 'inc-1', outcome: 'ok' });
    await a.record({ actor: 'anonymous', action: 'POST /api/keys', outcome: 'denied', status: 401 });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const b = await openAuditLog(path, { now: () => t++ });
    const third = await b.record({ actor: 'admin', action: 'POST /api/keys', outcome: 'ok', status: 201 });
    expect(third.seq).toBe(3);
    expect(b.query({ limit: 10 }).map((r) => r.actor)).toEqual(['admin', 'anonymous', 'olga']);
    expect(b.query({ limit: 10, outcome: 'denied' })).toHaveLength(1);
    expect(b.query({ limit: 10, from: 1001, to: 1002 }).map((r) => r.seq)).toEqual([2]);
    expect(await verifyAuditFile(path)).toEqual({ records: 3, ok: true });
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('"denied"', '"ok"');
    await writeFile(path, lines.join('\n'));
    expect(await verifyAuditFile(path)).toEqual({ records: 3, ok: false, brokenAt: 2 });
  });

  it('keeps at most capacity records in memory', async () => {
    const m = memoryAuditLog({ capacity: 5 });
    for (let i = 0; i < 12; i++) await m.record({ actor: `u${i}`, action: 'x', outcome: 'ok' });
    expect(m.query({ limit: 100 }).map((r) => r.actor)).toEqual(['u11', 'u10', 'u9', 'u8', 'u7']);
  });
});
