// One row of the new-run form per strategy parameter: a value for a
// backtest; for an optimization a fixed value, a range (min, max, step) or
// a list of values — the row knows how many values its axis holds.

import { h, uid } from '../dom.js';
import { param as fmtParam } from '../format.js';
import { axisCount, listValues } from '../grid.js';

const numeric = (type) => type === 'int' || type === 'float';

function describe(spec) {
  const parts = [spec.type];
  if (numeric(spec.type) && spec.min != null && spec.max != null) parts.push(`${fmtParam(spec.min)} – ${fmtParam(spec.max)}`);
  if (spec.type === 'choice') parts.push((spec.options ?? []).join(' | '));
  parts.push(`default ${fmtParam(spec.default)}`);
  return parts.join(' · ');
}

function valueInput(spec, name) {
  const id = uid('param');
  if (spec.type === 'bool') return h('input', { type: 'checkbox', id, name, checked: spec.default === true });
  if (spec.type === 'choice') {
    return h('select', { id, name }, (spec.options ?? []).map((o) => h('option', { value: o, selected: o === spec.default }, o)));
  }
  return h('input', {
    type: 'number', id, name, value: fmtParam(spec.default), min: spec.min, max: spec.max,
    step: spec.type === 'int' ? 1 : 'any', inputmode: spec.type === 'int' ? 'numeric' : 'decimal',
  });
}

function numberInput(name, label, value, spec) {
  const id = uid('axis');
  return h('span', { class: 'mini' },
    h('label', { for: id }, label),
    h('input', {
      type: 'number', id, name, value: value == null ? '' : fmtParam(value),
      step: spec.type === 'int' ? 1 : 'any', inputmode: spec.type === 'int' ? 'numeric' : 'decimal',
    }));
}

/** A parameter value read from the text of a list or an input. */
function parseValue(spec, text) {
  if (spec.type === 'bool') return text === 'true' ? true : text === 'false' ? false : text;
  if (numeric(spec.type)) {
    const n = Number(text);
    return text !== '' && Number.isFinite(n) ? n : text; // the server names what is wrong
  }
  return text;
}

/**
 * A row for parameter `spec`; `onChange()` runs on every edit. Returns
 * {el, read(kind) → {value} | {axis} | {error}, count(kind) → {count}|{error},
 * set(value or axis spec)}.
 */
export function paramRow(spec, onChange) {
  const name = spec.name;
  const labelId = uid('plabel');
  const errId = uid('err');
  const value = valueInput(spec, `${name}.value`);
  const modes = numeric(spec.type) ? [['fixed', 'Fixed'], ['range', 'Range'], ['list', 'List']] : [['fixed', 'Fixed'], ['list', 'List']];
  const modeId = uid('mode');
  const mode = h('select', { id: modeId, name: `${name}.mode` }, modes.map(([v, l]) => h('option', { value: v }, l)));
  const lo = spec.min ?? spec.default;
  const min = numberInput(`${name}.min`, 'Min', spec.default, spec);
  const max = numberInput(`${name}.max`, 'Max', numeric(spec.type) ? Math.min(spec.max ?? spec.default, spec.default * 2 || lo + 10) : null, spec);
  const step = numberInput(`${name}.step`, 'Step', spec.step ?? 1, spec);
  const listId = uid('list');
  const defaultList = spec.type === 'bool' ? 'true, false' : spec.type === 'choice' ? (spec.options ?? []).join(', ') : fmtParam(spec.default);
  const list = h('input', { type: 'text', id: listId, name: `${name}.list`, value: defaultList, placeholder: 'e.g. 10, 20, 30', autocomplete: 'off' });
  const count = h('output', { class: 'axis-count', for: [modeId, listId].join(' '), 'aria-live': 'polite' });

  const valueLabel = h('label', { for: value.id, class: spec.type === 'bool' ? 'check-label' : null }, spec.type === 'bool' ? 'On' : 'Value');
  const fixedBox = h('span', { class: `mode-box mode-fixed${spec.type === 'bool' ? ' check' : ''}` },
    spec.type === 'bool' ? [value, valueLabel] : [valueLabel, value]);
  const rangeBox = h('span', { class: 'mode-box mode-range' }, min, max, step);
  const listBox = h('span', { class: 'mode-box mode-list' }, h('label', { for: listId }, 'Values'), list);

  const el = h('div', { class: 'field param-row', role: 'group', 'aria-labelledby': labelId, 'data-field': `params.${name}`, 'data-param': name, 'data-error-id': errId },
    h('div', { class: 'param-head' },
      h('span', { class: 'param-name', id: labelId }, name),
      h('span', { class: 'param-meta' }, describe(spec))),
    spec.description ? h('p', { class: 'hint' }, spec.description) : null,
    h('div', { class: 'param-controls' },
      h('span', { class: 'mode-select grid-only' }, h('label', { for: modeId }, 'Mode'), mode),
      fixedBox, rangeBox, listBox,
      h('span', { class: 'grid-only' }, count)),
    h('p', { class: 'field-error', id: errId, hidden: true, 'aria-live': 'polite' }));
  for (const input of el.querySelectorAll('input, select')) input.setAttribute('aria-describedby', errId);

  const modeOf = (kind) => (kind === 'optimization' ? mode.value : 'fixed');
  const axisOf = () => ({ mode: mode.value, min: min.lastChild.value, max: max.lastChild.value, step: step.lastChild.value, list: list.value });

  const row = {
    el,
    spec,
    /** Shows the controls of the current mode and the axis size. */
    refresh(kind) {
      const m = modeOf(kind);
      fixedBox.hidden = m !== 'fixed';
      rangeBox.hidden = m !== 'range';
      listBox.hidden = m !== 'list';
      el.dataset.field = m === 'fixed' ? `params.${name}` : `axes.${name}`;
      const c = axisCount(axisOf(), spec.type);
      count.textContent = m === 'fixed' ? '' : c.error ? c.error : `× ${c.count.toLocaleString('en-US')} values`;
      count.classList.toggle('bad', Boolean(c.error));
    },
    /** Whether the row is an axis (not a fixed value) for `kind`. */
    isAxis(kind) {
      return modeOf(kind) !== 'fixed';
    },
    count(kind) {
      return modeOf(kind) === 'fixed' ? { count: 1 } : axisCount(axisOf(), spec.type);
    },
    /** {value} for a fixed value, {axis} for an axis, {error} if unreadable. */
    read(kind) {
      const m = modeOf(kind);
      if (m === 'fixed') {
        if (spec.type === 'bool') return { value: value.checked };
        if (spec.type === 'choice') return { value: value.value };
        if (value.validity?.badInput || value.value.trim() === '') return { error: 'enter a number' };
        return { value: parseValue(spec, value.value.trim()) };
      }
      if (m === 'range') {
        const c = axisCount(axisOf(), spec.type);
        if (c.error) return { error: c.error };
        return { axis: { min: Number(min.lastChild.value), max: Number(max.lastChild.value), step: Number(step.lastChild.value) } };
      }
      const values = listValues(list.value);
      if (!values.length) return { error: 'list at least one value' };
      return { axis: values.map((v) => parseValue(spec, v)) };
    },
    /** Fills the row from a request's value (fixed) or axis. */
    set(v) {
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        mode.value = 'range';
        min.lastChild.value = fmtParam(v.min);
        max.lastChild.value = fmtParam(v.max);
        step.lastChild.value = fmtParam(v.step);
      } else if (Array.isArray(v)) {
        mode.value = 'list';
        list.value = v.map(fmtParam).join(', ');
      } else if (v != null) {
        mode.value = 'fixed';
        if (spec.type === 'bool') value.checked = v === true;
        else value.value = fmtParam(v);
      }
    },
    /** Switches to a range axis (the form's default for a first axis). */
    useRange() {
      if (numeric(spec.type)) mode.value = 'range';
    },
  };
  el.addEventListener('input', onChange);
  el.addEventListener('change', onChange);
  return row;
}
