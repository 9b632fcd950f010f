import { describe, expect, it } from 'vitest';
import { groupingAccuracy, labelledLog } from '../../packages/core/src/logs/labelled.ts';
import { DEFAULT_MINER_PARAMS, initMiner, mine } from '../../packages/core/src/logs/miner.ts';
import { Drain3UnavailableError, runDrain3 } from './drain3.ts';

describe('drain3 reference', () => {
  it('fails (never skips) with install instructions when the interpreter is missing', () => {
    expect(() => runDrain3({ messages: ['a'] }, { python: '/nonexistent/python3' })).toThrow(Drain3UnavailableError);
    expect(() => runDrain3({ messages: ['a'] }, { python: '/nonexistent/python3' })).toThrow(
      'pip install -r tests/reference/requirements.txt',
    );
  });

  it('our miner groups a labelled log at least as accurately as drain3, with or without its masking', () => {
    const lines = labelledLog({ seed: 5, lines: 20_000 });
    const messages = lines.map((l) => l.message);
    const truth = lines.map((l) => l.template);
    const m = initMiner();
    const ours = groupingAccuracy(
      truth,
      messages.map((x) => mine(DEFAULT_MINER_PARAMS, m, x).id),
    );
    const p = DEFAULT_MINER_PARAMS;
    const cfg = { sim_th: p.sim_threshold, depth: p.depth, max_children: p.max_children, max_clusters: p.max_clusters };
    const masked = runDrain3({ messages, config: cfg, masking: true });
    const plain = runDrain3({ messages, config: cfg, masking: false });
    expect(masked.ids).toHaveLength(messages.length);
    expect(ours).toBeGreaterThanOrEqual(groupingAccuracy(truth, masked.ids));
    expect(ours).toBeGreaterThanOrEqual(groupingAccuracy(truth, plain.ids));
  });
});
