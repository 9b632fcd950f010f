import { describe, it, expect } from 'vitest';
import type { Anomaly } from '../../../core/src/schema/events.ts';
import type { ScorePoint } from '../runtime/types.ts';
import { createLiveHub, createLiveSink, type LiveMessage } from './deps.ts';

const score = (n: number): LiveMessage => ({
  type: 'score',
  data: { time: 1_700_000_000_000 + n, site: 's', asset: 'a', detector: 'd', metric: 'm', score: n / 100 },
});
const scoreOf = (m: LiveMessage): number => (m.data as ScorePoint).score;

describe('createLiveHub', () => {
  it('delivers to synchronous subscribers immediately, in order, until they unsubscribe', () => {
    const hub = createLiveHub();
    const got: number[] = [];
    const off = hub.subscribe((m) => void got.push(scoreOf(m)));
    hub.publish(score(1));
    hub.publish(score(2));
    expect(got).toEqual([0.01, 0.02]);
    off();
    hub.publish(score(3));
    expect(got).toEqual([0.01, 0.02]);
    expect(hub.stats()).toEqual({ subscribers: 0, dropped: 0 });
  });

  it('buffers for a slow subscriber, drops the oldest beyond the bound and counts the drops', async () => {
    const hub = createLiveHub({ bufferSize: 3 });
    const got: number[] = [];
    const fast: number[] = [];
    let release!: () => void;
    let calls = 0;
    hub.subscribe((m) => {
      got.push(scoreOf(m));
      calls++;
      // Only the first delivery is slow; it holds the queue until released.
      return calls === 1 ? new Promise<void>((r) => (release = r)) : undefined;
    });
    hub.subscribe((m) => void fast.push(scoreOf(m)));
    for (let i = 1; i <= 7; i++) hub.publish(score(i));
    expect(got).toEqual([0.01]);
    expect(fast).toHaveLength(7);
    expect(hub.stats().dropped).toBe(3);
    release();
    await new Promise((r) => setTimeout(r, 0));
    // 2, 3 and 4 were dropped (oldest first); 5, 6 and 7 were kept.
    expect(got).toEqual([0.01, 0.05, 0.06, 0.07]);
  });

  it('keeps serving other subscribers and later messages when one throws or rejects', async () => {
    const hub = createLiveHub();
    const got: number[] = [];
    hub.subscribe(() => {
      throw new Error('boom');
    });
    hub.subscribe(() => Promise.reject(new Error('async boom')));
    hub.subscribe((m) => void got.push(scoreOf(m)));
    hub.publish(score(1));
    await new Promise((r) => setTimeout(r, 0));
    hub.publish(score(2));
    expect(got).toEqual([0.01, 0.02]);
  });
});

describe('createLiveSink', () => {
  it('forwards readings, scores, anomalies and incidents, and skips other events', async () => {
    const hub = createLiveHub();
    const types: string[] = [];
    hub.subscribe((m) => void types.push(m.type));
    const sink = createLiveSink(hub);
    const base = {
      id: 'x',
      time: 1_700_000_000_000,
      ingestTime: 1_700_000_000_000,
      site: 's',
      asset: 'a',
      source: 't',
    };
    const anomaly: Anomaly = {
      id: 'an',
      time: base.time,
      site: 's',
      asset: 'a',
      detector: 'd',
      detectorType: 'z',
      modality: 'reading',
      score: 0.9,
      severity: 'warning',
      reason: 'r',
    };
    await sink.write([
      { type: 'event', event: { ...base, kind: 'reading', metric: 'm', value: 1, unit: 'u', quality: 'good' } },
      { type: 'event', event: { ...base, kind: 'log', level: 'info', message: 'hi', fields: {} } },
      { type: 'score', score: { time: base.time, site: 's', asset: 'a', detector: 'd', metric: 'm', score: 0.1 } },
      { type: 'anomaly', anomaly },
      {
        type: 'label',
        label: {
          scenario: 'x',
          kind: 'fault',
          site: 's',
          assets: ['a'],
          modalities: ['reading'],
          startTime: 1,
          endTime: 2,
          description: '',
        },
      },
    ]);
    expect(types).toEqual(['reading', 'score', 'anomaly']);
    expect([...sink.accepts].sort()).toEqual(['anomaly', 'event', 'incident', 'score']);
  });
});
