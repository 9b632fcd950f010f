import { describe, expect, it } from 'vitest';
import { Processor } from './processor.ts';
import { reading, testConfig, warmupDetector } from './testing.ts';
import type { LogRecord } from '../../../core/src/schema/events.ts';
import type { SinkRecord } from './types.ts';

const base = testConfig('/tmp/unused');

describe('processor', () => {
  it('keeps separate state per operating mode (mode_signals)', () => {
    const p = new Processor([{ ...base.detectors[0]!, mode_signals: ['P-101/state'] }], base.correlator);
    const out: SinkRecord[] = [];
    let i = 0;
    // 6 readings in mode state=1: warm-up (5) then scored; switch to state=0: a new key warms up again.
    p.process(reading(i++, 1, { metric: 'state' }), out);
    for (let k = 0; k < 6; k++) p.process(reading(i++, 5), out);
    expect(out.filter((r) => r.type === 'score' && r.score.metric === 'flow_m3h')).toHaveLength(1);
    p.process(reading(i++, 0, { metric: 'state' }), out);
    out.length = 0;
    for (let k = 0; k < 5; k++) p.process(reading(i++, 0), out);
    expect(out.filter((r) => r.type === 'score' && r.score.metric === 'flow_m3h')).toHaveLength(0);
    const keys = [...p.instances[0]!.states.keys()];
    expect(keys).toContain('plant-a/P-101/flow_m3h|mode=1');
    expect(keys).toContain('plant-a/P-101/flow_m3h|mode=0');
    // The latest signal values travel in the checkpoint, so a restored processor is in the same mode.
    const q = new Processor([{ ...base.detectors[0]!, mode_signals: ['P-101/state'] }], base.correlator);
    q.restore(JSON.parse(JSON.stringify(p.snapshot())) as ReturnType<Processor['snapshot']>);
    out.length = 0;
    q.process(reading(i++, 0), out);
    expect(out.filter((r) => r.type === 'score')).toHaveLength(1);
  });

  it('attributes a log finding to the asset named in a field, in that asset\'s stage', () => {
    const det = {
      ...base.detectors[0]!,
      def: warmupDetector,
      params: { warmup: 0, limit: 0 },
      key: ['site' as const, 'asset' as const],
      select: { kind: 'log' as const, asset_field: 'alarm.tag' },
    };
    const p = new Processor([det], base.correlator);
    const out: SinkRecord[] = [];
    p.process(reading(0, 1, { asset: 'P-101', stage: 'intake' }), out);
    const log: LogRecord = {
      kind: 'log',
      id: 'l1',
      time: Date.UTC(2026, 0, 1, 0, 0, 5),
      ingestTime: 0,
      site: 'plant-a',
      asset: 'scada',
      stage: 'control',
      source: 't',
      level: 'warn',
      message: 'ALARM P-101 VIBRATION HIGH',
      fields: { 'alarm.tag': 'P101 VIBRATION HIGH' },
    };
    p.process(log, out);
    const a = out.find((r) => r.type === 'anomaly');
    expect(a?.type === 'anomaly' && a.anomaly.asset).toBe('P-101');
    expect(a?.type === 'anomaly' && a.anomaly.stage).toBe('intake');
    expect(a?.type === 'anomaly' && a.anomaly.modality).toBe('log');
  });
});
