// Data tables: horizontally scrollable on narrow screens, optionally
// sortable by header buttons (with aria-sort).

import { h } from '../dom.js';

/**
 * A table. `columns`: [{key, label, render(row) → node|string, num: bool,
 * sortable: bool}]; `sort`: {key, order: 'asc'|'desc'}; `onSort(key)`;
 * `rowExtra(row)` → an optional full-width row after each row.
 */
export function table({ columns, rows, caption, sort, onSort, rowExtra, empty = 'Nothing here yet.', testid }) {
  const head = h('tr', {}, columns.map((c) => {
    const active = sort && sort.key === c.key;
    const ariaSort = active ? (sort.order === 'asc' ? 'ascending' : 'descending') : c.sortable ? 'none' : null;
    const content = c.sortable && onSort
      ? h('button', { type: 'button', class: 'sort', 'data-sort-key': c.key, onclick: () => onSort(c.key) },
        c.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, active ? (sort.order === 'asc' ? ' ▲' : ' ▼') : ''))
      : c.label;
    return h('th', { scope: 'col', class: c.num ? 'num' : null, 'aria-sort': ariaSort }, content);
  }));
  const body = h('tbody');
  if (!rows.length) {
    body.append(h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, empty)));
  }
  for (const row of rows) {
    body.append(h('tr', {}, columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.render ? c.render(row) : row[c.key]))));
    const extra = rowExtra?.(row);
    if (extra) body.append(h('tr', { class: 'row-extra' }, h('td', { colspan: columns.length }, extra)));
  }
  return h('div', { class: 'table-wrap', 'data-testid': testid },
    h('table', {}, caption ? h('caption', { class: 'visually-hidden' }, caption) : null, h('thead', {}, head), body));
}
