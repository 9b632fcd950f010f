/**
 * Guards a V8 performance property of detector state (see the note on SlidingWindowSchema):
 * plain objects whose keys come in the same order share hidden classes and field
 * representations, so a state schema's `properties` object must not list its keys in the order
 * of the state object's keys, or the state's number fields become tagged and every store of a
 * double allocates. Each state here must start with a different key than its schema.
 */
import { describe, expect, it } from 'vitest';
import { resolveParams } from '../params.ts';
import { emaBaseline, EmaBaselineState } from '../ema_baseline/index.ts';
import { smaBaseline, SmaBaselineState } from '../sma_baseline/index.ts';
import { thresholdDuration, ThresholdDurationState } from '../threshold_duration/index.ts';
import { rollingZScore } from './index.ts';
import { SlidingWindowSchema, windowInit } from './window.ts';

const firstKey = (o: object) => Object.keys(o)[0];

describe('state objects do not share a V8 hidden-class chain with their schema', () => {
  it('the sliding window (rolling_zscore, sma_baseline)', () => {
    for (const timed of [false, true]) {
      const w = windowInit(10, timed);
      expect(Object.keys(w).sort()).toEqual(Object.keys(SlidingWindowSchema.properties).sort());
      expect(firstKey(w)).not.toBe(firstKey(SlidingWindowSchema.properties));
    }
    expect(rollingZScore.init(resolveParams(rollingZScore, {})).w.vals.length).toBe(60);
  });

  it('ema_baseline', () => {
    const s = emaBaseline.init(resolveParams(emaBaseline, {}));
    expect(Object.keys(s).sort()).toEqual(Object.keys(EmaBaselineState.properties).sort());
    expect(firstKey(s)).not.toBe(firstKey(EmaBaselineState.properties));
  });

  it('sma_baseline', () => {
    const s = smaBaseline.init(resolveParams(smaBaseline, {}));
    expect(Object.keys(s).sort()).toEqual(Object.keys(SmaBaselineState.properties).sort());
    expect(firstKey(s)).not.toBe(firstKey(SmaBaselineState.properties));
  });

  it('threshold_duration', () => {
    const s = thresholdDuration.init(resolveParams(thresholdDuration, { high: 40 }));
    expect(Object.keys(s).sort()).toEqual(Object.keys(ThresholdDurationState.properties).sort());
    expect(firstKey(s)).not.toBe(firstKey(ThresholdDurationState.properties));
  });
});
