import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadConfigFile } from '../config/load.ts';
import { componentSchemas } from '../runtime/registry.ts';
import { formatScenarioReport, runScenarioEval } from './scenarios-runner.ts';

describe('eval scenarios', () => {
  it('runs the labelled simulator through the shipped config and detects the first scenario (pump cavitation)', async () => {
    const config = await loadConfigFile(join(import.meta.dirname, '../../../../examples/plant.yaml'), componentSchemas());
    const r = await runScenarioEval({ config, seed: 11, durationSecs: 240 });
    expect(r.combined.labels).toBe(1);
    expect(r.combined.perLabel[0]?.scenario).toBe('pump_cavitation');
    expect(r.combined.detected).toBe(1);
    expect(r.byModality.audio?.detected).toBe(1);
    const text = formatScenarioReport(r);
    expect(text).toMatch(/all modalities \(corr\.\)\s+\d+\s+[01]\.\d{3}\s+1\.000/);
  }, 60_000);
});
