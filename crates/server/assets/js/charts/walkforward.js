// A walk-forward's equity: the stitched out-of-sample account, and below it
// on the same time axis each fold's winner's in-sample equity. Every fold
// has a colour: its out-of-sample window is a band of that colour in both
// charts (so fold k's in-sample line ends where its band begins) and is
// labelled F1, F2, … where it starts.

import { AreaSeries, COLORS, LineSeries, byTime, createSeriesMarkers, makeChart, seconds, syncTimeScales } from './lwc.js';

/** Fold colours, cycled (fold 1 = the first). */
export const FOLD_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** Fold `n`'s colour (1 = first). */
export function foldColor(n) {
  return FOLD_COLORS[(n - 1) % FOLD_COLORS.length];
}

function alpha(hex, a) {
  const v = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(v >> 16) & 255}, ${(v >> 8) & 255}, ${v & 255}, ${a})`;
}

/** The fold (1 = first) whose out-of-sample window holds `ms`, or null. */
function foldAt(folds, ms) {
  for (const f of folds) if (ms >= f.oosFromMs && ms < f.oosToMs) return f.fold;
  return null;
}

/**
 * Whitespace points at every time either chart shows: with the same
 * timeline under both, their logical ranges match and can be kept in step.
 */
function timeline(times) {
  return [...new Set(times)].sort((a, b) => a - b).map((time) => ({ time }));
}

/**
 * A full-height band over each fold's out-of-sample window, in its colour:
 * one area on a hidden scale of its own, coloured point by point (an area
 * is filled as one shape, so the bands stay even however dense the bars).
 */
function addBands(chart, folds, times) {
  const bands = chart.addSeries(AreaSeries, {
    priceScaleId: 'bands',
    lineVisible: false,
    lineWidth: 1,
    priceLineVisible: false,
    lastValueVisible: false,
    crosshairMarkerVisible: false,
    autoscaleInfoProvider: () => ({ priceRange: { minValue: 0, maxValue: 1 } }),
  });
  chart.priceScale('bands').applyOptions({ scaleMargins: { top: 0, bottom: 0 }, visible: false });
  const data = [];
  for (const t of times) {
    const fold = foldAt(folds, t * 1000);
    if (fold == null) data.push({ time: t });
    else {
      const c = alpha(foldColor(fold), 0.1);
      data.push({ time: t, value: 1, topColor: c, bottomColor: c, lineColor: c });
    }
  }
  bands.setData(data);
  return bands;
}

/** F1, F2, … at the first point of each fold's out-of-sample window (every k-th when there are many). */
function foldMarkers(folds, times) {
  const every = Math.max(1, Math.ceil(folds.length / 25));
  const markers = [];
  for (const f of folds) {
    if ((f.fold - 1) % every) continue;
    const t = times.find((x) => x * 1000 >= f.oosFromMs && x * 1000 < f.oosToMs);
    if (t != null) markers.push({ time: t, position: 'aboveBar', shape: 'arrowDown', color: foldColor(f.fold), text: `F${f.fold}` });
  }
  return markers;
}

/**
 * Draws the stitched out-of-sample `equityCurve` ([{time (ms), equity}])
 * into `oosBox` and each fold's winner's `isEquityCurve` into `isBox`
 * (`folds`: the report's fold rows). Returns a function that removes both.
 */
export function walkForwardCharts(oosBox, isBox, equityCurve, folds) {
  const oos = byTime(equityCurve.map((p) => ({ time: seconds(p.time), value: p.equity })));
  const isCurves = folds
    .filter((f) => f.winner?.isEquityCurve?.length)
    .map((f) => ({ fold: f.fold, data: byTime(f.winner.isEquityCurve.map((p) => ({ time: seconds(p.time), value: p.equity }))) }));
  const all = timeline([...oos.map((p) => p.time), ...isCurves.flatMap((c) => c.data.map((p) => p.time))]);
  const times = all.map((p) => p.time);
  const money = { type: 'price', precision: 2, minMove: 0.01 };

  const top = makeChart(oosBox);
  top.addSeries(LineSeries, { visible: false }).setData(all);
  addBands(top, folds, times);
  const stitched = top.addSeries(AreaSeries, {
    lineColor: COLORS.line,
    topColor: COLORS.lineFill,
    bottomColor: 'rgba(31, 79, 209, 0.02)',
    lineWidth: 2,
    priceFormat: money,
    title: 'Out-of-sample',
  });
  stitched.setData(oos);
  createSeriesMarkers(stitched, foldMarkers(folds, oos.map((p) => p.time)));

  const bottom = makeChart(isBox);
  bottom.addSeries(LineSeries, { visible: false }).setData(all);
  addBands(bottom, folds, times);
  for (const c of isCurves) {
    bottom.addSeries(LineSeries, {
      color: foldColor(c.fold),
      lineWidth: 2,
      priceFormat: money,
      priceLineVisible: false,
      lastValueVisible: false,
      crosshairMarkerVisible: false,
    }).setData(c.data);
  }

  // the whole period at first, however many bars (the library's default
  // least spacing of half a pixel a bar would show only the last years)
  for (const chart of [top, bottom]) {
    chart.timeScale().applyOptions({ minBarSpacing: 0.001 });
    chart.timeScale().fitContent();
  }
  syncTimeScales([top, bottom]);
  return () => {
    top.remove();
    bottom.remove();
  };
}
