// A walk-forward's equity: the stitched out-of-sample account, and below it
// on the same time axis each fold's winner's in-sample equity. Every fold
// has a colour: its out-of-sample window is a band of that colour in both
// charts (so fold k's in-sample line ends where its band begins) and is
// labelled F1, F2, … where it starts. Both charts share one even time grid,
// so the axis reads as time and their views move together.

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

/**
 * The fold (1 = first) whose out-of-sample window holds each of `times`
 * (UTC seconds, ascending), or null: one walk over both, as the folds'
 * windows follow each other in time.
 */
function foldsAt(folds, times) {
  const out = new Array(times.length).fill(null);
  let k = 0;
  for (let i = 0; i < times.length; i += 1) {
    const ms = times[i] * 1000;
    while (k < folds.length && ms >= folds[k].oosToMs) k += 1;
    if (k < folds.length && ms >= folds[k].oosFromMs) out[i] = folds[k].fold;
  }
  return out;
}

/** Columns of the shared time grid: about one per pixel and a half of a wide chart. */
const COLUMNS = 1500;

/**
 * An even time grid over [first, last] (UTC seconds): the library spaces
 * points evenly whatever their times, so the curves are put on one grid
 * for the axis to read as time. Without it the thinned in-sample curves
 * would be squeezed beside the stitched curve's every bar.
 */
function timeGrid(first, last) {
  const step = Math.max(1, Math.ceil((last - first) / COLUMNS));
  const n = Math.floor((last - first) / step) + 1;
  return { first, step, n, times: Array.from({ length: n }, (_, i) => first + i * step) };
}

/**
 * `points` (ascending) on grid `g`: at each column from the first point's
 * to the last one's, the last value at or before the column's end — equity
 * holds between bars (nights, gaps, a fold spent flat).
 */
function onGrid(points, g) {
  if (!points.length) return [];
  const from = Math.floor((points[0].time - g.first) / g.step);
  const to = Math.floor((points[points.length - 1].time - g.first) / g.step);
  const out = [];
  let j = 0;
  let value = points[0].value;
  for (let i = from; i <= to; i += 1) {
    const end = g.first + (i + 1) * g.step;
    while (j < points.length && points[j].time < end) {
      value = points[j].value;
      j += 1;
    }
    out.push({ time: g.times[i], value });
  }
  return out;
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
  const at = foldsAt(folds, times);
  bands.setData(times.map((time, i) => {
    if (at[i] == null) return { time };
    const c = alpha(foldColor(at[i]), 0.1);
    return { time, value: 1, topColor: c, bottomColor: c, lineColor: c };
  }));
  return bands;
}

/** F1, F2, … at the first point of each fold's out-of-sample window (every k-th when there are many). */
function foldMarkers(folds, times) {
  const every = Math.max(1, Math.ceil(folds.length / 25));
  const at = foldsAt(folds, times);
  const markers = [];
  at.forEach((fold, i) => {
    if (fold == null || (fold - 1) % every || at[i - 1] === fold) return;
    markers.push({ time: times[i], position: 'aboveBar', shape: 'arrowDown', color: foldColor(fold), text: `F${fold}` });
  });
  return markers;
}

/**
 * Draws the stitched out-of-sample `equityCurve` ([{time (ms), equity}])
 * into `oosBox` and each fold's winner's `isEquityCurve` into `isBox`
 * (`folds`: the report's fold rows). Returns a function that removes both.
 */
export function walkForwardCharts(oosBox, isBox, equityCurve, folds) {
  const toPoints = (curve) => byTime(curve.map((p) => ({ time: seconds(p.time), value: p.equity })));
  const stitchedPoints = toPoints(equityCurve);
  const isPoints = folds
    .filter((f) => f.winner?.isEquityCurve?.length)
    .map((f) => ({ fold: f.fold, points: toPoints(f.winner.isEquityCurve) }));
  const ends = [stitchedPoints, ...isPoints.map((c) => c.points)].filter((p) => p.length).flatMap((p) => [p[0].time, p[p.length - 1].time]);
  const g = timeGrid(Math.min(...ends), Math.max(...ends));
  const oos = onGrid(stitchedPoints, g);
  const isCurves = isPoints.map((c) => ({ fold: c.fold, data: onGrid(c.points, g) }));
  // the whole grid under both charts: their logical ranges match and are kept in step
  const all = g.times.map((time) => ({ time }));
  const times = g.times;
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
