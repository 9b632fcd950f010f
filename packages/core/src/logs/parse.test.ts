import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LOG_FORMATS, LogParseError, parseLogLine } from './parse.ts';

describe('log line parsers', () => {
  it('reads RFC 3164 with priority, host, tag and pid', () => {
    const r = parseLogLine('<34>Oct 11 22:14:15 mymachine su[42]: su root failed on /dev/pts/8', {
      format: 'rfc3164',
      line: 1,
      year: 2024,
    });
    expect(r).toMatchObject({
      format: 'rfc3164',
      level: 'critical',
      message: 'su root failed on /dev/pts/8',
      time: Date.UTC(2024, 9, 11, 22, 14, 15),
    });
    expect(r.fields).toMatchObject({
      'host.name': 'mymachine',
      'process.name': 'su',
      'process.pid': 42,
      'log.syslog.facility.code': 4,
      '@timestamp': '2024-10-11T22:14:15.000Z',
    });
  });

  it('reads RFC 5424 with structured data and nil fields', () => {
    const r = parseLogLine(
      '<165>1 2003-10-11T22:14:15.003Z host app - ID47 [ex@1 a="x\\"y" b="2"][z@2 c="3"] \uFEFFhello world',
      { format: 'rfc5424', line: 3 },
    );
    expect(r).toMatchObject({ level: 'notice', message: 'hello world', time: Date.parse('2003-10-11T22:14:15.003Z') });
    expect(r.fields).toMatchObject({
      'host.name': 'host',
      'process.name': 'app',
      'log.syslog.msgid': 'ID47',
      'log.syslog.structured_data.ex@1.a': 'x"y',
      'log.syslog.structured_data.z@2.c': '3',
    });
    expect(r.fields['process.pid']).toBeUndefined();
  });

  it('maps JSON lines to ECS names (pino levels, epoch ms, hostname, nested objects)', () => {
    const r = parseLogLine(
      '{"time":1700000000000,"level":50,"msg":"db timeout","hostname":"h1","pid":12,"user":{"name":"bob"}}',
      { format: 'json', line: 1 },
    );
    expect(r).toMatchObject({ level: 'error', message: 'db timeout', time: 1700000000000 });
    expect(r.fields).toMatchObject({ 'host.name': 'h1', 'process.pid': 12, 'user.name': 'bob', 'log.level': 'error' });
  });

  it('reads a leading timestamp and an upper-case level from plain lines, and leaves prose alone', () => {
    expect(parseLogLine('2024-01-01 10:00:00,5 WARN pump hot', { format: 'plain', line: 1 })).toMatchObject({
      level: 'warn',
      message: 'pump hot',
      time: Date.UTC(2024, 0, 1, 10, 0, 0, 500),
    });
    expect(parseLogLine('info about the pump', { format: 'plain', line: 1 })).toMatchObject({
      message: 'info about the pump',
    });
    expect(parseLogLine('info about the pump', { format: 'plain', line: 1 }).level).toBeUndefined();
  });

  it('names the line and the problem when a line does not fit the asked format', () => {
    expect(() => parseLogLine('{"a":', { format: 'json', line: 7 })).toThrow(/^line 7: json: not valid JSON/);
    expect(() => parseLogLine('[1,2]', { format: 'json', line: 2 })).toThrow(
      'line 2: json: expected a JSON object, got an array',
    );
    expect(() => parseLogLine('<999>1 - - - - - -', { format: 'rfc5424', line: 4 })).toThrow(
      'line 4: rfc5424: priority 999 is above 191',
    );
    expect(() => parseLogLine('<13>1 yesterday h a - - - m', { format: 'rfc5424', line: 5 })).toThrow(
      /line 5: rfc5424: TIMESTAMP "yesterday" is not an RFC 3339 time/,
    );
    expect(() => parseLogLine('<13>1 - h a - - [x a=1] m', { format: 'rfc5424', line: 6 })).toThrow(
      /STRUCTURED-DATA: expected a quoted value at column/,
    );
  });

  it('auto picks the format per line and falls back to plain', () => {
    const f = (s: string) => parseLogLine(s, { format: 'auto', line: 1, year: 2024 }).format;
    expect([
      f('<13>1 - - - - - - x'),
      f('<13>Jan  2 03:04:05 h p: x'),
      f('Jan  2 03:04:05 h p: x'),
      f('{"msg":"x"}'),
      f('{broken'),
      f('hello'),
    ]).toEqual(['rfc5424', 'rfc3164', 'rfc3164', 'json', 'plain', 'plain']);
  });

  it('never throws on arbitrary strings except with the stable error; auto never throws', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 120 }),
      fc
        .tuple(
          fc.constantFrom('<13>1 ', '<34>', '{"', '<13>1 2003-10-11T22:14:15Z h a 1 m [', 'Oct 11 22:14:15 '),
          fc.string({ maxLength: 80 }),
        )
        .map(([a, b]) => a + b),
    );
    fc.assert(
      fc.property(text, fc.constantFrom(...LOG_FORMATS), (s, format) => {
        try {
          const r = parseLogLine(s, { format, line: 9, year: 2024 });
          expect(typeof r.message).toBe('string');
          expect(r.fields.message).toBe(r.message);
          if (r.time !== undefined) expect(Number.isFinite(r.time)).toBe(true);
        } catch (e) {
          expect(format).not.toBe('auto');
          expect(e).toBeInstanceOf(LogParseError);
          expect((e as LogParseError).code).toBe('E_LOG_PARSE');
          expect((e as Error).message).toMatch(/^line 9: /);
        }
      }),
      { numRuns: 800, seed: 4 },
    );
  });
});
