import { describe, it, expect } from 'vitest';
import { incidentFixture, memoryLogger } from '../testing.ts';
import { createConsoleSink, formatIncidentLine } from './console.ts';

describe('console sink', () => {
  it('logs opened, escalated and resolved once each, in one readable line', async () => {
    const { logger, lines } = memoryLogger();
    const sink = createConsoleSink({}, { logger });
    const inc = (over: Parameters<typeof incidentFixture>[0]) => ({ type: 'incident' as const, incident: incidentFixture(over) });
    await sink.write([inc({ revision: 1 }), inc({ revision: 2, anomalyCount: 4 })]);
    await sink.write([inc({ revision: 2 }), inc({ revision: 3, severity: 'critical' })]);
    await sink.write([inc({ revision: 4, severity: 'critical', status: 'resolved', endTime: 1_700_000_090_000 })]);
    await sink.close();
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'incident OPENED [warning] plant-a P-101,V-7 — flow_m3h 41.2 > 40 for 35 s (3 anomalies, peak 0.93, reading+log, 35 s) id=inc-plant-a-1'],
      [50, 'incident ESCALATED [critical] plant-a P-101,V-7 — flow_m3h 41.2 > 40 for 35 s (3 anomalies, peak 0.93, reading+log, 35 s) id=inc-plant-a-1'],
      [30, 'incident RESOLVED [critical] plant-a P-101,V-7 — flow_m3h 41.2 > 40 for 35 s (3 anomalies, peak 0.93, reading+log, 90 s) id=inc-plant-a-1'],
    ]);
    expect(lines[0]).toMatchObject({ incidentId: 'inc-plant-a-1', change: 'opened', severity: 'warning', revision: 1 });
  });

  it('stays quiet below min_severity until the incident escalates, then follows it to resolution', async () => {
    const { logger, lines } = memoryLogger();
    const sink = createConsoleSink({ min_severity: 'critical' }, { logger });
    await sink.write([{ type: 'incident', incident: incidentFixture({ revision: 1 }) }]);
    await sink.write([{ type: 'incident', incident: incidentFixture({ id: 'quiet', revision: 1 }) }]);
    await sink.write([{ type: 'incident', incident: incidentFixture({ id: 'quiet', revision: 2, status: 'resolved' }) }]);
    expect(lines).toHaveLength(0);
    await sink.write([{ type: 'incident', incident: incidentFixture({ revision: 2, severity: 'critical' }) }]);
    await sink.write([{ type: 'incident', incident: incidentFixture({ revision: 3, severity: 'warning' }) }]);
    await sink.write([{ type: 'incident', incident: incidentFixture({ revision: 4, severity: 'warning', status: 'resolved' }) }]);
    expect(lines.map((l) => l['change'])).toEqual(['escalated', 'deescalated', 'resolved']);
  });

  it('formats singular anomaly counts', () => {
    expect(formatIncidentLine(incidentFixture({ anomalyCount: 1, explanation: '' }), 'opened')).toBe(
      'incident OPENED [warning] plant-a P-101,V-7 (1 anomaly, peak 0.93, reading+log, 35 s) id=inc-plant-a-1',
    );
  });
});
