import { describe, expect, it } from 'vitest';
import { splitPayload, validateRecords } from './records.ts';

const T = Date.UTC(2026, 0, 1);
const reading = (over: Record<string, unknown> = {}) => ({
  kind: 'reading',
  id: 'r1',
  time: T,
  site: 's',
  asset: 'P-1',
  metric: 'flow_m3h',
  value: 1.5,
  unit: 'm3/h',
  quality: 'good',
  ...over,
});
const opts = { now: T + 5, source: 'test', max_media_bytes: 1000, where: 'test' };

describe('splitPayload', () => {
  it('reads one object, an array, or NDJSON (by content type or by shape), numbering lines', () => {
    expect(splitPayload('{"a":1}', 'application/json').map((r) => r.value)).toEqual([{ a: 1 }]);
    expect(splitPayload('[{"a":1},{"a":2}]', 'application/json').map((r) => [r.index, r.value])).toEqual([
      [0, { a: 1 }],
      [1, { a: 2 }],
    ]);
    const nd = splitPayload('{"a":1}\n\n{bad\n{"a":3}\n', undefined);
    expect(nd.map((r) => [r.index, r.line, r.value, r.error !== undefined])).toEqual([
      [0, 1, { a: 1 }, false],
      [1, 3, undefined, true],
      [2, 4, { a: 3 }, false],
    ]);
    expect(splitPayload('{"a":1}', 'application/x-ndjson')[0]?.line).toBe(1);
    expect(splitPayload('nope', 'application/json')[0]?.error).toMatch(/^not JSON/);
  });
});

describe('validateRecords', () => {
  it('accepts valid events, stamping ingest time, and rejects the rest with field paths', () => {
    const recs = splitPayload(
      [reading(), reading({ id: 'r2', value: 'abc' }), { kind: 'nope' }].map((x) => JSON.stringify(x)).join('\n'),
      'application/x-ndjson',
    );
    const v = validateRecords(recs, opts);
    expect(v.accepted.map((e) => [e.id, e.ingestTime, e.source])).toEqual([['r1', T + 5, 'test']]);
    expect(v.rejected.map((r) => [r.index, r.line, r.errors[0]?.path])).toEqual([
      [1, 2, '/value'],
      [2, 3, '/kind'],
    ]);
    expect(v.rejected[0]?.reason).toContain('expected a finite number');
    expect(v.rejected[0]?.where).toBe('test record 1 (line 2)');
    expect(v.rejected[0]?.raw).toContain('"abc"');
  });

  it('refuses media references above the size limit, naming the limit', () => {
    const image = (bytes: number) => ({
      kind: 'image',
      id: `i${bytes}`,
      time: T,
      site: 's',
      asset: 'cam-1',
      width: 4,
      height: 4,
      media: { uri: 'blob://x', contentType: 'image/png', bytes, sha256: 'a'.repeat(64) },
    });
    const v = validateRecords(splitPayload(JSON.stringify([image(1000), image(1001)]), 'application/json'), opts);
    expect(v.accepted.map((e) => e.id)).toEqual(['i1000']);
    expect(v.rejected[0]?.errors).toEqual([
      { path: '/media/bytes', message: 'media of 1001 bytes exceeds the limit of 1000 bytes' },
    ]);
  });
});
