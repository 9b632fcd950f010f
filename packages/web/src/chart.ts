/**
 * uPlot charts in the dashboard's dark style: a signal chart (one metric, anomaly marks
 * drawn on top) and a score chart (one line per detector, fixed 0..1 scale). Data updates
 * are coalesced into one redraw per animation frame so a fast stream stays cheap.
 *
 * @example
 * const c = createChart(el, { title: 'flow_m3h', series: ['flow'], width: 900, height: 180 });
 * c.data = fromPoints(...).data; c.redraw();
 */
import uPlot from 'uplot';
import type { Columns } from './series.ts';

const PALETTE = ['#58a6ff', '#d2a8ff', '#3fb950', '#f0883e', '#ff7b72', '#79c0ff', '#e3b341', '#56d4dd'];
const AXIS = { stroke: '#8b949e', grid: { stroke: '#30363d', width: 1 }, ticks: { stroke: '#30363d', width: 1 } };

/** A mark on a signal chart: time in seconds, and the value when the anomaly carried one. */
export interface Mark {
  t: number;
  v?: number;
  severity: 'info' | 'warning' | 'critical';
}
const MARK_COLOUR: Record<Mark['severity'], string> = { info: '#58a6ff', warning: '#d29922', critical: '#f85149' };

export interface ChartOptions {
  series: string[];
  width: number;
  height: number;
  /** Score charts pin y to 0..1. */
  unitRange?: [number, number];
  marks?: Mark[];
  /** Time spans (seconds) shaded behind the lines: anomaly periods, the incident window. */
  periods?: Array<{ from: number; to: number }>;
}

export interface Chart {
  data: Columns;
  marks: Mark[];
  /** Schedules a redraw on the next animation frame (several calls, one draw). */
  redraw(): void;
  /** Adds a line (a detector first seen live); returns its series index. */
  addSeries(label: string): number;
  resize(width: number): void;
  /** Shows [from, to] (seconds); a drag-selection on the chart does the same. */
  setRange(from: number, to: number): void;
  /** Called after the user zooms by dragging (seconds). */
  onZoom?: (from: number, to: number) => void;
  destroy(): void;
}

export function createChart(target: HTMLElement, o: ChartOptions): Chart {
  const marks: Mark[] = o.marks ?? [];
  const periods = o.periods ?? [];
  const drawPeriods = (u: uPlot): void => {
    if (!periods.length) return;
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.fillStyle = 'rgba(248, 81, 73, 0.16)';
    ctx.strokeStyle = 'rgba(248, 81, 73, 0.5)';
    for (const p of periods) {
      const x0 = Math.max(left, u.valToPos(p.from, 'x', true));
      // A single-instant period still gets a visible band (4 px).
      const x1 = Math.min(left + width, Math.max(u.valToPos(p.to, 'x', true), x0 + 4 * devicePixelRatio));
      if (x1 <= left || x0 >= left + width) continue;
      ctx.fillRect(x0, top, x1 - x0, height);
    }
    ctx.restore();
  };
  const drawMarks = (u: uPlot): void => {
    if (!marks.length) return;
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    for (const m of marks) {
      const x = u.valToPos(m.t, 'x', true);
      if (x < left || x > left + width) continue;
      ctx.strokeStyle = ctx.fillStyle = MARK_COLOUR[m.severity];
      if (m.v !== undefined && Number.isFinite(m.v)) {
        const y = u.valToPos(m.v, 'y', true);
        ctx.beginPath();
        ctx.arc(x, y, 5 * devicePixelRatio, 0, 2 * Math.PI);
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.stroke();
      } else {
        ctx.globalAlpha = 0.6;
        ctx.lineWidth = devicePixelRatio;
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
        ctx.globalAlpha = 1;
      }
    }
    ctx.restore();
  };

  const line = (label: string, i: number): uPlot.Series => ({
    label,
    stroke: PALETTE[i % PALETTE.length]!,
    width: 1.5,
    spanGaps: true,
    points: { show: false },
  });
  const opts: uPlot.Options = {
    width: o.width,
    height: o.height,
    series: [{}, ...o.series.map(line)],
    scales: { x: { time: true }, ...(o.unitRange ? { y: { range: o.unitRange } } : {}) },
    axes: [AXIS, { ...AXIS, size: 60 }],
    legend: { show: true, live: true },
    cursor: { drag: { x: true, y: false } },
    select: { show: true, left: 0, top: 0, width: 0, height: 0 },
    hooks: {
      drawClear: [drawPeriods],
      draw: [drawMarks],
      setSelect: [
        (u: uPlot) => {
          if (u.select.width <= 0) return;
          const from = u.posToVal(u.select.left, 'x');
          const to = u.posToVal(u.select.left + u.select.width, 'x');
          // Deferred: uPlot applies the zoom right after this hook.
          queueMicrotask(() => chart.onZoom?.(from, to));
        },
      ],
    },
  };
  const data = [[], ...o.series.map(() => [])] as unknown as Columns;
  const u = new uPlot(opts, data, target);
  let pending = false;
  const chart: Chart = {
    data,
    marks,
    redraw() {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        u.setData(chart.data);
      });
    },
    addSeries(label) {
      const i = chart.data.length - 1;
      (chart.data as Array<Array<number | null>>).push(chart.data[0].map(() => null));
      u.addSeries(line(label, i));
      chart.redraw();
      return i;
    },
    resize(width) {
      u.setSize({ width, height: o.height });
    },
    setRange(from, to) {
      u.setScale('x', { min: from, max: to });
    },
    destroy() {
      u.destroy();
    },
  };
  return chart;
}
