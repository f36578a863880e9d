// An optimization's grid size, computed as the server computes it, so the
// form can show it (and refuse a grid above the server's limit) before
// submitting.

import { get } from './api.js';

/**
 * The server's limits (`/api/health`'s `limits`): `maxCombinations`,
 * `maxTop`, `maxPage`, `maxUploadBytes`. Read once per page load.
 */
let limits = null;
export async function serverLimits(signal) {
  if (!limits) limits = (await get('/api/health', null, { signal })).limits;
  return limits;
}

function number(text, integer) {
  const t = String(text ?? '').trim();
  if (t === '') return null;
  const n = Number(t);
  if (!Number.isFinite(n)) return null;
  if (integer && !Number.isInteger(n)) return null;
  return n;
}

/** The values of a list axis: "10, 20,30" → ['10', '20', '30']. */
export function listValues(text) {
  return String(text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * How many values an axis holds: `{count}` or `{error}`.
 * `axis` is {mode: 'fixed'|'range'|'list', min, max, step, list};
 * `type` the parameter's type ('int', 'float', 'bool', 'choice').
 */
export function axisCount(axis, type) {
  if (axis.mode === 'fixed') return { count: 1 };
  if (axis.mode === 'list') {
    const n = listValues(axis.list).length;
    return n ? { count: n } : { error: 'list at least one value' };
  }
  const integer = type === 'int';
  const [lo, hi, step] = [axis.min, axis.max, axis.step].map((v) => number(v, integer));
  if (lo == null || hi == null || step == null) {
    return { error: integer ? 'min, max and step must be whole numbers' : 'min, max and step must be numbers' };
  }
  if (step <= 0) return { error: 'step must be positive' };
  if (lo > hi) return { error: 'min is greater than max' };
  const count = integer ? Math.floor((hi - lo) / step) + 1 : Math.floor(((hi - lo) / step) * (1 + 1e-9)) + 1;
  return { count };
}

/** The product of the axes' counts (null when one of them is invalid). */
export function gridSize(counts) {
  let size = 1;
  for (const c of counts) {
    if (c.count == null) return null;
    size *= c.count;
  }
  return size;
}
