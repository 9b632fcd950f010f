/**
 * log_new_template: a log message whose template was never seen before, after a warm-up. Each key
 * (e.g. an asset) mines its own templates online (Drain-style, `core/src/logs/miner.ts`); the miner
 * lives in the detector state, so it is checkpointed and restored with it.
 *
 * Score: 1 for a line that starts a new template after `min_lines` lines, else 0; null during the
 * warm-up. A line that only widens a known template (a new value in a variable position) is not new.
 * Reads the message from the event's `message` field (set for every log event).
 *
 * @example
 * const p = resolveParams(logNewTemplate, { min_lines: 500 });
 * const s = logNewTemplate.init(p);
 * logNewTemplate.step(p, s, { time, value: 1, fields: { message: 'PLC-3 firmware write from 10.9.9.9' } }, out, labels);
 * // finding: "new log template #57 after 5000 lines: PLC-3 firmware write from <IP>"
 */
import { Type, type Static } from '@sinclair/typebox';
import type { DetectorDef, Observation } from '../contract.ts';
import { initMiner, mine, minerParamFields, type MinerState } from '../../logs/miner.ts';
import { messageOf, shortTemplate } from '../log_template_rate/common.ts';

export const LogNewTemplateParams = Type.Object(
  {
    ...minerParamFields,
    min_lines: Type.Integer({
      minimum: 0,
      default: 1000,
      description: 'Warm-up in lines: templates are learned but not reported until this many lines were seen.',
    }),
    severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')], {
      default: 'warning',
      description: 'Severity of the finding for a new template.',
    }),
  },
  { additionalProperties: false },
);
export type LogNewTemplateParams = Static<typeof LogNewTemplateParams>;

export interface LogNewTemplateState {
  miner: MinerState;
}

export const logNewTemplate: DetectorDef<typeof LogNewTemplateParams, LogNewTemplateState, Observation> = {
  type: 'log_new_template',
  summary: 'Log messages of a template never seen before (online Drain-style template mining, after a warm-up).',
  params: LogNewTemplateParams,
  stateVersion: 1,
  input: 'scalar',
  example: `- id: log-new-template
  type: log_new_template
  select: { kind: log }
  key: [site, asset]
  params: { min_lines: 1000, sim_threshold: 0.4 }
`,
  init() {
    return { miner: initMiner() };
  },
  step(p, s, x, out, labels) {
    const r = mine(p, s.miner, messageOf(x));
    if (s.miner.lines <= p.min_lines) return null;
    if (r.change !== 'created') return 0;
    out.finding({
      severity: p.severity,
      reason: `${labels.key}: new log template #${r.id} after ${s.miner.lines - 1} lines: ${shortTemplate(r.cluster.t)}`,
      detail: { template_id: r.id, template: r.cluster.t.join(' ').slice(0, 1000), templates: s.miner.size },
    });
    return 1;
  },
};
