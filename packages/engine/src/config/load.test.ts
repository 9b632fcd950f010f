import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { parseConfig, ConfigError, type ComponentSchemas } from './load.ts';
import type { DetectorDef } from '../../../core/src/detectors/contract.ts';

const Params = Type.Object({ window_secs: Type.Number({ minimum: 1, default: 60 }) }, { additionalProperties: false });
const fakeDetector: DetectorDef<typeof Params, { n: number }> = {
  type: 'counter',
  summary: 'counts',
  params: Params,
  stateVersion: 1,
  input: 'scalar',
  example: '',
  init: () => ({ n: 0 }),
  step: (_p, s) => {
    s.n++;
    return 0;
  },
};
const schemas: ComponentSchemas = {
  sources: { simulator: Type.Object({ seed: Type.Integer({ default: 1 }) }, { additionalProperties: false }) },
  sinks: { jsonl: Type.Object({ path: Type.String() }, { additionalProperties: false }) },
  detectors: { counter: fakeDetector },
};

function errorOf(text: string): ConfigError {
  try {
    parseConfig(text, 'pipe.yaml', schemas);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config loading', () => {
  it('fills defaults and resolves detector params', () => {
    const cfg = parseConfig(
      'version: 1\nsources:\n  - { id: sim, type: simulator }\ndetectors:\n  - id: c\n    type: counter\n    params: { window_secs: 5 }\n',
      '/tmp/x/pipe.yaml',
      schemas,
    );
    expect(cfg.sources[0]?.options).toEqual({ seed: 1 });
    expect(cfg.detectors[0]?.params).toEqual({ window_secs: 5 });
    expect(cfg.detectors[0]?.key).toEqual(['site', 'asset', 'metric']);
    expect(cfg.dataDir).toBe('/tmp/x/data');
    expect(cfg.correlator.window_secs).toBe(120);
    expect(cfg.api.port).toBe(8080);
  });

  it('names file, line, path and expectation for a bad parameter', () => {
    const e = errorOf(
      'version: 1\nsources:\n  - { id: sim, type: simulator }\ndetectors:\n  - id: c\n    type: counter\n    params:\n      window_secs: five\n',
    );
    expect(e.message).toMatch(/^pipe\.yaml:8:20 \/detectors\/0\/params\/window_secs: expected number, got "five"/);
  });

  it('reports unknown types with the known ones', () => {
    const e = errorOf('version: 1\nsources:\n  - { id: sim, type: simulatr }\n');
    expect(e.message).toContain('/sources/0/type: unknown source type "simulatr"; known: simulator');
    expect(e.problems[0]?.line).toBe(3);
  });

  it('reports YAML syntax errors with a position', () => {
    const e = errorOf('version: 1\nsources: [\n');
    expect(e.message).toMatch(/^pipe\.yaml:\d+:\d+ \/: YAML syntax/);
  });

  it('rejects duplicate ids, unknown keys and missing required options', () => {
    const e = errorOf(
      'version: 1\nsources:\n  - { id: a, type: simulator }\n  - { id: a, type: simulator, speed: 3 }\nsinks:\n  - { id: s, type: jsonl }\n',
    );
    expect(e.message).toContain('/sources/1/id: id "a" is already used at /sources/0/id');
    expect(e.message).toMatch(/\/sources\/1\/speed: .*property/i);
    expect(e.message).toMatch(/\/sinks\/0\/path: expected required property/i);
  });

  it('lists the accepted forms of a union', () => {
    const e = errorOf('version: 1\nsources:\n  - { id: a, type: simulator }\ncorrelator: { group_by: plant }\n');
    expect(e.message).toContain('/correlator/group_by: expected one of "stage", "asset", "site", got "plant"');
  });

  it('rejects an unknown top-level key', () => {
    const e = errorOf('version: 1\nsourcez: []\nsources:\n  - { id: a, type: simulator }\n');
    expect(e.message).toMatch(/sourcez/);
  });
});
