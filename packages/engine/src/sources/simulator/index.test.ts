import { createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import pino from 'pino';
import { Value } from '@sinclair/typebox/value';
import type { Event, Label, MediaRef } from '../../../../core/src/schema/events.ts';
import { decodeEvent } from '../../../../core/src/schema/validate.ts';
import { parseWav } from '../../../../core/src/simulator/wav.ts';
import type { BlobStore, ComponentContext, SourceOutput } from '../../runtime/types.ts';
import { createSimulatorSource, SimulatorSourceParams } from './index.ts';

const T0 = Date.UTC(2024, 0, 1);

function memoryBlobs(): BlobStore & { map: Map<string, Uint8Array> } {
  const map = new Map<string, Uint8Array>();
  return {
    map,
    put(bytes: Uint8Array, contentType: string): Promise<MediaRef> {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      map.set(`blob://${sha256}`, bytes);
      return Promise.resolve({ uri: `blob://${sha256}`, contentType, bytes: bytes.length, sha256 });
    },
    get(uri: string): Promise<Uint8Array> {
      const b = map.get(uri);
      return b ? Promise.resolve(b) : Promise.reject(new Error(`no blob ${uri}`));
    },
  };
}

function harness(clockNow: () => number, ac = new AbortController()) {
  const events: Event[] = [];
  const labels: Label[] = [];
  const emitted: Record<string, number> = {};
  const blobs = memoryBlobs();
  const out: SourceOutput = {
    emit: (e) => {
      events.push(e);
      return Promise.resolve();
    },
    emitRaw: () => Promise.reject(new Error('the simulator emits typed events')),
    reject: () => Promise.reject(new Error('the simulator never rejects its own records')),
    label: (l) => {
      labels.push(l);
      return Promise.resolve();
    },
  };
  const ctx: ComponentContext = {
    id: 'plant',
    logger: pino({ level: 'silent' }),
    metrics: {
      received: () => undefined,
      emitted: (n = 1, kind = '') => void (emitted[kind] = (emitted[kind] ?? 0) + n),
      discarded: () => undefined,
    },
    clock: { now: clockNow },
    signal: ac.signal,
    dataDir: '/nonexistent',
    blobs,
  };
  return { events, labels, emitted, blobs, out, ctx, ac };
}

const params = (over: Partial<SimulatorSourceParams> = {}): SimulatorSourceParams & { id: string } => ({
  ...(Value.Default(SimulatorSourceParams, {}) as SimulatorSourceParams),
  id: 'plant',
  ...over,
});

describe('simulator source', () => {
  it('publishes defaults in its params schema', () => {
    const p = Value.Default(SimulatorSourceParams, {}) as SimulatorSourceParams;
    expect(p).toMatchObject({ seed: 42, speed: 'realtime', site: 'plant-a', rate_hz: 1, audio_every_secs: 10, image_every_secs: 5 });
    expect(Value.Check(SimulatorSourceParams, { ...p, scenarios: ['intruder'] })).toBe(true);
    expect(Value.Check(SimulatorSourceParams, { ...p, scenarios: ['meteor'] })).toBe(false);
    expect(Value.Check(SimulatorSourceParams, { ...p, speed: 0 })).toBe(false);
  });

  it('at max speed emits valid events with media in the blob store, and labels', async () => {
    const h = harness(() => T0 + 5);
    await createSimulatorSource(params({ speed: 'max', duration_secs: 60, start_time: T0, seed: 3 })).run(h.out, h.ctx);
    expect(h.events.filter((e) => e.kind === 'reading' && e.asset === 'T-101')).toHaveLength(60);
    expect(h.labels.map((l) => l.scenario)).toEqual(['pump_cavitation']);
    for (const e of h.events) {
      const r = decodeEvent(e, { now: 0 });
      if (!r.ok) throw new Error(`${e.id}: ${r.reason}`);
      expect(e.source).toBe('plant');
      expect(e.ingestTime).toBe(T0 + 5);
    }
    const audio = h.events.filter((e) => e.kind === 'audio');
    expect(audio).toHaveLength(18);
    const first = audio[0];
    if (first?.kind !== 'audio') throw new Error('no audio');
    const bytes = await h.blobs.get(first.media.uri);
    expect(first.media.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(parseWav(bytes).sampleRateHz).toBe(first.sampleRateHz);
    expect(h.emitted['reading']).toBe(h.events.filter((e) => e.kind === 'reading').length);
    expect(h.emitted['label']).toBe(1);
  });

  it('is reproducible: same seed and start_time give the same events', async () => {
    const a = harness(() => T0);
    const b = harness(() => T0);
    const p = params({ speed: 'max', duration_secs: 30, start_time: new Date(T0).toISOString(), seed: 9, image_every_secs: 0 });
    await createSimulatorSource(p).run(a.out, a.ctx);
    await createSimulatorSource(p).run(b.out, b.ctx);
    expect(JSON.stringify(b.events)).toBe(JSON.stringify(a.events));
  });

  it('paces in real time with the injected clock, at a speed multiple, and stops on abort', async () => {
    let now = T0;
    const ac = new AbortController();
    const h = harness(() => now, ac);
    const sleeps: number[] = [];
    const src = createSimulatorSource(params({ speed: 2, seed: 1, scenarios: [], start_time: T0 }), {
      sleep: (ms) => {
        sleeps.push(ms);
        now += ms;
        if (now - T0 >= 10_000) ac.abort();
        return Promise.resolve();
      },
    });
    await src.run(h.out, h.ctx);
    // 10 s of wall time at 2x is 20 s of plant time: readings up to T0 + 20 s, never ahead of the clock.
    const times = h.events.filter((e) => e.kind === 'reading').map((e) => e.time);
    expect(Math.max(...times)).toBeLessThanOrEqual(T0 + 20_000);
    expect(Math.max(...times)).toBeGreaterThanOrEqual(T0 + 19_000);
    expect(sleeps.every((ms) => ms === 500)).toBe(true);
    expect(h.labels).toEqual([]);
  });

  it('stops promptly when aborted at max speed with no duration', async () => {
    const ac = new AbortController();
    const h = harness(() => T0, ac);
    const run = createSimulatorSource(params({ speed: 'max', image_every_secs: 0, audio_every_secs: 0 })).run(h.out, h.ctx);
    setTimeout(() => ac.abort(), 50);
    await run;
    expect(h.events.length).toBeGreaterThan(0);
  });

  it('rejects a bad start_time with a clear error', async () => {
    const h = harness(() => T0);
    await expect(createSimulatorSource(params({ speed: 'max', duration_secs: 5, start_time: 'yesterday' })).run(h.out, h.ctx)).rejects.toThrow(
      /start_time: expected epoch ms or ISO-8601, got "yesterday"/,
    );
  });
});

describe('default start time', () => {
  it('places faster-than-real-time runs so that no event is stamped in the future', async () => {
    const { defaultStart } = await import('./index.ts');
    const now = Date.UTC(2026, 5, 1);
    expect(defaultStart(now, 'realtime', 600)).toBe(now);
    expect(defaultStart(now, 'max', 600)).toBe(now - 600_000);
    // 10× real time for 600 s of simulation takes 60 s of wall time: start 540 s back.
    expect(defaultStart(now, 10, 600)).toBe(now - 540_000);
    expect(defaultStart(now, 0.5, 600)).toBe(now);
  });
});
