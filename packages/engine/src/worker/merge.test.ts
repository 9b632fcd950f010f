// The cross-topic merge: its order depends on the data only (not on how the topics' records
// interleave on arrival), and its bounded waits keep a silent topic from stalling the others.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TopicMerge, type Held } from './merge.ts';

const TOPICS = ['audio', 'logs', 'readings'] as const;

interface Rec {
  topic: string;
  offset: bigint;
  time: number;
}

/** Feeds records in the given arrival order at a frozen wall time, then lets every wait expire. */
function run(arrival: readonly Rec[], topics: readonly string[] = TOPICS): string[] {
  const m = new TopicMerge<Rec>({ wait_ms: 500, idle_ms: 5000 });
  for (const t of topics) m.addTopic(t, undefined, 0);
  const out: string[] = [];
  const take = (h: Held<Rec>) => out.push(`${h.topic}@${h.offset}:${h.key}`);
  for (const r of arrival) {
    m.push(r.topic, r.offset, r.time, r, 0);
    for (let h = m.pop(0); h !== undefined; h = m.pop(0)) take(h);
  }
  for (let h = m.pop(10_000); h !== undefined; h = m.pop(10_000)) take(h);
  expect(m.buffered).toBe(0);
  return out;
}

/** Per-topic streams (offsets in order; event times may go backwards) and a seeded interleaving of them. */
const streams = fc
  .tuple(
    ...TOPICS.map((topic) =>
      fc
        .array(fc.integer({ min: 0, max: 40 }), { maxLength: 25 })
        .map((times) => times.map((t, i) => ({ topic, offset: BigInt(i), time: 1_000 * t }))),
    ),
  )
  .map((lanes) => lanes as Rec[][]);

function interleave(lanes: readonly Rec[][], picks: readonly number[]): Rec[] {
  const at = lanes.map(() => 0);
  const out: Rec[] = [];
  let k = 0;
  for (;;) {
    const open = lanes.map((l, i) => i).filter((i) => at[i]! < lanes[i]!.length);
    if (open.length === 0) return out;
    const i = open[(picks[k++ % Math.max(1, picks.length)] ?? 0) % open.length]!;
    out.push(lanes[i]![at[i]!]!);
    at[i]!++;
  }
}

describe('TopicMerge', () => {
  it('releases the same sequence whatever the arrival interleaving across topics', () => {
    fc.assert(
      fc.property(
        streams,
        fc.array(fc.nat(), { minLength: 1, maxLength: 50 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 50 }),
        (lanes, p1, p2) => {
          const a = run(interleave(lanes, p1));
          const b = run(interleave(lanes, p2));
          expect(b).toEqual(a);
          // Everything comes out once, in (key, topic, offset) order, keys never below the event time.
          expect(a).toHaveLength(lanes.flat().length);
          const keys = a.map((s) => Number(s.slice(s.lastIndexOf(':') + 1)));
          expect([...keys].sort((x, y) => x - y)).toEqual(keys);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('holds a record until every other topic is past it, then orders by (time, topic, offset)', () => {
    const m = new TopicMerge<string>({ wait_ms: 500, idle_ms: 5000 });
    m.addTopic('readings', undefined, 0);
    m.addTopic('audio', undefined, 0);
    m.push('readings', 0n, 2000, 'r0', 0);
    expect(m.pop(0)).toBeUndefined(); // audio might still send something earlier
    m.push('audio', 0n, 1500, 'a0', 0);
    expect(m.pop(0)?.item).toBe('a0');
    expect(m.pop(0)).toBeUndefined(); // audio is at 1500 < 2000
    m.push('audio', 1n, 2000, 'a1', 0); // same time: 'audio' < 'readings'
    expect([m.pop(0)?.item, m.pop(0)?.item]).toEqual(['a1', undefined]);
    m.push('audio', 2n, 2500, 'a2', 0);
    expect([m.pop(0)?.item, m.pop(0)?.item]).toEqual(['r0', undefined]);
  });

  it('bounds the wait: a record waits at most wait_ms; a topic silent for idle_ms holds nothing back', () => {
    const m = new TopicMerge<string>({ wait_ms: 500, idle_ms: 5000 });
    m.addTopic('readings', undefined, 0);
    m.addTopic('images', undefined, 0);
    m.push('readings', 0n, 1000, 'r0', 100);
    expect(m.pop(599)).toBeUndefined();
    expect(m.pop(600)?.item).toBe('r0');
    // images has been silent since 0: from 5000 on it no longer holds readings back.
    m.push('readings', 1n, 2000, 'r1', 5000);
    expect(m.pop(5000)?.item).toBe('r1');
    // It speaks again: it counts again.
    m.push('images', 0n, 2500, 'i0', 5100);
    m.push('readings', 2n, 3000, 'r2', 5100);
    expect([m.pop(5100)?.item, m.pop(5100)?.item]).toEqual(['i0', undefined]);
  });

  it('keeps keys monotone within a topic (a late record sorts at its predecessor) and resumes from a saved watermark', () => {
    const m = new TopicMerge<string>({ wait_ms: 500, idle_ms: 5000 });
    m.addTopic('logs', 9000, 0); // restored: logs already processed up to key 9000
    expect(m.push('logs', 5n, 3000, 'late', 0)).toBe(9000);
    expect(m.push('logs', 6n, undefined, 'undecodable', 0)).toBe(9000);
    expect(m.pop(0)?.item).toBe('late');
    expect(m.removeTopic('logs')).toBe(1);
    expect(m.buffered).toBe(0);
  });
});
