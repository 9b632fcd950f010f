/**
 * The analysis report as one self-contained HTML file: summary tables, histograms (outlier bins
 * in red), trend lines with their rolling mean, drift, and a K-Means scatter per asset (first
 * two principal components, outliers marked), all as inline SVG — no scripts, no external
 * assets, every piece of text escaped.
 *
 * @example
 * await writeFile('analysis.html', renderHtmlReport(result, anomalies));
 */
import type { Anomaly } from '../../../core/src/schema/events.ts';
import type { AnalysisResult, Clustering, Histogram, Trend } from '../../../core/src/analytics/index.ts';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function esc(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => ESC[c] ?? c);
}
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3)) return v.toExponential(3);
  return Number(v.toFixed(4)).toString();
}
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const PALETTE = [
  '#1f77b4',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#17becf',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#aec7e8',
];

const W = 360;
const H = 150;
const PAD = 28;

function axisLabels(xLo: string, xHi: string, yLo: string, yHi: string): string {
  return (
    `<text x="${PAD}" y="${H - 4}" class="ax">${esc(xLo)}</text>` +
    `<text x="${W - 4}" y="${H - 4}" class="ax" text-anchor="end">${esc(xHi)}</text>` +
    `<text x="2" y="${H - PAD}" class="ax">${esc(yLo)}</text>` +
    `<text x="2" y="12" class="ax">${esc(yHi)}</text>`
  );
}

export function histogramSvg(h: Histogram): string {
  const max = Math.max(1, ...h.counts);
  const n = h.counts.length;
  const bw = (W - PAD - 4) / n;
  const flagged = new Set(h.outlierBins);
  // Square-root scale so a single outlier value is still visible beside a bin of thousands.
  const bars = h.counts
    .map((c, i) => {
      if (c === 0) return '';
      const bh = Math.max(1, Math.sqrt(c / max) * (H - PAD - 14));
      const cls = flagged.has(i) ? 'bar out' : 'bar';
      const from = h.lo + i * h.width;
      return `<rect class="${cls}" x="${(PAD + i * bw).toFixed(1)}" y="${(H - PAD - bh).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${bh.toFixed(1)}"><title>${esc(`[${fmt(from)}, ${fmt(from + h.width)}): ${c}${flagged.has(i) ? ' — outlier bin' : ''}`)}</title></rect>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(`histogram of ${h.asset} ${h.metric}`)}">${bars}${axisLabels(fmt(h.lo), fmt(h.hi), '0', `${max} (√ scale)`)}</svg>`;
}

export function trendSvg(t: Trend): string {
  const pts = t.points;
  if (pts.length === 0) return '';
  const t0 = pts[0]?.time ?? 0;
  const t1 = pts[pts.length - 1]?.time ?? t0 + 1;
  const ys = pts.flatMap((p) => [p.mean, p.rolling]);
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const sx = (x: number): number => PAD + ((x - t0) / Math.max(1, t1 - t0)) * (W - PAD - 4);
  const sy = (y: number): number => H - PAD - ((y - lo) / (hi - lo || 1)) * (H - PAD - 14);
  const line = (f: (p: (typeof pts)[number]) => number): string =>
    pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.time).toFixed(1)},${sy(f(p)).toFixed(1)}`).join('');
  return (
    `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(`trend of ${t.asset} ${t.metric}`)}">` +
    `<path class="raw" d="${line((p) => p.mean)}"/><path class="roll" d="${line((p) => p.rolling)}"/>` +
    `${axisLabels(iso(t0).slice(5, 16), iso(t1).slice(5, 16), fmt(lo), fmt(hi))}</svg>`
  );
}

export function scatterSvg(c: Clustering): string {
  const S = 320;
  const xs = c.points.map((p) => p.x);
  const ys = c.points.map((p) => p.y);
  const [xl, xh, yl, yh] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x: number): number => 10 + ((x - xl) / (xh - xl || 1)) * (S - 20);
  const sy = (y: number): number => S - 10 - ((y - yl) / (yh - yl || 1)) * (S - 20);
  const outl = new Set(c.outliers.map((p) => p.time));
  const tiny = new Set(c.tinyClusters);
  const marks = c.points
    .map((p) => {
      const x = sx(p.x).toFixed(1);
      const y = sy(p.y).toFixed(1);
      const title = `<title>${esc(`${iso(p.time)} cluster ${p.cluster}, distance ${fmt(p.distance)}`)}</title>`;
      if (outl.has(p.time))
        return `<path class="xo" d="M${Number(x) - 4},${Number(y) - 4}l8,8m0,-8l-8,8">${title}</path>`;
      const col = PALETTE[p.cluster % PALETTE.length] ?? '#000';
      return `<circle cx="${x}" cy="${y}" r="${tiny.has(p.cluster) ? 4 : 2.2}" fill="${col}" fill-opacity="0.7"${tiny.has(p.cluster) ? ' stroke="#d62728"' : ''}>${title}</circle>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${S} ${S}" width="${S}" height="${S}" role="img" aria-label="${esc(`clusters of ${c.asset}`)}"><rect x="0" y="0" width="${S}" height="${S}" fill="none" stroke="#ccc"/>${marks}</svg>`;
}

export function renderHtmlReport(
  r: AnalysisResult,
  findings: readonly Anomaly[],
  title = 'RETIMU-AD batch analysis',
): string {
  const assets = [...new Set(r.stats.map((s) => `${s.site}\u0000${s.asset}`))];
  const histBy = new Map(r.histograms.map((h) => [`${h.site}\u0000${h.asset}\u0000${h.metric}`, h]));
  const trendBy = new Map(r.trends.map((t) => [`${t.site}\u0000${t.asset}\u0000${t.metric}`, t]));
  const driftBy = new Map(r.drifts.map((d) => [`${d.site}\u0000${d.asset}\u0000${d.metric}`, d]));
  const clusterBy = new Map(r.clusterings.map((c) => [`${c.site}\u0000${c.asset}`, c]));
  const sections = assets.map((ak) => {
    const [site = '', asset = ''] = ak.split('\u0000');
    const series = r.stats.filter((s) => s.site === site && s.asset === asset);
    const rows = series
      .map((s) => {
        const d = driftBy.get(`${ak}\u0000${s.metric}`);
        const h = histBy.get(`${ak}\u0000${s.metric}`);
        const p = s.percentiles;
        return `<tr><td>${esc(s.metric)}</td><td>${esc(s.unit)}</td><td>${s.count}</td><td>${fmt(s.mean)}</td><td>${fmt(s.std)}</td><td>${fmt(s.min)}</td><td>${fmt(p.p01)}</td><td>${fmt(p.p05)}</td><td>${fmt(p.p25)}</td><td>${fmt(p.p50)}</td><td>${fmt(p.p75)}</td><td>${fmt(p.p95)}</td><td>${fmt(p.p99)}</td><td>${fmt(s.max)}</td><td>${h?.outlierBins.length ?? 0}</td><td${d?.drifted ? ' class="flag"' : ''}>${d ? `d=${fmt(d.effectSize)} PSI=${fmt(d.psi)}` : ''}</td></tr>`;
      })
      .join('');
    const charts = series
      .map((s) => {
        const h = histBy.get(`${ak}\u0000${s.metric}`);
        const t = trendBy.get(`${ak}\u0000${s.metric}`);
        return `<figure><figcaption>${esc(s.metric)} (${esc(s.unit)})${t ? ` — trend ${fmt(t.slopePerHour)}/h` : ''}</figcaption>${h ? histogramSvg(h) : ''}${t ? trendSvg(t) : ''}</figure>`;
      })
      .join('');
    const c = clusterBy.get(ak);
    const cluster = c
      ? `<h3>K-Means (${c.windowMs / 1000} s windows, ${c.features.length} features)</h3>
<p>k = ${c.k}, chosen by the highest mean silhouette among ${esc(c.candidates.map((x) => `k=${x.k}: ${x.silhouette.toFixed(3)}`).join(', '))}. Cluster sizes ${esc(c.sizes.join(', '))}; outliers (distance &gt; ${fmt(c.distanceThreshold)}): ${c.outliers.length}; tiny clusters (≤ ${c.tinyClusterMax} windows): ${esc(c.tinyClusters.join(', ') || 'none')}.</p>${scatterSvg(c)}`
      : '';
    return `<section><h2>${esc(site)} / ${esc(asset)}</h2>
<table><thead><tr><th>metric</th><th>unit</th><th>count</th><th>mean</th><th>std</th><th>min</th><th>p01</th><th>p05</th><th>p25</th><th>p50</th><th>p75</th><th>p95</th><th>p99</th><th>max</th><th>outlier bins</th><th>drift</th></tr></thead><tbody>${rows}</tbody></table>
<div class="charts">${charts}</div>${cluster}</section>`;
  });
  const findingRows = findings
    .map(
      (a) =>
        `<tr><td>${esc(iso(a.time))}</td><td>${esc(a.asset)}</td><td>${esc(a.metric ?? '')}</td><td>${esc(a.detectorType)}</td><td>${esc(a.severity)}</td><td>${a.score.toFixed(2)}</td><td>${esc(a.reason)}</td></tr>`,
    )
    .join('');
  const timings = Object.entries(r.timingsMs)
    .map(([k, v]) => `${esc(k)} ${v.toFixed(0)} ms`)
    .join(', ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}td:first-child,th:first-child{text-align:left}
.flag{background:#fdd}.charts{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0;border:1px solid #eee;padding:4px}figcaption{font-weight:600}
.bar{fill:#4c78a8}.bar.out{fill:#d62728}.raw{fill:none;stroke:#9ab;stroke-width:1}.roll{fill:none;stroke:#e45756;stroke-width:2}.ax{font-size:9px;fill:#666}.xo{stroke:#d62728;stroke-width:2}
</style></head><body>
<h1>${esc(title)}</h1>
<p>Engine ${esc(r.engine)}; ${esc(iso(r.from))} → ${esc(iso(r.to))}; ${r.stats.length} series, ${assets.length} assets, ${r.histogramBins} histogram bins; drift compares the halves split at ${esc(iso(r.drifts[0]?.splitTime ?? r.from))}. Timings: ${timings}.</p>
<h2>Findings (${findings.length}, written as batch anomalies)</h2>
<table><thead><tr><th>time</th><th>asset</th><th>metric</th><th>kind</th><th>severity</th><th>score</th><th>reason</th></tr></thead><tbody>${findingRows}</tbody></table>
${sections.join('\n')}
</body></html>
`;
}
