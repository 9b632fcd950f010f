/**
 * Incidents: the list (severity, status, assets, modalities, explanation), updated live.
 * One incident's page with all its evidence is in incident.ts.
 *
 * @example
 * const stop = incidents(rootEl);            // list
 * const stop2 = incidentDetail(rootEl, id);  // detail
 */
import type { Incident } from '../../../core/src/schema/events.ts';
import type { IncidentAction } from '../../../engine/src/storage/duckdb-store.ts';
import { api } from '../api.ts';
import { fmtDuration, fmtTime, fmtValue } from '../format.ts';
import { h, mount } from '../h.ts';
import { onLive } from '../live.ts';

function handlingText(a: IncidentAction | undefined): string {
  if (!a) return '—';
  return `${a.action === 'resolve' ? 'resolved' : 'acknowledged'} by ${a.actor} · ${fmtTime(a.time)}`;
}

export const sev = (s: string): HTMLElement => h('span', { class: `badge sev-${s}` }, s);
export const status = (s: string): HTMLElement => h('span', { class: `badge st-${s}` }, s);

export function incidents(root: HTMLElement): () => void {
  let list: Incident[] = [];
  /** Latest acknowledgement/resolution per incident id (who and when). */
  let handled: Record<string, IncidentAction> = {};
  let filter = '';
  const tbody = h('tbody');
  const note = h('span', { class: 'muted' });
  const select = h(
    'select',
    { 'aria-label': 'status', onchange: (e: Event) => ((filter = (e.target as HTMLSelectElement).value), load()) },
    h('option', { value: '' }, 'all'),
    h('option', { value: 'open' }, 'open'),
    h('option', { value: 'resolved' }, 'resolved'),
  );

  const render = (): void => {
    const shown = list.filter((i) => !filter || i.status === filter).sort((a, b) => b.startTime - a.startTime);
    note.textContent = `${shown.length} incidents`;
    mount(
      tbody,
      shown.length
        ? shown.map((i) =>
            h(
              'tr',
              { class: 'clickable', onclick: () => (location.hash = `#/incidents/${encodeURIComponent(i.id)}`) },
              h('td', null, sev(i.severity)),
              h('td', null, status(i.status)),
              h('td', { class: 'handling-cell' }, handlingText(handled[i.id])),
              h('td', null, fmtTime(i.startTime)),
              h('td', null, fmtDuration((i.endTime ?? i.lastTime) - i.startTime)),
              h('td', null, i.assets.join(', ')),
              h('td', null, i.modalities.join(', ')),
              h('td', { class: 'num' }, fmtValue(i.peakScore)),
              h('td', null, i.explanation),
            ),
          )
        : h('tr', null, h('td', { colspan: 9, class: 'muted' }, 'No incidents.')),
    );
  };
  let alive = true;
  const load = (): void => {
    api.incidents({ limit: 500, ...(filter ? { status: filter } : {}) }).then(
      (r) => {
        if (!alive) return;
        list = r;
        render();
        // The newest 200 are what the list shows first; the query string stays short.
        const ids = r.slice(0, 200).map((i) => i.id);
        if (ids.length)
          api.handling(ids).then(
            (m) => {
              if (!alive) return;
              handled = m;
              render();
            },
            () => undefined,
          );
      },
      (err: unknown) =>
        mount(
          tbody,
          h('tr', null, h('td', { colspan: 9, class: 'error' }, `Could not load incidents: ${String(err)}`)),
        ),
    );
  };

  mount(
    root,
    h('div', { class: 'toolbar' }, h('h2', null, 'Incidents'), select, note),
    h(
      'div',
      { class: 'panel' },
      h(
        'table',
        null,
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            [
              'Severity',
              'Status',
              'Handling',
              'Started',
              'Duration',
              'Assets',
              'Modalities',
              'Peak',
              'Explanation',
            ].map((t) => h('th', null, t)),
          ),
        ),
        tbody,
      ),
    ),
  );
  load();
  const off = onLive('incident', (inc) => {
    // Revisions only grow, so an older copy never overwrites a newer one.
    const i = list.findIndex((x) => x.id === inc.id);
    if (i < 0) list.push(inc);
    else if (list[i]!.revision <= inc.revision) list[i] = inc;
    render();
  });
  return () => {
    alive = false;
    off();
  };
}

export { incidentDetail } from './incident.ts';
