/**
 * Test helpers for analytics: fill an embedded store from the plant simulator (readings and logs,
 * no media) or from a synthetic generator with known answers.
 *
 * @example
 * await fillFromSimulator(store, { seed: 7, durationSecs: 1800, startTime: Date.UTC(2024, 0, 1) });
 */
import { createPlant } from '../../../core/src/simulator/plant.ts';
import type { Event, Label, Reading } from '../../../core/src/schema/events.ts';
import type { ScenarioName } from '../../../core/src/simulator/scenarios.ts';
import type { Sink, SinkRecord } from '../runtime/types.ts';

export async function fillFromSimulator(
  sink: Sink,
  o: { seed: number; durationSecs: number; startTime: number; scenarios?: ScenarioName[] },
): Promise<{ readings: number; labels: Label[] }> {
  const plant = createPlant({
    seed: o.seed,
    startTime: o.startTime,
    site: 'plant-a',
    ...(o.scenarios ? { programme: o.scenarios } : {}),
  });
  const end = o.startTime + o.durationSecs * 1000;
  let readings = 0;
  const labels: Label[] = [];
  for (let t = o.startTime; t < end;) {
    t = Math.min(t + 60_000, end);
    const batch: SinkRecord[] = [];
    for (const out of plant.advance(t === end ? end - 1 : t)) {
      if (out.type === 'label') labels.push(out.label);
      if (out.type !== 'event') continue;
      const ev = { ...out.event, ingestTime: out.event.time } as Event;
      if (ev.kind === 'reading') readings++;
      batch.push({ type: 'event', event: ev });
    }
    await sink.write(batch);
  }
  return { readings, labels };
}

export function reading(time: number, asset: string, metric: string, value: number, site = 'plant-a'): SinkRecord {
  const r: Reading = {
    kind: 'reading',
    id: `${asset}-${metric}-${time}`,
    time,
    ingestTime: time,
    site,
    asset,
    source: 'test',
    metric,
    value,
    unit: 'u',
    quality: 'good',
  };
  return { type: 'event', event: r };
}

/**
 * Paths where two JSON-like values differ beyond a relative tolerance on numbers (summation order
 * differs between engines and between files, so sums agree only to rounding). Empty when equal.
 */
export function numericDiffs(a: unknown, b: unknown, rel = 1e-9, path = ''): string[] {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return [];
    const tol = rel * Math.max(1, Math.abs(a), Math.abs(b));
    return Math.abs(a - b) <= tol ? [] : [`${path || '/'}: ${a} vs ${b}`];
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [`${path || '/'}: length ${a.length} vs ${b.length}`];
    return a.flatMap((x, i) => numericDiffs(x, b[i], rel, `${path}/${i}`));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) =>
      numericDiffs((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], rel, `${path}/${k}`),
    );
  }
  return a === b ? [] : [`${path || '/'}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
}
