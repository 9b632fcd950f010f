/**
 * Test helpers shared by the sink tests: a pino logger that records its lines in memory, and
 * incident fixtures.
 *
 * @example
 * const { logger, lines } = memoryLogger();
 * createConsoleSink({}, { logger }); // then inspect lines
 */
import { pino, type Logger } from 'pino';
import type { Incident } from '../../../core/src/schema/events.ts';

export interface LoggedLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export function memoryLogger(): { logger: Logger; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const logger = pino({ level: 'trace' }, { write: (s: string) => void lines.push(JSON.parse(s) as LoggedLine) });
  return { logger, lines };
}

export const T0 = 1_700_000_000_000;

export function incidentFixture(over: Partial<Incident> = {}): Incident {
  return {
    id: 'inc-plant-a-1',
    site: 'plant-a',
    assets: ['P-101', 'V-7'],
    stage: 'intake',
    status: 'open',
    severity: 'warning',
    modalities: ['reading', 'log'],
    startTime: T0,
    lastTime: T0 + 35_000,
    anomalyCount: 3,
    evidence: [],
    explanation: 'flow_m3h 41.2 > 40 for 35 s\nand 3 failed logins on PLC-1',
    peakScore: 0.93,
    revision: 1,
    ...over,
  };
}
