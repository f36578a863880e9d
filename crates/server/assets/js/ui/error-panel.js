// A failure: its message, and its stack trace behind a disclosure.

import { h } from '../dom.js';

/** A stack trace as an expandable block (closed until asked). */
export function stackTrace(trace, summary = 'Stack trace') {
  if (!trace) return null;
  return h('details', { class: 'stack', 'data-testid': 'stack-trace' },
    h('summary', {}, summary),
    h('pre', { tabindex: 0 }, trace));
}

/** The error panel of a failed run. */
export function errorPanel(title, message, trace) {
  return h('section', { class: 'panel error', role: 'alert', 'data-testid': 'error-panel' },
    h('h2', {}, title),
    h('p', { class: 'error-message' }, message || 'No message was recorded.'),
    stackTrace(trace));
}

/** A one-line notice (`kind`: info, warn, error). */
export function notice(text, kind = 'info') {
  return h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}
