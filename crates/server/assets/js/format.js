// How numbers, times and durations read on the page.

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 31757 → "31,757". */
export function int(n) {
  return n == null || Number.isNaN(n) ? '—' : intFmt.format(n);
}

/** A number with `digits` decimals (or "—" when missing / not finite). */
export function num(n, digits = 2) {
  if (n == null || typeof n !== 'number' || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** 4.39 → "4.39 %". */
export function pct(n, digits = 2) {
  return n == null || !Number.isFinite(n) ? '—' : `${num(n, digits)} %`;
}

/** Money-like value with two decimals and a sign when negative. */
export function money(n) {
  return num(n, 2);
}

/** A parameter value as written in a request. */
export function param(v) {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(+v.toPrecision(12));
  return String(v);
}

/** ms since epoch → "2011-01-03 09:00" (UTC). */
export function time(ms) {
  if (ms == null) return '—';
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** ms since epoch → "2011-01-03" (UTC). */
export function date(ms) {
  return ms == null ? '—' : new Date(ms).toISOString().slice(0, 10);
}

/** A duration in ms → "1 h 02 min", "3 min 05 s", "4.2 s", "180 ms". */
export function duration(ms) {
  if (ms == null || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  return `${m} min ${String(sec).padStart(2, '0')} s`;
}

/** "how long ago" for a list: "12 s ago", "5 min ago", or a date. */
export function ago(ms, now = Date.now()) {
  if (ms == null) return '—';
  const d = Math.max(0, now - ms);
  if (d < 60_000) return `${Math.round(d / 1000)} s ago`;
  if (d < 3_600_000) return `${Math.round(d / 60_000)} min ago`;
  if (d < 86_400_000) return `${Math.round(d / 3_600_000)} h ago`;
  return time(ms);
}

/** camelCase metric name → "Max drawdown %". */
export function label(key) {
  return LABELS[key] ?? key.replace(/([A-Z])/g, ' $1').replace(/^./, (c) => c.toUpperCase());
}

const LABELS = {
  netProfit: 'Net profit',
  totalReturnPct: 'Total return %',
  annualizedReturnPct: 'Annualized return %',
  maxDrawdown: 'Max drawdown',
  maxDrawdownPct: 'Max drawdown %',
  sharpe: 'Sharpe',
  sortino: 'Sortino',
  profitFactor: 'Profit factor',
  returnOverDrawdown: 'Return / drawdown',
  winRate: 'Win rate %',
  tradeCount: 'Trades',
  winningTrades: 'Winning trades',
  losingTrades: 'Losing trades',
  averageWin: 'Average win',
  averageLoss: 'Average loss',
  expectancy: 'Expectancy',
  largestWin: 'Largest win',
  largestLoss: 'Largest loss',
  exposurePct: 'Exposure %',
  totalCommission: 'Commission',
  initialEquity: 'Initial equity',
  finalEquity: 'Final equity',
  mainBars: 'Main bars',
  subBars: 'Sub-bars',
  wallTimeMs: 'Wall time (ms)',
  subBarsPerSecond: 'Sub-bars / s',
  fitness: 'Fitness',
  rank: 'Rank',
};

/** A metric value in its natural format. */
export function metric(key, v) {
  if (v == null) return '—';
  if (['tradeCount', 'winningTrades', 'losingTrades', 'mainBars', 'subBars', 'rank'].includes(key)) return int(v);
  if (key === 'subBarsPerSecond') return int(v);
  if (key.endsWith('Pct') || key === 'winRate') return pct(v);
  if (['sharpe', 'sortino', 'profitFactor', 'returnOverDrawdown', 'fitness'].includes(key)) return num(v, 3);
  return num(v, 2);
}
