// Modal dialogs on <dialog>: keyboard-friendly (focus trapped, Esc closes).

import { h, uid } from '../dom.js';

function open(dialog) {
  document.body.append(dialog);
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue);
    });
  });
}

/**
 * Asks to confirm an action; resolves to true only when confirmed.
 * `danger` styles the confirming button as destructive.
 */
export async function confirmDialog({ title, message, confirm = 'OK', cancel = 'Cancel', danger = false }) {
  const titleId = uid('dlg');
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, 'data-testid': 'confirm-dialog' },
    h('form', { method: 'dialog' },
      h('h2', { id: titleId }, title),
      h('p', {}, message),
      h('div', { class: 'actions' },
        h('button', { value: 'cancel', class: 'secondary', autofocus: true }, cancel),
        h('button', { value: 'confirm', class: danger ? 'danger' : 'primary' }, confirm))));
  return (await open(dialog)) === 'confirm';
}

/** Asks for one value (e.g. the API token); resolves to it, or null. */
export async function promptDialog({ title, message, label, type = 'text', submit = 'Save' }) {
  const titleId = uid('dlg');
  const inputId = uid('in');
  const input = h('input', { id: inputId, type, name: 'value', required: true, autocomplete: 'off' });
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, 'data-testid': 'prompt-dialog' },
    h('form', { method: 'dialog' },
      h('h2', { id: titleId }, title),
      h('p', {}, message),
      h('div', { class: 'field' }, h('label', { for: inputId }, label), input),
      h('div', { class: 'actions' },
        h('button', { value: 'cancel', class: 'secondary', formnovalidate: true }, 'Cancel'),
        h('button', { value: 'ok', class: 'primary' }, submit))));
  const answer = await open(dialog);
  return answer === 'ok' && input.value.trim() ? input.value.trim() : null;
}
