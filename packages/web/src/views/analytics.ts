/**
 * Analytics: the batch analyses of a chosen range (last hour, last 24 h or a custom from–to),
 * optionally of one asset. Per asset: a summary-statistics table, per metric a histogram with its
 * outlier bins in red and a trend line (window means and their rolling average, the drift split
 * marked and flagged), and a cluster scatter (first two principal components of the per-window
 * features) with outliers and members of tiny clusters marked; above them the batch findings.
 * Charts are SVG built with createElementNS; every label from data goes in as text.
 *
 * @example
 * const stop = analytics(rootEl);
 */
import type {
  AnalysisResult,
  Clustering,
  Drift,
  Histogram,
  SeriesStats,
  Trend,
} from '../../../core/src/analytics/types.ts';
import { findingsOf } from '../../../core/src/analytics/findings.ts';
import type { AssetSummary } from '../../../engine/src/runtime/types.ts';
import { api, getJSON } from '../api.ts';
import { fmtDuration, fmtTime, fmtValue } from '../format.ts';
import { h, mount } from '../h.ts';

const SPANS = [
  { value: '3600000', label: 'last hour' },
  { value: '86400000', label: 'last 24 h' },
  { value: 'custom', label: 'custom' },
] as const;

const C = {
  bar: '#58a6ff',
  outlier: '#f85149',
  tiny: '#d29922',
  line: '#30363d',
  text: '#8b949e',
  mean: '#8b949e',
  rolling: '#58a6ff',
  drift: '#f85149',
  split: '#d29922',
};
/** Cluster colours; outliers and tiny clusters have their own marks, so these stay calm. */
const PALETTE = ['#58a6ff', '#2ea043', '#a371f7', '#3fb950', '#79c0ff', '#56d4dd', '#bc8cff', '#7ee787'];
/** Scatter points drawn per asset; outliers and tiny-cluster members are always drawn. */
const MAX_SCATTER = 1200;

const NS = 'http://www.w3.org/2000/svg';
type SvgAttrs = Record<string, string | number>;

function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: SvgAttrs = {},
  ...kids: Node[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const k of kids) el.appendChild(k);
  return el;
}

/** SVG text and tooltips: always text nodes. */
function label(x: number, y: number, text: string, anchor = 'start', fill = C.text): SVGTextElement {
  const t = s('text', { x, y, 'text-anchor': anchor, fill, 'font-size': 11 });
  t.textContent = text;
  return t;
}
function tip(el: SVGElement, text: string): SVGElement {
  const t = s('title');
  t.textContent = text;
  el.appendChild(t);
  return el;
}

const W = 420;
const H = 170;
const PAD = { l: 30, r: 8, t: 8, b: 22 };

function frame(cls: string): SVGSVGElement {
  return s('svg', { class: cls, viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img' });
}

/** Linear scale from [d0, d1] to [r0, r1]; a flat domain maps to the middle. */
function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0;
  return span > 0 && Number.isFinite(span) ? (v) => r0 + ((v - d0) / span) * (r1 - r0) : () => (r0 + r1) / 2;
}

function axes(svg: SVGSVGElement, yLo: string, yHi: string, xLo: string, xHi: string): void {
  svg.append(
    s('line', { x1: PAD.l, y1: H - PAD.b, x2: W - PAD.r, y2: H - PAD.b, stroke: C.line }),
    s('line', { x1: PAD.l, y1: PAD.t, x2: PAD.l, y2: H - PAD.b, stroke: C.line }),
    // Inside the plot, right of the axis: value labels with units are wider than any fixed margin.
    label(PAD.l + 4, PAD.t + 10, yHi),
    label(PAD.l + 4, H - PAD.b - 4, yLo),
    label(PAD.l, H - 6, xLo),
    label(W - PAD.r, H - 6, xHi, 'end'),
  );
}

export function histogramChart(hg: Histogram, unit: string): SVGSVGElement {
  const svg = frame('chart-svg histogram');
  const n = hg.counts.length;
  const top = Math.max(1, ...hg.counts);
  const x = scale(0, n, PAD.l, W - PAD.r);
  // Square-root heights keep a handful of outlier values visible beside bins of thousands.
  const y = scale(0, Math.sqrt(top), H - PAD.b, PAD.t);
  const flagged = new Set(hg.outlierBins);
  axes(svg, '0', String(top), fmtValue(hg.lo, unit), fmtValue(hg.hi, unit));
  hg.counts.forEach((c, i) => {
    if (c === 0 && !flagged.has(i)) return;
    const out = flagged.has(i);
    const lo = hg.lo + i * hg.width;
    const first = hg.firstTime[i];
    const bar = s('rect', {
      class: out ? 'bin outlier' : 'bin',
      x: x(i) + 0.5,
      y: y(Math.sqrt(c)),
      width: Math.max(1, x(i + 1) - x(i) - 1),
      height: Math.max(out ? 2 : 0, H - PAD.b - y(Math.sqrt(c))),
      fill: out ? C.outlier : C.bar,
    });
    tip(
      bar,
      `[${fmtValue(lo, unit)}, ${fmtValue(lo + hg.width, unit)}): ${c}` +
        (out ? ' — outlier bin' : '') +
        (first !== null && first !== undefined ? `, first at ${fmtTime(first)}` : ''),
    );
    svg.appendChild(bar);
  });
  svg.dataset['outlierBins'] = String(hg.outlierBins.length);
  return svg;
}

export function trendChart(tr: Trend, drift: Drift | undefined, unit: string): SVGSVGElement {
  const svg = frame('chart-svg trend');
  const pts = tr.points;
  const t0 = pts[0]?.time ?? 0;
  const t1 = (pts[pts.length - 1]?.time ?? t0) + tr.windowMs;
  const vals = pts.flatMap((p) => [p.mean, p.rolling]);
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  const x = scale(t0, t1, PAD.l, W - PAD.r);
  const y = scale(lo, hi, H - PAD.b, PAD.t);
  axes(svg, fmtValue(lo, unit), fmtValue(hi, unit), fmtTime(t0).slice(11, 16), fmtTime(t1).slice(11, 16));
  const path = (key: 'mean' | 'rolling'): string =>
    pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.time + tr.windowMs / 2).toFixed(1)},${y(p[key]).toFixed(1)}`).join('');
  svg.append(
    s('path', { class: 'mean', d: path('mean'), fill: 'none', stroke: C.mean, 'stroke-width': 1, opacity: 0.6 }),
    s('path', { class: 'rolling', d: path('rolling'), fill: 'none', stroke: C.rolling, 'stroke-width': 2 }),
  );
  if (drift && drift.splitTime > t0 && drift.splitTime < t1) {
    const xs = x(drift.splitTime);
    const col = drift.drifted ? C.drift : C.split;
    svg.append(
      tip(
        s('line', { class: 'split', x1: xs, y1: PAD.t, x2: xs, y2: H - PAD.b, stroke: col, 'stroke-dasharray': '4 3' }),
        `periods split at ${fmtTime(drift.splitTime)}`,
      ),
      s('line', { x1: x(t0), x2: xs, y1: y(drift.before.mean), y2: y(drift.before.mean), stroke: col, opacity: 0.7 }),
      s('line', { x1: xs, x2: x(t1), y1: y(drift.after.mean), y2: y(drift.after.mean), stroke: col, opacity: 0.7 }),
    );
    if (drift.drifted) svg.append(label(W - PAD.r, PAD.t + 10, 'DRIFT', 'end', C.drift));
  }
  svg.dataset['points'] = String(pts.length);
  svg.dataset['drifted'] = String(drift?.drifted ?? false);
  return svg;
}

export function clusterChart(cl: Clustering): SVGSVGElement {
  const svg = frame('chart-svg scatter');
  svg.setAttribute('height', String(H + 60));
  svg.setAttribute('viewBox', `0 0 ${W} ${H + 60}`);
  const pts = cl.points;
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const x = scale(Math.min(...xs), Math.max(...xs), PAD.l, W - PAD.r);
  const y = scale(Math.min(...ys), Math.max(...ys), H + 60 - PAD.b, PAD.t);
  svg.append(
    s('line', { x1: PAD.l, y1: H + 60 - PAD.b, x2: W - PAD.r, y2: H + 60 - PAD.b, stroke: C.line }),
    s('line', { x1: PAD.l, y1: PAD.t, x2: PAD.l, y2: H + 60 - PAD.b, stroke: C.line }),
    label(W - PAD.r, H + 60 - 6, 'PC1', 'end'),
    label(PAD.l - 4, PAD.t + 10, 'PC2', 'end'),
  );
  const outliers = new Set(cl.outliers.map((p) => p.time));
  const tiny = new Set(cl.tinyClusters);
  const marked = pts.filter((p) => outliers.has(p.time) || tiny.has(p.cluster));
  const plain = pts.filter((p) => !outliers.has(p.time) && !tiny.has(p.cluster));
  const stride = Math.max(1, Math.ceil(plain.length / MAX_SCATTER));
  const what = (p: (typeof pts)[number]): string =>
    `${fmtTime(p.time)} · cluster ${p.cluster} · distance ${p.distance.toFixed(2)}` +
    (outliers.has(p.time) ? ' — outlier' : '') +
    (tiny.has(p.cluster) ? ' — tiny cluster' : '');
  plain.forEach((p, i) => {
    if (i % stride) return;
    svg.appendChild(
      tip(
        s('circle', {
          class: 'pt',
          cx: x(p.x).toFixed(1),
          cy: y(p.y).toFixed(1),
          r: 2.5,
          fill: PALETTE[p.cluster % PALETTE.length] ?? C.bar,
          opacity: 0.75,
        }),
        what(p),
      ),
    );
  });
  // Marked points last, so they sit on top of the ordinary ones.
  for (const p of marked) {
    const cx = x(p.x);
    const cy = y(p.y);
    const el = outliers.has(p.time)
      ? s('path', {
          class: 'pt outlier',
          d: `M${cx - 4},${cy - 4}L${cx + 4},${cy + 4}M${cx - 4},${cy + 4}L${cx + 4},${cy - 4}`,
          stroke: C.outlier,
          'stroke-width': 2,
        })
      : s('rect', {
          class: 'pt tiny',
          x: cx - 3.5,
          y: cy - 3.5,
          width: 7,
          height: 7,
          fill: 'none',
          stroke: C.tiny,
          'stroke-width': 2,
        });
    svg.appendChild(tip(el, what(p)));
  }
  svg.dataset['points'] = String(pts.length);
  svg.dataset['outliers'] = String(cl.outliers.length);
  svg.dataset['tiny'] = String(cl.tinyClusters.length);
  return svg;
}

function statsTable(rows: SeriesStats[], trends: Trend[], drifts: Drift[]): HTMLTableElement {
  const key = (x: { site: string; asset: string; metric: string }): string => `${x.site}/${x.asset}/${x.metric}`;
  const tr = new Map(trends.map((t) => [key(t), t]));
  const dr = new Map(drifts.map((d) => [key(d), d]));
  const num = (v: number, unit = ''): HTMLTableCellElement => h('td', { class: 'num' }, fmtValue(v, unit));
  return h(
    'table',
    { class: 'stats' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['metric', 'unit', 'count', 'mean', 'std', 'min', 'p05', 'p50', 'p95', 'max', 'slope / h', 'drift'].map((c) =>
          h('th', null, c),
        ),
      ),
    ),
    h(
      'tbody',
      null,
      rows.map((r) => {
        const d = dr.get(key(r));
        const slope = tr.get(key(r))?.slopePerHour;
        return h(
          'tr',
          null,
          h('td', null, r.metric),
          h('td', null, r.unit),
          h('td', { class: 'num' }, r.count),
          num(r.mean),
          num(r.std),
          num(r.min),
          num(r.percentiles.p05),
          num(r.percentiles.p50),
          num(r.percentiles.p95),
          num(r.max),
          slope === undefined ? h('td', null, '—') : num(slope),
          d === undefined
            ? h('td', null, '—')
            : h(
                'td',
                {
                  class: d.drifted ? 'error drift' : 'muted',
                  title: `PSI ${d.psi.toFixed(2)}, std ratio ${d.stdRatio.toFixed(2)}`,
                },
                `${d.drifted ? 'drifted' : 'stable'} (d = ${d.effectSize.toFixed(2)})`,
              ),
        );
      }),
    ),
  );
}

function chartBox(title: string, chart: SVGSVGElement, note?: string): HTMLElement {
  const box = h('div', { class: 'chart' }, h('div', { class: 'chart-title' }, title));
  box.appendChild(chart);
  if (note) box.appendChild(h('div', { class: 'muted' }, note));
  return box;
}

function findingsList(r: AnalysisResult): HTMLElement {
  const all = findingsOf(r).sort((a, b) => b.score - a.score || a.time - b.time);
  const shown = all.slice(0, 100);
  return h(
    'div',
    { class: 'panel', id: 'analytics-findings' },
    h('h3', null, `Batch findings (${all.length})`),
    all.length === 0
      ? h('p', { class: 'muted' }, 'Nothing atypical in this range.')
      : h(
          'ul',
          { class: 'findings' },
          shown.map((f) =>
            h(
              'li',
              null,
              h('span', { class: `badge sev-${f.severity}` }, f.severity),
              ' ',
              h('span', { class: 'muted' }, `${fmtTime(f.time)} · ${f.asset} · ${f.detectorType} · `),
              f.reason,
            ),
          ),
        ),
    all.length > shown.length ? h('p', { class: 'muted' }, `${all.length - shown.length} more not shown.`) : null,
  );
}

function render(r: AnalysisResult): HTMLElement[] {
  const assets = [...new Set(r.stats.map((x) => `${x.site}\u0000${x.asset}`))];
  const sections = assets.map((sa) => {
    const [site = '', asset = ''] = sa.split('\u0000');
    const mine = <T extends { site: string; asset: string }>(xs: T[]): T[] =>
      xs.filter((x) => x.site === site && x.asset === asset);
    const stats = mine(r.stats);
    const unitOf = new Map(stats.map((x) => [x.metric, x.unit]));
    const hist = mine(r.histograms);
    const trends = mine(r.trends);
    const drifts = mine(r.drifts);
    const cl = mine(r.clusterings)[0];
    const charts: HTMLElement[] = [];
    for (const x of stats) {
      const hg = hist.find((y) => y.metric === x.metric);
      const tr = trends.find((y) => y.metric === x.metric);
      const unit = unitOf.get(x.metric) ?? '';
      if (hg)
        charts.push(
          chartBox(
            `${x.metric} · histogram`,
            histogramChart(hg, unit),
            hg.outlierBins.length ? `${hg.outlierBins.length} outlier bin(s)` : undefined,
          ),
        );
      if (tr && tr.points.length > 0)
        charts.push(
          chartBox(
            `${x.metric} · trend (${fmtDuration(tr.windowMs)} windows, rolling ${tr.rollingWindows})`,
            trendChart(
              tr,
              drifts.find((d) => d.metric === x.metric),
              unit,
            ),
            `slope ${fmtValue(tr.slopePerHour, unit)} per hour`,
          ),
        );
    }
    if (cl && cl.points.length > 0)
      charts.push(
        chartBox(
          `clusters · k = ${cl.k} by ${cl.criterion} · ${fmtDuration(cl.windowMs)} windows`,
          clusterChart(cl),
          `${cl.points.length} windows; sizes ${cl.sizes.join(', ')}; ${cl.outliers.length} outlier(s) (×); ` +
            `tiny clusters (≤ ${cl.tinyClusterMax}): ${cl.tinyClusters.length ? cl.tinyClusters.join(', ') : 'none'} (□)`,
        ),
      );
    return h(
      'section',
      { class: 'panel analytics-asset', 'data-asset': asset },
      h('h3', null, `${asset} · ${site}`),
      statsTable(stats, trends, drifts),
      grid(h('div', { class: 'analytics-charts' }, charts)),
    );
  });
  return [findingsList(r), ...sections];
}

/** Charts side by side; CSSOM writes are allowed by the CSP where style attributes are not. */
function grid(el: HTMLElement): HTMLElement {
  el.style.display = 'flex';
  el.style.flexWrap = 'wrap';
  el.style.gap = '12px';
  return el;
}

/** A datetime-local value for an epoch-ms time, in local time. */
function localInput(ms: number): string {
  return new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

export function analytics(root: HTMLElement): () => void {
  const span = h(
    'select',
    { id: 'an-span', 'aria-label': 'time range' },
    SPANS.map((x, i) => h('option', { value: x.value, selected: i === 0 }, x.label)),
  );
  const now = Date.now();
  const from = h('input', {
    type: 'datetime-local',
    id: 'an-from',
    'aria-label': 'from',
    value: localInput(now - 3_600_000),
  });
  const to = h('input', { type: 'datetime-local', id: 'an-to', 'aria-label': 'to', value: localInput(now) });
  const asset = h('select', { id: 'an-asset', 'aria-label': 'asset' }, h('option', { value: '' }, 'all assets'));
  const run = h('button', { id: 'an-run' }, 'Analyse');
  const note = h('span', { class: 'muted', id: 'an-note' });
  const out = h('div', { id: 'analytics-out' });
  let seq = 0;
  let gone = false;

  const custom = (): void => {
    const on = span.value === 'custom';
    from.disabled = !on;
    to.disabled = !on;
  };

  const load = (): void => {
    const mine = ++seq;
    let range: { from: number; to: number };
    if (span.value === 'custom') {
      const f = Date.parse(from.value);
      const t = Date.parse(to.value);
      if (!Number.isFinite(f) || !Number.isFinite(t) || f >= t) {
        note.textContent = 'Choose a custom range with "from" before "to".';
        return;
      }
      range = { from: f, to: t };
    } else {
      const t = Date.now();
      range = { from: t - Number(span.value), to: t };
    }
    note.textContent = `Analysing ${fmtTime(range.from)} – ${fmtTime(range.to)} …`;
    run.disabled = true;
    delete out.dataset['ready'];
    const started = performance.now();
    getJSON<AnalysisResult>('/api/analytics', { ...range, asset: asset.value || undefined }).then(
      (r) => {
        if (gone || mine !== seq) return;
        run.disabled = false;
        mount(out, r.stats.length ? render(r) : h('p', { class: 'muted panel' }, 'No readings in this range.'));
        note.textContent =
          `${r.stats.length} series · ${fmtTime(r.from)} – ${fmtTime(r.to)} · ` +
          `${Math.round(performance.now() - started)} ms`;
        out.dataset['ready'] = '';
      },
      (err: unknown) => {
        if (gone || mine !== seq) return;
        run.disabled = false;
        note.textContent = `Could not analyse: ${err instanceof Error ? err.message : String(err)}`;
      },
    );
  };

  span.addEventListener('change', () => {
    custom();
    if (span.value !== 'custom') load();
  });
  asset.addEventListener('change', load);
  run.addEventListener('click', load);
  custom();

  mount(root, h('h2', null, 'Analytics'), h('div', { class: 'toolbar' }, span, from, to, asset, run, note), out);
  api.assets().then(
    (list: AssetSummary[]) => {
      if (gone) return;
      for (const a of [...list].sort((x, y) => x.asset.localeCompare(y.asset)))
        asset.appendChild(h('option', { value: a.asset }, a.asset));
    },
    () => undefined,
  );
  load();
  return () => {
    gone = true;
  };
}
