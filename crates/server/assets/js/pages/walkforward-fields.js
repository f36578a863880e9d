// The walk-forward part of the new-run form: the windows (rolling or
// anchored; in-sample and out-of-sample durations, or a number of folds and
// an out-of-sample fraction) with the folds they make, and the pass/fail
// criteria, each empty field meaning the server's default (shown beside it).

import { h, uid } from '../dom.js';
import { int } from '../format.js';
import { field } from '../ui/fields.js';
import { durationText, planFolds } from '../windows.js';

/** The server's defaults (crates/runs/src/walkforward/request.rs `Criteria::default`). */
export const CRITERIA = [
  { name: 'minWfePct', label: 'Least WFE %', fallback: 50, hint: 'walk-forward efficiency ≥ this' },
  { name: 'minProfitableFoldsPct', label: 'Least profitable folds %', fallback: 50, hint: 'share of folds with an out-of-sample profit' },
  { name: 'maxFoldProfitSharePct', label: 'Fold profit share % below', fallback: 50, hint: 'no single fold makes this much of the profit' },
  { name: 'maxDrawdownPct', label: 'Max drawdown % at most', fallback: 25, hint: 'of the stitched out-of-sample equity' },
];

function radio(name, value, text, checked) {
  const id = uid(name);
  return { input: h('input', { type: 'radio', name, value, id, checked }), label: h('label', { for: id }, text) };
}

function segmented(label, name, choices) {
  return h('div', { class: 'field', role: 'radiogroup', 'aria-label': label, 'data-field': name },
    h('span', { class: 'label' }, label),
    h('div', { class: 'segmented' }, choices.map((c) => h('span', {}, c.input, c.label))),
    h('p', { class: 'field-error', hidden: true, 'aria-live': 'polite' }));
}

/**
 * The fieldsets; `onChange()` runs on every edit. Returns {el, read() →
 * {fields, errors: [[field, message]]}, preview(span, barMs) → folds or
 * null (and shows the plan), set(request)}.
 */
export function walkForwardFields(onChange) {
  const rolling = radio('wf-mode', 'rolling', 'Rolling: the in-sample window slides', true);
  const anchored = radio('wf-mode', 'anchored', 'Anchored: it starts at the period\'s start and grows', false);
  const byFolds = radio('wf-by', 'folds', 'A number of folds', true);
  const byDurations = radio('wf-by', 'durations', 'Durations', false);
  const folds = h('input', { type: 'number', name: 'folds', value: 5, min: 1, max: 500, step: 1, inputmode: 'numeric' });
  const oosFraction = h('input', { type: 'number', name: 'oosFraction', value: 0.25, min: 0, max: 1, step: 'any', inputmode: 'decimal' });
  const inSample = h('input', { type: 'text', name: 'inSample', placeholder: '720d', autocomplete: 'off', spellcheck: 'false' });
  const outOfSample = h('input', { type: 'text', name: 'outOfSample', placeholder: '180d', autocomplete: 'off', spellcheck: 'false' });
  const plan = h('output', { class: 'grid-size', 'aria-live': 'polite', 'data-testid': 'folds-plan' });
  const criteria = CRITERIA.map((c) => ({
    ...c,
    input: h('input', { type: 'number', name: `criteria.${c.name}`, placeholder: String(c.fallback), min: 0, step: 'any', inputmode: 'decimal' }),
  }));

  const foldsBox = h('div', { class: 'grid-3' },
    field({ label: 'Folds', input: folds, name: 'folds' }),
    field({ label: 'Out-of-sample fraction', input: oosFraction, name: 'oosFraction', hint: 'of each fold\'s in-sample + out-of-sample span, between 0 and 1' }));
  const durationsBox = h('div', { class: 'grid-3' },
    field({ label: 'In-sample', input: inSample, name: 'inSample', hint: 'e.g. 720d, 12w, 500h' }),
    field({ label: 'Out-of-sample (and step)', input: outOfSample, name: 'outOfSample', hint: 'e.g. 180d' }));

  const el = h('div', { class: 'wf-only' },
    h('fieldset', { class: 'card' },
      h('legend', {}, 'Walk-forward windows'),
      h('p', { class: 'hint' }, 'Each fold optimizes the grid on its in-sample window and trades the winner on the out-of-sample window right after it; the out-of-sample results are stitched into one account.'),
      segmented('Windows', 'mode', [rolling, anchored]),
      segmented('Size the windows by', 'windowSizing', [byFolds, byDurations]),
      foldsBox, durationsBox, plan),
    h('fieldset', { class: 'card' },
      h('legend', {}, 'Pass/fail criteria'),
      h('p', { class: 'hint' }, 'Empty fields use the default shown in them. The run passes when all four hold.'),
      h('div', { class: 'grid-2' }, criteria.map((c) => field({ label: c.label, input: c.input, name: `criteria.${c.name}`, hint: `${c.hint} (default ${c.fallback})` })))));

  const by = () => (byDurations.input.checked ? 'durations' : 'folds');
  const sync = () => {
    foldsBox.hidden = by() !== 'folds';
    durationsBox.hidden = by() !== 'durations';
  };
  for (const input of el.querySelectorAll('input')) {
    input.addEventListener('input', onChange);
    input.addEventListener('change', () => {
      sync();
      onChange();
    });
  }
  sync();

  const windows = () => ({ by: by(), inSample: inSample.value, outOfSample: outOfSample.value, folds: folds.value, oosFraction: oosFraction.value });

  return {
    el,
    /** The request fields, and what cannot be read. */
    read() {
      const errors = [];
      const fields = { mode: anchored.input.checked ? 'anchored' : 'rolling' };
      if (by() === 'durations') {
        for (const [name, input] of [['inSample', inSample], ['outOfSample', outOfSample]]) {
          if (input.value.trim()) fields[name] = input.value.trim();
          else errors.push([name, 'required: a duration such as 180d']);
        }
      } else {
        for (const [name, input] of [['folds', folds], ['oosFraction', oosFraction]]) {
          const t = input.value.trim();
          if (input.validity?.badInput || t === '' || !Number.isFinite(Number(t))) errors.push([name, 'enter a number']);
          else fields[name] = Number(t);
        }
      }
      const crit = {};
      for (const c of criteria) {
        const t = c.input.value.trim();
        if (c.input.validity?.badInput || (t !== '' && !Number.isFinite(Number(t)))) errors.push([`criteria.${c.name}`, 'enter a number']);
        else if (t !== '') crit[c.name] = Number(t);
      }
      if (Object.keys(crit).length) fields.criteria = crit;
      return { fields, errors };
    },
    /** Shows the folds the windows make over `span`; returns their number (null if none). */
    preview(span, barMs) {
      const p = span && barMs ? planFolds(windows(), span, barMs) : null;
      plan.classList.toggle('bad', Boolean(p?.error));
      if (!p) plan.textContent = '';
      else if (p.error) plan.textContent = `Folds: — (${p.field}: ${p.error})`;
      else plan.textContent = `${int(p.folds)} fold${p.folds === 1 ? '' : 's'}: in-sample ${durationText(p.isMs)}, out-of-sample ${durationText(p.oosMs)}`;
      return p?.error ? null : p?.folds ?? null;
    },
    /** Fills the fields from a stored walk-forward's request. */
    set(r) {
      if (r.mode === 'anchored') anchored.input.checked = true;
      if (r.inSample != null || r.outOfSample != null) {
        byDurations.input.checked = true;
        inSample.value = r.inSample ?? '';
        outOfSample.value = r.outOfSample ?? '';
      } else {
        if (r.folds != null) folds.value = r.folds;
        if (r.oosFraction != null) oosFraction.value = r.oosFraction;
      }
      for (const c of criteria) if (r.criteria?.[c.name] != null) c.input.value = r.criteria[c.name];
      sync();
    },
  };
}
