// A run's live status: server-sent events (`progress` …, then one of
// `completed` / `failed` / `cancelled`), falling back to polling `/status`
// (every 5 s for a backtest, 30 s for an optimization or a walk-forward)
// when the stream cannot be opened or breaks before the end.

import { eventsUrl, get, runBase } from './api.js';
import { KINDS } from './kinds.js';

/** Statuses after which nothing changes. */
export const TERMINAL = new Set(['Completed', 'Failed', 'Cancelled']);

/**
 * Follows run `id` of `kind` ('backtest' | 'optimization' | 'walkforward'):
 * `onStatus(status)` on every update, `onEnd(status)` once when it ends,
 * `onMode(mode, why)` with mode 'stream' or 'polling'. Returns `stop()`.
 */
export function follow(kind, id, { onStatus, onEnd, onMode }) {
  const base = runBase(kind, id);
  let stopped = false;
  let ended = false;
  let source = null;
  let timer = null;

  const stop = () => {
    stopped = true;
    source?.close();
    source = null;
    clearTimeout(timer);
  };
  const handle = (status) => {
    if (stopped || !status) return;
    onStatus?.(status);
    if (TERMINAL.has(status.status) && !ended) {
      ended = true;
      stop();
      onEnd?.(status);
    }
  };
  const poll = async () => {
    try {
      handle(await get(`${base}/status`));
    } catch (e) {
      if (!stopped) onMode?.('polling', `the last check failed (${e.message}); trying again`);
    }
    if (!stopped) timer = setTimeout(poll, KINDS[kind].pollMs);
  };
  const fallBack = (why) => {
    source?.close();
    source = null;
    onMode?.('polling', why);
    poll();
  };

  if (typeof EventSource === 'undefined') {
    fallBack('this browser cannot receive live updates');
  } else {
    source = new EventSource(eventsUrl(base));
    source.onopen = () => onMode?.('stream');
    for (const name of ['progress', 'completed', 'failed', 'cancelled']) {
      source.addEventListener(name, (ev) => {
        let status = null;
        try {
          status = JSON.parse(ev.data);
        } catch {
          return;
        }
        handle(status);
      });
    }
    source.onerror = () => {
      if (!stopped && !ended) fallBack('the live update stream failed');
    };
  }
  return stop;
}
