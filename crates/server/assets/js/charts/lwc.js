// The vendored chart library with the dashboard's look.

import {
  AreaSeries,
  CandlestickSeries,
  ColorType,
  CrosshairMode,
  LineSeries,
  createChart,
  createSeriesMarkers,
} from '../../vendor/lightweight-charts.standalone.production.mjs';

export { AreaSeries, CandlestickSeries, LineSeries, createSeriesMarkers };

/** Colours shared by the charts. */
export const COLORS = {
  up: '#16a34a',
  down: '#dc2626',
  line: '#1f4fd1',
  lineFill: 'rgba(31, 79, 209, 0.18)',
  drawdown: '#dc2626',
  drawdownFill: 'rgba(220, 38, 38, 0.2)',
  text: '#334155',
  grid: '#eef2f7',
  border: '#d8dee8',
};

/** A chart filling `container` (resized with it). */
export function makeChart(container, options = {}) {
  return createChart(container, {
    autoSize: true,
    layout: {
      background: { type: ColorType.Solid, color: '#ffffff' },
      textColor: COLORS.text,
      fontFamily: getComputedStyle(document.body).fontFamily,
    },
    grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
    rightPriceScale: { borderColor: COLORS.border },
    timeScale: { borderColor: COLORS.border, timeVisible: true, secondsVisible: false },
    crosshair: { mode: CrosshairMode.Normal },
    ...options,
  });
}

/** ms since epoch → the library's UTC seconds. */
export function seconds(ms) {
  return Math.floor(ms / 1000);
}

/** Points sorted by time with one point per second (the last one wins). */
export function byTime(points) {
  const out = [];
  for (const p of [...points].sort((a, b) => a.time - b.time)) {
    if (out.length && out[out.length - 1].time === p.time) out[out.length - 1] = p;
    else out.push(p);
  }
  return out;
}

/** Keeps the visible ranges of charts in step. */
export function syncTimeScales(charts) {
  let busy = false;
  for (const chart of charts) {
    chart.timeScale().subscribeVisibleLogicalRangeChange((range) => {
      if (busy || !range) return;
      busy = true;
      for (const other of charts) if (other !== chart) other.timeScale().setVisibleLogicalRange(range);
      busy = false;
    });
  }
}
