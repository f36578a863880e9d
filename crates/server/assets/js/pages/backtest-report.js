// A completed backtest: headline metrics, equity and drawdown charts, the
// price chart with the trades' entries and exits, every metric, the trades.

import { ApiError, get } from '../api.js';
import { equityCharts } from '../charts/equity.js';
import { priceChart } from '../charts/price.js';
import { h, replace } from '../dom.js';
import { int, label, metric, money, num, time } from '../format.js';
import { notice } from '../ui/error-panel.js';
import { pager } from '../ui/pager.js';
import { table } from '../ui/table.js';

const HEADLINE = [
  'netProfit', 'totalReturnPct', 'annualizedReturnPct', 'maxDrawdownPct', 'sharpe', 'sortino',
  'profitFactor', 'winRate', 'tradeCount', 'exposurePct', 'totalCommission', 'finalEquity',
];
const TRADES_PAGE = 50;

function metricCards(m) {
  return h('div', { class: 'metrics', 'data-testid': 'metrics' }, HEADLINE.filter((k) => k in m).map((k) => {
    const v = m[k];
    const tone = ['netProfit', 'totalReturnPct', 'annualizedReturnPct'].includes(k) && Number.isFinite(v) ? (v >= 0 ? 'good' : 'bad') : '';
    return h('div', { class: `metric ${tone}` }, h('span', { class: 'metric-label' }, label(k)), h('span', { class: 'metric-value' }, metric(k, v)));
  }));
}

function allMetrics(m, result) {
  const rest = Object.keys(m).filter((k) => !HEADLINE.includes(k)).sort();
  const extra = [
    ['Rejected orders', int(result.rejectedOrders ?? 0)],
    ['Ambiguous bracket fills', int(result.ambiguousBracketFills ?? 0)],
    ['Net profit, favourable exits', metric('netProfit', result.optimisticNetProfit)],
    ['Sub-timeframe', result.subTimeframe ?? '—'],
  ];
  if (result.openPosition) extra.push(['Open position at the end', JSON.stringify(result.openPosition)]);
  return h('details', { class: 'more-metrics' },
    h('summary', {}, 'All metrics'),
    h('dl', { class: 'facts wide' },
      rest.map((k) => h('div', {}, h('dt', {}, label(k)), h('dd', {}, metric(k, m[k])))),
      extra.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v)))));
}

function tradesSection(trades) {
  const box = h('div');
  const digits = Math.max(2, ...trades.slice(0, 200).flatMap((t) => [decimalsOf(t.entryPrice), decimalsOf(t.exitPrice ?? 0)]));
  const price = (p) => (p == null ? '—' : num(p, Math.min(8, digits)));
  const columns = [
    { key: 'n', label: '#', num: true, render: (t) => int(t.n) },
    { key: 'side', label: 'Side', render: (t) => h('span', { class: `side side-${t.side}` }, t.side) },
    { key: 'entryTime', label: 'Entry', render: (t) => time(t.entryTime) },
    { key: 'entryPrice', label: 'Entry price', num: true, render: (t) => price(t.entryPrice) },
    { key: 'exitTime', label: 'Exit', render: (t) => time(t.exitTime) },
    { key: 'exitPrice', label: 'Exit price', num: true, render: (t) => price(t.exitPrice) },
    { key: 'quantity', label: 'Qty', num: true, render: (t) => num(t.quantity, t.quantity % 1 ? 4 : 0) },
    { key: 'pnl', label: 'P&L', num: true, render: (t) => h('span', { class: t.pnl >= 0 ? 'good' : 'bad' }, money(t.pnl)) },
    { key: 'commission', label: 'Commission', num: true, render: (t) => money(t.commission) },
    { key: 'exitReason', label: 'Exit reason', render: (t) => t.exitReason ?? '—' },
  ];
  const rows = trades.map((t, i) => ({ ...t, n: i + 1 }));
  const show = (offset) => {
    replace(box,
      table({ columns, rows: rows.slice(offset, offset + TRADES_PAGE), caption: 'Trades', empty: 'No trades.', testid: 'trades-table' }),
      rows.length > TRADES_PAGE ? pager({ offset, limit: TRADES_PAGE, total: rows.length, onPage: show, label: 'Trades pages' }) : null);
  };
  show(0);
  return h('section', { class: 'card' }, h('h2', {}, `Trades (${int(trades.length)})`), box);
}

/** Loads the period's candles and draws them with the trades. */
async function drawPrice(run, box, note, ctx) {
  const r = run.request ?? {};
  try {
    const answer = await get(`/api/datasets/${encodeURIComponent(run.dataset)}/bars`, {
      from: r.from, to: r.to, timeframe: run.timeframe,
    }, { signal: ctx.signal });
    if (!ctx.alive) return;
    if (!answer.bars?.length) {
      replace(box, notice('No bars in this period.', 'warn'));
      return;
    }
    const decimals = Math.max(0, Math.min(8, Math.max(...answer.bars.slice(0, 50).map((b) => decimalsOf(b.close)))));
    ctx.onCleanup(priceChart(box, answer.bars, run.result.trades ?? [], Math.max(2, decimals)));
    const bits = [`${int(answer.bars.length)} bars at ${answer.timeframe}`];
    if (answer.timeframe !== run.timeframe) bits.push(`(resampled from ${run.timeframe} to fit)`);
    if (answer.truncated) bits.push('— the last part of the period only');
    note.textContent = bits.join(' ');
  } catch (e) {
    if (!ctx.alive || e.name === 'AbortError') return;
    const why = e instanceof ApiError && e.status === 404
      ? `No candles for this chart: the server answered “${e.message}”.`
      : `Could not load the candles: ${e.message}`;
    box.classList.add('chart-empty');
    replace(box, notice(why, 'warn'));
  }
}

function decimalsOf(x) {
  const s = String(x);
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/** The report of stored backtest `run`; `ctx.onCleanup` disposes its charts. */
export function renderBacktestReport(run, ctx) {
  const result = run.result;
  const m = result.metrics ?? {};
  const equityBox = h('div', { class: 'chart', 'data-testid': 'equity-chart' });
  const ddBox = h('div', { class: 'chart chart-small', 'data-testid': 'drawdown-chart' });
  const priceBox = h('div', { class: 'chart chart-tall', 'data-testid': 'price-chart' });
  const priceNote = h('p', { class: 'muted small' });
  const el = h('div', { class: 'backtest-report', 'data-testid': 'backtest-report' },
    h('section', { class: 'card' }, h('h2', {}, 'Results'), metricCards(m), allMetrics(m, result)),
    h('section', { class: 'card' }, h('h2', {}, 'Equity'), equityBox, h('h3', {}, 'Drawdown'), ddBox),
    h('section', { class: 'card' },
      h('h2', {}, `Price and trades (${result.symbol ?? run.dataset})`),
      priceBox, priceNote,
      h('p', { class: 'legend-line' },
        h('span', { class: 'good' }, '▲ Buy'), ' ', h('span', { class: 'bad' }, '▼ Short'), ' ', h('span', {}, '● Exit (green: profit, red: loss)'))),
    tradesSection(result.trades ?? []));
  // draw once the boxes are in the page (the charts size to them)
  requestAnimationFrame(() => {
    if (!ctx.alive) return;
    ctx.onCleanup(equityCharts(equityBox, ddBox, result.equityCurve ?? []));
    drawPrice(run, priceBox, priceNote, ctx);
  });
  return el;
}
