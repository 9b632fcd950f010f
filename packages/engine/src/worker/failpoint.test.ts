import { describe, expect, it } from 'vitest';
import { parseFailpoint, WorkerConfigError } from './command.ts';

describe('RETIMUAD_WORKER_FAILPOINT', () => {
  it('parses step[:n] for each checkpoint step', () => {
    expect(parseFailpoint('output-written')).toEqual({ step: 'output-written', nth: 1 });
    expect(parseFailpoint('state-saved:2')).toEqual({ step: 'state-saved', nth: 2 });
    expect(parseFailpoint('offset-committed:13')).toEqual({ step: 'offset-committed', nth: 13 });
  });

  it('refuses unknown steps and bad counts with E_WORKER_CONFIG naming the variable', () => {
    for (const bad of ['', 'saved', 'state-saved:0', 'state-saved:1.5', 'state-saved:x', 'state-saved:1:2']) {
      expect(() => parseFailpoint(bad)).toThrow(WorkerConfigError);
      expect(() => parseFailpoint(bad)).toThrow(
        /^RETIMUAD_WORKER_FAILPOINT: expected output-written\|state-saved\|offset-committed/,
      );
    }
  });
});
