// The equity curve and its drawdown (% below the running peak).

import { AreaSeries, COLORS, byTime, makeChart, seconds, syncTimeScales } from './lwc.js';

/** Drawdown in % of the running peak at every point of the curve. */
export function drawdown(curve) {
  let peak = -Infinity;
  return curve.map((p) => {
    peak = Math.max(peak, p.value);
    return { time: p.time, value: peak > 0 ? ((p.value - peak) / peak) * 100 : 0 };
  });
}

/**
 * Draws `equityCurve` ([{time (ms), equity}]) into two containers.
 * Returns a function that removes the charts.
 */
export function equityCharts(equityBox, drawdownBox, equityCurve) {
  const curve = byTime(equityCurve.map((p) => ({ time: seconds(p.time), value: p.equity })));
  const equity = makeChart(equityBox);
  equity.addSeries(AreaSeries, {
    lineColor: COLORS.line,
    topColor: COLORS.lineFill,
    bottomColor: 'rgba(31, 79, 209, 0.02)',
    lineWidth: 2,
    priceFormat: { type: 'price', precision: 2, minMove: 0.01 },
  }).setData(curve);
  const dd = makeChart(drawdownBox);
  dd.addSeries(AreaSeries, {
    lineColor: COLORS.drawdown,
    topColor: 'rgba(220, 38, 38, 0.02)',
    bottomColor: COLORS.drawdownFill,
    invertFilledArea: false,
    lineWidth: 1,
    priceFormat: { type: 'custom', formatter: (v) => `${v.toFixed(2)} %` },
  }).setData(drawdown(curve));
  equity.timeScale().fitContent();
  dd.timeScale().fitContent();
  syncTimeScales([equity, dd]);
  return () => {
    equity.remove();
    dd.remove();
  };
}
