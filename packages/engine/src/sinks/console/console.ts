/**
 * Console alert sink: one readable log line when an incident opens, changes severity or resolves,
 * through the pino logger it is given (so it lands wherever the process logs go). Revisions that
 * change neither status nor severity are not logged: an incident is revised on every anomaly.
 *
 * @example
 * const sink = createConsoleSink({ min_severity: 'warning' }, { logger: ctx.logger });
 * // → WARN: incident OPENED [critical] plant-a P-101,V-7 — flow 41.2 m3/h > 40 for 35 s (3 anomalies, peak 0.93) id=inc-1
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Incident, Severity } from '../../../../core/src/schema/events.ts';
import type { Sink, SinkRecordType } from '../../runtime/types.ts';
import { SinkError, resolveSinkParams, type SinkDeps } from '../common.ts';

export const ConsoleSinkParams = Type.Object(
  {
    min_severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')], {
      default: 'info',
      description: 'Incidents below this severity are not logged (until they escalate).',
    }),
  },
  { additionalProperties: false },
);
export type ConsoleSinkParams = Static<typeof ConsoleSinkParams>;

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
const MAX_TRACKED = 10_000;

export type IncidentChange = 'opened' | 'escalated' | 'deescalated' | 'resolved' | 'reopened';

/** The one-line form used by this sink; exported so the CLI can print incidents the same way. */
export function formatIncidentLine(inc: Incident, change: IncidentChange): string {
  const firstLine = inc.explanation.split('\n', 1)[0] ?? '';
  const duration = Math.max(0, Math.round(((inc.endTime ?? inc.lastTime) - inc.startTime) / 1000));
  return (
    `incident ${change.toUpperCase()} [${inc.severity}] ${inc.site} ${inc.assets.join(',')}` +
    (firstLine ? ` — ${firstLine}` : '') +
    ` (${inc.anomalyCount} anomal${inc.anomalyCount === 1 ? 'y' : 'ies'}, peak ${inc.peakScore.toFixed(2)}, ` +
    `${inc.modalities.join('+')}, ${duration} s) id=${inc.id}`
  );
}

export function createConsoleSink(raw: unknown, deps: SinkDeps): Sink {
  const params = resolveSinkParams('console', ConsoleSinkParams, raw);
  const id = deps.id ?? 'console';
  const log = deps.logger;
  const last = new Map<string, { status: Incident['status']; severity: Severity; revision: number; shown: boolean }>();
  let closed = false;

  function changeOf(inc: Incident): IncidentChange | undefined {
    const prev = last.get(inc.id);
    if (prev && inc.revision <= prev.revision) return undefined; // stale or repeated revision
    if (!prev) return inc.status === 'open' ? 'opened' : 'resolved';
    if (prev.status !== inc.status) return inc.status === 'resolved' ? 'resolved' : 'reopened';
    if (prev.severity !== inc.severity) return RANK[inc.severity] > RANK[prev.severity] ? 'escalated' : 'deescalated';
    return undefined;
  }

  return {
    id,
    accepts: new Set<SinkRecordType>(['incident']),
    write(batch) {
      if (closed) return Promise.reject(new SinkError('E_SINK_CLOSED', `console sink ${id} is closed`));
      let emitted = 0;
      for (const rec of batch) {
        if (rec.type !== 'incident') continue;
        const inc = rec.incident;
        const change = changeOf(inc);
        const prev = last.get(inc.id);
        if (prev && inc.revision <= prev.revision) continue;
        // Below the threshold nothing is said; but once an incident was shown, its later changes are too.
        const show = change !== undefined && (RANK[inc.severity] >= RANK[params.min_severity] || prev?.shown === true);
        last.delete(inc.id); // re-insert so Map order tracks recency
        last.set(inc.id, { status: inc.status, severity: inc.severity, revision: inc.revision, shown: show || prev?.shown === true });
        for (const oldest of last.keys()) {
          if (last.size <= MAX_TRACKED) break;
          last.delete(oldest);
        }
        if (!show || change === undefined) continue;
        const fields = { incidentId: inc.id, site: inc.site, assets: inc.assets, severity: inc.severity, change, revision: inc.revision };
        const line = formatIncidentLine(inc, change);
        if (change === 'resolved' || change === 'deescalated') log.info(fields, line);
        else if (inc.severity === 'critical') log.error(fields, line);
        else if (inc.severity === 'warning') log.warn(fields, line);
        else log.info(fields, line);
        emitted++;
      }
      if (emitted > 0) deps.metrics?.emitted(emitted);
      return Promise.resolve();
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}
