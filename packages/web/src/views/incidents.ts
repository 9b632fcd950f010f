/**
 * Incidents: the list (severity, status, assets, modalities, explanation), updated live,
 * and one incident's detail with its evidence anomalies and the camera frames and audio
 * clips of its assets around the incident time.
 *
 * @example
 * const stop = incidents(rootEl);            // list
 * const stop2 = incidentDetail(rootEl, id);  // detail
 */
import type { Incident } from '../../../core/src/schema/events.ts';
import type { StoredMedia } from '../../../engine/src/runtime/types.ts';
import { api, blobUrl } from '../api.ts';
import { fmtDuration, fmtTime, fmtValue } from '../format.ts';
import { h, mount } from '../h.ts';
import { onLive } from '../live.ts';

/** Media this long before the start and after the end of an incident is shown with it. */
const MEDIA_MARGIN_MS = 5 * 60_000;

const sev = (s: string): HTMLElement => h('span', { class: `badge sev-${s}` }, s);
const status = (s: string): HTMLElement => h('span', { class: `badge st-${s}` }, s);

export function incidents(root: HTMLElement): () => void {
  let list: Incident[] = [];
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
              h('td', null, fmtTime(i.startTime)),
              h('td', null, fmtDuration((i.endTime ?? i.lastTime) - i.startTime)),
              h('td', null, i.assets.join(', ')),
              h('td', null, i.modalities.join(', ')),
              h('td', { class: 'num' }, fmtValue(i.peakScore)),
              h('td', null, i.explanation),
            ),
          )
        : h('tr', null, h('td', { colspan: 8, class: 'muted' }, 'No incidents.')),
    );
  };
  const load = (): void => {
    api.incidents({ limit: 500, ...(filter ? { status: filter } : {}) }).then(
      (r) => {
        list = r;
        render();
      },
      (err: unknown) =>
        mount(
          tbody,
          h('tr', null, h('td', { colspan: 8, class: 'error' }, `Could not load incidents: ${String(err)}`)),
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
            ['Severity', 'Status', 'Started', 'Duration', 'Assets', 'Modalities', 'Peak', 'Explanation'].map((t) =>
              h('th', null, t),
            ),
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
  return off;
}

function mediaFigure(m: StoredMedia): HTMLElement {
  const caption = h('figcaption', null, `${m.asset} · ${fmtTime(m.time)} · ${m.media.contentType}`);
  const src = blobUrl(m.media.sha256);
  return m.kind === 'image'
    ? h(
        'figure',
        null,
        h('img', { src, alt: `camera frame of ${m.asset} at ${fmtTime(m.time)}`, loading: 'lazy' }),
        caption,
      )
    : h('figure', null, h('audio', { src, controls: true, preload: 'none' }), caption);
}

export function incidentDetail(root: HTMLElement, id: string): () => void {
  let alive = true;
  mount(root, h('p', { class: 'muted' }, 'loading…'));
  const show = async (): Promise<void> => {
    const inc = await api.incident(id);
    const from = inc.startTime - MEDIA_MARGIN_MS;
    const to = (inc.endTime ?? inc.lastTime) + MEDIA_MARGIN_MS;
    const media = (await Promise.all(inc.assets.map((asset) => api.media({ asset, from, to, limit: 24 }))))
      .flat()
      .sort((a, b) => a.time - b.time);
    if (!alive) return;
    mount(
      root,
      h(
        'div',
        { class: 'toolbar' },
        h('a', { href: '#/incidents' }, '← incidents'),
        h('h2', null, `Incident ${inc.id}`),
        sev(inc.severity),
        status(inc.status),
      ),
      h(
        'section',
        { class: 'panel' },
        h('p', null, inc.explanation),
        h(
          'dl',
          { class: 'kv' },
          [
            ['Site', inc.site],
            ['Stage', inc.stage ?? '—'],
            ['Started', fmtTime(inc.startTime)],
            ['Last activity', fmtTime(inc.lastTime)],
            ['Ended', inc.endTime === undefined ? 'still open' : fmtTime(inc.endTime)],
            ['Modalities', inc.modalities.join(', ')],
            ['Anomalies', String(inc.anomalyCount)],
            ['Peak score', fmtValue(inc.peakScore)],
            ['Revision', String(inc.revision)],
          ].map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
          h('dt', null, 'Assets'),
          h(
            'dd',
            null,
            inc.assets.map((a, i) => [
              i ? ', ' : '',
              h('a', { href: `#/signals/${encodeURIComponent(inc.site)}/${encodeURIComponent(a)}` }, a),
            ]),
          ),
        ),
      ),
      h('h3', null, 'Evidence'),
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
              ['Time', 'Severity', 'Asset', 'Detector', 'Modality', 'Metric', 'Value', 'Score', 'Reason'].map((t) =>
                h('th', null, t),
              ),
            ),
          ),
          h(
            'tbody',
            null,
            inc.evidence.map((a) =>
              h(
                'tr',
                null,
                h('td', null, fmtTime(a.time)),
                h('td', null, sev(a.severity)),
                h('td', null, a.asset),
                h('td', null, `${a.detector} (${a.detectorType})`),
                h('td', null, a.modality),
                h('td', null, a.metric ?? '—'),
                h('td', { class: 'num' }, a.value === undefined ? '—' : fmtValue(a.value)),
                h('td', { class: 'num' }, fmtValue(a.score)),
                h('td', null, a.reason),
              ),
            ),
          ),
        ),
      ),
      h('h3', null, 'Camera frames and audio around the incident'),
      media.length
        ? h('div', { class: 'media' }, media.map(mediaFigure))
        : h('p', { class: 'muted' }, 'No media for these assets in this time window.'),
    );
  };
  show().catch((err: unknown) => {
    if (alive)
      mount(
        root,
        h('a', { href: '#/incidents' }, '← incidents'),
        h('p', { class: 'error' }, `Could not load incident: ${err instanceof Error ? err.message : String(err)}`),
      );
  });
  return () => {
    alive = false;
  };
}
