import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KafkaError } from './errors.ts';
import { checkCoPartitioned, coPartitionAssigner, partitionKey, topicLayout, TOPIC_ROLES } from './topics.ts';

describe('topicLayout', () => {
  it('names every role under the prefix and maps names back to roles', () => {
    const l = topicLayout({ prefix: 'site-7' });
    expect(TOPIC_ROLES.map((r) => l.name(r))).toEqual([
      'site-7.readings',
      'site-7.logs',
      'site-7.audio',
      'site-7.images',
      'site-7.anomalies',
      'site-7.incidents',
      'site-7.deadletters',
    ]);
    for (const r of TOPIC_ROLES) expect(l.roleOf(l.name(r))).toBe(r);
    expect(l.roleOf('other.readings')).toBeUndefined();
    expect([l.forEvent({ kind: 'reading' }), l.forEvent({ kind: 'image' })]).toEqual([
      'site-7.readings',
      'site-7.images',
    ]);
    expect(topicLayout().name('incidents')).toBe('retimuad.incidents');
  });

  it.each(['', 'a b', 'x/y', 'ä'])('rejects the prefix %j with E_KAFKA_CONFIG', (bad) => {
    expect(() => topicLayout({ prefix: bad })).toThrow(KafkaError);
    expect(() => topicLayout({ prefix: bad })).toThrow(/topic prefix/);
  });
});

describe('partitionKey', () => {
  it('keys by asset, stage (falling back to asset) or site', () => {
    const e = { site: 's', asset: 'P-1', stage: 'intake' };
    expect(partitionKey(e, 'asset')).toBe('s/P-1');
    expect(partitionKey(e, 'stage')).toBe('s/stage:intake');
    expect(partitionKey({ site: 's', asset: 'P-1' }, 'stage')).toBe('s/P-1');
    expect(partitionKey(e, 'site')).toBe('s');
  });

  it('gives events of one asset one key whatever else differs, and distinct assets distinct asset keys', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
    fc.assert(
      fc.property(name, name, name, fc.option(name, { nil: undefined }), (site, a, b, stage) => {
        const k1 = partitionKey({ site, asset: a, ...(stage === undefined ? {} : { stage }) }, 'asset');
        expect(k1).toBe(partitionKey({ site, asset: a }, 'asset'));
        if (a !== b) expect(partitionKey({ site, asset: b }, 'asset')).not.toBe(k1);
      }),
    );
  });
});

describe('coPartitionAssigner', () => {
  it('gives partition p of every topic to one member, covers every partition once, and balances', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }),
        fc.uniqueArray(fc.constantFrom('r', 'l', 'a', 'i'), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 12 }),
        (members, topics, n) => {
          const md = { topics: new Map(topics.map((t) => [t, { partitionsCount: n }])) };
          const out = coPartitionAssigner(members[0]!, new Map(members.map((m) => [m, {}])), new Set(topics), md);
          expect(out.map((o) => o.memberId).sort()).toEqual([...members].sort());
          const owner = new Map<number, string>();
          const seen = new Set<string>();
          for (const o of out) {
            for (const a of o.assignments.values()) {
              for (const p of a.partitions) {
                expect(seen.has(`${a.topic}/${p}`)).toBe(false);
                seen.add(`${a.topic}/${p}`);
                expect(owner.get(p) ?? o.memberId).toBe(o.memberId);
                owner.set(p, o.memberId);
              }
            }
          }
          expect(seen.size).toBe(topics.length * n);
          const per = out.map((o) => [...o.assignments.values()].reduce((s, a) => s + a.partitions.length, 0));
          expect(Math.max(...per) - Math.min(...per)).toBeLessThanOrEqual(topics.length);
        },
      ),
    );
  });

  it('refuses topics read together with different partition counts, naming them', () => {
    expect(() =>
      checkCoPartitioned(
        new Map([
          ['p.readings', 6],
          ['p.logs', 6],
        ]),
        'w.yaml',
      ),
    ).not.toThrow();
    expect(() =>
      checkCoPartitioned(
        new Map([
          ['p.readings', 6],
          ['p.logs', 4],
        ]),
        'w.yaml',
      ),
    ).toThrow(/w\.yaml: topics read together must have equal partition counts.*p\.readings=6, p\.logs=4/);
  });
});
