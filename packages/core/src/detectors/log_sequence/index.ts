/**
 * log_sequence: log templates following each other in an order not seen before. Per key (an
 * asset) — and, with `session_field`, per session inside it (a user, a session id, a source IP) —
 * the detector mines templates online and learns first-order transition counts: how often
 * template B followed template A. After the warm-up, a transition whose smoothed probability
 * P(B | A) = (n(A→B) + 0.5) / (n(A) + 0.5·K) is below `min_probability`, where A was followed at
 * least `min_support` times, is unexpected: e.g. a session opened without a successful login
 * before it, or a configuration write straight after a failed login.
 *
 * Score: −ln P / (−ln P + −ln min_probability) (0.5 at the threshold) once the previous template
 * has enough support, 0 otherwise; null during warm-up.
 * Cost: O(1) per line, state O(templates²) at most (bounded by `max_transitions`).
 *
 * @example
 * const p = resolveParams(logSequence, { session_field: 'user.name' });
 * const s = logSequence.init(p);
 * logSequence.step(p, s, { time, value: 1, fields: { message: 'session opened for user bob', 'user.name': 'bob' } }, out, labels);
 * // finding: 'scada: unexpected log sequence for bob: #7 "HMI login for <*> failed: bad password" → #9 "session opened for user <*>" (p 0.0004)'
 */
import { Type, type Static } from '@sinclair/typebox';
import { fmt, type DetectorDef, type Observation } from '../contract.ts';
import { initMiner, mine, minerParamFields, templateText, type MinerState } from '../../logs/miner.ts';
import { messageOf } from '../log_template_rate/common.ts';

export const LogSequenceParams = Type.Object(
  {
    ...minerParamFields,
    min_probability: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.01,
      description: 'A transition less probable than this (smoothed first-order estimate) is unexpected.',
    }),
    min_support: Type.Integer({
      minimum: 1,
      default: 50,
      description:
        'Times the previous template must have been followed by something before its transitions are judged.',
    }),
    min_lines: Type.Integer({
      minimum: 0,
      default: 1000,
      description: 'Warm-up in lines per key: learned but not judged.',
    }),
    session_field: Type.String({
      default: '',
      description:
        'Event field naming a session inside the key (e.g. user.name, session.id); empty: one sequence per key.',
    }),
    max_sessions: Type.Integer({
      minimum: 1,
      default: 1000,
      description: 'Sessions remembered per key; beyond it the least recently active is forgotten.',
    }),
    max_transitions: Type.Integer({
      minimum: 1,
      default: 100_000,
      description: 'Distinct transitions kept per key; beyond it new pairs are judged but not learned (bounds memory).',
    }),
  },
  { additionalProperties: false },
);
export type LogSequenceParams = Static<typeof LogSequenceParams>;

export interface LogSequenceState {
  miner: MinerState;
  /** Transition counts: from template id → (to template id → count). Keys are ids as strings. */
  trans: Record<string, Record<string, number>>;
  /** Times each template was followed by something. */
  from: Record<string, number>;
  /** Distinct transitions stored. */
  pairs: number;
  /** Previous template per session (`|` + session value; `|` alone without sessions) and when it was last active. */
  prev: Record<string, { id: number; at: number }>;
  sessions: number;
}

function label(s: LogSequenceState, id: number): string {
  const t = templateText(s.miner, id) ?? '(forgotten)';
  return `#${id} "${t.length > 80 ? `${t.slice(0, 79)}…` : t}"`;
}

export const logSequence: DetectorDef<typeof LogSequenceParams, LogSequenceState, Observation> = {
  type: 'log_sequence',
  summary:
    'Unexpected order of log templates per asset or session: first-order transitions rarer than a probability threshold.',
  params: LogSequenceParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: log-sequence
  type: log_sequence
  select: { kind: log }
  key: [site, asset]
  params: { session_field: user.name, min_probability: 0.01, min_support: 50 }
`,
  init() {
    return { miner: initMiner(), trans: {}, from: {}, pairs: 0, prev: {}, sessions: 0 };
  },
  step(p, s, x, out, labels) {
    const r = mine(p, s.miner, messageOf(x));
    const raw = p.session_field === '' ? undefined : x.fields[p.session_field];
    const session = raw === undefined ? '' : String(raw);
    const sk = `|${session}`;
    const prev = s.prev[sk];
    const warm = s.miner.lines > p.min_lines;
    let score: number | null = warm ? 0 : null;
    if (prev === undefined) {
      if (s.sessions >= p.max_sessions) {
        let oldest: string | undefined;
        let at = Infinity;
        for (const k in s.prev) if (s.prev[k]!.at < at) [oldest, at] = [k, s.prev[k]!.at];
        if (oldest !== undefined) delete s.prev[oldest];
        s.sessions--;
      }
      s.sessions++;
      s.prev[sk] = { id: r.id, at: s.miner.lines };
      return score;
    }
    const a = String(prev.id);
    const b = String(r.id);
    const n = s.from[a] ?? 0;
    const row = (s.trans[a] ??= {});
    const nab = row[b] ?? 0;
    if (warm && n >= p.min_support) {
      const prob = (nab + 0.5) / (n + 0.5 * Math.max(1, s.miner.size));
      const surprise = -Math.log(prob);
      const limit = -Math.log(p.min_probability);
      score = surprise / (surprise + limit);
      if (prob < p.min_probability) {
        const who = session === '' ? '' : ` for ${session}`;
        out.finding({
          severity: 'warning',
          reason: `${labels.key}: unexpected log sequence${who}: ${label(s, prev.id)} → ${label(s, r.id)} (p ${fmt(prob)}, seen ${nab} of ${n})`,
          detail: { from_template: prev.id, to_template: r.id, probability: prob, support: n },
        });
      }
    }
    if (nab > 0 || s.pairs < p.max_transitions) {
      if (nab === 0) s.pairs++;
      row[b] = nab + 1;
      s.from[a] = n + 1;
    }
    prev.id = r.id;
    prev.at = s.miner.lines;
    return score;
  },
};
