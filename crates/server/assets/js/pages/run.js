// A run's page (`#/backtests/<id>`, `#/optimizations/<id>`,
// `#/walkforwards/<id>`): its live progress while it is in flight, turning
// into its report (or its error) when it ends, without a reload.

import { ApiError, get, post, runBase } from '../api.js';
import { h, replace } from '../dom.js';
import { date, param, time } from '../format.js';
import { TERMINAL, follow } from '../feed.js';
import { KINDS, kindOfSection } from '../kinds.js';
import { errorPanel, notice } from '../ui/error-panel.js';
import { progressPanel } from './progress.js';
import { renderBacktestReport } from './backtest-report.js';
import { renderOptimizationReport } from './optimization-report.js';
import { renderWalkForwardReport, windowsFacts } from './walkforward-report.js';

const submissions = new Map();

/** Keeps a fresh submission so its page shows progress at once. */
export function rememberSubmission(kind, sub) {
  submissions.set(`${kind}/${sub.id}`, sub);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The stored run once it has ended (the status answers briefly before). */
async function storedRun(kind, id, signal) {
  for (let attempt = 0; ; attempt += 1) {
    const run = await get(runBase(kind, id), null, { signal });
    if (run.request || attempt >= 20) return run;
    await sleep(250);
  }
}

function describe(kind, run) {
  const r = run.request ?? {};
  const bits = [run.strategy, run.dataset, run.timeframe].filter(Boolean);
  if (r.from || r.to) bits.push(`${r.from ?? 'start'} → ${r.to ?? 'end'}`);
  else if (run.fromMs != null || run.toMs != null) bits.push(`${date(run.fromMs)} → ${date(run.toMs)}`);
  const params = run.params ?? r.params;
  const axes = r.axes ? Object.entries(r.axes).map(([k, a]) => (Array.isArray(a) ? `${k} ∈ {${a.map(param).join(', ')}}` : `${k} = ${param(a.min)}..${param(a.max)} step ${param(a.step)}`)) : [];
  return h('div', { class: 'run-meta' },
    h('p', { class: 'run-facts' }, bits.join(' · ')),
    params && Object.keys(params).length
      ? h('p', { class: 'run-params' }, Object.entries(params).map(([k, v]) => h('code', {}, `${k}=${param(v)}`)))
      : null,
    axes.length ? h('p', { class: 'run-params' }, axes.map((a) => h('code', {}, a)), (r.constraints ?? []).map((c) => h('code', {}, c))) : null,
    kind === 'walkforward' ? windowsFacts(r) : null,
    run.submittedAtMs ? h('p', { class: 'muted small' }, `Submitted ${time(run.submittedAtMs)} UTC · id ${run.id}`) : null);
}

function endedView(kind, run, host, ctx) {
  const again = h('a', { class: 'button secondary', href: `#/new?from=${KINDS[kind].section}/${encodeURIComponent(run.id)}` }, 'Run again with changes');
  const parts = [];
  if (run.status === 'Failed') {
    parts.push(errorPanel(`This ${KINDS[kind].title.toLowerCase()} failed`, run.errorMessage, run.errorStackTrace));
  } else if (run.status === 'Cancelled') {
    parts.push(notice(kind !== 'backtest' && run.result
      ? `Cancelled: the report below covers the ${kind === 'walkforward' ? 'folds' : 'trials'} finished before the cancel.`
      : 'Cancelled before it finished: there is no report.', 'warn'));
  }
  replace(host, h('div', { class: 'actions' }, again), parts);
  if (kind === 'optimization' && run.result) host.append(renderOptimizationReport(run, ctx));
  else if (kind === 'walkforward' && run.result) host.append(renderWalkForwardReport(run, ctx));
  else if (kind === 'backtest' && run.status === 'Completed' && run.result) host.append(renderBacktestReport(run, ctx));
}

/** `#/backtests/<id>`, `#/optimizations/<id>` and `#/walkforwards/<id>`. */
export async function renderRun(view, route, ctx) {
  const [section, id] = route.parts;
  const kind = kindOfSection(section) ?? 'backtest';
  const title = KINDS[kind].title;
  const meta = h('div');
  const progressHost = h('div');
  const reportHost = h('div', { class: 'report', 'data-testid': 'report-host' });
  view.append(h('div', { class: 'page-head' }, h('h1', {}, title), h('a', { href: '#/runs' }, '← All runs')), meta, progressHost, reportHost);

  let panel = null;
  const showPanel = (status) => {
    if (!panel) {
      panel = progressPanel(kind, status, { onCancel: () => post(`${runBase(kind, id)}/cancel`) });
      ctx.onCleanup(() => panel.destroy());
      replace(progressHost, panel.el);
    } else {
      panel.update(status);
    }
  };

  const sub = submissions.get(`${kind}/${id}`);
  submissions.delete(`${kind}/${id}`);
  if (sub && !TERMINAL.has(sub.status)) showPanel({ ...sub, submittedAtMs: Date.now() });

  let run;
  try {
    run = await get(runBase(kind, id), null, { signal: ctx.signal });
  } catch (e) {
    if (!ctx.alive) return;
    if (e instanceof ApiError && e.status === 404) {
      replace(progressHost, notice(`No ${KINDS[kind].title.toLowerCase()} with id ${id}.`, 'error'));
      return;
    }
    throw e;
  }
  if (!ctx.alive) return;
  replace(meta, describe(kind, run));

  const finish = async (status) => {
    const stored = status.request ? status : await storedRun(kind, id, ctx.signal);
    if (!ctx.alive) return;
    showPanel(stored);
    panel.end(stored);
    replace(meta, describe(kind, stored));
    endedView(kind, stored, reportHost, ctx);
  };

  if (TERMINAL.has(run.status)) {
    await finish(run);
    return;
  }
  showPanel(run);
  const stop = follow(kind, id, {
    onStatus: (s) => ctx.alive && panel.update(s),
    onMode: (mode, why) => ctx.alive && panel.setMode(mode, why),
    onEnd: (s) => {
      if (!ctx.alive) return;
      panel.update(s);
      finish(s).catch((e) => {
        if (ctx.alive && e.name !== 'AbortError') replace(reportHost, notice(`Could not load the report: ${e.message}`, 'error'));
      });
    },
  });
  ctx.onCleanup(stop);
}
