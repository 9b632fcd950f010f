/**
 * Plant overview: assets grouped by process stage, coloured by state (normal, anomalous,
 * incident), kept current from the live stream. Clicking an asset opens its signals.
 *
 * @example
 * const stop = overview(rootEl);
 */
import type { AssetSummary } from '../../../engine/src/runtime/types.ts';
import { api } from '../api.ts';
import { fmtTime, fmtValue, groupBy } from '../format.ts';
import { h, mount } from '../h.ts';
import { onLive } from '../live.ts';

type State = AssetSummary['state'];
/** An anomaly keeps an asset "anomalous" for this long (the store uses the same minute). */
const ANOMALOUS_MS = 60_000;

interface Card {
  el: HTMLElement;
  state: HTMLElement;
  values: Map<string, HTMLElement>;
  summary: AssetSummary;
  lastAnomaly: number;
  openIncidents: Set<string>;
}

const key = (site: string, asset: string): string => `${site}/${asset}`;
const openSignals = (a: AssetSummary): void => {
  location.hash = `#/signals/${encodeURIComponent(a.site)}/${encodeURIComponent(a.asset)}`;
};

export function overview(root: HTMLElement): () => void {
  const cards = new Map<string, Card>();
  const status = h('span', { class: 'muted' }, 'loading…');

  const setState = (c: Card, now: number): void => {
    const s: State =
      c.openIncidents.size > 0 || c.summary.state === 'incident'
        ? 'incident'
        : now - c.lastAnomaly < ANOMALOUS_MS
          ? 'anomalous'
          : 'normal';
    c.el.classList.remove('normal', 'anomalous', 'incident');
    c.el.classList.add(s);
    c.state.textContent = s;
  };

  const render = (assets: AssetSummary[]): void => {
    cards.clear();
    const byStage = groupBy(
      [...assets].sort((a, b) => a.asset.localeCompare(b.asset)),
      (a) => a.stage ?? 'unassigned',
    );
    const sections = [...byStage].map(([stage, list]) =>
      h(
        'section',
        { class: 'panel' },
        h('h3', null, stage),
        h(
          'div',
          { class: 'stage-assets' },
          list.map((a) => {
            const values = new Map<string, HTMLElement>();
            const state = h('span', { class: 'state' });
            const el = h(
              'div',
              {
                class: 'asset',
                role: 'link',
                tabindex: 0,
                title: `${a.site} / ${a.asset}`,
                onclick: () => openSignals(a),
                onkeydown: (e: Event) => {
                  if ((e as KeyboardEvent).key === 'Enter') openSignals(a);
                },
              },
              h('div', { class: 'name' }, h('span', null, a.asset), state),
              a.metrics.map((m) => {
                const v = h('span', { class: 'v', title: fmtTime(m.lastTime) }, fmtValue(m.last, m.unit));
                values.set(m.metric, v);
                return h('div', { class: 'metric-row' }, h('span', null, m.metric), v);
              }),
            );
            const card: Card = {
              el,
              state,
              values,
              summary: a,
              lastAnomaly: a.state === 'anomalous' ? Date.now() : 0,
              openIncidents: new Set(),
            };
            setState(card, Date.now());
            cards.set(key(a.site, a.asset), card);
            return el;
          }),
        ),
      ),
    );
    status.textContent = `${assets.length} assets · updated ${fmtTime(Date.now())}`;
    mount(
      root,
      h('div', { class: 'toolbar' }, h('h2', null, 'Plant overview'), status),
      assets.length
        ? h('div', { class: 'stages' }, sections)
        : h('p', { class: 'muted' }, 'No assets have reported yet.'),
    );
  };

  // A response that arrives after the view was left must not overwrite the next view.
  let alive = true;
  const load = (): void => {
    api.assets().then(
      (a) => alive && render(a),
      (err: unknown) => {
        if (!alive) return;
        status.textContent = `could not load assets: ${String(err)}`;
        status.className = 'error';
      },
    );
  };

  mount(root, status);
  load();
  // The store's view of state is authoritative; live messages only make it feel immediate.
  // Assets that only log (PLCs, SCADA, HMI) reach the live feed through no reading: the periodic
  // reload is what brings their cards in.
  const refresh = setInterval(load, 10_000);
  const decay = setInterval(() => {
    const now = Date.now();
    for (const c of cards.values()) setState(c, now);
  }, 5_000);
  const offs = [
    onLive('reading', (r) => {
      const c = cards.get(key(r.site, r.asset));
      const v = c?.values.get(r.metric);
      if (v) {
        v.textContent = fmtValue(r.value, r.unit);
        v.title = fmtTime(r.time);
      } else if (!c) load();
    }),
    onLive('anomaly', (a) => {
      const c = cards.get(key(a.site, a.asset));
      if (!c) {
        load();
        return;
      }
      c.lastAnomaly = Date.now();
      setState(c, c.lastAnomaly);
    }),
    onLive('incident', (inc) => {
      for (const asset of inc.assets) {
        const c = cards.get(key(inc.site, asset));
        if (!c) continue;
        if (inc.status === 'open') c.openIncidents.add(inc.id);
        else {
          c.openIncidents.delete(inc.id);
          if (c.summary.state === 'incident') c.summary = { ...c.summary, state: 'normal' };
        }
        setState(c, Date.now());
      }
    }),
  ];
  return () => {
    alive = false;
    clearInterval(refresh);
    clearInterval(decay);
    for (const off of offs) off();
  };
}
