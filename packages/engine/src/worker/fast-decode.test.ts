import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../../core/src/schema/validate.ts';
import { decodeReadingFast, NameCache } from './fast-decode.ts';

const T = Date.UTC(2026, 0, 1);
const opts = { now: T + 7, source: 'kafka' };

// Each field: mostly valid values, plus the invalid ones the schema must refuse.
const name = fc.oneof(
  fc.constantFrom('plant-a', 'P-101', 'flow_m3h', 'site/1:x.y'),
  fc.constantFrom('', 'has space', 'ü', 'a'.repeat(129), 'a'.repeat(128)),
  fc.integer(),
  fc.constant(null),
);
const time = fc.oneof(
  fc.integer({ min: 946684800000, max: 7258118400000 }),
  fc.constantFrom(946684799999, 7258118400001, 0, '2026-01-01T00:00:00Z', Number.NaN),
);
const reading = fc.record(
  {
    kind: fc.constantFrom('reading', 'log', 'reading', 'reading'),
    id: fc.oneof(fc.constantFrom('r-1', 'x'.repeat(200), 'x'.repeat(201), '', 'bad\u0001id'), fc.string()),
    time,
    ingestTime: time,
    site: name,
    asset: name,
    stage: name,
    metric: name,
    source: fc.oneof(fc.constantFrom('sim', '', 's'.repeat(201)), fc.string()),
    value: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom('1', null)),
    unit: fc.oneof(fc.constantFrom('m3/h', '', 'u'.repeat(33)), fc.string({ maxLength: 40 })),
    quality: fc.constantFrom('good', 'uncertain', 'bad', 'great'),
    derivedFrom: fc.constant({ kind: 'audio', id: 'a-1' }),
    extra: fc.constant(1),
  },
  { requiredKeys: ['kind', 'id', 'time', 'asset', 'metric', 'value'] },
);

// Well-formed readings with the optional fields present or not, so the fast path gets exercised.
const goodName = fc.constantFrom('plant-a', 'P-101', 'flow_m3h', 'site/1:x.y', 'a'.repeat(128));
const good = fc.record(
  {
    kind: fc.constant('reading'),
    id: fc.string({ minLength: 1, maxLength: 200 }).filter((x) => !/[\u0000-\u001f]/.test(x)),
    time: fc.integer({ min: 946684800000, max: 7258118400000 }),
    ingestTime: fc.integer({ min: 946684800000, max: 7258118400000 }),
    site: goodName,
    asset: goodName,
    stage: goodName,
    metric: goodName,
    source: fc.string({ minLength: 1, maxLength: 200 }),
    value: fc.double({ noNaN: true, noDefaultInfinity: true }),
    unit: fc.string({ maxLength: 32 }),
    quality: fc.constantFrom('good', 'uncertain', 'bad'),
  },
  { requiredKeys: ['kind', 'id', 'time', 'asset', 'metric', 'value'] },
);

describe('decodeReadingFast', () => {
  it('agrees with decodeEvent: same event (same key order) when it decodes, and never accepts what decodeEvent refuses', () => {
    const names = new NameCache(8);
    let fast = 0;
    fc.assert(
      fc.property(fc.oneof(reading, good), (raw) => {
        const slow = decodeEvent(raw, opts);
        const quick = decodeReadingFast(raw, opts, names);
        if (quick !== undefined) {
          fast++;
          expect(slow.ok).toBe(true);
          expect(JSON.stringify(quick)).toBe(JSON.stringify(slow.ok ? slow.event : undefined));
        }
      }),
      { numRuns: 3000 },
    );
    // The fast path must actually be taken for ordinary readings, not always defer.
    expect(fast).toBeGreaterThan(50);
  });

  it('takes the fast path for a plain reading and defers on the unusual', () => {
    const names = new NameCache();
    const r = { kind: 'reading', id: 'r1', time: T, site: 'plant-a', asset: 'P-101', metric: 'flow_m3h', value: 4 };
    expect(decodeReadingFast(r, opts, names)).toEqual({
      ...r,
      ingestTime: T + 7,
      source: 'kafka',
      quality: 'good',
      unit: '',
    });
    expect(decodeReadingFast({ ...r, time: '2026-01-01T00:00:00Z' }, opts, names)).toBeUndefined();
    expect(decodeReadingFast({ ...r, derivedFrom: { kind: 'audio', id: 'a' } }, opts, names)).toBeUndefined();
    expect(decodeReadingFast({ ...r, asset: 'bad name' }, opts, names)).toBeUndefined();
  });
});
