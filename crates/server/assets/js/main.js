// The dashboard's entry point: routes to pages, marks the current nav link.

import { h } from './dom.js';
import { kindOfSection } from './kinds.js';
import { start } from './router.js';
import { renderRuns } from './pages/runs.js';
import { renderNewRun } from './pages/new-run.js';
import { renderRun } from './pages/run.js';
import { renderDatasets } from './pages/datasets.js';

function notFound(view) {
  view.append(h('h1', {}, 'Not found'), h('p', {}, 'No such page. ', h('a', { href: '#/runs' }, 'Back to the runs')));
}

function resolve({ parts }) {
  const [first, second] = parts;
  if (!first || first === 'runs') return renderRuns;
  if (first === 'new') return renderNewRun;
  if (first === 'datasets') return renderDatasets;
  if (kindOfSection(first) && second) return renderRun;
  return notFound;
}

function markNav({ parts }) {
  const section = parts[0] === 'new' || parts[0] === 'datasets' ? parts[0] : 'runs';
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

const main = document.getElementById('main');
document.getElementById('skip-link').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});
start(main, resolve, markNav);
