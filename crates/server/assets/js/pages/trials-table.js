// An optimization's trials: paged and sorted by the server (any metric,
// fitness, rank or parameter), sorted within the page when the server
// refuses the order; failed trials show their error and stack trace; any
// row can be backtested on its own.

import { ApiError, get, post } from '../api.js';
import { h, replace } from '../dom.js';
import { int, metric, param } from '../format.js';
import { go } from '../router.js';
import { notice } from '../ui/error-panel.js';
import { pager } from '../ui/pager.js';
import { statusBadge } from '../ui/status.js';
import { table } from '../ui/table.js';
import { rememberSubmission } from './run.js';

const PAGE = 25;
const METRICS = ['netProfit', 'totalReturnPct', 'sharpe', 'maxDrawdownPct', 'winRate', 'tradeCount', 'profitFactor'];
const SHORT = {
  netProfit: 'Net profit', totalReturnPct: 'Return %', sharpe: 'Sharpe', maxDrawdownPct: 'Max DD %',
  winRate: 'Win %', tradeCount: 'Trades', profitFactor: 'PF',
};
/** Request fields an optimization shares with a backtest of one trial. */
const SHARED = ['timeframe', 'from', 'to', 'cash', 'commissionPct', 'commissionFixed', 'slippageTicks', 'sizePct', 'sizeQty'];

/** The body of a backtest of `trial` with the optimization's settings. */
export function backtestBody(run, trial) {
  const r = run.request ?? {};
  const body = { strategy: run.strategy, dataset: r.dataset ?? run.dataset, params: { ...(r.params ?? {}), ...trial.params } };
  for (const k of SHARED) if (r[k] != null) body[k] = r[k];
  return body;
}

function sortValue(t, key) {
  if (key === 'rank') return t.rank;
  if (key === 'fitness') return t.fitness;
  if (key.startsWith('params.')) return t.params?.[key.slice(7)];
  return t.metrics?.[key];
}

/** Sorts one page in the browser (nulls last, ties by rank). */
function sortPage(items, key, order) {
  const dir = order === 'asc' ? 1 : -1;
  return [...items].sort((a, b) => {
    const [x, y] = [sortValue(a, key), sortValue(b, key)];
    if (x == null && y == null) return a.rank - b.rank;
    if (x == null) return 1;
    if (y == null) return -1;
    if (x < y) return -dir;
    if (x > y) return dir;
    return a.rank - b.rank;
  });
}

function failure(t) {
  if (t.status !== 'Failed') return null;
  return h('details', { class: 'trial-error', 'data-testid': 'trial-error' },
    h('summary', {}, `Error: ${t.errorMessage ?? 'failed'}`),
    t.errorStackTrace ? h('pre', { tabindex: 0 }, t.errorStackTrace) : h('p', { class: 'muted' }, 'No stack trace was recorded.'));
}

/** The trials section of stored optimization `run`. */
export function trialsSection(run, ctx) {
  const names = Object.keys(run.result?.axes ?? {});
  const state = { offset: 0, sort: 'rank', order: 'asc', serverSort: true };
  const box = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading trials…'));
  const message = h('div');

  const backtest = async (trial, button) => {
    button.disabled = true;
    try {
      const sub = await post('/api/backtests', backtestBody(run, trial));
      rememberSubmission('backtest', sub);
      go(`#/backtests/${encodeURIComponent(sub.id)}`);
    } catch (e) {
      replace(message, notice(`Could not start the backtest: ${e.message}`, 'error'));
      button.disabled = false;
    }
  };

  const columns = [
    { key: 'rank', label: 'Rank', num: true, sortable: true, render: (t) => int(t.rank) },
    ...names.map((n) => ({ key: `params.${n}`, label: n, num: true, sortable: true, render: (t) => param(t.params?.[n]) })),
    { key: 'fitness', label: `Fitness`, num: true, sortable: true, render: (t) => metric('fitness', t.fitness) },
    ...METRICS.map((k) => ({ key: k, label: SHORT[k], num: true, sortable: true, render: (t) => metric(k, t.metrics?.[k]) })),
    { key: 'status', label: 'Status', render: (t) => statusBadge(t.status) },
    {
      key: 'actions',
      label: 'Actions',
      render: (t) => {
        const button = h('button', { type: 'button', class: 'small secondary', 'data-testid': 'backtest-trial' }, 'Backtest these parameters');
        button.addEventListener('click', () => backtest(t, button));
        return h('div', { class: 'row-actions' }, button,
          t.backtestId ? h('a', { href: `#/backtests/${encodeURIComponent(t.backtestId)}`, class: 'small' }, 'Kept report') : null);
      },
    },
  ];

  const onSort = (key) => {
    if (state.sort === key) state.order = state.order === 'asc' ? 'desc' : 'asc';
    else {
      state.sort = key;
      state.order = key === 'rank' ? 'asc' : 'desc';
    }
    state.offset = 0;
    state.refocus = key;
    load();
  };

  const fetchPage = async () => {
    const path = `/api/optimizations/${encodeURIComponent(run.id)}/trials`;
    const base = { offset: state.offset, limit: PAGE };
    if (state.serverSort) {
      try {
        return await get(path, { ...base, sort: state.sort, order: state.order }, { signal: ctx.signal });
      } catch (e) {
        if (!(e instanceof ApiError && (e.status === 422 || e.status === 400) && ['sort', 'order', null].includes(e.field))) throw e;
        state.serverSort = false;
      }
    }
    const page = await get(path, base, { signal: ctx.signal });
    return { ...page, items: sortPage(page.items, state.sort, state.order) };
  };

  const load = async () => {
    box.setAttribute('aria-busy', 'true');
    try {
      const page = await fetchPage();
      if (!ctx.alive) return;
      box.removeAttribute('aria-busy');
      replace(box,
        state.serverSort || state.sort === 'rank' ? null : notice('This server cannot sort trials: the order applies within this page only.', 'warn'),
        table({
          columns,
          rows: page.items,
          caption: 'Trials',
          sort: { key: state.sort, order: state.order },
          onSort,
          rowExtra: failure,
          empty: 'No trials ran.',
          testid: 'trials-table',
        }),
        page.total > PAGE
          ? pager({ offset: state.offset, limit: PAGE, total: page.total, label: 'Trials pages', onPage: (o) => { state.offset = o; load(); } })
          : null);
      if (state.refocus) {
        box.querySelector(`[data-sort-key="${CSS.escape(state.refocus)}"]`)?.focus();
        state.refocus = null;
      }
    } catch (e) {
      if (!ctx.alive || e.name === 'AbortError') return;
      replace(box, notice(`Could not load the trials: ${e.message}`, 'error'));
    }
  };
  load();
  return h('section', { class: 'card' },
    h('h2', {}, `Trials (${int(run.result?.trialCount ?? (run.completed ?? 0) + (run.failed ?? 0))})`),
    h('p', { class: 'hint' }, 'Sort by any column; “Backtest these parameters” runs that trial on its own, with its full report.'),
    message, box);
}
