/**
 * One incident with all of its evidence side by side: the signal excerpt (incident period
 * shaded, anomalies marked), the log lines around it (escaped, highlighted) with their
 * templates, the audio clip with playback and a spectrogram computed here from the WAV, the
 * camera frame with a heat map of what changed since an earlier frame of the same camera, and
 * the image model's own heat map (its reconstruction error over the frame) when the evidence
 * carries one (`detail.heatmap_ref`).
 * Below: acknowledge, comment and resolve, and the timeline of who did what when.
 *
 * When the incident's own assets have no clip or frame, media of assets in the same process
 * stage in the same time window are shown (labelled as such): the pump next to the camera
 * that saw the intruder is evidence too.
 *
 * @example
 * const stop = incidentDetail(rootEl, 'inc-42');
 */
import type { Anomaly, Incident } from '../../../core/src/schema/events.ts';
import type { AssetSummary, StoredLog, StoredMedia } from '../../../engine/src/runtime/types.ts';
import type { IncidentAction } from '../../../engine/src/storage/duckdb-store.ts';
import { api, blobUrl } from '../api.ts';
import { createChart, type Chart } from '../chart.ts';
import { decodeWav, heatColour, spectrogram } from '../dsp.ts';
import { fmtDuration, fmtTime, fmtValue } from '../format.ts';
import { h, mount } from '../h.ts';
import { diffHeat } from '../imagediff.ts';
import { modelHeatmap } from '../heatmaps.ts';
import { onLive } from '../live.ts';
import { columns, upsert } from '../series.ts';
import { canAct, session } from '../session.ts';
import { periodsOf, splitHighlight } from '../text.ts';
import { sev, status } from './incidents.ts';

const BEFORE_MS = 5 * 60_000;
const AFTER_MS = 2 * 60_000;
const LOG_MARGIN_MS = 2 * 60_000;
/** Words that make a log line stand out (security and fault vocabulary). */
const HOT_WORDS = [
  'fail',
  'denied',
  'invalid',
  'alarm',
  'manual',
  'error',
  'unauthori',
  'trip',
  'accepted password',
  'overflow',
  'login',
];
const MAX_SIGNAL_CHARTS = 3;

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function panel(id: string, title: string, ...body: Array<HTMLElement | string>): HTMLElement {
  return h('section', { class: 'panel evidence', id }, h('h3', null, title), ...body);
}

/** Handling state from the audit trail: the last acknowledge/resolve wins. */
function handling(actions: readonly IncidentAction[]): string {
  const last = [...actions].reverse().find((a) => a.action !== 'comment');
  if (!last) return 'unacknowledged';
  return last.action === 'resolve' ? `resolved by ${last.actor}` : `acknowledged by ${last.actor}`;
}

export function incidentDetail(root: HTMLElement, id: string): () => void {
  let alive = true;
  const charts: Chart[] = [];
  const offs: Array<() => void> = [];
  mount(root, h('p', { class: 'muted' }, 'loading…'));

  const show = async (): Promise<void> => {
    const [inc, actions, assets] = await Promise.all([api.incident(id), api.actions(id), api.assets()]);
    if (!alive) return;
    const from = inc.startTime - BEFORE_MS;
    const end = inc.endTime ?? inc.lastTime;
    const to = end + AFTER_MS;

    const state = h('span', { class: 'badge handling', id: 'handling' }, handling(actions));
    const timeline = h('ol', { class: 'timeline', id: 'timeline' });
    const actionError = h('p', { class: 'error', role: 'alert' });
    const comment = h('textarea', {
      id: 'comment',
      rows: 2,
      maxlength: 2000,
      placeholder: 'comment',
      'aria-label': 'comment',
    });
    const allowed = canAct();
    const why = allowed ? undefined : `${session.me?.role ?? 'viewer'}s cannot change incidents`;
    const act = (action: IncidentAction['action']): void => {
      const text = comment.value.trim();
      if (action === 'comment' && !text) {
        actionError.textContent = 'write a comment first';
        return;
      }
      actionError.textContent = '';
      api.act(id, action, action === 'comment' ? text : undefined).then(
        (a) => {
          actions.push(a);
          if (action === 'comment') comment.value = '';
          state.textContent = handling(actions);
          renderTimeline();
        },
        (err: unknown) => (actionError.textContent = errText(err)),
      );
    };
    const button = (action: IncidentAction['action'], label: string): HTMLButtonElement =>
      h('button', { id: `act-${action}`, disabled: !allowed, title: why, onclick: () => act(action) }, label);

    const renderTimeline = (): void => {
      const items: Array<{ time: number; seq: number; node: HTMLElement }> = [
        { time: inc.startTime, seq: -3, node: h('span', null, 'incident started · ', inc.explanation) },
        { time: inc.lastTime, seq: -2, node: h('span', null, `last anomaly (${inc.anomalyCount} in all)`) },
      ];
      if (inc.endTime !== undefined)
        items.push({ time: inc.endTime, seq: -1, node: h('span', null, 'quiet: closed by the correlator') });
      for (const a of actions)
        items.push({
          time: a.time,
          seq: a.seq,
          node: h(
            'span',
            { class: `act act-${a.action}` },
            h('strong', null, a.actor),
            ` ${a.action === 'acknowledge' ? 'acknowledged' : a.action === 'resolve' ? 'resolved' : 'commented'}`,
            a.comment ? h('q', null, a.comment) : null,
          ),
        });
      items.sort((x, y) => x.time - y.time || x.seq - y.seq);
      mount(
        timeline,
        items.map((it) => h('li', null, h('time', null, fmtTime(it.time)), it.node)),
      );
    };
    renderTimeline();

    const ev = {
      signal: panel('ev-signal', 'Signals', h('p', { class: 'muted' }, 'loading…')),
      logs: panel('ev-logs', 'Logs', h('p', { class: 'muted' }, 'loading…')),
      audio: panel('ev-audio', 'Audio', h('p', { class: 'muted' }, 'loading…')),
      image: panel('ev-image', 'Camera', h('p', { class: 'muted' }, 'loading…')),
    };

    mount(
      root,
      h(
        'div',
        { class: 'toolbar' },
        h('a', { href: '#/incidents' }, '← incidents'),
        h('h2', null, `Incident ${inc.id}`),
        sev(inc.severity),
        status(inc.status),
        state,
      ),
      h(
        'section',
        { class: 'panel' },
        h('p', { class: 'explanation' }, inc.explanation),
        h(
          'dl',
          { class: 'kv' },
          [
            ['Assets', inc.assets.join(', ')],
            ['Stage', inc.stage ?? '—'],
            ['Started', fmtTime(inc.startTime)],
            ['Duration', fmtDuration(end - inc.startTime)],
            ['Modalities', inc.modalities.join(', ')],
            ['Anomalies', `${inc.anomalyCount} (peak score ${fmtValue(inc.peakScore)})`],
          ].map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
        ),
      ),
      h('div', { class: 'evidence-grid' }, ev.signal, ev.logs, ev.audio, ev.image),
      h(
        'section',
        { class: 'panel', id: 'actions' },
        h('h3', null, 'Handling'),
        h(
          'div',
          { class: 'actions' },
          button('acknowledge', 'Acknowledge'),
          button('resolve', 'Resolve'),
          comment,
          button('comment', 'Add comment'),
        ),
        why ? h('p', { class: 'muted' }, `Signed in as ${session.me?.name ?? '?'}: ${why}.`) : null,
        actionError,
        timeline,
      ),
      evidenceTable(inc.evidence),
    );

    const stageOf = new Map(assets.map((a) => [a.asset, a.stage ?? '']));
    // Each panel loads on its own: one failing source of evidence does not hide the others.
    const guard = (el: HTMLElement, p: Promise<void>): void => {
      p.catch((err: unknown) => {
        if (alive) mount(el, el.firstChild, h('p', { class: 'error' }, `Could not load: ${errText(err)}`));
      });
    };
    guard(
      ev.signal,
      showSignals(ev.signal, inc, assets, { from, to }, charts, () => alive),
    );
    guard(
      ev.logs,
      showLogs(ev.logs, inc, { from: inc.startTime - LOG_MARGIN_MS, to: end + LOG_MARGIN_MS }, () => alive),
    );
    const media = await relatedMedia(inc, stageOf, { from, to });
    if (!alive) return;
    guard(ev.audio, showAudio(ev.audio, inc, media.audio, media.audioRelated));
    guard(ev.image, showImage(ev.image, inc, media.image, media.imageRelated));

    offs.push(
      onLive('incident', (x) => {
        if (x.id === inc.id && x.revision > inc.revision) Object.assign(inc, x);
      }),
    );
  };
  show().catch((err: unknown) => {
    if (alive)
      mount(
        root,
        h('a', { href: '#/incidents' }, '← incidents'),
        h('p', { class: 'error' }, `Could not load incident: ${errText(err)}`),
      );
  });
  return () => {
    alive = false;
    for (const c of charts) c.destroy();
    for (const off of offs) off();
  };
}

function evidenceTable(evidence: readonly Anomaly[]): HTMLElement {
  return h(
    'section',
    { class: 'panel' },
    h('h3', null, 'Anomalies kept as evidence'),
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
        evidence.map((a) =>
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
  );
}

/** The metrics the evidence points at (reading anomalies first), else each asset's first metric. */
function signalChoices(
  inc: Incident,
  assets: readonly AssetSummary[],
): Array<{ asset: string; metric: string; unit: string }> {
  const known = new Map(assets.filter((a) => a.site === inc.site).map((a) => [a.asset, a]));
  const out: Array<{ asset: string; metric: string; unit: string }> = [];
  const add = (asset: string, metric: string): void => {
    const m = known.get(asset)?.metrics.find((x) => x.metric === metric);
    if (m && !out.some((o) => o.asset === asset && o.metric === metric)) out.push({ asset, metric, unit: m.unit });
  };
  for (const a of inc.evidence) if (a.metric !== undefined) add(a.asset, a.metric);
  for (const asset of inc.assets) {
    const first = known.get(asset)?.metrics[0];
    if (first) add(asset, first.metric);
  }
  return out.slice(0, MAX_SIGNAL_CHARTS);
}

async function showSignals(
  el: HTMLElement,
  inc: Incident,
  assets: readonly AssetSummary[],
  range: { from: number; to: number },
  charts: Chart[],
  alive: () => boolean,
): Promise<void> {
  const choices = signalChoices(inc, assets);
  const title = el.firstChild as HTMLElement;
  if (!choices.length) {
    mount(el, title, h('p', { class: 'muted' }, 'No sensor channels for these assets.'));
    return;
  }
  const [series, anomalies] = await Promise.all([
    Promise.all(
      choices.map((c) => api.series({ site: inc.site, asset: c.asset, metric: c.metric, ...range, max_points: 600 })),
    ),
    Promise.all(
      [...new Set(choices.map((c) => c.asset))].map((asset) => api.anomalies({ asset, ...range, limit: 1000 })),
    ),
  ]);
  if (!alive()) return;
  const allAnoms = anomalies.flat();
  mount(el, title);
  const width = Math.max(280, el.clientWidth - 24);
  choices.forEach((c, i) => {
    const box = h('div', { class: 'chart' });
    el.append(h('div', { class: 'chart-title' }, `${c.asset} · ${c.metric} (${c.unit})`), box);
    const mine = allAnoms.filter((a) => a.asset === c.asset && (a.metric === undefined || a.metric === c.metric));
    // The incident window, plus the periods where this channel itself was anomalous.
    const periods = [
      { from: inc.startTime / 1000, to: (inc.endTime ?? inc.lastTime) / 1000 },
      ...periodsOf(
        mine.map((a) => a.time),
        10_000,
      ).map((p) => ({ from: p.from / 1000, to: p.to / 1000 })),
    ];
    const chart = createChart(box, {
      series: [c.metric],
      width,
      height: 150,
      periods,
      marks: mine.map((a) => ({
        t: a.time / 1000,
        severity: a.severity,
        ...(a.value === undefined ? {} : { v: a.value }),
      })),
    });
    chart.data = columns(1);
    for (const p of series[i] ?? []) upsert(chart.data, p.time / 1000, 0, p.value);
    chart.redraw();
    charts.push(chart);
  });
  el.dataset['ready'] = String(choices.length);
}

async function showLogs(
  el: HTMLElement,
  inc: Incident,
  range: { from: number; to: number },
  alive: () => boolean,
): Promise<void> {
  const title = el.firstChild as HTMLElement;
  const perAsset = await Promise.all(inc.assets.map((asset) => api.logs({ asset, ...range, limit: 200 })));
  let lines: StoredLog[] = perAsset.flat();
  let scope = 'of the incident’s assets';
  if (!lines.length) {
    lines = await api.logs({ ...range, limit: 100 });
    scope = 'of the whole site (none from the incident’s assets)';
  }
  lines.sort((a, b) => a.time - b.time);
  const templates = await api.logTemplates({ ...range, limit: 8 });
  if (!alive()) return;
  const evidenceTimes = new Set(inc.evidence.filter((a) => a.modality === 'log').map((a) => a.time));
  const search = h('input', { type: 'search', placeholder: 'highlight…', 'aria-label': 'highlight', maxlength: 100 });
  const list = h('div', { class: 'loglines' });
  const render = (): void => {
    const terms = [...HOT_WORDS, ...(search.value.trim() ? [search.value.trim()] : [])];
    mount(
      list,
      lines.map((l) =>
        h(
          'div',
          { class: `log-line lvl-${l.level}${evidenceTimes.has(l.time) ? ' evidence-line' : ''}` },
          h('time', null, fmtTime(l.time).slice(11)),
          h('span', { class: 'lvl' }, l.level),
          h('span', { class: 'src' }, l.asset),
          // Text nodes and <mark> only: a hostile log line stays text.
          h(
            'span',
            { class: 'msg' },
            splitHighlight(l.message, terms).map((p) => (p.hit ? h('mark', null, p.text) : p.text)),
          ),
        ),
      ),
    );
  };
  search.addEventListener('input', render);
  render();
  mount(
    el,
    title,
    h(
      'p',
      { class: 'muted' },
      `${lines.length} lines ${scope}, ${fmtTime(range.from).slice(11)}–${fmtTime(range.to).slice(11)} `,
      search,
    ),
    list,
    templates.length
      ? h(
          'details',
          { class: 'templates' },
          h('summary', null, 'Rarest templates in this window'),
          h(
            'ul',
            null,
            templates.map((t) => h('li', null, h('code', null, t.template), ` ×${t.count} (${t.assets.join(', ')})`)),
          ),
        )
      : null,
  );
  el.dataset['ready'] = String(lines.length);
}

interface RelatedMedia {
  audio: StoredMedia[];
  image: StoredMedia[];
  audioRelated: boolean;
  imageRelated: boolean;
}

/** Media of the incident's assets; where a kind is missing, of assets in the same stages. */
async function relatedMedia(
  inc: Incident,
  stageOf: ReadonlyMap<string, string>,
  range: { from: number; to: number },
): Promise<RelatedMedia> {
  const fetchFor = async (assets: readonly string[]): Promise<StoredMedia[]> =>
    (await Promise.all(assets.map((asset) => api.media({ asset, ...range, limit: 60 })))).flat();
  const own = await fetchFor(inc.assets);
  let audio = own.filter((m) => m.kind === 'audio');
  let image = own.filter((m) => m.kind === 'image');
  let audioRelated = false;
  let imageRelated = false;
  if (!audio.length || !image.length) {
    const stages = new Set(inc.assets.map((a) => stageOf.get(a)).filter((s): s is string => !!s));
    if (inc.stage) stages.add(inc.stage);
    const neighbours = [...stageOf].filter(([a, s]) => stages.has(s) && !inc.assets.includes(a)).map(([a]) => a);
    const near = await fetchFor(neighbours);
    if (!audio.length) {
      audio = near.filter((m) => m.kind === 'audio');
      audioRelated = audio.length > 0;
    }
    if (!image.length) {
      image = near.filter((m) => m.kind === 'image');
      imageRelated = image.length > 0;
    }
  }
  return { audio, image, audioRelated, imageRelated };
}

/** The item closest to the strongest evidence of that modality, else to the incident start. */
function pick(items: readonly StoredMedia[], inc: Incident, modality: 'audio' | 'image'): StoredMedia | undefined {
  const ev = inc.evidence.filter(
    (a) => a.modality === modality || (a.metric ?? '').startsWith(modality === 'audio' ? 'audio_' : 'image_'),
  );
  const target = ev.length ? ev.reduce((a, b) => (b.score > a.score ? b : a)).time : inc.startTime;
  let best: StoredMedia | undefined;
  for (const m of items) if (!best || Math.abs(m.time - target) < Math.abs(best.time - target)) best = m;
  return best;
}

async function showAudio(el: HTMLElement, inc: Incident, clips: StoredMedia[], related: boolean): Promise<void> {
  const title = el.firstChild as HTMLElement;
  const clip = pick(clips, inc, 'audio');
  if (!clip) {
    mount(el, title, h('p', { class: 'muted' }, 'No audio clip for these assets in this time window.'));
    return;
  }
  const src = blobUrl(clip.media.sha256);
  const bytes = new Uint8Array(await (await fetch(src)).arrayBuffer());
  const pcm = decodeWav(bytes);
  const size = 512;
  const s = spectrogram(pcm.samples, { size, hop: size / 4, sampleRate: pcm.sampleRate });
  const canvas = h('canvas', {
    class: 'spectrogram',
    width: Math.max(1, s.frames),
    height: s.bins,
    'data-frames': s.frames,
    title: `spectrogram 0–${Math.round(pcm.sampleRate / 2)} Hz`,
  });
  const ctx = canvas.getContext('2d');
  if (ctx && s.frames > 0) {
    const img = ctx.createImageData(s.frames, s.bins);
    // dB scaled between the clip's own floor and peak, low frequencies at the bottom.
    let max = -Infinity;
    for (const v of s.db) if (v > max) max = v;
    const floor = max - 60;
    for (let f = 0; f < s.frames; f++)
      for (let b = 0; b < s.bins; b++) {
        const [r, g, bl] = heatColour((s.db[f * s.bins + b]! - floor) / (max - floor));
        const i = ((s.bins - 1 - b) * s.frames + f) * 4;
        img.data[i] = r;
        img.data[i + 1] = g;
        img.data[i + 2] = bl;
        img.data[i + 3] = 255;
      }
    ctx.putImageData(img, 0, 0);
  }
  mount(
    el,
    title,
    h(
      'p',
      { class: 'muted' },
      `${clip.asset} · ${fmtTime(clip.time)} · ${(pcm.samples.length / pcm.sampleRate).toFixed(1)} s at ${pcm.sampleRate} Hz`,
      related ? ' · same stage as the incident (no clip of its own assets)' : '',
    ),
    h('audio', { src, controls: true, preload: 'auto' }),
    canvas,
    h(
      'div',
      { class: 'axis-note muted' },
      `0 Hz (bottom) – ${Math.round(pcm.sampleRate / 2)} Hz (top), ${s.frames} frames of ${size} samples`,
    ),
  );
  el.dataset['ready'] = '1';
}

function loadImage(src: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`image ${src} did not load`));
    img.src = src;
  });
}

function pixels(img: HTMLImageElement): ImageData {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth;
  c.height = img.naturalHeight;
  const ctx = c.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(img, 0, 0);
  return ctx.getImageData(0, 0, c.width, c.height);
}

async function showImage(el: HTMLElement, inc: Incident, frames: StoredMedia[], related: boolean): Promise<void> {
  const title = el.firstChild as HTMLElement;
  const frame = pick(frames, inc, 'image');
  if (!frame) {
    mount(el, title, h('p', { class: 'muted' }, 'No camera frame for these assets in this time window.'));
    return;
  }
  // The reference: the last frame of the same camera at least a minute before the incident.
  const earlier = (
    await api.media({ asset: frame.asset, to: Math.min(frame.time, inc.startTime) - 60_000, limit: 5 })
  ).find((m) => m.kind === 'image');
  const src = blobUrl(frame.media.sha256);
  const after = await loadImage(src);
  const figure = h(
    'figure',
    null,
    h('img', { src, alt: `camera frame of ${frame.asset} at ${fmtTime(frame.time)}` }),
    h('figcaption', null, `${frame.asset} · ${fmtTime(frame.time)}`),
  );
  let heat: HTMLElement = h('p', { class: 'muted' }, 'No earlier frame of this camera to compare with.');
  if (earlier) {
    const before = await loadImage(blobUrl(earlier.media.sha256));
    const a = pixels(before);
    const b = pixels(after);
    if (a.width === b.width && a.height === b.height) {
      const d = diffHeat(a.data, b.data, b.width, b.height);
      const canvas = h('canvas', {
        class: 'heatmap',
        width: b.width,
        height: b.height,
        'data-changed-pct': d.changedPct.toFixed(2),
      });
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(after, 0, 0);
      const overlay = document.createElement('canvas');
      overlay.width = b.width;
      overlay.height = b.height;
      overlay.getContext('2d')!.putImageData(new ImageData(d.rgba, b.width, b.height), 0, 0);
      ctx.drawImage(overlay, 0, 0);
      heat = h(
        'figure',
        null,
        canvas,
        h('figcaption', null, `change vs ${fmtTime(earlier.time)}: ${d.changedPct.toFixed(1)} % of pixels`),
      );
    }
  }
  const hm = modelHeatmap(inc.evidence);
  const model = hm
    ? h(
        'figure',
        { class: 'model-heatmap' },
        h('img', { src: blobUrl(hm.sha256), alt: `model heat map of ${hm.asset} at ${fmtTime(hm.time)}` }),
        h(
          'figcaption',
          null,
          `image model heat map: where it fails to reconstruct ${hm.asset} · ${fmtTime(hm.time)} (on ${hm.detector})`,
        ),
      )
    : null;
  mount(
    el,
    title,
    related ? h('p', { class: 'muted' }, 'Same stage as the incident (no camera of its own assets).') : null,
    h('div', { class: 'frames' }, figure, heat, model),
  );
  el.dataset['ready'] = '1';
}
