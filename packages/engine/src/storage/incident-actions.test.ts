// The embedded store's audit trail of operator actions and its log-template query (issue 7).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { LogRecord } from '../../../core/src/schema/events.ts';
import { logTemplateOf, openEmbeddedStore } from './duckdb-store.ts';

const log = (time: number, asset: string, message: string): LogRecord => ({
  kind: 'log',
  id: `l${time}`,
  time,
  ingestTime: time,
  site: 's',
  asset,
  source: 'test',
  level: 'warn',
  message,
  fields: {},
});

describe('incident actions', () => {
  it('records acknowledge, comment and resolve with who and when, in order, and survives a reopen', async () => {
    const store = await openEmbeddedStore(':memory:');
    const a1 = await store.addIncidentAction({ incidentId: 'inc-1', action: 'acknowledge', actor: 'olga', time: 1000 });
    await store.addIncidentAction({
      incidentId: 'inc-1',
      action: 'comment',
      actor: 'olga',
      time: 1000,
      comment: 'on it <b>',
    });
    await store.addIncidentAction({ incidentId: 'inc-2', action: 'acknowledge', actor: 'ben', time: 1500 });
    await store.addIncidentAction({ incidentId: 'inc-1', action: 'resolve', actor: 'ben', time: 2000 });
    const list = await store.incidentActions('inc-1');
    expect(list.map((a) => [a.action, a.actor, a.time, a.comment])).toEqual([
      ['acknowledge', 'olga', 1000, undefined],
      ['comment', 'olga', 1000, 'on it <b>'],
      ['resolve', 'ben', 2000, undefined],
    ]);
    expect(list[0]!.seq).toBe(a1.seq);
    expect(list[1]!.seq).toBeGreaterThan(list[0]!.seq);
    const latest = await store.latestIncidentActions(['inc-1', 'inc-2', 'inc-3']);
    expect(latest.get('inc-1')?.action).toBe('resolve');
    expect(latest.get('inc-2')?.actor).toBe('ben');
    expect(latest.has('inc-3')).toBe(false);
    expect(await store.incidentActions('nope')).toEqual([]);
    await store.close();
  });
});

describe('log templates', () => {
  it('masks addresses, hex ids and numbers, and lists rare templates first', async () => {
    expect(logTemplateOf('Failed password for root from 203.0.113.7 port 52211 ssh2')).toBe(
      'Failed password for root from <*> port <*> ssh2',
    );
    expect(logTemplateOf('session deadbeef01 opened, load 0.75')).toBe('session <*> opened, load <*>');
    const store = await openEmbeddedStore(':memory:');
    await store.write([
      ...[1, 2, 3].map((i) => ({
        type: 'event' as const,
        event: log(i * 1000, 'scada', `Failed password from 10.0.0.${i} port ${4000 + i}`),
      })),
      { type: 'event' as const, event: log(5000, 'hmi-1', 'maintenance login accepted for user maint') },
    ]);
    const t = await store.logTemplates({ limit: 10 });
    expect(t.map((x) => [x.template, x.count, x.assets])).toEqual([
      ['maintenance login accepted for user maint', 1, ['hmi-1']],
      ['Failed password from <*> port <*>', 3, ['scada']],
    ]);
    expect(t[1]!.firstTime).toBe(1000);
    expect(t[1]!.lastTime).toBe(3000);
    expect(await store.logTemplates({ asset: 'hmi-1', range: { from: 0, to: 4000 } })).toEqual([]);
    await store.close();
  });

  it('masking is idempotent and never leaves a digit behind', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        const t = logTemplateOf(s);
        expect(logTemplateOf(t)).toBe(t);
        expect(/\b\d+\b/.test(t)).toBe(false);
      }),
    );
  });

  it('the SQL masking agrees with logTemplateOf', async () => {
    const store = await openEmbeddedStore(':memory:');
    const word = fc.constantFrom('port', '10.1.2.3', '0xff', 'cafebabe99', '42', '3.14', 'ssh2', 'a-7', 'x', ':', ' ');
    const messages = fc.sample(
      fc.array(word, { minLength: 1, maxLength: 8 }).map((w) => w.join(' ')),
      { numRuns: 40, seed: 7 },
    );
    await store.write(messages.map((m, i) => ({ type: 'event' as const, event: log(i, `a${i}`, m) })));
    const r = await store.query('SELECT asset, message FROM logs');
    const t = await store.logTemplates({ limit: 1000 });
    for (const row of r) {
      const expected = logTemplateOf(String(row['message']));
      expect(t.find((x) => x.assets.includes(String(row['asset'])))?.template).toBe(expected);
    }
    await store.close();
  });
});
