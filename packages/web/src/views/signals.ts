/**
 * Signals of one asset: a live chart per metric with its anomaly score chart beneath,
 * anomalies marked and anomaly periods shaded, over 5 min, 1 h, 24 h or a chosen time range
 * (from/to fields). Dragging across any chart zooms all of them to that span; "reset zoom"
 * undoes it. Loads a downsampled history sized to the chart width, then appends live points
 * and trims what leaves the window (a chosen past range stays fixed).
 *
 * @example
 * const stop = signals(rootEl, { site: 'plant-a', asset: 'P-101' });
 */
import type { Anomaly } from '../../../core/src/schema/events.ts';
import type { AssetSummary } from '../../../engine/src/runtime/types.ts';
import { api } from '../api.ts';
import { createChart, type Chart, type Mark } from '../chart.ts';
import { fmtTime } from '../format.ts';
import { h, mount } from '../h.ts';
import { onLive } from '../live.ts';
import { capRows, columns, fromPoints, trimBefore, upsert, type Columns } from '../series.ts';
import { periodsOf } from '../text.ts';

/** Anomalies closer than this form one shaded period. */
const PERIOD_GAP_MS = 30_000;

/** "2026-01-01T10:00" in local time ↔ epoch ms, for datetime-local inputs. */
function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

const RANGES = [
  { label: '5 min', ms: 5 * 60_000 },
  { label: '1 h', ms: 3_600_000 },
  { label: '24 h', ms: 24 * 3_600_000 },
] as const;
/** Bound on rows per chart however long the page stays open. */
const MAX_ROWS = 20_000;
let rangeMs: number = RANGES[1].ms;

interface MetricCharts {
  signal: Chart;
  score: Chart;
  detectors: string[];
}

const markOf = (a: Anomaly): Mark => ({
  t: a.time / 1000,
  severity: a.severity,
  ...(a.value === undefined ? {} : { v: a.value }),
});

export function signals(root: HTMLElement, sel: { site?: string; asset?: string }): () => void {
  let charts = new Map<string, MetricCharts>();
  let other: { chart: Chart; detectors: string[] } | undefined;
  let offs: Array<() => void> = [];
  let generation = 0;
  const picker = h('select', { 'aria-label': 'asset' });
  const rangeButtons = RANGES.map((r) =>
    h('button', { class: r.ms === rangeMs ? 'active' : '', onclick: () => setRange(r.ms) }, r.label),
  );
  const body = h('div');
  const status = h('span', { class: 'muted' });
  /** A chosen past range; undefined means "the last rangeMs, live". */
  let custom: { from: number; to: number } | undefined;
  const fromInput = h('input', { type: 'datetime-local', id: 'range-from', 'aria-label': 'from' });
  const toInput = h('input', { type: 'datetime-local', id: 'range-to', 'aria-label': 'to' });
  const rangeError = h('span', { class: 'error' });
  const applyRange = h(
    'button',
    {
      id: 'range-apply',
      onclick: () => {
        const f = Date.parse(fromInput.value);
        const t = toInput.value ? Date.parse(toInput.value) : Date.now();
        if (!Number.isFinite(f) || !Number.isFinite(t) || f >= t) {
          rangeError.textContent = 'choose a start before the end';
          return;
        }
        rangeError.textContent = '';
        custom = { from: f, to: t };
        RANGES.forEach((_, i) => rangeButtons[i]!.classList.remove('active'));
        void show();
      },
    },
    'Show range',
  );
  const allCharts = (): Chart[] => [
    ...[...charts.values()].flatMap((c) => [c.signal, c.score]),
    ...(other ? [other.chart] : []),
  ];
  const resetZoom = h(
    'button',
    {
      id: 'zoom-reset',
      onclick: () => {
        const to = custom?.to ?? Date.now();
        const from = custom?.from ?? to - rangeMs;
        for (const c of allCharts()) c.setRange(from / 1000, to / 1000);
      },
    },
    'Reset zoom',
  );
  /** A drag on one chart zooms every chart of the asset to the same span. */
  const syncZoom = (chart: Chart): void => {
    chart.onZoom = (from, to) => {
      for (const c of allCharts()) if (c !== chart) c.setRange(from, to);
      status.textContent = `zoomed to ${fmtTime(from * 1000)} → ${fmtTime(to * 1000)}`;
    };
  };

  const width = (): number => Math.max(300, body.clientWidth - 8);
  const teardown = (): void => {
    for (const off of offs) off();
    offs = [];
    for (const c of charts.values()) {
      c.signal.destroy();
      c.score.destroy();
    }
    charts = new Map();
    other?.chart.destroy();
    other = undefined;
  };

  function setRange(ms: number): void {
    rangeMs = ms;
    custom = undefined;
    RANGES.forEach((r, i) => rangeButtons[i]!.classList.toggle('active', r.ms === ms));
    void show();
  }

  async function show(): Promise<void> {
    const gen = ++generation;
    teardown();
    const { site, asset } = sel;
    if (!site || !asset) {
      mount(body, h('p', { class: 'muted' }, 'Choose an asset.'));
      return;
    }
    status.textContent = 'loading…';
    const to = custom?.to ?? Date.now();
    const from = custom?.from ?? to - rangeMs;
    fromInput.value = toLocalInput(from);
    toInput.value = toLocalInput(to);
    const maxPoints = Math.min(5000, Math.max(200, width()));
    try {
      const assets = await api.assets();
      const summary = assets.find((a) => a.site === site && a.asset === asset);
      if (!summary) throw new Error(`asset ${site}/${asset} is not known`);
      const [series, scores, anomalies, incidents] = await Promise.all([
        Promise.all(
          summary.metrics.map((m) => api.series({ site, asset, metric: m.metric, from, to, max_points: maxPoints })),
        ),
        api.scores({ site, asset, from, to, max_points: maxPoints }),
        api.anomalies({ asset, from, to, limit: 2000 }),
        api.incidents({ asset, from, to, limit: 200 }),
      ]);
      if (gen !== generation) return;
      const blocks: HTMLElement[] = [];
      const metricNames = new Set(summary.metrics.map((m) => m.metric));
      summary.metrics.forEach((m, i) => {
        const sigEl = h('div', { class: 'chart' });
        const scoreEl = h('div', { class: 'chart' });
        blocks.push(
          h(
            'section',
            { class: 'panel' },
            h('div', { class: 'chart-title' }, `${m.metric} (${m.unit})`),
            sigEl,
            h('div', { class: 'chart-title' }, 'anomaly score'),
            scoreEl,
          ),
        );
        const anoms = anomalies.filter((a) => a.metric === undefined || a.metric === m.metric);
        // Shaded: the incidents this asset took part in, and runs of its anomalies.
        const periods = [
          ...incidents.map((i) => ({ from: i.startTime, to: i.endTime ?? i.lastTime })),
          ...periodsOf(
            anoms.map((a) => a.time),
            PERIOD_GAP_MS,
          ),
        ].map((p) => ({ from: p.from / 1000, to: p.to / 1000 }));
        const signal = createChart(sigEl, {
          series: [m.metric],
          width: width(),
          height: 180,
          marks: anoms.map(markOf),
          periods,
        });
        syncZoom(signal);
        signal.data = columns(1);
        for (const p of series[i] ?? []) upsert(signal.data, p.time / 1000, 0, p.value);
        signal.redraw();
        const own = fromPoints(
          scores.filter((s) => s.metric === m.metric),
          (s) => s.detector,
          (s) => s.time,
          (s) => s.score,
        );
        const score = createChart(scoreEl, {
          series: own.keys,
          width: width(),
          height: 110,
          unitRange: [0, 1],
          periods,
        });
        syncZoom(score);
        score.data = own.data;
        score.redraw();
        charts.set(m.metric, { signal, score, detectors: own.keys });
      });
      mount(body, blocks.length ? blocks : h('p', { class: 'muted' }, 'This asset has no metrics.'));
      // Scores not tied to one of the asset's metrics (multivariate or media detectors).
      const rest = scores.filter((s) => !metricNames.has(s.metric));
      if (rest.length) {
        const agg = fromPoints(
          rest,
          (s) => `${s.detector}${s.metric ? `:${s.metric}` : ''}`,
          (s) => s.time,
          (s) => s.score,
        );
        const o = ensureOther(agg.keys);
        o.chart.data = agg.data;
        o.chart.redraw();
      }
      status.textContent = `${fmtTime(from)} → ${custom ? fmtTime(to) : 'now'} · ${anomalies.length} anomalies`;
      // A chosen past range is a fixed picture; only the rolling window follows the stream.
      if (!custom) subscribe(site, asset, metricNames);
    } catch (err) {
      if (gen !== generation) return;
      status.textContent = '';
      mount(
        body,
        h('p', { class: 'error' }, `Could not load signals: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
  }

  /** The asset-level score chart, created when the first such score shows up. */
  function ensureOther(keys: string[] = []): { chart: Chart; detectors: string[] } {
    if (other) return other;
    const el = h('div', { class: 'chart' });
    body.appendChild(
      h('section', { class: 'panel' }, h('div', { class: 'chart-title' }, 'asset-level anomaly scores'), el),
    );
    other = {
      chart: createChart(el, { series: keys, width: width(), height: 110, unitRange: [0, 1] }),
      detectors: [...keys],
    };
    syncZoom(other.chart);
    return other;
  }

  function keep(d: Columns): void {
    trimBefore(d, (Date.now() - rangeMs) / 1000);
    capRows(d, MAX_ROWS);
  }

  function subscribe(site: string, asset: string, metricNames: Set<string>): void {
    offs.push(
      onLive('reading', (r) => {
        if (r.site !== site || r.asset !== asset) return;
        const c = charts.get(r.metric);
        if (!c) return;
        upsert(c.signal.data, r.time / 1000, 0, r.value);
        keep(c.signal.data);
        c.signal.redraw();
      }),
      onLive('score', (s) => {
        if (s.site !== site || s.asset !== asset) return;
        const own = metricNames.has(s.metric) ? charts.get(s.metric) : undefined;
        const target = own ? { chart: own.score, detectors: own.detectors } : ensureOther();
        const key = own ? s.detector : `${s.detector}${s.metric ? `:${s.metric}` : ''}`;
        let i = target.detectors.indexOf(key);
        if (i < 0) {
          // A detector first seen live gets its own line.
          target.detectors.push(key);
          i = target.chart.addSeries(key);
        }
        upsert(target.chart.data, s.time / 1000, i, s.score);
        keep(target.chart.data);
        target.chart.redraw();
      }),
      onLive('anomaly', (a) => {
        if (a.site !== site || a.asset !== asset) return;
        for (const [metric, c] of charts) {
          if (a.metric !== undefined && a.metric !== metric) continue;
          c.signal.marks.push(markOf(a));
          c.signal.redraw();
        }
      }),
    );
  }

  const onResize = (): void => {
    const w = width();
    for (const c of charts.values()) {
      c.signal.resize(w);
      c.score.resize(w);
    }
    other?.chart.resize(w);
  };
  window.addEventListener('resize', onResize);

  picker.addEventListener('change', () => {
    const [site, asset] = picker.value.split('\u0000');
    if (site && asset) location.hash = `#/signals/${encodeURIComponent(site)}/${encodeURIComponent(asset)}`;
  });

  mount(
    root,
    h('div', { class: 'toolbar' }, h('h2', null, 'Signals'), picker, rangeButtons, status),
    h('div', { class: 'toolbar' }, 'From', fromInput, 'to', toInput, applyRange, resetZoom, rangeError),
    body,
  );
  api.assets().then(
    (assets: AssetSummary[]) => {
      mount(
        picker,
        h('option', { value: '' }, '— asset —'),
        [...assets]
          .sort((a, b) => `${a.stage ?? ''}${a.asset}`.localeCompare(`${b.stage ?? ''}${b.asset}`))
          .map((a) =>
            h(
              'option',
              { value: `${a.site}\u0000${a.asset}`, selected: a.site === sel.site && a.asset === sel.asset },
              `${a.stage ? `${a.stage} · ` : ''}${a.asset} (${a.site})`,
            ),
          ),
      );
      if (!sel.site && assets[0]) {
        sel = { site: assets[0].site, asset: assets[0].asset };
        picker.value = `${sel.site}\u0000${sel.asset}`;
      }
      void show();
    },
    (err: unknown) => mount(body, h('p', { class: 'error' }, `Could not load assets: ${String(err)}`)),
  );

  return () => {
    generation++;
    teardown();
    window.removeEventListener('resize', onResize);
  };
}
