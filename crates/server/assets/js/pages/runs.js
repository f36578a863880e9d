// The runs list: backtests, optimizations and walk-forwards, newest first
// (runs in flight on top), filtered by kind and status, paged, with live
// progress.

import { get } from '../api.js';
import { h, replace } from '../dom.js';
import { ago, int, metric, time } from '../format.js';
import { KINDS, kindOf } from '../kinds.js';
import { go, link } from '../router.js';
import { notice } from '../ui/error-panel.js';
import { pager } from '../ui/pager.js';
import { progressBar, setProgress, statusBadge } from '../ui/status.js';
import { table } from '../ui/table.js';

const PAGE = 25;
const REFRESH_MS = 2000;
const IDLE_REFRESH_MS = 15000;
const STATUSES = ['Pending', 'Running', 'Completed', 'Failed', 'Cancelled'];
const IN_FLIGHT = new Set(['Pending', 'Running']);

/** One page of `GET /api/runs`: every kind, newest first (in flight first). */
function loadPage(kind, status, offset, signal) {
  return get('/api/runs', { offset, limit: PAGE, status, kind: kind === 'all' ? undefined : KINDS[kind].apiKind }, { signal });
}

function runHref(run) {
  return `#/${KINDS[kindOf(run.kind)].section}/${encodeURIComponent(run.id)}`;
}

function unit(run) {
  return KINDS[kindOf(run.kind)].unit;
}

function progressCell(run) {
  const text = h('span', { class: 'progress-text' }, `${int(run.processed)} / ${int(run.total)} ${unit(run)}`);
  const failed = run.failed ? h('span', { class: 'failed-count' }, ` · ${int(run.failed)} failed`) : null;
  if (IN_FLIGHT.has(run.status)) {
    return h('div', { class: 'cell-progress' }, progressBar(run.processed, run.total, `Progress of ${run.strategy}`), text, failed);
  }
  return h('div', { class: 'cell-progress' }, text, failed);
}

function resultCell(run) {
  if (run.status === 'Failed') return h('span', { class: 'error-text', title: run.errorMessage ?? '' }, truncate(run.errorMessage ?? 'failed', 60));
  const wf = run.walkforward;
  if (wf) {
    // a walk-forward: its verdict, then its stitched out-of-sample account
    // (two short lines, so the list keeps its width)
    const cancelled = run.status === 'Cancelled';
    if (cancelled && wf.folds === 0) return h('span', { class: 'muted', 'data-testid': 'walkforward-result' }, 'partial · no fold ended');
    const verdict = cancelled ? 'partial' : wf.passed ? '✓ passed' : '✗ failed';
    return h('div', { 'data-testid': 'walkforward-result' },
      h('div', {},
        h('span', { class: cancelled ? 'muted' : wf.passed ? 'mark-pass' : 'mark-fail' }, verdict),
        ` · ${int(wf.profitableFolds)}/${int(wf.folds)} folds profitable`),
      h('div', { class: 'muted small' },
        `OOS ${metric('totalReturnPct', wf.oosReturnPct)}, DD ${metric('maxDrawdownPct', wf.oosMaxDrawdownPct)} · WFE ${metric('wfePct', wf.wfePct)}`));
  }
  const m = run.metrics;
  if (!m) return '—';
  return h('span', {}, `P&L ${metric('netProfit', m.netProfit)} · Sharpe ${metric('sharpe', m.sharpe)}`);
}

function truncate(s, n) {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

const COLUMNS = [
  {
    key: 'run',
    label: 'Run',
    render: (r) => h('a', { href: runHref(r), class: 'run-link' },
      h('span', { class: `kind kind-${kindOf(r.kind)}` }, KINDS[kindOf(r.kind)].title), ' ', r.strategy),
  },
  { key: 'status', label: 'Status', render: (r) => statusBadge(r.status) },
  { key: 'dataset', label: 'Data', render: (r) => `${r.dataset}${r.timeframe ? ` · ${r.timeframe}` : ''}` },
  { key: 'progress', label: 'Progress', render: progressCell },
  { key: 'result', label: 'Result', render: resultCell },
  { key: 'submitted', label: 'Submitted', render: (r) => h('time', { datetime: new Date(r.submittedAtMs).toISOString(), title: time(r.submittedAtMs) }, ago(r.submittedAtMs)) },
];

function filters(kind, status) {
  const kindSelect = h('select', { id: 'runs-kind', name: 'kind' },
    [['all', 'All runs'], ...Object.entries(KINDS).map(([k, d]) => [k, d.plural])]
      .map(([v, l]) => h('option', { value: v, selected: v === kind }, l)));
  const statusSelect = h('select', { id: 'runs-status', name: 'status' },
    h('option', { value: '', selected: !status }, 'Any status'),
    STATUSES.map((s) => h('option', { value: s, selected: s === status }, s)));
  const apply = () => go(link('/runs', { kind: kindSelect.value === 'all' ? '' : kindSelect.value, status: statusSelect.value }));
  kindSelect.addEventListener('change', apply);
  statusSelect.addEventListener('change', apply);
  return h('div', { class: 'filters', role: 'group', 'aria-label': 'Filters' },
    h('div', { class: 'field inline' }, h('label', { for: 'runs-kind' }, 'Kind'), kindSelect),
    h('div', { class: 'field inline' }, h('label', { for: 'runs-status' }, 'Status'), statusSelect));
}

/** `#/runs?kind=&status=&offset=` */
export async function renderRuns(view, route, ctx) {
  const q = route.query;
  const kind = Object.hasOwn(KINDS, q.get('kind') ?? '') ? q.get('kind') : 'all';
  const status = STATUSES.includes(q.get('status')) ? q.get('status') : '';
  const offset = Math.max(0, Number.parseInt(q.get('offset') ?? '0', 10) || 0);

  const body = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading runs…'));
  view.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Runs'), h('a', { class: 'button primary', href: '#/new' }, 'New run')),
    filters(kind, status),
    body,
  );

  let shown = null; // {ids, rows: Map(id → {badge cell, progress cell})}
  let timer = null;
  ctx.onCleanup(() => clearTimeout(timer));

  const draw = (page) => {
    const ids = page.items.map((r) => r.id).join();
    if (shown && shown.ids === ids) {
      // same runs: update status and progress in place (keeps focus)
      for (const run of page.items) {
        const row = shown.rows.get(run.id);
        replace(row.status, statusBadge(run.status));
        const bar = row.progress.querySelector('.progress');
        if (bar && IN_FLIGHT.has(run.status)) {
          setProgress(bar, run.processed, run.total);
          row.progress.querySelector('.progress-text').textContent = `${int(run.processed)} / ${int(run.total)} ${unit(run)}`;
        } else {
          replace(row.progress, progressCell(run));
          replace(row.result, resultCell(run));
        }
      }
      return;
    }
    const t = table({
      columns: COLUMNS,
      rows: page.items,
      caption: 'Runs, newest first',
      empty: status || kind !== 'all' ? 'No runs match these filters.' : 'No runs yet: start one with “New run”.',
      testid: 'runs-table',
    });
    const rows = new Map();
    t.querySelectorAll('tbody tr').forEach((tr, i) => {
      const run = page.items[i];
      if (!run) return;
      tr.dataset.runId = run.id;
      rows.set(run.id, { status: tr.children[1], progress: tr.children[3], result: tr.children[4] });
    });
    shown = { ids, rows };
    replace(body, t,
      page.total > PAGE || offset > 0
        ? pager({
          offset,
          limit: PAGE,
          total: page.total,
          label: 'Runs pages',
          onPage: (o) => go(link('/runs', { kind: kind === 'all' ? '' : kind, status, offset: o || '' })),
        })
        : null);
  };

  const load = async () => {
    try {
      const page = await loadPage(kind, status, offset, ctx.signal);
      if (!ctx.alive) return;
      body.removeAttribute('aria-busy');
      draw(page);
      timer = setTimeout(load, page.items.some((r) => IN_FLIGHT.has(r.status)) ? REFRESH_MS : IDLE_REFRESH_MS);
    } catch (e) {
      if (!ctx.alive || e.name === 'AbortError') return;
      replace(body, notice(`Could not load the runs: ${e.message}`, 'error'));
    }
  };
  await load();
}
