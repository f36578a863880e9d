// A walk-forward's folds, planned as the server plans them
// (crates/runs/src/walkforward/windows.rs), so the form can say how many
// folds a choice makes before it is submitted. The server stays the judge:
// what it refuses is shown next to the field it names.

const UNIT_MS = { s: 1000, m: 60_000, min: 60_000, h: 3_600_000, H: 3_600_000, d: 86_400_000, D: 86_400_000, w: 604_800_000, W: 604_800_000 };
const DAY = 86_400_000;

/** Most folds the server accepts. */
export const MAX_FOLDS = 500;

/** "180d" → ms, or null when it is not a whole number and a unit. */
export function durationMs(text) {
  const m = /^(\d+)(s|min|m|h|H|d|D|w|W)$/.exec(String(text ?? '').trim());
  if (!m) return null;
  const n = Number(m[1]);
  return n > 0 ? n * UNIT_MS[m[2]] : null;
}

/** ms → "180 d", "36 h", "90 min" (the largest whole unit up to days). */
export function durationText(ms) {
  for (const [unit, size] of [['d', DAY], ['h', 3_600_000], ['min', 60_000]]) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  }
  return ms >= DAY ? `${(ms / DAY).toFixed(1)} d` : `${Math.round(ms / 1000)} s`;
}

/**
 * The span a run covers: the dataset's bars within `from`/`to` (dates, `to`
 * included), its start moved up to the first whole bar of `barMs`.
 * Returns {start, end} in ms.
 */
export function runSpan(ds, from, to, barMs) {
  const dsBar = durationMs(ds.timeframe) ?? barMs;
  const dataEnd = ds.lastTsMs + dsBar;
  const fromMs = from ? Date.parse(`${from}T00:00:00Z`) : null;
  const toMs = to ? Date.parse(`${to}T00:00:00Z`) + DAY : null; // a date as the end means through that day
  const first = fromMs == null ? ds.firstTsMs : Math.max(fromMs, ds.firstTsMs);
  const bucket = first - (((first % barMs) + barMs) % barMs);
  const start = bucket === first ? first : bucket + barMs;
  const end = toMs == null ? dataEnd : Math.min(toMs, dataEnd);
  return { start, end };
}

/**
 * The folds of windows `w` ({by: 'durations'|'folds', inSample,
 * outOfSample, folds, oosFraction}) over [start, end) at bars of `barMs`:
 * {folds, isMs, oosMs} or {field, error}.
 */
export function planFolds(w, { start, end }, barMs) {
  const span = end - start;
  if (w.by === 'durations') {
    const is = durationMs(w.inSample);
    const oos = durationMs(w.outOfSample);
    if (is == null) return { field: 'inSample', error: 'a whole number and s, m, h, d or w (720d)' };
    if (oos == null) return { field: 'outOfSample', error: 'a whole number and s, m, h, d or w (180d)' };
    if (is % barMs) return { field: 'inSample', error: 'not a whole number of bars of the timeframe' };
    if (oos % barMs) return { field: 'outOfSample', error: 'not a whole number of bars of the timeframe' };
    if (is + oos > span) return { field: 'inSample', error: `in-sample + out-of-sample do not fit the period (${(span / DAY).toFixed(1)} days)` };
    const folds = Math.floor((span - is) / oos);
    if (folds > MAX_FOLDS) return { field: 'outOfSample', error: `${folds} folds, more than the limit of ${MAX_FOLDS}` };
    return { folds, isMs: is, oosMs: oos };
  }
  const folds = Number(w.folds);
  const f = Number(w.oosFraction);
  if (!Number.isInteger(folds) || folds < 1 || folds > MAX_FOLDS) return { field: 'folds', error: `between 1 and ${MAX_FOLDS}` };
  if (!(f > 0 && f < 1)) return { field: 'oosFraction', error: 'between 0 and 1 (both excluded)' };
  const oos = Math.floor(Math.trunc(span / (folds + (1 - f) / f)) / barMs) * barMs;
  const is = Math.floor((span - folds * oos) / barMs) * barMs;
  if (oos < barMs || is < barMs) return { field: 'folds', error: 'windows shorter than one bar' };
  return { folds, isMs: is, oosMs: oos };
}
