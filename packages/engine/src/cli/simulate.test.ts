import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it, expect, afterAll } from 'vitest';
import { decodeEvent } from '../../../core/src/schema/validate.ts';
import type { Label } from '../../../core/src/schema/events.ts';
import { parsePngGray } from '../../../core/src/simulator/png.ts';
import { createFsBlobStore } from '../storage/blobs.ts';
import { runSimulate } from './simulate.ts';

const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'retimu-sim-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const lines = async (path: string): Promise<unknown[]> =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);

describe('runSimulate', () => {
  it('writes per-modality JSON lines, media files and labels, all valid', async () => {
    const dir = await tmp();
    const summary = await runSimulate({ seed: 5, durationSecs: 45, outDir: dir, startTime: Date.UTC(2024, 0, 1) });
    expect(summary.counts).toMatchObject({ audio: 15, image: 18, label: 1 });
    expect(summary.counts['reading']).toBeGreaterThanOrEqual(45 * 20);
    for (const [file, kind] of [
      ['readings.jsonl', 'reading'],
      ['logs.jsonl', 'log'],
      ['audio.jsonl', 'audio'],
      ['image.jsonl', 'image'],
    ] as const) {
      const evs = await lines(join(dir, file));
      expect(evs.length).toBe(summary.counts[kind]);
      for (const raw of evs) {
        const r = decodeEvent(raw, { now: Date.UTC(2024, 0, 2) });
        if (!r.ok) throw new Error(`${file}: ${r.reason}`);
        expect(r.event.kind).toBe(kind);
      }
    }
    const labels = JSON.parse(await readFile(join(dir, 'labels.json'), 'utf8')) as Label[];
    expect(labels.map((l) => l.scenario)).toEqual(['pump_cavitation']);
    // media: readable through the blob store and from the files under media/
    const img = (await lines(join(dir, 'image.jsonl')))[0] as { media: { uri: string; sha256: string } };
    const bytes = await createFsBlobStore(join(dir, 'media')).get(img.media.uri);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(img.media.sha256);
    expect(parsePngGray(bytes).width).toBe(96);
    expect((await readdir(join(dir, 'media'))).length).toBeGreaterThan(0);
  });

  it('gives identical files for the same seed', async () => {
    const [a, b] = [await tmp(), await tmp()];
    await runSimulate({ seed: 8, durationSecs: 20, outDir: a, scenarios: ['login_bruteforce'] });
    await runSimulate({ seed: 8, durationSecs: 20, outDir: b, scenarios: ['login_bruteforce'] });
    for (const f of ['readings.jsonl', 'logs.jsonl', 'audio.jsonl', 'image.jsonl', 'labels.json']) {
      expect(await readFile(join(b, f), 'utf8')).toBe(await readFile(join(a, f), 'utf8'));
    }
  });

  it('writes one event per line to a stream with stdout', async () => {
    const dir = await tmp();
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
    const summary = await runSimulate({ seed: 1, durationSecs: 10, outDir: dir, stdout: true, stream, scenarios: [] });
    const evs = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { kind: string });
    expect(evs.length).toBe((summary.counts['reading'] ?? 0) + (summary.counts['log'] ?? 0) + (summary.counts['audio'] ?? 0) + (summary.counts['image'] ?? 0));
    const kinds = new Set(evs.map((e) => e.kind));
    for (const k of ['reading', 'audio', 'image']) expect(kinds.has(k)).toBe(true);
    expect(summary.labels).toEqual([]);
  });

  it('rejects unknown scenarios and bad durations with clear messages', async () => {
    await expect(runSimulate({ seed: 1, durationSecs: 10, outDir: await tmp(), scenarios: ['meteor'] })).rejects.toThrow(/unknown scenario\(s\) meteor/);
    await expect(runSimulate({ seed: 1, durationSecs: 0, outDir: await tmp() })).rejects.toThrow(/duration must be > 0 seconds/);
  });
});
