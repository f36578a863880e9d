// A heatmap on a plain canvas: one cell per (x, y) value pair, coloured by
// a value (best first: the highest is brightest), empty where no trial ran.

import { h } from '../dom.js';
import { num, param } from '../format.js';

const STOPS = [
  [68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37],
];
const EMPTY = '#e5e7eb';
const MARGIN = { left: 64, right: 12, top: 10, bottom: 44 };

/** Viridis-like colour of `t` in [0, 1]. */
export function colour(t) {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [STOPS[i], STOPS[i + 1]];
  const c = a.map((v, k) => Math.round(v + (b[k] - v) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

function ticks(n, room, minGap) {
  const every = Math.max(1, Math.ceil(minGap / Math.max(1, room / n)));
  const out = [];
  for (let i = 0; i < n; i += every) out.push(i);
  return out;
}

/**
 * Draws into `box`: `xs`, `ys` the axis values (ys may be [null] for one
 * row), `value(xi, yi)` → number | undefined, names and `valueName` for
 * labels; `mark` ({xi, yi}, optional) is the winner's cell, outlined, with
 * its ±1 neighbours on each axis outlined dashed. Returns a remover.
 */
export function heatmap(box, { xs, ys, value, xName, yName, valueName, mark = null }) {
  const canvas = h('canvas', { class: 'heatmap-canvas', 'data-testid': 'heatmap-canvas' });
  const tip = h('div', { class: 'heat-tip', hidden: true, role: 'status' });
  const legend = h('div', { class: 'heat-legend' });
  box.replaceChildren(h('div', { class: 'heat-wrap' }, canvas, tip), legend);

  let lo = Infinity;
  let hi = -Infinity;
  let best = null;
  for (let yi = 0; yi < ys.length; yi += 1) {
    for (let xi = 0; xi < xs.length; xi += 1) {
      const v = value(xi, yi);
      if (v == null || !Number.isFinite(v)) continue;
      lo = Math.min(lo, v);
      if (v > hi) {
        hi = v;
        best = { xi, yi };
      }
    }
  }
  const rows = ys.length;
  const label = best
    ? `Heatmap of ${valueName} over ${xName}${yName ? ` and ${yName}` : ''}: from ${num(lo, 3)} to ${num(hi, 3)}, best at ${xName}=${param(xs[best.xi])}${yName ? `, ${yName}=${param(ys[best.yi])}` : ''}`
    : `Heatmap of ${valueName}: no values`;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', mark
    ? `${label}; the winner (${xName}=${param(xs[mark.xi])}${yName ? `, ${yName}=${param(ys[mark.yi])}` : ''}) and its neighbours outlined`
    : label);

  let geometry = null;
  const draw = () => {
    const width = Math.max(240, box.clientWidth);
    const plotW = width - MARGIN.left - MARGIN.right;
    const cellW = plotW / xs.length;
    const cellH = Math.max(3, Math.min(28, 320 / rows, Math.max(cellW, 6)));
    const height = MARGIN.top + MARGIN.bottom + cellH * rows;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    const g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, width, height);
    const span = hi > lo ? hi - lo : 1;
    for (let yi = 0; yi < rows; yi += 1) {
      for (let xi = 0; xi < xs.length; xi += 1) {
        const v = value(xi, yi);
        g.fillStyle = v == null || !Number.isFinite(v) ? EMPTY : colour((v - lo) / span);
        // y grows upwards: the first value at the bottom
        const y = MARGIN.top + (rows - 1 - yi) * cellH;
        g.fillRect(MARGIN.left + xi * cellW, y, Math.ceil(cellW), Math.ceil(cellH));
      }
    }
    if (mark) {
      // the winner's neighbourhood: dashed around the ±1 cells, solid around the winner
      const outline = (xi, yi, dashed) => {
        if (xi < 0 || xi >= xs.length || yi < 0 || yi >= rows) return;
        g.setLineDash(dashed ? [4, 3] : []);
        g.lineWidth = dashed ? 1.5 : 2.5;
        g.strokeStyle = dashed ? '#f8fafc' : '#ffffff';
        g.strokeRect(MARGIN.left + xi * cellW + 1.5, MARGIN.top + (rows - 1 - yi) * cellH + 1.5,
          Math.max(1, cellW - 3), Math.max(1, cellH - 3));
      };
      for (const [dx, dy] of [[-1, 0], [1, 0], [0, -1], [0, 1]]) outline(mark.xi + dx, mark.yi + dy, true);
      outline(mark.xi, mark.yi, false);
      g.setLineDash([]);
    }
    g.fillStyle = '#334155';
    g.font = '12px system-ui, sans-serif';
    g.textAlign = 'center';
    g.textBaseline = 'top';
    for (const xi of ticks(xs.length, plotW, 44)) {
      g.fillText(param(xs[xi]), MARGIN.left + (xi + 0.5) * cellW, MARGIN.top + rows * cellH + 4);
    }
    g.fillText(xName, MARGIN.left + plotW / 2, MARGIN.top + rows * cellH + 24);
    if (yName) {
      g.textAlign = 'right';
      g.textBaseline = 'middle';
      for (const yi of ticks(rows, rows * cellH, 16)) {
        g.fillText(param(ys[yi]), MARGIN.left - 6, MARGIN.top + (rows - 1 - yi + 0.5) * cellH);
      }
      g.save();
      g.translate(12, MARGIN.top + (rows * cellH) / 2);
      g.rotate(-Math.PI / 2);
      g.textAlign = 'center';
      g.fillText(yName, 0, 0);
      g.restore();
    }
    geometry = { cellW, cellH };
  };

  const legendBar = h('canvas', { class: 'legend-bar', width: 160, height: 10, 'aria-hidden': 'true' });
  const lg = legendBar.getContext('2d');
  for (let i = 0; i < 160; i += 1) {
    lg.fillStyle = colour(i / 159);
    lg.fillRect(i, 0, 1, 10);
  }
  legend.append(h('span', {}, Number.isFinite(lo) ? num(lo, 3) : '—'), legendBar, h('span', {}, Number.isFinite(hi) ? num(hi, 3) : '—'),
    h('span', { class: 'muted' }, ` ${valueName} · grey: no trial (skipped, failed or not loaded)`));

  canvas.addEventListener('mousemove', (e) => {
    if (!geometry) return;
    const r = canvas.getBoundingClientRect();
    const xi = Math.floor((e.clientX - r.left - MARGIN.left) / geometry.cellW);
    const yi = rows - 1 - Math.floor((e.clientY - r.top - MARGIN.top) / geometry.cellH);
    if (xi < 0 || xi >= xs.length || yi < 0 || yi >= rows) {
      tip.hidden = true;
      return;
    }
    const v = value(xi, yi);
    tip.textContent = `${xName}=${param(xs[xi])}${yName ? ` · ${yName}=${param(ys[yi])}` : ''} → ${v == null ? 'no trial' : num(v, 3)}`;
    tip.hidden = false;
    tip.style.left = `${Math.min(e.clientX - r.left + 12, r.width - 180)}px`;
    tip.style.top = `${e.clientY - r.top + 12}px`;
  });
  canvas.addEventListener('mouseleave', () => {
    tip.hidden = true;
  });

  draw();
  let drawnWidth = box.clientWidth;
  const observer = new ResizeObserver(() => {
    if (box.clientWidth === drawnWidth) return;
    drawnWidth = box.clientWidth;
    requestAnimationFrame(draw);
  });
  observer.observe(box);
  return () => observer.disconnect();
}
