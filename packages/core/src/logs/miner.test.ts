import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_MINER_PARAMS, initMiner, mine, templateText, type MinerParams } from './miner.ts';
import { maskTokens } from './mask.ts';
import { groupingAccuracy, labelledLog } from './labelled.ts';

const P: MinerParams = DEFAULT_MINER_PARAMS;

describe('variable masking', () => {
  it('masks numbers, IPs, hex, UUIDs, paths, URLs, times and units, and keeps identifiers', () => {
    expect(
      maskTokens(
        'from 10.0.0.7:22 port 40122, id 0x1F pid=42 /var/log/x ab12cd34ef56 30ms 80% 2024-01-01T10:00:00Z http://a/b P-101 ssh2',
      ),
    ).toEqual([
      'from',
      '<IP>',
      'port',
      '<NUM>,',
      'id',
      '<HEX>',
      'pid=<NUM>',
      '<PATH>',
      '<HEX>',
      '<NUM>ms',
      '<NUM>%',
      '<TS>',
      '<URL>',
      'P-101',
      'ssh2',
    ]);
    expect(maskTokens('123e4567-e89b-12d3-a456-426614174000')).toEqual(['<UUID>']);
    expect(maskTokens('  a\tb  ')).toEqual(['a', 'b']);
  });
});

describe('template miner', () => {
  it('groups lines that differ in values and widens templates with <*>', () => {
    const m = initMiner();
    const a = mine(P, m, 'Accepted password for bob from 10.0.0.7 port 40122 ssh2');
    const b = mine(P, m, 'Accepted password for alice from 10.0.0.9 port 40999 ssh2');
    const c = mine(P, m, 'HMI login for bob succeeded');
    expect([a.change, b.change, c.change]).toEqual(['created', 'updated', 'created']);
    expect(b.id).toBe(a.id);
    expect(templateText(m, a.id)).toBe('Accepted password for <*> from <IP> port <NUM> ssh2');
  });

  it('keeps templates apart when only values are equal (masks are not evidence)', () => {
    const m = initMiner();
    const a = mine(P, m, 'modbus read PLC-3 unit 4 register 40039 ok in 21 ms');
    const b = mine(P, m, 'modbus read PLC-6 unit 2 register 40069 failed: exception code 2');
    expect(b.id).not.toBe(a.id);
  });

  it('treats tokens like __proto__ and constructor as ordinary words', () => {
    const m = initMiner();
    const a = mine(P, m, '__proto__ constructor x');
    expect(mine(P, m, '__proto__ constructor x').id).toBe(a.id);
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });

  it('forgets the least recently used template beyond max_clusters', () => {
    const p = { ...P, max_clusters: 2 };
    const m = initMiner();
    mine(p, m, 'alpha one');
    mine(p, m, 'beta two words');
    mine(p, m, 'alpha one');
    mine(p, m, 'gamma three words here');
    expect(m.size).toBe(2);
    expect(templateText(m, 2)).toBeUndefined();
    expect(mine(p, m, 'alpha one').id).toBe(1);
  });

  const messages = fc.array(
    fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .tuple(
          fc.constantFrom('login for', 'read unit', 'valve', 'pump P-101'),
          fc.constantFrom('bob', 'ann', '7', '10.0.0.1', 'ok'),
          fc.nat(99),
        )
        .map(([a, b, c]) => `${a} ${b} in ${c} ms`),
    ),
    { maxLength: 60 },
  );

  it('is deterministic, and a JSON checkpoint at any point continues identically', () => {
    fc.assert(
      fc.property(
        messages,
        fc.nat(),
        fc.record({
          sim_threshold: fc.double({ min: 0, max: 1, noNaN: true }),
          depth: fc.integer({ min: 3, max: 6 }),
          max_children: fc.integer({ min: 2, max: 5 }),
          max_clusters: fc.integer({ min: 1, max: 8 }),
        }),
        (msgs, k0, p) => {
          const k = msgs.length === 0 ? 0 : k0 % (msgs.length + 1);
          const straight = initMiner();
          const ids = msgs.map((x) => mine(p, straight, x).id);
          let m = initMiner();
          const ids2 = msgs.slice(0, k).map((x) => mine(p, m, x).id);
          m = JSON.parse(JSON.stringify(m)) as typeof m;
          ids2.push(...msgs.slice(k).map((x) => mine(p, m, x).id));
          expect(ids2).toEqual(ids);
          expect(JSON.stringify(m)).toBe(JSON.stringify(straight));
          expect(m.size).toBeLessThanOrEqual(p.max_clusters);
        },
      ),
      { numRuns: 300, seed: 11 },
    );
  });

  it('groups the labelled log well (grouping accuracy ≥ 0.75 on 20,000 lines)', () => {
    const lines = labelledLog({ seed: 3, lines: 20_000 });
    const m = initMiner();
    const ids = lines.map((l) => mine(P, m, l.message).id);
    expect(
      groupingAccuracy(
        lines.map((l) => l.template),
        ids,
      ),
    ).toBeGreaterThanOrEqual(0.75);
  });

  it('grouping accuracy: exact groups only', () => {
    expect(groupingAccuracy([1, 1, 2, 3], ['a', 'a', 'b', 'b'])).toBe(0.5);
    expect(groupingAccuracy([1, 1, 2], ['a', 'b', 'c'])).toBeCloseTo(1 / 3, 12);
  });
});
