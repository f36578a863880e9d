// A run's progress panel: "Processed X / Total Bars|Combinations|Trials" (and
// failed trials; for a walk-forward the folds done and the fold running), a
// bar, elapsed time and ETA, the live-update mode, and a Cancel button (with
// confirmation) while the run is in flight.

import { h, replace } from '../dom.js';
import { duration, int, metric, param } from '../format.js';
import { KINDS, isGrid } from '../kinds.js';
import { confirmDialog } from '../ui/dialog.js';
import { notice } from '../ui/error-panel.js';
import { progressBar, setProgress, statusBadge } from '../ui/status.js';
import { table } from '../ui/table.js';

const IN_FLIGHT = new Set(['Pending', 'Running']);
const CANCEL_MESSAGE = {
  backtest: 'The backtest stops now and keeps no report.',
  optimization: 'The trials finished so far are kept; the rest are not run.',
  walkforward: 'The folds finished so far are kept in a partial report; the rest are not run.',
};

/** The counters of any status shape (submission, status, stored run). */
export function counters(kind, s) {
  if (isGrid(kind)) {
    const failed = s.failedCombinations ?? s.failedTrials ?? s.failed ?? 0;
    const skipped = s.skippedCombinations ?? s.skipped ?? 0;
    const completed = s.completedCombinations ?? s.completed ?? 0;
    const c = {
      processed: s.processedCombinations ?? s.processed ?? completed + failed + skipped,
      total: s.totalCombinations ?? s.total ?? 0,
      failed,
      skipped,
    };
    if (kind === 'walkforward') {
      c.folds = s.totalFolds ?? s.result?.plannedFolds ?? null;
      c.foldsDone = s.foldsProcessed ?? s.result?.folds?.length ?? 0;
      c.currentFold = s.currentFold ?? null;
    }
    return c;
  }
  return { processed: s.processedBars ?? s.processed ?? 0, total: s.totalBars ?? s.total ?? 0, failed: 0, skipped: 0 };
}

/** The line under the counter: failures, and for a walk-forward its folds. */
function extraText(kind, c, status) {
  if (kind === 'optimization') return `Failed: ${int(c.failed)} · Skipped by constraints: ${int(c.skipped)}`;
  if (kind !== 'walkforward') return '';
  const parts = [`Folds: ${int(c.foldsDone)} / ${c.folds == null ? '—' : int(c.folds)} done`];
  if (status === 'Running' && c.currentFold != null) parts.push(`working on fold ${int(c.currentFold)}`);
  parts.push(`Failed trials: ${int(c.failed)}`);
  return parts.join(' · ');
}

function leadersTable(leaders) {
  if (!leaders?.length) return null;
  const names = Object.keys(leaders[0].params ?? {});
  return h('div', { class: 'leaders' },
    h('h3', {}, 'Best so far'),
    table({
      caption: 'Best trials so far',
      columns: [
        ...names.map((n) => ({ key: n, label: n, num: true, render: (t) => param(t.params?.[n]) })),
        { key: 'fitness', label: 'Fitness', num: true, render: (t) => metric('fitness', t.fitness) },
        { key: 'netProfit', label: 'Net profit', num: true, render: (t) => metric('netProfit', t.metrics?.netProfit) },
        { key: 'maxDrawdownPct', label: 'Max DD %', num: true, render: (t) => metric('maxDrawdownPct', t.metrics?.maxDrawdownPct) },
      ],
      rows: leaders.slice(0, 10),
    }));
}

/**
 * The panel for run `id` of `kind`, starting from status `initial`;
 * `onCancel()` posts the cancel and may throw (shown on the panel).
 * Returns {el, update(status), end(status), setMode(mode, why), destroy()}.
 */
export function progressPanel(kind, initial, { onCancel }) {
  const unit = KINDS[kind].unit.replace(/^./, (ch) => ch.toUpperCase());
  const badge = h('span');
  const text = h('p', { class: 'progress-line', 'data-testid': 'progress-text', 'aria-live': 'polite' });
  const extra = h('p', { class: 'progress-extra', 'data-testid': 'progress-extra' });
  const bar = progressBar(0, 1, `${KINDS[kind].title} progress`);
  const elapsed = h('dd', { 'data-testid': 'elapsed' }, '—');
  const eta = h('dd', { 'data-testid': 'eta' }, '—');
  const mode = h('div', { class: 'mode', 'data-testid': 'update-mode' });
  const message = h('div');
  const leaders = h('div');
  const cancel = h('button', { type: 'button', class: 'danger', 'data-testid': 'cancel-run' }, 'Cancel run');
  const actions = h('div', { class: 'actions' }, cancel);
  const el = h('section', { class: 'panel progress-panel', 'aria-label': 'Progress', 'data-testid': 'progress-panel' },
    h('div', { class: 'panel-head' }, h('h2', {}, 'Progress'), badge),
    text, bar, extra,
    h('dl', { class: 'facts' }, h('div', {}, h('dt', {}, 'Elapsed'), elapsed), h('div', {}, h('dt', {}, 'ETA'), eta)),
    mode, message,
    actions,
    leaders);

  let last = initial;
  let ended = false;
  let ticker = null;

  const draw = (full = true) => {
    const s = last;
    const c = counters(kind, s);
    replace(badge, statusBadge(s.status));
    // a search (method random or genetic) counts trials of its budget: a
    // live status says so by its generation, a stored run by its result's
    // search summary (a quick search may have ended before the page opened)
    const search = s.result?.search;
    const generation = s.generation ?? search?.generations;
    const searching = kind === 'optimization' && generation != null;
    text.textContent = `Processed ${int(c.processed)} / ${int(c.total)} ${searching ? 'Trials' : unit}`;
    extra.textContent = `${searching ? `Generation ${int(generation)} · ` : ''}${extraText(kind, c, s.status)}`;
    extra.hidden = !isGrid(kind);
    setProgress(bar, c.processed, c.total);
    const now = Date.now();
    const start = s.startedAtMs;
    const stop = s.finishedAtMs ?? (IN_FLIGHT.has(s.status) ? now : null);
    elapsed.textContent = start == null ? (s.status === 'Pending' ? 'waiting for a free slot' : '—') : duration(Math.max(0, (stop ?? now) - start));
    if (IN_FLIGHT.has(s.status) && start != null && c.processed > 0 && c.processed < c.total) {
      const rate = c.processed / Math.max(1, now - start);
      eta.textContent = duration((c.total - c.processed) / rate);
    } else {
      eta.textContent = IN_FLIGHT.has(s.status) ? '—' : s.status === 'Completed' ? 'done' : '—';
    }
    if (full && kind === 'optimization' && s.leaders) replace(leaders, ended ? null : leadersTable(s.leaders));
    actions.hidden = ended || !IN_FLIGHT.has(s.status);
  };

  cancel.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: `Cancel this ${KINDS[kind].title.toLowerCase()}?`,
      message: CANCEL_MESSAGE[kind],
      confirm: 'Cancel run',
      cancel: 'Keep running',
      danger: true,
    });
    if (!ok) return;
    cancel.disabled = true;
    try {
      await onCancel();
      replace(message, notice('Cancelling…'));
    } catch (e) {
      replace(message, notice(`Could not cancel: ${e.message}`, 'error'));
    } finally {
      cancel.disabled = false;
    }
  });

  draw();
  ticker = setInterval(() => draw(false), 1000);

  return {
    el,
    update(s) {
      last = { ...last, ...s };
      draw();
    },
    end(s) {
      ended = true;
      clearInterval(ticker);
      last = { ...last, ...s };
      replace(message);
      replace(mode);
      draw();
    },
    setMode(m, why) {
      if (ended) return;
      if (m === 'stream') {
        replace(mode, h('span', { class: 'muted' }, 'Live updates: connected'));
      } else {
        const every = `${KINDS[kind].pollMs / 1000} s`;
        replace(mode, notice(`Live updates are unavailable (${why}); checking every ${every} instead.`, 'warn'));
      }
    },
    destroy() {
      clearInterval(ticker);
    },
  };
}
