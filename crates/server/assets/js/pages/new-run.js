// The new-run form: strategy (its parameter space drives the inputs),
// dataset, period, costs; a backtest, an optimization (axes, grid size
// shown live and refused above the limit) or a walk-forward (the same grid
// per fold, and its windows and criteria). The API's refusals appear next
// to the field they name.

import { ApiError, get, post } from '../api.js';
import { h, replace } from '../dom.js';
import { date, int } from '../format.js';
import { gridSize, serverLimits } from '../grid.js';
import { KINDS, isGrid, kindOfSection } from '../kinds.js';
import { go } from '../router.js';
import { notice } from '../ui/error-panel.js';
import { clearFieldErrors, field, showFieldError } from '../ui/fields.js';
import { paramRow } from './param-rows.js';
import { rememberSubmission } from './run.js';
import { walkForwardFields } from './walkforward-fields.js';
import { runSpan } from '../windows.js';

const TIMEFRAMES = ['1m', '5m', '15m', '30m', '1h', '4h', '1d', '1w'];
const UNIT_S = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const FITNESS = [
  ['sharpe', 'Sharpe'], ['net-profit', 'Net profit'], ['return-over-drawdown', 'Return / drawdown'],
  ['profit-factor', 'Profit factor'], ['sortino', 'Sortino'], ['win-rate', 'Win rate'],
];

function seconds(tf) {
  const m = /^(\d+)([smhdw])$/.exec(tf ?? '');
  return m ? Number(m[1]) * UNIT_S[m[2]] : null;
}

/** Timeframes a dataset can be run at: its own and the coarser multiples. */
function timeframesFor(ds) {
  const base = seconds(ds?.timeframe);
  return TIMEFRAMES.filter((tf) => base && seconds(tf) > base && seconds(tf) % base === 0);
}

/** `method`: every combination, or a search within a budget (issue 17). */
const SEARCH_METHODS = [
  ['grid', 'Every combination (grid)'],
  ['random', 'Random search'],
  ['genetic', 'Genetic search'],
];

function numberInput(name, value, { step = 'any', min, max } = {}) {
  return h('input', { type: 'number', name, value: value ?? '', step, min, max, inputmode: 'decimal' });
}

/** Reads an optional number input: {value} (undefined when empty) or {error}. */
function optionalNumber(input) {
  if (input.validity?.badInput) return { error: 'enter a number' };
  const t = input.value.trim();
  return { value: t === '' ? undefined : Number(t) };
}

/** Builds the form; `prefill` is a stored run's request and kind. */
function buildForm(strategies, datasets, prefill, limits) {
  const MAX_COMBINATIONS = limits.maxCombinations;
  const kindRadios = Object.keys(KINDS).map((k) => h('input', {
    type: 'radio', name: 'kind', value: k, id: `kind-${k}`, checked: (prefill?.kind ?? 'backtest') === k,
  }));
  const strategy = h('select', { name: 'strategy' }, strategies.map((s) => h('option', { value: s.name }, s.name)));
  const strategyInfo = h('p', { class: 'hint' });
  const dataset = h('select', { name: 'dataset' }, datasets.map((d) => h('option', { value: d.name }, `${d.name} (${d.symbol}, ${d.timeframe})`)));
  const datasetInfo = h('p', { class: 'hint' });
  const timeframe = h('select', { name: 'timeframe' });
  const from = h('input', { type: 'date', name: 'from' });
  const to = h('input', { type: 'date', name: 'to' });
  const cash = numberInput('cash', 10000, { min: 0 });
  const commissionPct = numberInput('commissionPct', 0, { min: 0 });
  const commissionFixed = numberInput('commissionFixed', 0, { min: 0 });
  const slippageTicks = numberInput('slippageTicks', 0, { step: 1, min: 0 });
  const sizing = h('select', { name: 'sizing' }, h('option', { value: 'sizePct' }, '% of equity'), h('option', { value: 'sizeQty' }, 'Fixed quantity'));
  const size = numberInput('size', 100, { min: 0 });
  const constraints = h('textarea', { name: 'constraints', rows: 2, placeholder: 'fast < slow', spellcheck: 'false' });
  const maximize = h('select', { name: 'maximize' }, FITNESS.map(([v, l]) => h('option', { value: v }, l)));
  const top = numberInput('top', 20, { step: 1, min: 1, max: limits.maxTop });
  const method = h('select', { name: 'method' }, SEARCH_METHODS.map(([v, l]) => h('option', { value: v }, l)));
  const budget = numberInput('budget', 1000, { step: 1, min: 1 });
  const seed = numberInput('seed', '', { step: 1, min: 0 });
  const gridOut = h('output', { class: 'grid-size', 'aria-live': 'polite', 'data-testid': 'grid-size' });
  const paramsBox = h('div', { class: 'params' });
  const formError = h('div', { class: 'form-error', 'aria-live': 'assertive' });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'submit-run' }, 'Start backtest');
  const wf = walkForwardFields(() => updateGrid());

  let rows = [];
  const kind = () => kindRadios.find((r) => r.checked)?.value ?? 'backtest';
  /** What the parameter rows are for: an axis in any grid run. */
  const rowKind = () => (isGrid(kind()) ? 'optimization' : 'backtest');
  const currentDataset = () => datasets.find((d) => d.name === dataset.value);

  const form = h('form', { class: 'run-form', novalidate: true, 'aria-label': 'New run' },
    h('fieldset', { class: 'card' },
      h('legend', {}, 'What to run'),
      h('div', { class: 'field', role: 'radiogroup', 'aria-label': 'Kind of run' },
        h('span', { class: 'label' }, 'Kind'),
        h('div', { class: 'segmented' },
          kindRadios.map((r) => h('span', {}, r, h('label', { for: r.id }, KINDS[r.value].title))))),
      h('div', { class: 'grid-2' },
        field({ label: 'Strategy', input: strategy, name: 'strategy' }),
        field({ label: 'Dataset', input: dataset, name: 'dataset' })),
      strategyInfo, datasetInfo),
    h('fieldset', { class: 'card' },
      h('legend', {}, 'Period'),
      h('div', { class: 'grid-3' },
        field({ label: 'Timeframe', input: timeframe, name: 'timeframe' }),
        field({ label: 'From', input: from, name: 'from' }),
        field({ label: 'To (included)', input: to, name: 'to' }))),
    h('fieldset', { class: 'card' },
      h('legend', {}, 'Parameters'),
      h('div', { class: 'field', 'data-field': 'axes' },
        h('p', { class: 'hint grid-only' }, 'For each parameter: a fixed value, a range (min, max, step) or a list of values. Every combination of the axes is one trial.'),
        paramsBox,
        h('p', { class: 'field-error', hidden: true, 'aria-live': 'polite' })),
      h('div', { class: 'grid-only' },
        h('div', { class: 'grid-3' },
          field({ label: 'Constraints (one per line)', input: constraints, name: 'constraints', hint: 'Skip combinations, e.g. fast < slow' }),
          field({ label: 'Maximize', input: maximize, name: 'maximize' }),
          h('div', { class: 'opt-only' }, field({ label: 'Keep best (full reports)', input: top, name: 'top' }))),
        h('div', { class: 'grid-3 opt-only' },
          field({ label: 'Method', input: method, name: 'method' }),
          field({ label: 'Budget (trials)', input: budget, name: 'budget', hint: 'Trials the search evaluates' }),
          field({ label: 'Seed', input: seed, name: 'seed', hint: 'Empty: chosen at random (shown with the result)' })),
        gridOut)),
    wf.el,
    h('fieldset', { class: 'card' },
      h('legend', {}, 'Costs and sizing'),
      h('div', { class: 'grid-3' },
        field({ label: 'Initial cash', input: cash, name: 'cash' }),
        field({ label: 'Commission %', input: commissionPct, name: 'commissionPct', hint: '% of notional per order' }),
        field({ label: 'Commission per order', input: commissionFixed, name: 'commissionFixed' }),
        field({ label: 'Slippage (ticks)', input: slippageTicks, name: 'slippageTicks' }),
        field({ label: 'Sizing', input: sizing, name: 'sizing' }),
        field({ label: 'Size', input: size, name: 'sizePct', hint: '% of equity per entry' }))),
    formError,
    h('div', { class: 'actions' }, submit));

  const sizeField = size.closest('.field');
  const syncSizing = () => {
    sizeField.dataset.field = sizing.value;
    sizeField.querySelector('.hint').textContent = sizing.value === 'sizePct' ? '% of equity per entry' : 'units per entry';
  };

  /** Whether an optimization searches its axes (method random or genetic) instead of running them all. */
  const searching = () => kind() === 'optimization' && method.value !== 'grid';
  /** The folds the walk-forward's windows make (null: none yet). */
  const previewFolds = () => {
    const d = currentDataset();
    const barMs = seconds(timeframe.value || d?.timeframe) * 1000;
    return d && barMs ? wf.preview(runSpan(d, from.value, to.value, barMs), barMs) : wf.preview(null);
  };

  const updateGrid = () => {
    for (const r of rows) r.refresh(rowKind());
    for (const input of [budget, seed]) input.closest('.field').hidden = !searching();
    if (!isGrid(kind())) return;
    const folds = kind() === 'walkforward' ? previewFolds() : null;
    const axisRows = rows.filter((r) => r.isAxis('optimization'));
    const counts = axisRows.map((r) => r.count('optimization'));
    const size = gridSize(counts);
    gridOut.classList.remove('bad');
    submit.disabled = false;
    if (size == null) {
      gridOut.textContent = 'Grid size: — (an axis is incomplete)';
      gridOut.classList.add('bad');
    } else if (!axisRows.length) {
      gridOut.textContent = 'Grid size: make at least one parameter a range or a list';
    } else {
      const product = counts.length > 1 ? `${counts.map((c) => int(c.count)).join(' × ')} = ` : '';
      const text = `Grid size: ${product}${int(size)} combination${size === 1 ? '' : 's'}`;
      if (searching()) {
        gridOut.textContent = `${text} — a ${method.value} search evaluates ${budget.value ? int(Number(budget.value)) : '—'} of them`;
      } else if (size > MAX_COMBINATIONS) {
        gridOut.textContent = `${text} — above the limit of ${int(MAX_COMBINATIONS)}; narrow an axis or search it (method random or genetic)`;
        gridOut.classList.add('bad');
        submit.disabled = true;
      } else {
        const perFold = kind() === 'walkforward' ? ` per fold${folds ? ` × ${int(folds)} folds = ${int(size * folds)}` : ''}` : '';
        gridOut.textContent = `${text}${perFold}${constraints.value.trim() ? ' (before constraints)' : ''}`;
      }
    }
  };

  const syncKind = () => {
    form.classList.toggle('is-grid', isGrid(kind()));
    form.classList.toggle('is-optimization', kind() === 'optimization');
    form.classList.toggle('is-walkforward', kind() === 'walkforward');
    submit.textContent = `Start ${KINDS[kind()].title.toLowerCase()}`;
    if (isGrid(kind()) && !rows.some((r) => r.isAxis('optimization'))) rows.find((r) => ['int', 'float'].includes(r.spec.type))?.useRange();
    updateGrid();
  };

  const syncStrategy = () => {
    const s = strategies.find((x) => x.name === strategy.value);
    strategyInfo.textContent = s ? `${s.description} (version ${s.version})` : '';
    rows = (s?.params ?? []).map((p) => paramRow(p, updateGrid));
    replace(paramsBox, rows.map((r) => r.el));
    if (isGrid(kind())) rows.find((r) => ['int', 'float'].includes(r.spec.type))?.useRange();
    updateGrid();
  };

  const syncDataset = () => {
    const d = currentDataset();
    datasetInfo.textContent = d ? `${d.symbol} · ${d.timeframe} bars · ${int(d.rows)} rows · ${date(d.firstTsMs)} → ${date(d.lastTsMs)}` : '';
    const keep = timeframe.value;
    replace(timeframe,
      h('option', { value: '' }, d ? `${d.timeframe} (the dataset's)` : 'the dataset\'s'),
      timeframesFor(d).map((tf) => h('option', { value: tf }, tf)));
    timeframe.value = [...timeframe.options].some((o) => o.value === keep) ? keep : '';
    for (const input of [from, to]) {
      input.min = d ? date(d.firstTsMs) : '';
      input.max = d ? date(d.lastTsMs) : '';
    }
    from.placeholder = d ? date(d.firstTsMs) : '';
    to.placeholder = d ? date(d.lastTsMs) : '';
  };

  for (const r of kindRadios) r.addEventListener('change', syncKind);
  strategy.addEventListener('change', syncStrategy);
  dataset.addEventListener('change', () => {
    syncDataset();
    updateGrid();
  });
  for (const input of [timeframe, from, to]) input.addEventListener('change', updateGrid);
  sizing.addEventListener('change', syncSizing);
  constraints.addEventListener('input', updateGrid);
  method.addEventListener('change', updateGrid);
  budget.addEventListener('input', updateGrid);

  /** The request body, or null after showing what is unreadable. */
  const body = () => {
    const errors = [];
    const req = { strategy: strategy.value, dataset: dataset.value };
    if (timeframe.value) req.timeframe = timeframe.value;
    if (from.value) req.from = from.value;
    if (to.value) req.to = to.value;
    const params = {};
    const axes = {};
    for (const r of rows) {
      const v = r.read(rowKind());
      if (v.error) errors.push([r.el.dataset.field, `${r.spec.name}: ${v.error}`]);
      else if (v.axis !== undefined) axes[r.spec.name] = v.axis;
      else params[r.spec.name] = v.value;
    }
    if (Object.keys(params).length) req.params = params;
    for (const [name, input] of [['cash', cash], ['commissionPct', commissionPct], ['commissionFixed', commissionFixed], ['slippageTicks', slippageTicks], [sizing.value, size]]) {
      const v = optionalNumber(input);
      if (v.error) errors.push([name, v.error]);
      else if (v.value !== undefined) req[name] = v.value;
    }
    if (isGrid(kind())) {
      req.axes = axes;
      const list = constraints.value.split('\n').map((s) => s.trim()).filter(Boolean);
      if (list.length) req.constraints = list;
      req.maximize = maximize.value;
    }
    if (kind() === 'walkforward') {
      const w = wf.read();
      errors.push(...w.errors);
      Object.assign(req, w.fields);
    }
    if (kind() === 'optimization') {
      const t = optionalNumber(top);
      if (t.error) errors.push(['top', t.error]);
      else if (t.value !== undefined && (t.value < 1 || t.value > limits.maxTop)) errors.push(['top', `must be between 1 and ${int(limits.maxTop)}`]);
      else if (t.value !== undefined) req.top = t.value;
      if (searching()) {
        req.method = method.value;
        const b = optionalNumber(budget);
        if (b.error) errors.push(['budget', b.error]);
        else if (b.value === undefined || !Number.isInteger(b.value) || b.value < 1) errors.push(['budget', 'a whole number of trials, at least 1']);
        else req.budget = b.value;
        const sd = optionalNumber(seed);
        if (sd.error || (sd.value !== undefined && !(Number.isSafeInteger(sd.value) && sd.value >= 0))) errors.push(['seed', 'a whole number from 0 to 2^53 - 1']);
        else if (sd.value !== undefined) req.seed = sd.value;
      }
    }
    if (isGrid(kind())) {
      const size = gridSize(rows.map((r) => r.count('optimization')));
      if (!searching() && size != null && size > MAX_COMBINATIONS) errors.push(['axes', `the grid of ${int(size)} combinations is above the limit of ${int(MAX_COMBINATIONS)}`]);
    }
    if (errors.length) {
      for (const [name, message] of errors.reverse()) {
        if (!showFieldError(form, name, message)) formError.replaceChildren(notice(message, 'error'));
      }
      return null;
    }
    return req;
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    formError.replaceChildren();
    const req = body();
    if (!req) return;
    const label = submit.textContent;
    submit.disabled = true;
    submit.textContent = 'Submitting…';
    const k = kind();
    try {
      const sub = await post(KINDS[k].api, req);
      rememberSubmission(k, sub);
      go(`#/${KINDS[k].section}/${encodeURIComponent(sub.id)}`);
    } catch (err) {
      const shown = err instanceof ApiError && err.field && showFieldError(form, err.field, err.message);
      if (!shown) formError.replaceChildren(notice(err.message, 'error'));
    } finally {
      submit.disabled = false;
      submit.textContent = label;
    }
  });

  // defaults, then a stored run's request
  const r = prefill?.request ?? {};
  if (r.strategy && strategies.some((s) => s.name === r.strategy)) strategy.value = r.strategy;
  if (r.dataset && datasets.some((d) => d.name === r.dataset)) dataset.value = r.dataset;
  syncDataset();
  syncStrategy();
  if (r.timeframe) timeframe.value = r.timeframe;
  if (r.from) from.value = String(r.from).slice(0, 10);
  if (r.to) to.value = String(r.to).slice(0, 10);
  for (const [name, input] of [['cash', cash], ['commissionPct', commissionPct], ['commissionFixed', commissionFixed], ['slippageTicks', slippageTicks]]) {
    if (r[name] != null) input.value = r[name];
  }
  if (r.sizeQty != null) {
    sizing.value = 'sizeQty';
    size.value = r.sizeQty;
  } else if (r.sizePct != null) size.value = r.sizePct;
  syncSizing();
  for (const row of rows) {
    if (r.params?.[row.spec.name] !== undefined) row.set(r.params[row.spec.name]);
    if (r.axes?.[row.spec.name] !== undefined) row.set(r.axes[row.spec.name]);
  }
  if (r.constraints) constraints.value = r.constraints.join('\n');
  if (r.maximize) maximize.value = FITNESS.some(([v]) => v === r.maximize) ? r.maximize : 'sharpe';
  if (r.top != null) top.value = r.top;
  if (SEARCH_METHODS.some(([v]) => v === r.method)) method.value = r.method;
  if (r.budget != null) budget.value = r.budget;
  if (r.seed != null) seed.value = r.seed;
  if (prefill?.kind === 'walkforward') wf.set(r);
  syncKind();
  return form;
}

/** `#/new`, or `#/new?from=backtests/<id>` (or optimizations/, walkforwards/) to start from a stored run. */
export async function renderNewRun(view, route, ctx) {
  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'New run')));
  const from = route.query.get('from');
  const [strategies, datasets, prefill, limits] = await Promise.all([
    get('/api/strategies', null, { signal: ctx.signal }),
    get('/api/datasets', null, { signal: ctx.signal }),
    from && /^(backtests|optimizations|walkforwards)\/[\w-]+$/.test(from)
      ? get(`/api/${from}`, null, { signal: ctx.signal })
        .then((run) => ({ kind: kindOfSection(from.split('/')[0]), request: run.request }))
        .catch(() => null)
      : null,
    serverLimits(ctx.signal),
  ]);
  if (!ctx.alive) return;
  const dataset = route.query.get('dataset');
  const start = prefill ?? (dataset ? { kind: 'backtest', request: { dataset } } : null);
  if (!datasets.length) {
    view.append(notice('No datasets yet: import one on the Datasets page first.', 'warn'), h('a', { class: 'button', href: '#/datasets' }, 'Datasets'));
    return;
  }
  if (from && prefill) view.append(notice(`Starting from the settings of run ${from.split('/')[1]}.`));
  view.append(buildForm(strategies, datasets, start, limits));
}
