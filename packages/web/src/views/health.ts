/**
 * Health: component counters (received, emitted, discarded, last error), queue depth,
 * lag, and the dead letters with their reasons.
 *
 * @example
 * const stop = health(rootEl);
 */
import type { HealthReport } from '../../../engine/src/api/deps.ts';
import { api } from '../api.ts';
import { fmtDuration, fmtTime } from '../format.ts';
import { h, mount, panelTable } from '../h.ts';
import { onLive } from '../live.ts';

export function health(root: HTMLElement): () => void {
  const summary = h('div', { class: 'panel' });
  const comps = h('tbody');
  const dets = h('tbody');
  const models = h('tbody');
  const dead = h('tbody');

  const render = (r: HealthReport): void => {
    const fill = h('div');
    const ratio = r.queue.capacity > 0 ? r.queue.depth / r.queue.capacity : 0;
    // CSSOM property writes are allowed by the CSP (inline style attributes are not).
    fill.style.width = `${Math.min(100, Math.round(ratio * 100))}%`;
    mount(
      summary,
      h(
        'dl',
        { class: 'kv' },
        h('dt', null, 'Status'),
        h('dd', { class: r.status === 'ok' ? '' : 'error' }, r.status),
        h('dt', null, 'Uptime'),
        h('dd', null, fmtDuration(r.uptimeSecs * 1000)),
        h('dt', null, 'Queue'),
        h(
          'dd',
          null,
          h(
            'div',
            { class: ratio > 0.8 ? 'meter high' : 'meter', title: `${r.queue.depth} / ${r.queue.capacity}` },
            fill,
          ),
          `${r.queue.depth} / ${r.queue.capacity}`,
        ),
        h('dt', null, 'Dead letters'),
        h('dd', null, String(r.deadLetters)),
        h('dt', null, 'Lag'),
        h('dd', null, r.lagMs === undefined ? '—' : `${Math.round(r.lagMs)} ms`),
      ),
    );
    mount(
      comps,
      r.components.map((c) =>
        h(
          'tr',
          null,
          h('td', null, c.id),
          h('td', null, c.kind),
          h('td', { class: 'num' }, c.received),
          h('td', { class: 'num' }, c.emitted),
          h('td', { class: c.discarded ? 'num error' : 'num' }, c.discarded),
          h('td', { class: 'error' }, c.lastError ?? ''),
        ),
      ),
    );
    mount(
      dets,
      (r.detectors ?? []).map((d) =>
        h(
          'tr',
          null,
          h('td', null, d.id),
          h('td', null, d.type),
          h('td', { class: 'num' }, d.keys),
          h('td', { class: 'num' }, d.steps),
          h('td', { class: d.anomalies ? 'num error' : 'num' }, d.anomalies),
        ),
      ),
    );
    mount(
      models,
      (r.models ?? []).length
        ? (r.models ?? []).map((m) =>
            h(
              'tr',
              null,
              h('td', null, m.id),
              h('td', { class: 'num' }, m.batches),
              h('td', { class: 'num' }, m.items),
              h('td', { class: 'num' }, m.peakQueued),
            ),
          )
        : h('tr', null, h('td', { colspan: 4, class: 'muted' }, 'No models configured.')),
    );
  };

  const load = (): void => {
    api
      .health()
      .then(render, (err: unknown) =>
        mount(summary, h('p', { class: 'error' }, `Could not load health: ${String(err)}`)),
      );
    api.deadLetters(200).then(
      (rows) =>
        mount(
          dead,
          rows.length
            ? rows.map((d) =>
                h(
                  'tr',
                  null,
                  h('td', null, fmtTime(d.time)),
                  h('td', null, d.component),
                  h('td', null, d.where),
                  h('td', { class: 'error' }, d.reason),
                  h('td', null, h('pre', { class: 'raw' }, d.raw)),
                ),
              )
            : h('tr', null, h('td', { colspan: 5, class: 'muted' }, 'No dead letters.')),
        ),
      (err: unknown) =>
        mount(
          dead,
          h('tr', null, h('td', { colspan: 5, class: 'error' }, `Could not load dead letters: ${String(err)}`)),
        ),
    );
  };

  mount(
    root,
    h('div', { class: 'toolbar' }, h('h2', null, 'Health'), h('button', { onclick: load }, 'Refresh')),
    summary,
    h('h3', null, 'Components'),
    panelTable(['Component', 'Kind', 'Received', 'Emitted', 'Discarded', 'Last error'], comps),
    h('h3', null, 'Detectors'),
    panelTable(['Detector', 'Type', 'Keys', 'Updates', 'Anomalies'], dets),
    h('h3', null, 'Models'),
    panelTable(['Model', 'Batches', 'Inferences', 'Peak queue'], models),
    h('h3', null, 'Dead letters'),
    panelTable(['Time', 'Component', 'Where', 'Reason', 'Raw'], dead),
  );
  load();
  const timer = setInterval(load, 5_000);
  const off = onLive('health', render);
  return () => {
    clearInterval(timer);
    off();
  };
}
