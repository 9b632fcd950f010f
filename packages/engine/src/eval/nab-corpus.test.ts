import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { NabError } from '../../../core/src/eval/nab/index.ts';
import { defaultNabDir, nabResultPath, parseNabCsv, parseNabTimestamp } from './nab-corpus.ts';

describe('parseNabTimestamp', () => {
  it('reads NAB timestamps as UTC, with or without microseconds', () => {
    expect(parseNabTimestamp('2014-04-10 07:15:00')).toBe(Date.UTC(2014, 3, 10, 7, 15, 0));
    expect(parseNabTimestamp('2014-04-10 07:15:00.000000')).toBe(Date.UTC(2014, 3, 10, 7, 15, 0));
    expect(parseNabTimestamp('2014-04-10 07:15:00.250000')).toBe(Date.UTC(2014, 3, 10, 7, 15, 0, 250));
  });

  it('names where a bad timestamp was found', () => {
    expect(() => parseNabTimestamp('10/04/2014', 'x.csv:3')).toThrow(/x\.csv:3: "10\/04\/2014" is not a NAB timestamp/);
  });
});

describe('parseNabCsv', () => {
  it('splits header and rows and reports ragged lines by line number', () => {
    expect(parseNabCsv('timestamp,value\n2014-01-01 00:00:00,1\n', 'f.csv')).toEqual({
      header: ['timestamp', 'value'],
      rows: [['2014-01-01 00:00:00', '1']],
    });
    expect(() => parseNabCsv('a,b\n1,2\n3\n', 'f.csv')).toThrow(NabError);
    expect(() => parseNabCsv('a,b\n1,2\n3\n', 'f.csv')).toThrow(/f\.csv:3/);
  });
});

describe('paths', () => {
  it('uses RETIMUAD_NAB_DIR when set, else ../shared/datasets/nab beside the repo', () => {
    expect(defaultNabDir({ RETIMUAD_NAB_DIR: '/data/nab' })).toBe(resolve('/data/nab'));
    expect(defaultNabDir({})).toMatch(/shared\/datasets\/nab$/);
  });

  it('lays result files out as NAB does', () => {
    expect(nabResultPath('/out/det', 'det', 'realKnownCause/nyc_taxi.csv')).toBe('/out/det/realKnownCause/det_nyc_taxi.csv');
  });
});
