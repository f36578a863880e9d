// Labelled form fields with a slot for the API's error about them: a
// problem's `field` (`params.fast`, `axes.slow`, `commissionPct`,
// `constraints[0]`) finds the field marked with the same data-field.

import { h, uid } from '../dom.js';

/**
 * A labelled field. `input` is a control (its id is set here) or a
 * fieldset-like group (then `label` becomes a legend-ish heading);
 * `name` is the request field it feeds.
 */
export function field({ label, input, name, hint, wide = false }) {
  const errId = uid('err');
  const hintId = hint ? uid('hint') : null;
  const control = input instanceof HTMLInputElement || input instanceof HTMLSelectElement || input instanceof HTMLTextAreaElement;
  if (control) {
    if (!input.id) input.id = uid('in');
    input.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
  }
  return h('div', { class: `field${wide ? ' wide' : ''}`, 'data-field': name, 'data-error-id': errId },
    control ? h('label', { for: input.id }, label) : h('span', { class: 'label' }, label),
    input,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errId, hidden: true, 'aria-live': 'polite' }));
}

/** The field container that `name` (or its nearest parent name) names. */
function container(root, name) {
  let n = name;
  while (n) {
    const el = root.querySelector(`[data-field="${CSS.escape(n)}"]`);
    if (el) return el;
    const next = n.replace(/(\[\d+\]|\.[^.[\]]*)$/, '');
    if (next === n) break;
    n = next;
  }
  return null;
}

/** Shows `message` next to field `name`; false when no such field is shown. */
export function showFieldError(root, name, message) {
  const box = container(root, name);
  if (!box) return false;
  const err = box.querySelector(':scope > .field-error');
  err.textContent = message;
  err.hidden = false;
  box.classList.add('invalid');
  for (const input of box.querySelectorAll('input, select, textarea')) input.setAttribute('aria-invalid', 'true');
  const focusable = box.querySelector('input, select, textarea');
  focusable?.focus();
  box.scrollIntoView({ block: 'center', behavior: 'instant' });
  return true;
}

/** Hides every field error under `root`. */
export function clearFieldErrors(root) {
  for (const box of root.querySelectorAll('.field.invalid')) {
    box.classList.remove('invalid');
    const err = box.querySelector(':scope > .field-error');
    err.hidden = true;
    err.textContent = '';
    for (const input of box.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  }
}
