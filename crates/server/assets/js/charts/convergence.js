// A search's convergence: fitness by evaluation order as dots (a thin bar
// from lowest to highest when a point folds several trials), and the best
// found so far as a step line over them. Plain SVG: a few thousand marks.

import { int, num } from '../format.js';

const NS = 'http://www.w3.org/2000/svg';
const WIDTH = 900;
const HEIGHT = 280;
const M = { left: 64, right: 16, top: 12, bottom: 40 };

function el(tag, attrs = {}, text = null) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text != null) n.textContent = text;
  return n;
}

/** About `n` round tick values over [lo, hi]. */
function ticks(lo, hi, n) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((s) => s * mag).find((s) => s >= raw) ?? 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
  return out;
}

/**
 * Draws `data` (the API's convergence: `trials`, `perPoint`, `points`) into
 * `box`, the fitness named `valueName`. Returns the summary it labels the
 * chart with.
 */
export function convergence(box, data, valueName) {
  const pts = data.points;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of pts) {
    for (const v of [p.low, p.high, p.best]) {
      if (v == null) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  const last = pts.length ? pts[pts.length - 1].last : 0;
  const best = pts.length ? pts[pts.length - 1].best : null;
  // where the running best was first reached
  const found = best == null ? null : pts.find((p) => p.best === best);
  const summary = best == null
    ? `No trial had a ${valueName}.`
    : `Best ${valueName} ${num(best, 3)}, first reached by trial ${int(found.last + 1)} of ${int(data.trials)}.`;
  const svg = el('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'convergence-chart', role: 'img',
    'aria-label': `${valueName} by evaluation order, with the running best. ${summary}`,
    'data-testid': 'convergence-chart',
  });
  if (best != null) {
    if (hi === lo) { hi += 1; lo -= 1; }
    const pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
    const w = WIDTH - M.left - M.right;
    const hgt = HEIGHT - M.top - M.bottom;
    const x = (order) => M.left + (last > 0 ? (order / last) * w : w / 2);
    const y = (v) => M.top + (1 - (v - lo) / (hi - lo)) * hgt;
    const axes = el('g', { class: 'conv-axes' });
    for (const t of ticks(lo, hi, 5)) {
      axes.append(el('line', { x1: M.left, x2: WIDTH - M.right, y1: y(t), y2: y(t), class: 'conv-grid' }));
      axes.append(el('text', { x: M.left - 6, y: y(t) + 4, 'text-anchor': 'end' }, num(t, 2)));
    }
    for (const t of ticks(0, last, 8)) {
      axes.append(el('text', { x: x(t), y: HEIGHT - M.bottom + 16, 'text-anchor': 'middle' }, int(t + 1)));
    }
    axes.append(el('text', { x: M.left + w / 2, y: HEIGHT - 6, 'text-anchor': 'middle', class: 'conv-title' }, 'Trial, in evaluation order'));
    axes.append(el('text', { x: 14, y: M.top + hgt / 2, 'text-anchor': 'middle', class: 'conv-title', transform: `rotate(-90 14 ${M.top + hgt / 2})` }, valueName));
    svg.append(axes);
    const marks = el('g', { class: 'conv-trials', 'data-testid': 'convergence-trials' });
    for (const p of pts) {
      if (p.low == null) continue;
      const cx = x((p.first + p.last) / 2);
      if (p.high - p.low > (hi - lo) * 0.01) {
        marks.append(el('line', { x1: cx, x2: cx, y1: y(p.low), y2: y(p.high) }));
      } else {
        marks.append(el('circle', { cx, cy: y(p.high), r: 3.5 }));
      }
    }
    svg.append(marks);
    // the running best, held from each point's end to the next's
    let d = '';
    for (const p of pts) {
      if (p.best == null) continue;
      d += `${d ? 'H' : 'M'}${x(p.first).toFixed(1)} ${d ? `V${y(p.best).toFixed(1)} ` : `${y(p.best).toFixed(1)} `}`;
      d += `H${x(p.last).toFixed(1)} `;
    }
    svg.append(el('path', { d, class: 'conv-best', 'data-testid': 'convergence-best' }));
  }
  box.replaceChildren(svg);
  return summary;
}
