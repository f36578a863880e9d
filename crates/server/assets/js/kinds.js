// The three kinds of run and what differs between them on the page: where
// they live in the API and in the dashboard's URLs, what their progress
// counts, how often the fallback polls. One table, so a page asks
// `KINDS[kind].section` instead of repeating a ternary per kind.

/** Per kind: API root, its name in the API (`kind` of `/api/runs`), hash section, titles, progress unit, poll interval. */
export const KINDS = {
  backtest: {
    api: '/api/backtests', apiKind: 'backtest', section: 'backtests', title: 'Backtest', plural: 'Backtests', unit: 'bars', pollMs: 5000,
  },
  optimization: {
    api: '/api/optimizations', apiKind: 'optimization', section: 'optimizations', title: 'Optimization', plural: 'Optimizations', unit: 'combinations', pollMs: 30000,
  },
  // a walk-forward is a series of optimizations: polled as one
  walkforward: {
    api: '/api/walkforwards', apiKind: 'walkForward', section: 'walkforwards', title: 'Walk-forward', plural: 'Walk-forwards', unit: 'combinations', pollMs: 30000,
  },
};

/** A kind as the API spells it (`walkForward`, `walkforward`, …) → a key of KINDS. */
export function kindOf(name) {
  const k = String(name ?? '').toLowerCase().replace(/[^a-z]/g, '');
  return Object.hasOwn(KINDS, k) ? k : 'backtest';
}

/** The kind whose hash section is `section` (`optimizations` → optimization), or null. */
export function kindOfSection(section) {
  return Object.keys(KINDS).find((k) => KINDS[k].section === section) ?? null;
}

/** Whether runs of `kind` search a grid (axes, constraints, fitness). */
export function isGrid(kind) {
  return kind === 'optimization' || kind === 'walkforward';
}
