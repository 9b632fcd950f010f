import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../../../core/src/schema/events.ts';
import { incidentFixture, T0 } from '../testing.ts';
import { encodePoint, escapeStringField, escapeTagValue, recordToLine } from './line-protocol.ts';
import { INFLUX_FIELDS, INFLUX_MEASUREMENTS, INFLUX_TAGS } from './schema.ts';

/** A reference parser of one line (the escaping rules of the spec), to check the encoder against. */
function parseLine(line: string): {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, string>;
  time: string;
} {
  let i = 0;
  const readUntil = (stops: string): string => {
    let out = '';
    while (i < line.length && !stops.includes(line[i] ?? '')) {
      if (line[i] === '\\' && i + 1 < line.length && ', ='.includes(line[i + 1] ?? '')) {
        out += line[i + 1];
        i += 2;
      } else out += line[i++];
    }
    return out;
  };
  const measurement = readUntil(', ');
  const tagEntries: Array<[string, string]> = [];
  while (line[i] === ',') {
    i++;
    const k = readUntil('=');
    i++;
    tagEntries.push([k, readUntil(', ')]);
  }
  // fromEntries, not assignment: a tag named "__proto__" must stay a tag.
  const tags = Object.fromEntries(tagEntries);
  i++; // space
  const fields: Record<string, string> = {};
  for (;;) {
    const k = readUntil('=');
    i++;
    let v = '';
    if (line[i] === '"') {
      i++;
      while (line[i] !== '"') {
        if (line[i] === '\\') i++;
        v += line[i++];
      }
      i++;
      v = `"${v}`;
    } else v = readUntil(', ');
    fields[k] = v;
    if (line[i] === ',') i++;
    else break;
  }
  i++;
  return { measurement, tags, fields, time: line.slice(i) };
}

describe('line protocol', () => {
  it('escapes per the spec', () => {
    expect(
      encodePoint('my m,x', { 'a b': 'c=d,e f' }, { 'f g': 'say "hi" \\o/', n: { int: 3 }, b: true, x: 1.5 }, T0),
    ).toBe(`my\\ m\\,x,a\\ b=c\\=d\\,e\\ f f\\ g="say \\"hi\\" \\\\o/",n=3i,b=true,x=1.5 ${T0}`);
    expect(escapeTagValue('trail\\')).toBe('trail');
    expect(escapeTagValue('two\nlines')).toBe('two\\ lines');
    expect(escapeStringField('a\nb')).toBe('"a\nb"');
  });

  it('omits empty tags and non-finite fields; a point without fields is no line', () => {
    expect(encodePoint('m', { a: '', b: undefined, c: 'x' }, { v: Number.NaN, w: 2 }, T0)).toBe(`m,c=x w=2 ${T0}`);
    expect(encodePoint('m', { c: 'x' }, { v: Number.POSITIVE_INFINITY }, T0)).toBeUndefined();
  });

  it('round-trips any tag and string field through a reference parser', () => {
    const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(
        text,
        text,
        text,
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        (tagKey, tagValue, str, num) => {
          const key = tagKey.replace(/[\r\n]/g, '');
          const line = encodePoint('m', { [key]: tagValue }, { s: str, v: num }, T0);
          expect(line).toBeDefined();
          const p = parseLine(line ?? '');
          expect(p.measurement).toBe('m');
          const expectedTag = tagValue.replace(/[\r\n]+/g, ' ').replace(/\\+$/, '');
          const expectedKey = key.replace(/\\+$/, '');
          if (expectedTag !== '' && expectedKey !== '') expect(p.tags).toEqual({ [expectedKey]: expectedTag });
          else expect(p.tags).toEqual({});
          expect(p.fields['s']).toBe(`"${str}`);
          expect(Number(p.fields['v'])).toBe(num === 0 ? 0 : num);
          expect(p.time).toBe(String(T0));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('writes readings and scores through the series-key cache exactly as encodePoint does', () => {
    // Few distinct values, so tuples repeat (cache hits) and differ by one tag (no false hits).
    const tag = fc.constantFrom<string>('a', 'a b', 'a,b', 'a=b', '1:a', '', 'x\\', 'b\n');
    const maybe = fc.option(tag, { nil: undefined });
    const num = fc.oneof(fc.double(), fc.constant(0.5));
    const time = fc.integer({ min: 0, max: 2 ** 45 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(tag, tag, tag, tag, maybe, tag, num, time), { minLength: 1, maxLength: 20 }),
        (rows) => {
          for (const [asset, metric, quality, site, stage, unit, value, t] of rows) {
            const reading: Reading = {
              kind: 'reading',
              id: 'r',
              time: t,
              ingestTime: t,
              site,
              asset,
              source: 'p',
              metric,
              value,
              quality: quality as Reading['quality'],
              ...(stage !== undefined ? { stage } : {}),
              unit,
            };
            expect(recordToLine({ type: 'event', event: reading })).toBe(
              encodePoint('readings', { asset, metric, quality, site, stage, unit }, { value }, t),
            );
            const score = { time: t, site, asset, detector: quality, metric, score: value };
            expect(recordToLine({ type: 'score', score })).toBe(
              encodePoint('scores', { asset, detector: quality, metric, site }, { score: value }, t),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('maps every record type onto the documented schema', () => {
    const line =
      recordToLine({ type: 'incident', incident: incidentFixture({ status: 'resolved', endTime: T0 + 60_000 }) }) ?? '';
    const p = parseLine(line);
    expect(p.measurement).toBe(INFLUX_MEASUREMENTS.incidents);
    expect(Object.keys(p.tags).every((t) => (INFLUX_TAGS.incidents as readonly string[]).includes(t))).toBe(true);
    expect(Object.keys(p.fields).sort()).toEqual(Object.keys(INFLUX_FIELDS.incidents).sort());
    expect(p.fields['open']).toBe('0i');
    expect(p.fields['duration_s']).toBe('60');
    expect(p.time).toBe(String(T0));
    const score = parseLine(
      recordToLine({
        type: 'score',
        score: { time: T0, site: 's', asset: 'a', detector: 'd', metric: 'm', score: 0.5 },
      }) ?? '',
    );
    expect(score).toEqual({
      measurement: 'scores',
      tags: { asset: 'a', detector: 'd', metric: 'm', site: 's' },
      fields: { score: '0.5' },
      time: String(T0),
    });
    expect(
      recordToLine({
        type: 'label',
        label: {
          scenario: 'x',
          kind: 'fault',
          site: 's',
          assets: [],
          modalities: [],
          startTime: T0,
          endTime: T0,
          description: '',
        },
      }),
    ).toBeUndefined();
  });
});
