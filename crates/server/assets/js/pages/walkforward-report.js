// An ended walk-forward (`result` = the runs crate's WalkForwardReport):
// the verdict and the stitched out-of-sample metrics, the criteria with
// pass/fail marks, the stitched equity beside each fold's in-sample winner,
// the folds table, and how the winning parameters moved from fold to fold.

import { walkForwardCharts, foldColor } from '../charts/walkforward.js';
import { h } from '../dom.js';
import { date, int, metric, num, param, pct, time } from '../format.js';
import { notice } from '../ui/error-panel.js';
import { table } from '../ui/table.js';
import { CRITERIA } from './walkforward-fields.js';

/** A request's windows and criteria overrides, as chips for the run's header. */
export function windowsFacts(r) {
  const chips = [`mode=${r.mode ?? 'rolling'}`];
  if (r.inSample || r.outOfSample) chips.push(`inSample=${r.inSample ?? '—'}`, `outOfSample=${r.outOfSample ?? '—'}`);
  if (r.folds != null || r.oosFraction != null) chips.push(`folds=${r.folds ?? '—'}`, `oosFraction=${r.oosFraction ?? '—'}`);
  for (const [k, v] of Object.entries(r.criteria ?? {})) chips.push(`${k}=${param(v)}`);
  return h('p', { class: 'run-params' }, chips.map((c) => h('code', {}, c)));
}

/** Whether every time is at midnight UTC (then dates say enough). */
function dailyTimes(folds) {
  return folds.every((f) => [f.isFromMs, f.isToMs, f.oosFromMs, f.oosToMs].every((t) => t % 86_400_000 === 0));
}

function card(label, value, tone = '', testid = null) {
  return h('div', { class: `metric ${tone}`, 'data-testid': testid }, h('span', { class: 'metric-label' }, label), h('span', { class: 'metric-value' }, value));
}

const tone = (v) => (v == null || !Number.isFinite(v) ? '' : v >= 0 ? 'good' : 'bad');

/** The verdict: PASS when every criterion held (never for a cancelled run). */
function verdict(r) {
  const cls = r.passed ? 'verdict verdict-pass' : 'verdict verdict-fail';
  const why = r.cancelled
    ? 'Cancelled before every fold ran: a partial walk-forward never passes.'
    : r.passed
      ? 'Every criterion holds: the out-of-sample results support the optimization.'
      : `${int(r.checks.filter((c) => !c.passed).length)} of ${int(r.checks.length)} criteria fail.`;
  return h('div', { class: cls, 'data-testid': 'verdict' },
    h('span', { class: 'verdict-mark', 'aria-hidden': 'true' }, r.passed ? '✓' : '✗'),
    h('span', {}, h('strong', {}, r.passed ? 'PASS' : 'FAIL'), ' ', why));
}

function summary(r) {
  const s = r.stitched;
  return h('section', { class: 'card' },
    h('h2', {}, 'Out-of-sample result'),
    verdict(r),
    h('div', { class: 'metrics', 'data-testid': 'walkforward-summary' },
      card('Walk-forward efficiency', r.wfePct == null ? '— (undefined)' : pct(r.wfePct, 1), '', 'wfe'),
      card('Net profit', metric('netProfit', s.netProfit), tone(s.netProfit)),
      card('Total return %', pct(s.totalReturnPct), tone(s.totalReturnPct)),
      card('Annualized return % (OOS)', pct(s.annualizedReturnPct), tone(s.annualizedReturnPct)),
      card('Annualized return % (IS mean)', pct(r.isAnnualizedReturnPct), tone(r.isAnnualizedReturnPct)),
      card('Max drawdown %', pct(s.maxDrawdownPct)),
      card('Sharpe', num(s.sharpe, 3)),
      card('Sharpe t-statistic', num(s.sharpeTStat, 2)),
      card('Profitable folds', `${int(s.profitableFolds)} / ${int(s.folds)}`),
      card('Trades', int(s.tradeCount)),
      card('Final equity', metric('finalEquity', s.finalEquity)),
      card('Folds run', `${int(r.folds.length)} / ${int(r.plannedFolds)}`)),
    h('p', { class: 'muted small' },
      `${r.mode === 'anchored' ? 'Anchored' : 'Rolling'} windows · each fold's winner picked by ${r.maximize} over ${int(r.combinationsPerFold)} combination${r.combinationsPerFold === 1 ? '' : 's'} · `
      + 'WFE = out-of-sample annualized return ÷ the mean of the in-sample winners\' (undefined when that mean is ≤ 0).'));
}

/** The value of a criterion as measured, in its unit. */
function measured(c) {
  return c.value == null ? '— (undefined)' : pct(c.value, 1);
}

function criteriaSection(r) {
  const defaults = Object.fromEntries(CRITERIA.map((c) => [c.name, c.fallback]));
  const changed = Object.entries(r.criteria ?? {}).filter(([k, v]) => defaults[k] != null && defaults[k] !== v);
  return h('section', { class: 'card', 'data-testid': 'criteria' },
    h('h2', {}, 'Criteria'),
    table({
      caption: 'Pass/fail criteria',
      columns: [
        { key: 'rule', label: 'Criterion', render: (c) => c.rule },
        { key: 'value', label: 'Measured', num: true, render: measured },
        {
          key: 'passed',
          label: 'Result',
          render: (c) => h('span', { class: `mark ${c.passed ? 'mark-pass' : 'mark-fail'}`, 'data-testid': 'criterion-mark', 'data-passed': String(c.passed) },
            h('span', { 'aria-hidden': 'true' }, c.passed ? '✓ ' : '✗ '), c.passed ? 'Pass' : 'Fail'),
        },
      ],
      rows: r.checks,
      testid: 'criteria-table',
      empty: 'No criteria were measured.',
    }),
    changed.length
      ? h('p', { class: 'muted small' }, `Changed from the defaults: ${changed.map(([k, v]) => `${k} ${param(v)} (default ${defaults[k]})`).join(', ')}.`)
      : h('p', { class: 'muted small' }, 'The default thresholds.'));
}

function chartSection(r, ctx) {
  const oosBox = h('div', { class: 'chart', 'data-testid': 'oos-equity-chart' });
  const isBox = h('div', { class: 'chart', 'data-testid': 'is-equity-chart' });
  const section = h('section', { class: 'card' }, h('h2', {}, 'Equity'));
  if (!r.equityCurve?.length) {
    section.append(notice('No out-of-sample equity: no fold had a winner to trade.', 'warn'));
    return section;
  }
  const hasIs = r.folds.some((f) => f.winner?.isEquityCurve?.length);
  section.append(
    h('h3', {}, 'Stitched out-of-sample equity'),
    h('p', { class: 'hint' }, 'One account carried from fold to fold; each band is a fold\'s out-of-sample window, labelled where it starts.'),
    oosBox,
    h('h3', {}, 'In-sample equity of each fold\'s winner'),
    ...(hasIs
      ? [h('p', { class: 'hint' }, 'Each line is a fold\'s winner over the in-sample window it was picked on (from the initial cash), in the colour of the fold\'s band: it ends where that fold\'s out-of-sample trading begins.'), isBox]
      : [notice('This run stored no in-sample equity curves.')]),
    h('p', { class: 'legend-line' }, r.folds.filter((f) => !f.noBars).slice(0, 40).map((f) => h('span', { class: 'fold-key' },
      h('span', { class: 'swatch', style: `background:${foldColor(f.fold)}` }), `F${f.fold}`))));
  // draw once the boxes are in the page (the charts size to them)
  requestAnimationFrame(() => {
    if (ctx.alive) ctx.onCleanup(walkForwardCharts(oosBox, isBox, r.equityCurve, r.folds));
  });
  return section;
}

function foldsSection(r) {
  const at = dailyTimes(r.folds) ? date : time;
  const names = r.stability?.length ? r.stability.map((s) => s.name) : Object.keys(r.folds.find((f) => f.winner)?.winner.params ?? {});
  const span = (label, from, to) => h('span', { class: 'window' }, h('span', { class: 'window-kind' }, label), `${at(from)} → ${at(to)}`);
  const w = (f) => f.winner;
  const columns = [
    { key: 'fold', label: 'Fold', num: true, render: (f) => h('span', { class: 'fold-key' }, h('span', { class: 'swatch', style: `background:${foldColor(f.fold)}` }), int(f.fold)) },
    { key: 'windows', label: 'Windows', render: (f) => h('span', { class: 'windows' }, span('IS', f.isFromMs, f.isToMs), span('OOS', f.oosFromMs, f.oosToMs)) },
    ...names.map((n) => ({ key: `p.${n}`, label: n, num: true, render: (f) => (w(f) ? param(w(f).params?.[n]) : '—') })),
    { key: 'isFitness', label: 'IS fitness', num: true, render: (f) => metric('fitness', w(f)?.isFitness) },
    { key: 'isReturn', label: 'IS ret. %', num: true, render: (f) => metric('totalReturnPct', w(f)?.isMetrics?.totalReturnPct) },
    { key: 'isDd', label: 'IS DD %', num: true, render: (f) => metric('maxDrawdownPct', w(f)?.isMetrics?.maxDrawdownPct) },
    { key: 'oosProfit', label: 'OOS P&L', num: true, render: (f) => (w(f) ? h('span', { class: tone(w(f).oosMetrics?.netProfit) }, metric('netProfit', w(f).oosMetrics?.netProfit)) : '—') },
    { key: 'oosReturn', label: 'OOS ret. %', num: true, render: (f) => metric('totalReturnPct', w(f)?.oosMetrics?.totalReturnPct) },
    { key: 'oosDd', label: 'OOS DD %', num: true, render: (f) => metric('maxDrawdownPct', w(f)?.oosMetrics?.maxDrawdownPct) },
    { key: 'oosSharpe', label: 'OOS Sharpe', num: true, render: (f) => metric('sharpe', w(f)?.oosMetrics?.sharpe) },
    { key: 'oosTrades', label: 'OOS trades', num: true, render: (f) => metric('tradeCount', w(f)?.oosMetrics?.tradeCount) },
    { key: 'wfe', label: 'WFE %', num: true, render: (f) => (w(f)?.wfePct == null ? '—' : num(w(f).wfePct, 1)) },
    { key: 'equity', label: 'End equity', num: true, render: (f) => metric('finalEquity', f.endEquity) },
    { key: 'flags', label: 'Notes', render: flags },
  ];
  const foldsTable = table({ caption: 'Folds', columns, rows: r.folds, testid: 'folds-table', empty: 'No fold finished.' });
  foldsTable.classList.add('folds-table');
  return h('section', { class: 'card' },
    h('h2', {}, `Folds (${int(r.folds.length)}${r.folds.length < r.plannedFolds ? ` of ${int(r.plannedFolds)}` : ''})`),
    h('p', { class: 'hint' }, 'Windows are [start → end), the end excluded. IS: the in-sample optimization\'s winner (its fitness, return and maximum drawdown); OOS: that winner traded on the next window with the carried equity.'),
    foldsTable);
}

/** A fold's notes: closed at the end, no bars, no winner. */
function flags(f) {
  const out = [];
  if (f.noBars) out.push(h('span', { class: 'flag flag-warn', 'data-testid': 'flag-no-bars', title: 'A window held no bars (a gap in the data): the fold was skipped and counts in no criterion.' }, 'no bars'));
  else if (!f.winner) out.push(h('span', { class: 'flag flag-warn', title: 'Every in-sample trial failed: the out-of-sample window was spent flat.' }, 'no winner'));
  if (f.failed) out.push(h('span', { class: 'flag flag-warn', title: 'In-sample trials that failed (the winner is the best of the rest).' }, `${int(f.failed)} failed trial${f.failed === 1 ? '' : 's'}`));
  const pos = f.winner?.closedAtEnd;
  if (pos) {
    const side = pos.side ?? (pos.quantity < 0 ? 'short' : 'long');
    out.push(h('span', { class: 'flag', 'data-testid': 'flag-closed-at-end', title: `A ${side} position of ${num(pos.quantity, pos.quantity % 1 ? 4 : 0)} was still open at the window's end: it was marked at the last close (no exit commission).` },
      'closed at end'));
  }
  return out.length ? h('span', { class: 'flags' }, out) : '';
}

function stabilitySection(r) {
  if (!r.stability?.length) return null;
  return h('section', { class: 'card', 'data-testid': 'stability' },
    h('h2', {}, 'Parameter stability'),
    h('p', { class: 'hint' }, 'Each axis\'s winning value in every fold that had a winner. A robust optimum moves little: few distinct values, a small coefficient of variation.'),
    table({
      caption: 'Parameter stability',
      columns: [
        { key: 'name', label: 'Parameter', render: (s) => h('code', {}, s.name) },
        { key: 'values', label: 'Winner by fold', render: (s) => h('span', { class: 'chips' }, s.values.map((v) => h('code', {}, param(v)))) },
        { key: 'distinct', label: 'Distinct', num: true, render: (s) => int(s.distinct) },
        { key: 'mean', label: 'Mean', num: true, render: (s) => num(s.mean, 2) },
        { key: 'cv', label: 'CV', num: true, render: (s) => num(s.cv, 3) },
      ],
      rows: r.stability,
    }));
}

/** The report of stored walk-forward `run`; `ctx.onCleanup` disposes its charts. */
export function renderWalkForwardReport(run, ctx) {
  const r = run.result;
  return h('div', { class: 'walkforward-report', 'data-testid': 'walkforward-report' },
    summary(r),
    criteriaSection(r),
    chartSection(r, ctx),
    foldsSection(r),
    stabilitySection(r));
}
