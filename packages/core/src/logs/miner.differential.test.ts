/**
 * The interned-token miner against the miner it replaced (`reference/miner_v1.ts`, a frozen copy):
 * the same template id, change and template text for every line, and the same JSON state, on the
 * benchmark's labelled log and on generated logs with random parameters, checkpoints and floods of
 * distinct tokens (which make the lexicon's trie and cache start over).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_MINER_PARAMS, initMiner, mine, mineTokens, templateText, type MinerParams } from './miner.ts';
import { maskTokens } from './mask.ts';
import { Lexicon } from './lexicon.ts';
import { labelledLog } from './labelled.ts';
import * as v1 from './reference/miner_v1.ts';
import { maskTokens as maskTokensV1 } from './reference/mask_v1.ts';

/** Mines `msgs` with both miners; returns per-line results and the final states, as strings. */
function both(p: MinerParams, msgs: readonly string[], checkpointAt = -1) {
  let m = initMiner();
  const m1 = v1.initMiner();
  const a: string[] = [];
  const b: string[] = [];
  msgs.forEach((x, i) => {
    if (i === checkpointAt) m = JSON.parse(JSON.stringify(m)) as typeof m;
    const r = mine(p, m, x);
    const r1 = v1.mine(p, m1, x);
    a.push(`${r.id} ${r.change} ${r.cluster.t.join(' ')}`);
    b.push(`${r1.id} ${r1.change} ${r1.cluster.t.join(' ')}`);
  });
  return { a, b, state: JSON.stringify(m), state1: JSON.stringify(m1), m };
}

const words = fc.constantFrom(
  'login',
  'for',
  'bob',
  'ann',
  'failed',
  'ok',
  'P-101',
  'ssh2',
  'm3/h',
  '<*>',
  '<NUM>',
  '__proto__',
  'constructor',
  'é',
  'naïve',
  '',
);
const values = fc.oneof(
  fc.nat(99_999).map(String),
  fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300)).map((xs) => xs.join('.')),
  fc.tuple(fc.nat(999), fc.nat(99)).map(([a, b]) => `${a}.${b}`),
  fc.stringMatching(/^[0-9.:,()%a-fx=/-]{1,12}$/),
  fc.string({ maxLength: 8 }),
);
const message = fc
  .array(fc.oneof(words, values), { maxLength: 9 })
  .chain((toks) => fc.constantFrom(' ', '  ', '\t', ' \n').map((sep) => toks.join(sep)));
const params = fc.record({
  sim_threshold: fc.double({ min: 0, max: 1, noNaN: true }),
  depth: fc.integer({ min: 3, max: 6 }),
  max_children: fc.integer({ min: 2, max: 6 }),
  max_clusters: fc.integer({ min: 1, max: 12 }),
});

describe('interned miner = v1 miner', () => {
  it('on the benchmark log (100,000 labelled lines): same ids, changes, templates and state', () => {
    const msgs = labelledLog({ seed: 1, lines: 100_000 }).map((l) => l.message);
    const { a, b, state, state1 } = both(DEFAULT_MINER_PARAMS, msgs);
    expect(a).toEqual(b);
    expect(state).toBe(state1);
  });

  it('on generated logs with random parameters and a JSON checkpoint anywhere', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 80 }), params, fc.nat(), (msgs, p, k) => {
        const { a, b, state, state1 } = both(p, msgs, msgs.length === 0 ? -1 : k % msgs.length);
        expect(a).toEqual(b);
        expect(state).toBe(state1);
      }),
      { numRuns: 400, seed: 42 },
    );
  });

  it('while many miners share the lexicon, interleaved', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(2), message), { maxLength: 120 }), params, (xs, p) => {
        const ms = [initMiner(), initMiner(), initMiner()];
        const m1 = [v1.initMiner(), v1.initMiner(), v1.initMiner()];
        for (const [k, x] of xs) {
          const r = mine(p, ms[k]!, x);
          const r1 = v1.mine(p, m1[k]!, x);
          expect([r.id, r.change, r.cluster.t]).toEqual([r1.id, r1.change, r1.cluster.t]);
        }
        expect(JSON.stringify(ms)).toBe(JSON.stringify(m1));
      }),
      { numRuns: 100, seed: 7 },
    );
  });

  it('through floods of distinct words and values (the trie and the cache start over)', () => {
    const msgs: string[] = [];
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    for (let i = 0; i < 25_000; i++) {
      let w = '';
      for (let x = i; ; x = Math.floor(x / 26) - 1) {
        w = letters[x % 26]! + w;
        if (x < 26) break;
      }
      msgs.push(`user ${w}${w} logged in from host-${w} with key=${i}.${i % 7}a${i} (took ${i}ms)`);
    }
    const p = { ...DEFAULT_MINER_PARAMS, max_clusters: 50 };
    const { a, b, state, state1 } = both(p, msgs, 12_345);
    expect(a).toEqual(b);
    expect(state).toBe(state1);
  });

  it('mineTokens agrees with mine and with v1', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 40 }), params, (msgs, p) => {
        const m = initMiner();
        const m1 = v1.initMiner();
        for (const x of msgs) {
          const r = mineTokens(p, m, maskTokens(x));
          const r1 = v1.mineTokens(p, m1, maskTokensV1(x));
          expect([r.id, r.change]).toEqual([r1.id, r1.change]);
          expect(templateText(m, r.id)).toBe(v1.templateText(m1, r1.id));
        }
        expect(JSON.stringify(m)).toBe(JSON.stringify(m1));
      }),
      { numRuns: 150, seed: 3 },
    );
  });

  it('rebuilds its index when the state was changed behind its back (restored into the same object)', () => {
    const p = DEFAULT_MINER_PARAMS;
    const msgs = labelledLog({ seed: 4, lines: 3000 }).map((l) => l.message);
    const m = initMiner();
    const m1 = v1.initMiner();
    for (const x of msgs.slice(0, 1500)) mine(p, m, x);
    const saved = JSON.stringify(m);
    for (const x of msgs.slice(1500, 2000)) mine(p, m, x);
    Object.assign(m, JSON.parse(saved) as object);
    for (const x of msgs.slice(0, 1500)) v1.mine(p, m1, x);
    for (const x of msgs.slice(1500)) expect(mine(p, m, x).id).toBe(v1.mine(p, m1, x).id);
    expect(JSON.stringify(m)).toBe(JSON.stringify(m1));
  });
});

describe('lexicon', () => {
  it('scans exactly as maskTokens tokenises and masks', () => {
    const lex = new Lexicon();
    const check = (s: string): void => {
      const n = lex.scan(s);
      expect(Array.from(lex.buf.subarray(0, n), (id) => lex.text(id))).toEqual(maskTokens(s));
    };
    fc.assert(
      fc.property(
        fc.oneof(
          message,
          fc.string({ maxLength: 60 }),
          fc.stringMatching(/^[0-9. \t:/\\x=a-f<>()%,-]{0,40}$/),
          fc
            .array(fc.oneof(fc.constantFrom('.', '..', '1', '12', '123', '1234'), fc.nat(999).map(String)), {
              maxLength: 9,
            })
            .map((xs) => xs.join('')),
        ),
        (s) => {
          check(s);
          check(s); // second time from the trie and the cache
        },
      ),
      { numRuns: 2000, seed: 5 },
    );
  });

  it('gives <*> id 1 and marks tokens starting with < in the low bit', () => {
    const lex = new Lexicon();
    expect(lex.intern('<*>')).toBe(1);
    expect(lex.intern('<IP>') & 1).toBe(1);
    expect(lex.intern('port') & 1).toBe(0);
    expect(lex.text(lex.intern('port'))).toBe('port');
  });
});
