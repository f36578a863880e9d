// Hash routing: `#/runs?status=Failed`, `#/backtests/<id>`, … Each
// navigation gets a fresh view element and a context whose cleanups run
// (and whose signal aborts) when the user goes elsewhere.

import { h } from './dom.js';

/** `#/a/b?x=1` → {parts: ['a', 'b'], query: URLSearchParams}. */
export function parse(hash) {
  const raw = hash.replace(/^#/, '');
  const [path, search = ''] = raw.split('?');
  return {
    parts: path.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(search),
  };
}

/** `#/path?query` from parts and a query object (empty values left out). */
export function link(path, query = {}) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v != null && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

/** Goes to `hash` (a new history entry). */
export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

/** Replaces the current entry's hash without rendering again. */
export function replaceQuiet(hash) {
  history.replaceState(null, '', hash);
}

/**
 * Renders the page that `resolve(route)` names into `outlet` on every hash
 * change. A page is `async (view, route, ctx)`; `ctx.onCleanup(fn)` runs fn
 * when the page is left, `ctx.signal` aborts then.
 */
export function start(outlet, resolve, onNavigate) {
  let current = null;
  let first = true;
  const render = async () => {
    if (!location.hash.startsWith('#/')) {
      if (location.hash === '' || location.hash === '#') history.replaceState(null, '', '#/runs');
      else return; // an in-page anchor
    }
    current?.leave();
    const route = parse(location.hash);
    const controller = new AbortController();
    const cleanups = [];
    current = {
      leave() {
        controller.abort();
        for (const fn of cleanups.splice(0)) {
          try {
            fn();
          } catch (e) {
            console.warn('cleanup failed', e);
          }
        }
      },
    };
    const ctx = {
      signal: controller.signal,
      onCleanup: (fn) => cleanups.push(fn),
      get alive() {
        return !controller.signal.aborted;
      },
    };
    const view = h('div', { class: 'view' });
    outlet.replaceChildren(view);
    onNavigate?.(route);
    if (!first) outlet.focus({ preventScroll: true });
    first = false;
    window.scrollTo(0, 0);
    const page = resolve(route);
    try {
      await page(view, route, ctx);
    } catch (e) {
      if (e?.name === 'AbortError' || !ctx.alive) return;
      view.replaceChildren(
        h('div', { class: 'panel error', role: 'alert' }, h('h1', {}, 'Something went wrong'), h('p', {}, e.message ?? String(e))),
      );
    }
  };
  window.addEventListener('hashchange', render);
  render();
}
