// Datasets: the catalog, and an upload form (multipart POST /api/datasets)
// that shows what the import found, or why it refused the file.

import { ApiError, get, request } from '../api.js';
import { h, replace } from '../dom.js';
import { date, int, time } from '../format.js';
import { notice } from '../ui/error-panel.js';
import { clearFieldErrors, field, showFieldError } from '../ui/fields.js';
import { table } from '../ui/table.js';

const COLUMNS = [
  { key: 'name', label: 'Name', render: (d) => h('strong', {}, d.name) },
  { key: 'symbol', label: 'Symbol' },
  { key: 'timeframe', label: 'Timeframe' },
  { key: 'rows', label: 'Bars', num: true, render: (d) => int(d.rows) },
  { key: 'period', label: 'Period', render: (d) => `${date(d.firstTsMs)} → ${date(d.lastTsMs)}` },
  { key: 'priceDecimals', label: 'Price decimals', num: true },
  { key: 'source', label: 'Source', render: (d) => h('span', { class: 'small' }, d.sourceName ?? '—') },
  { key: 'imported', label: 'Imported', render: (d) => time(d.importedAtMs) },
  { key: 'use', label: '', render: (d) => h('a', { href: `#/new?dataset=${encodeURIComponent(d.name)}`, class: 'small' }, 'New run', h('span', { class: 'visually-hidden' }, ` on ${d.name}`)) },
];

function report(r) {
  const d = r.dataset;
  return h('div', { class: 'notice notice-info', role: 'status', 'data-testid': 'upload-report' },
    h('p', {}, h('strong', {}, `Imported ${d.name}`), `: ${int(r.rows)} bars of ${d.symbol} at ${d.timeframe}, ${date(d.firstTsMs)} → ${date(d.lastTsMs)} (${r.format}${r.gzipped ? ', gzip' : ''}).`),
    h('p', {}, `${int(r.gaps)} gap${r.gaps === 1 ? '' : 's'} (${int(r.missingBars)} missing bars)${r.volumeRounded ? '; some volumes were rounded' : ''}.`));
}

function uploadForm(onImported) {
  const file = h('input', { type: 'file', name: 'file', accept: '.csv,.gz,.txt,.parquet,.zip', required: true });
  const name = h('input', { type: 'text', name: 'name', autocomplete: 'off', placeholder: 'from the file name' });
  const symbol = h('input', { type: 'text', name: 'symbol', autocomplete: 'off', placeholder: 'from the name' });
  const decimals = h('input', { type: 'number', name: 'priceDecimals', min: 0, max: 12, step: 1, placeholder: 'detected' });
  const result = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Upload and import');
  const form = h('form', { class: 'card upload', novalidate: true, 'aria-label': 'Upload a dataset' },
    h('h2', {}, 'Upload a dataset'),
    h('p', { class: 'hint' }, 'CSV (optionally gzipped), Binance klines, MetaTrader 4/5 exports or Parquet; validated like atf data import.'),
    h('div', { class: 'grid-2' },
      field({ label: 'File', input: file, name: 'file' }),
      field({ label: 'Name', input: name, name: 'name' }),
      field({ label: 'Symbol', input: symbol, name: 'symbol' }),
      field({ label: 'Price decimals', input: decimals, name: 'priceDecimals', hint: '0 to 12; empty: detected' })),
    result,
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    result.replaceChildren();
    if (!file.files?.length) {
      showFieldError(form, 'file', 'choose a file to upload');
      return;
    }
    const data = new FormData();
    data.append('file', file.files[0]);
    for (const [k, input] of [['name', name], ['symbol', symbol], ['priceDecimals', decimals]]) {
      if (input.value.trim()) data.append(k, input.value.trim());
    }
    submit.disabled = true;
    submit.textContent = 'Importing…';
    try {
      const r = await request('/api/datasets', { method: 'POST', form: data });
      replace(result, report(r));
      form.reset();
      onImported();
    } catch (err) {
      const shown = err instanceof ApiError && err.field && showFieldError(form, err.field, err.message);
      if (!shown) replace(result, notice(`The import was refused: ${err.message}`, 'error'));
    } finally {
      submit.disabled = false;
      submit.textContent = 'Upload and import';
    }
  });
  return form;
}

/** `#/datasets` */
export async function renderDatasets(view, route, ctx) {
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading datasets…'));
  const load = async () => {
    try {
      const datasets = await get('/api/datasets', null, { signal: ctx.signal });
      if (ctx.alive) replace(list, table({ columns: COLUMNS, rows: datasets, caption: 'Datasets', empty: 'No datasets yet.', testid: 'datasets-table' }));
    } catch (e) {
      if (ctx.alive && e.name !== 'AbortError') replace(list, notice(`Could not load the datasets: ${e.message}`, 'error'));
    }
  };
  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'Datasets')), h('section', { class: 'card' }, list), uploadForm(load));
  await load();
}
