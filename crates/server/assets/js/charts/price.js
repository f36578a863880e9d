// Candles of the run's period with a marker at every entry and exit.

import { COLORS, CandlestickSeries, byTime, createSeriesMarkers, makeChart, seconds } from './lwc.js';

/** The open time (s) of the bar holding instant `t` (s): the last bar opening at or before it. */
function barAt(times, t) {
  let lo = 0;
  let hi = times.length - 1;
  if (hi < 0) return t;
  if (t <= times[0]) return times[0];
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid] <= t) lo = mid;
    else hi = mid - 1;
  }
  return times[lo];
}

/** Entry and exit markers of `trades`, placed on the bars holding them. */
export function tradeMarkers(trades, times) {
  const markers = [];
  for (const t of trades) {
    const long = t.side === 'long';
    markers.push({
      time: barAt(times, seconds(t.entryTime)),
      position: long ? 'belowBar' : 'aboveBar',
      shape: long ? 'arrowUp' : 'arrowDown',
      color: long ? COLORS.up : COLORS.down,
      text: long ? 'Buy' : 'Short',
    });
    if (t.exitTime != null) {
      markers.push({
        time: barAt(times, seconds(t.exitTime)),
        position: long ? 'aboveBar' : 'belowBar',
        shape: 'circle',
        color: t.pnl >= 0 ? COLORS.up : COLORS.down,
        text: 'Exit',
      });
    }
  }
  return markers.sort((a, b) => a.time - b.time);
}

/**
 * Draws `bars` ([{time (ms), open, high, low, close}]) with the trades'
 * markers into `box`, prices with `decimals`. Returns a remover.
 */
export function priceChart(box, bars, trades, decimals = 2) {
  const data = byTime(bars.map((b) => ({ time: seconds(b.time), open: b.open, high: b.high, low: b.low, close: b.close })));
  const chart = makeChart(box);
  const series = chart.addSeries(CandlestickSeries, {
    upColor: COLORS.up,
    downColor: COLORS.down,
    borderVisible: false,
    wickUpColor: COLORS.up,
    wickDownColor: COLORS.down,
    priceFormat: { type: 'price', precision: decimals, minMove: 10 ** -decimals },
  });
  series.setData(data);
  createSeriesMarkers(series, tradeMarkers(trades, data.map((d) => d.time)));
  chart.timeScale().fitContent();
  return () => chart.remove();
}
