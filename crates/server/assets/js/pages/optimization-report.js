// An ended optimization: its summary, a search's convergence (fitness by
// evaluation order), a heatmap of the fitness (or a metric) over two
// chosen parameters, and the trials table.

import { get } from '../api.js';
import { convergence } from '../charts/convergence.js';
import { heatmap } from '../charts/heatmap.js';
import { h, replace, uid } from '../dom.js';
import { duration, int, label, metric, num } from '../format.js';
import { notice } from '../ui/error-panel.js';
import { trialsSection } from './trials-table.js';

/** Most trials fetched for the heatmap (the best ones, by rank). */
const HEATMAP_TRIALS = 5000;
const VALUES = ['fitness', 'netProfit', 'totalReturnPct', 'sharpe', 'sortino', 'maxDrawdownPct', 'winRate', 'profitFactor', 'tradeCount'];

function summary(run) {
  const r = run.result;
  const best = r.trials?.find((t) => t.status === 'Completed' && t.fitness != null);
  const cards = [
    ['Combinations', int(r.totalCombinations ?? run.total)],
    ['Completed', int(r.completedCombinations ?? run.completed)],
    ['Failed', int(r.failedCombinations ?? run.failed)],
    ['Skipped by constraints', int(r.skippedCombinations ?? run.skipped)],
    [`Best ${r.maximize ?? 'fitness'}`, best ? metric('fitness', best.fitness) : '—'],
    ['Best net profit', best ? metric('netProfit', best.metrics?.netProfit) : '—'],
    ['Wall time', duration(r.wallTimeMs)],
    ['Threads', int(r.threads)],
  ];
  return h('div', { class: 'metrics', 'data-testid': 'optimization-summary' },
    cards.map(([k, v]) => h('div', { class: 'metric' }, h('span', { class: 'metric-label' }, k), h('span', { class: 'metric-value' }, v))));
}

/** Is the winner real: DSR at N and effective N, PSR, the winner's
 * neighbourhood, PBO with its logits and degradation, and the fitness
 * spread (`result.robustness`). */
function robustness(run) {
  const r = run.result.robustness;
  const section = h('section', { class: 'card', 'data-testid': 'robustness' }, h('h2', {}, 'Is the winner real?'));
  if (!r) {
    section.append(notice('No robustness statistics for this run (no completed trial, or stored before they existed).'));
    return section;
  }
  const s = r.sharpe;
  const n = r.neighbours;
  const f = r.fitnessSpread;
  const p = r.pbo;
  const cards = [
    ['Deflated Sharpe ratio', s ? `${num(s.dsr, 2)} (N = ${int(r.trials)})` : '—'],
    ['At effective N', s?.dsrEffective != null ? `${num(s.dsrEffective, 2)} (N ≈ ${int(s.effectiveTrials)})` : '—'],
    ['Probabilistic Sharpe ratio', s ? num(s.psr, 2) : '—'],
    ['Neighbours keep', n?.meanRatio != null ? `${num(n.meanRatio * 100, 0)} % (${n.shape})` : '—'],
    ['Fitness median', f ? num(f.quantiles.median, 3) : '—'],
    ['Fitness 5–95 %', f ? `${num(f.quantiles.p5, 3)} … ${num(f.quantiles.p95, 3)}` : '—'],
    ['Probability of backtest overfitting', p ? `${num(p.pbo, 2)} (${int(p.splits)}${p.splits < p.possibleSplits ? ` sampled of ${int(p.possibleSplits)}` : ''} splits)` : '—'],
    ['Logit median (5–95 %)', p ? `${num(p.logits.quantiles.median, 2)} (${num(p.logits.quantiles.p5, 2)} … ${num(p.logits.quantiles.p95, 2)})` : '—'],
    ['OOS / IS Sharpe slope', p?.degradation.slope != null ? num(p.degradation.slope, 2) : '—'],
    ['OOS loss', p ? `${num(p.degradation.probabilityOfLoss * 100, 0)} % of splits` : '—'],
  ];
  section.append(h('div', { class: 'metrics' },
    cards.map(([k, v]) => h('div', { class: 'metric' }, h('span', { class: 'metric-label' }, k), h('span', { class: 'metric-value' }, v)))));
  if (s) {
    section.append(h('p', { class: 'muted small' }, s.dsr >= 0.95
      ? `Significant after selection: the winner's Sharpe ratio is above what the best of ${int(r.trials)} worthless tries would show (DSR ≥ 0.95).`
      : `Not significant after selection: the best of ${int(r.trials)} worthless tries could show this Sharpe ratio by luck (DSR < 0.95).`));
  }
  if (p) {
    section.append(h('p', { class: 'muted small', 'data-testid': 'pbo-note' },
      `In ${num(p.pbo * 100, 0)} % of the ${int(p.splits)}${p.splits < p.possibleSplits ? ' (sampled)' : ''} ways to split the bars' ${int(p.blocks)} blocks into halves, the best trial of one half ranked in the bottom half of the other (CSCV over ${int(p.trials)} trials).`));
  }
  return section;
}

/** Every trial the heatmap needs: the embedded first 1,000, or pages of 500. */
async function heatmapTrials(run, signal, cap = HEATMAP_TRIALS) {
  const r = run.result;
  const count = r.trialCount ?? r.trials?.length ?? 0;
  if (r.trials && r.trials.length >= count) return { trials: r.trials, count };
  const trials = [];
  for (let offset = 0; offset < Math.min(count, cap); offset += 500) {
    const limit = Math.min(500, cap - offset);
    const page = await get(`/api/optimizations/${encodeURIComponent(run.id)}/trials`, { offset, limit }, { signal });
    trials.push(...page.items);
    if (!page.items.length) break;
  }
  return { trials, count };
}

/** How a search (`result.search`) converged; a grid has no such order. */
function convergenceSection(run, ctx) {
  const s = run.result.search;
  const section = h('section', { class: 'card', 'data-testid': 'convergence' }, h('h2', {}, 'Convergence'));
  section.append(h('p', { class: 'muted small' },
    `${s.method === 'genetic' ? `Genetic search, ${int(s.generations)} generations` : 'Random search'}: budget ${int(s.budget)}${s.exhausted ? ' (the space ran out first)' : ''}. Each dot is a trial's fitness in the order it was evaluated; the line is the best so far.`));
  const box = h('div', { class: 'convergence' }, h('p', { class: 'muted' }, 'Loading…'));
  const note = h('p', { class: 'muted small', 'aria-live': 'polite', 'data-testid': 'convergence-note' });
  section.append(box, note);
  get(`/api/optimizations/${encodeURIComponent(run.id)}/convergence`, { points: 1500 }, { signal: ctx.signal }).then((data) => {
    if (!ctx.alive) return;
    const name = run.result.maximize ?? 'fitness';
    const text = convergence(box, data, name);
    const bits = [text];
    if (data.perPoint > 1) bits.push(`Each mark folds ${int(data.perPoint)} consecutive trials (lowest to highest).`);
    // trials with no fitness (no trades for a ratio, or failed) have no dot
    const without = data.perPoint === 1 ? data.points.filter((p) => p.low == null).length : 0;
    if (without) bits.push(`${int(without)} trials without a ${name} (no trades, or failed) are not drawn.`);
    replace(note, bits.join(' '));
  }).catch((e) => {
    if (ctx.alive && e.name !== 'AbortError') replace(box, notice(`Could not load the convergence: ${e.message}`, 'error'));
  });
  return section;
}

function select(id, options, selected) {
  return h('select', { id }, options.map(([v, l]) => h('option', { value: v, selected: v === selected }, l)));
}

function heatmapSection(run, ctx) {
  const axes = Object.entries(run.result.axes ?? {}).filter(([, values]) => values.length > 1);
  const section = h('section', { class: 'card' }, h('h2', {}, 'Heatmap'));
  if (!axes.length) {
    section.append(notice('A heatmap needs a parameter with several values; this grid has none.'));
    return section;
  }
  const names = axes.map(([n]) => n);
  const search = run.result.search != null;
  const ids = { x: uid('hx'), y: uid('hy'), v: uid('hv') };
  const xSel = select(ids.x, names.map((n) => [n, n]), names[0]);
  const ySel = select(ids.y, [['', '— none —'], ...names.map((n) => [n, n])], names[1] ?? '');
  const vSel = select(ids.v, VALUES.map((k) => [k, k === 'fitness' ? `Fitness (${run.result.maximize ?? 'sharpe'})` : label(k)]), 'fitness');
  const box = h('div', { class: 'heatmap', 'data-testid': 'heatmap' }, h('p', { class: 'muted' }, 'Loading trials…'));
  const note = h('p', { class: 'muted small', 'aria-live': 'polite' });
  section.append(
    h('div', { class: 'filters' },
      h('div', { class: 'field inline' }, h('label', { for: ids.x }, 'Across'), xSel),
      h('div', { class: 'field inline' }, h('label', { for: ids.y }, 'Up'), ySel),
      h('div', { class: 'field inline' }, h('label', { for: ids.v }, 'Colour'), vSel)),
    box, note);

  let trials = null;
  let remove = null;
  // a search's space may be far wider than it looked: its axes keep only
  // the values its evaluated trials took (in the axis's order)
  const axisValues = (name) => {
    const all = run.result.axes[name];
    if (!search) return all;
    const seen = new Set(trials.map((t) => String(t.params?.[name])));
    return all.filter((v) => seen.has(String(v)));
  };
  ctx.onCleanup(() => remove?.());
  const draw = () => {
    remove?.();
    const xName = xSel.value;
    const yName = ySel.value && ySel.value !== xName ? ySel.value : null;
    const xs = axisValues(xName);
    const ys = yName ? axisValues(yName) : [null];
    const xi = new Map(xs.map((v, i) => [String(v), i]));
    const yi = new Map(ys.map((v, i) => [String(v), i]));
    const key = vSel.value;
    const cells = new Map();
    for (const t of trials) {
      if (t.status !== 'Completed') continue;
      const v = key === 'fitness' ? t.fitness : t.metrics?.[key];
      if (v == null || !Number.isFinite(v)) continue;
      const i = xi.get(String(t.params?.[xName]));
      const j = yName ? yi.get(String(t.params?.[yName])) : 0;
      if (i == null || j == null) continue;
      const k = j * xs.length + i;
      // several trials per cell (other parameters vary): keep the best
      const better = key === 'maxDrawdownPct' ? (a, b) => a < b : (a, b) => a > b;
      if (!cells.has(k) || better(v, cells.get(k))) cells.set(k, v);
    }
    const valueName = key === 'fitness' ? run.result.maximize ?? 'fitness' : label(key);
    // the winner (rank 1) and its neighbourhood, outlined
    const winner = trials.find((t) => t.rank === 1 && t.status === 'Completed');
    const wx = winner ? xi.get(String(winner.params?.[xName])) : null;
    const wy = winner ? (yName ? yi.get(String(winner.params?.[yName])) : 0) : null;
    const mark = wx != null && wy != null ? { xi: wx, yi: wy } : null;
    remove = heatmap(box, { xs, ys, xName, yName, valueName, mark, value: (i, j) => cells.get(j * xs.length + i) });
  };
  for (const s of [xSel, ySel, vSel]) s.addEventListener('change', () => trials && draw());

  const load = (cap) => heatmapTrials(run, ctx.signal, cap).then(({ trials: loaded, count }) => {
    if (!ctx.alive) return;
    trials = loaded;
    const bits = [];
    if (loaded.length < count) bits.push(`The best ${int(loaded.length)} of ${int(count)} trials.`);
    if (axes.length > 2) bits.push('Each cell shows the best value over the other parameters.');
    if (search) bits.push(`A search: the axes show only the values its ${int(count)} evaluated trials took.`);
    replace(note, bits.join(' '));
    if (loaded.length < count) {
      const more = h('button', { type: 'button', class: 'small secondary' }, `Load all ${int(count)} trials`);
      more.addEventListener('click', () => {
        more.disabled = true;
        more.textContent = 'Loading…';
        load(Infinity);
      });
      note.append(' ', more);
    }
    requestAnimationFrame(draw);
  }).catch((e) => {
    if (ctx.alive && e.name !== 'AbortError') replace(box, notice(`Could not load the trials: ${e.message}`, 'error'));
  });
  load(HEATMAP_TRIALS);
  return section;
}

/** The report of stored optimization `run`. */
export function renderOptimizationReport(run, ctx) {
  return h('div', { class: 'optimization-report', 'data-testid': 'optimization-report' },
    h('section', { class: 'card' }, h('h2', {}, 'Summary'), summary(run)),
    robustness(run),
    run.result.search ? convergenceSection(run, ctx) : null,
    heatmapSection(run, ctx),
    trialsSection(run, ctx));
}
