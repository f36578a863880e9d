// Status badges and progress bars.

import { h } from '../dom.js';
import { int } from '../format.js';

/** A badge for Pending / Running / Completed / Failed / Cancelled. */
export function statusBadge(status) {
  return h('span', { class: `badge badge-${String(status).toLowerCase()}`, 'data-testid': 'status-badge' }, status);
}

/** A progress bar with an accessible name and value. */
export function progressBar(processed, total, label = 'Progress') {
  const pct = total > 0 ? Math.min(100, (processed / total) * 100) : 0;
  const fill = h('div', { class: 'progress-fill' });
  fill.style.width = `${pct}%`;
  return h('div', {
    class: 'progress',
    role: 'progressbar',
    'aria-label': label,
    'aria-valuemin': 0,
    'aria-valuemax': 100,
    'aria-valuenow': Math.round(pct),
    'aria-valuetext': `${int(processed)} of ${int(total)}`,
  }, fill);
}

/** Updates a bar made by progressBar. */
export function setProgress(bar, processed, total) {
  const pct = total > 0 ? Math.min(100, (processed / total) * 100) : 0;
  bar.firstChild.style.width = `${pct}%`;
  bar.setAttribute('aria-valuenow', String(Math.round(pct)));
  bar.setAttribute('aria-valuetext', `${int(processed)} of ${int(total)}`);
}
