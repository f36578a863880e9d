// "1–50 of 312" with Previous / Next buttons.

import { h } from '../dom.js';
import { int } from '../format.js';

/** A pager for `total` items from `offset` by `limit`; `onPage(offset)`. */
export function pager({ offset, limit, total, onPage, label = 'Pages' }) {
  const first = total === 0 ? 0 : offset + 1;
  const last = Math.min(offset + limit, total);
  return h('nav', { class: 'pager', 'aria-label': label },
    h('button', { type: 'button', class: 'secondary', disabled: offset <= 0, onclick: () => onPage(Math.max(0, offset - limit)) }, '← Previous'),
    h('span', { class: 'pager-info', 'aria-live': 'polite' }, `${int(first)}–${int(last)} of ${int(total)}`),
    h('button', { type: 'button', class: 'secondary', disabled: last >= total, onclick: () => onPage(offset + limit) }, 'Next →'));
}
