//! Performance statistics of a finished run.
//!
//! Money is converted to `f64` here and only here. Sharpe and Sortino are
//! annualised from per-main-bar returns of the equity curve, with the number
//! of periods per year measured from the data itself (bars ÷ years spanned),
//! so a 24/7 crypto series and a 6.5-hour equity session are both annualised
//! by what they actually contain. Risk-free rate 0. Ratios that are undefined
//! (no variance, no losing trade) are `None` (`null` in JSON), never a
//! sentinel like `f64::MAX`.

use crate::broker::TradeRecord;
use crate::Instrument;
use serde::{Deserialize, Serialize};

const MS_PER_YEAR: f64 = 365.25 * 86_400_000.0;

/// All statistics of one run (the `PerformanceMetrics` record of the API).
///
/// The one place a metric is declared: the run database's metric columns
/// ([`PerformanceMetrics::fields`], snake_case), the API's sort keys and the
/// OpenAPI schema all follow this struct. Adding a metric is a field here
/// plus a migration adding its column (`atf-runs`' `migrations/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PerformanceMetrics {
    /// Starting cash.
    pub initial_equity: f64,
    /// Equity at the last close (open position marked to market).
    pub final_equity: f64,
    /// `final − initial`.
    pub net_profit: f64,
    /// Net profit in % of initial equity.
    pub total_return_pct: f64,
    /// Compound annual growth rate in %.
    pub annualized_return_pct: Option<f64>,
    /// Largest peak-to-trough fall of equity, money.
    pub max_drawdown: f64,
    /// Largest peak-to-trough fall of equity in % of the peak.
    pub max_drawdown_pct: f64,
    /// Annualised Sharpe ratio of per-bar returns (risk-free 0).
    pub sharpe: Option<f64>,
    /// Annualised Sortino ratio of per-bar returns.
    pub sortino: Option<f64>,
    /// Gross profit ÷ gross loss of closed trades.
    pub profit_factor: Option<f64>,
    /// `totalReturnPct ÷ maxDrawdownPct`.
    pub return_over_drawdown: Option<f64>,
    /// Winning closed trades in %.
    pub win_rate: Option<f64>,
    /// Closed trades.
    pub trade_count: u64,
    /// Closed trades with pnl > 0.
    pub winning_trades: u64,
    /// Closed trades with pnl < 0.
    pub losing_trades: u64,
    /// Mean pnl of winners.
    pub average_win: Option<f64>,
    /// Mean pnl of losers (negative).
    pub average_loss: Option<f64>,
    /// Mean pnl per closed trade.
    pub expectancy: Option<f64>,
    /// Best closed trade.
    pub largest_win: Option<f64>,
    /// Worst closed trade.
    pub largest_loss: Option<f64>,
    /// Share of main bars that closed with a position, %.
    pub exposure_pct: f64,
    /// All commission paid.
    pub total_commission: f64,
    /// Main bars the strategy saw.
    pub main_bars: u64,
    /// Sub-bars the run covered (the run's total work).
    pub sub_bars: u64,
    /// Wall-clock time of the simulation, ms (absent for optimization
    /// trials, whose results must not depend on timing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_time_ms: Option<f64>,
    /// Sub-bars per second of wall time (absent for optimization trials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_bars_per_second: Option<f64>,
}

impl PerformanceMetrics {
    /// Every field's JSON name (camelCase), in declaration order — taken
    /// from the struct's own `Deserialize`, so it cannot fall out of step.
    #[must_use]
    pub fn fields() -> &'static [&'static str] {
        crate::fields::of::<Self>()
    }
}

/// The compact statistics every optimization trial keeps (112 bytes): what
/// [`PerformanceMetrics`] holds minus what is the same for all trials of a
/// run (initial equity, bar counts) or derived from the rest. `NaN` stands
/// for an undefined ratio inside; the accessors return `Option`. Equality is
/// bit-for-bit (so two undefined ratios are equal), which is what
/// determinism checks need.
#[derive(Debug, Clone, Copy)]
pub struct TrialMetrics {
    final_equity: f64,
    annualized_return_pct: f64,
    max_drawdown: f64,
    max_drawdown_pct: f64,
    sharpe: f64,
    sortino: f64,
    gross_profit: f64,
    gross_loss: f64,
    largest_win: f64,
    largest_loss: f64,
    exposure_pct: f64,
    total_commission: f64,
    trade_count: u32,
    winning_trades: u32,
    losing_trades: u32,
}

impl TrialMetrics {
    fn floats(&self) -> [f64; 12] {
        [
            self.final_equity,
            self.annualized_return_pct,
            self.max_drawdown,
            self.max_drawdown_pct,
            self.sharpe,
            self.sortino,
            self.gross_profit,
            self.gross_loss,
            self.largest_win,
            self.largest_loss,
            self.exposure_pct,
            self.total_commission,
        ]
    }
}

impl TrialMetrics {
    /// The exact bits of every field, for sending a trial to another
    /// machine (JSON cannot carry an undefined ratio's NaN, and a float
    /// printed as decimal text might not come back bit for bit).
    #[must_use]
    pub fn to_bits(&self) -> [u64; 15] {
        let f = self.floats();
        let mut out = [0u64; 15];
        for (o, x) in out.iter_mut().zip(f) {
            *o = x.to_bits();
        }
        out[12] = u64::from(self.trade_count);
        out[13] = u64::from(self.winning_trades);
        out[14] = u64::from(self.losing_trades);
        out
    }

    /// The inverse of [`TrialMetrics::to_bits`].
    #[must_use]
    pub fn from_bits(b: &[u64; 15]) -> Self {
        let f = |i: usize| f64::from_bits(b[i]);
        Self {
            final_equity: f(0),
            annualized_return_pct: f(1),
            max_drawdown: f(2),
            max_drawdown_pct: f(3),
            sharpe: f(4),
            sortino: f(5),
            gross_profit: f(6),
            gross_loss: f(7),
            largest_win: f(8),
            largest_loss: f(9),
            exposure_pct: f(10),
            total_commission: f(11),
            trade_count: count32(b[12]),
            winning_trades: count32(b[13]),
            losing_trades: count32(b[14]),
        }
    }
}

impl PartialEq for TrialMetrics {
    fn eq(&self, other: &Self) -> bool {
        self.floats()
            .iter()
            .zip(other.floats().iter())
            .all(|(a, b)| a.to_bits() == b.to_bits())
            && (self.trade_count, self.winning_trades, self.losing_trades)
                == (other.trade_count, other.winning_trades, other.losing_trades)
    }
}

fn nan_none(x: f64) -> Option<f64> {
    (!x.is_nan()).then_some(x)
}

fn count32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl TrialMetrics {
    /// Equity at the last close.
    #[must_use]
    pub fn final_equity(&self) -> f64 {
        self.final_equity
    }

    /// Annualised Sharpe ratio, if defined.
    #[must_use]
    pub fn sharpe(&self) -> Option<f64> {
        nan_none(self.sharpe)
    }

    /// Annualised Sortino ratio, if defined.
    #[must_use]
    pub fn sortino(&self) -> Option<f64> {
        nan_none(self.sortino)
    }

    /// Gross profit ÷ gross loss, if any trade lost.
    #[must_use]
    pub fn profit_factor(&self) -> Option<f64> {
        (self.losing_trades > 0).then(|| self.gross_profit / -self.gross_loss)
    }

    /// Winning closed trades in %, if any trade closed.
    #[must_use]
    pub fn win_rate(&self) -> Option<f64> {
        (self.trade_count > 0)
            .then(|| f64::from(self.winning_trades) / f64::from(self.trade_count) * 100.0)
    }

    /// Closed trades.
    #[must_use]
    pub fn trade_count(&self) -> u64 {
        u64::from(self.trade_count)
    }

    /// Every metric, given what all trials of a run share.
    #[must_use]
    pub fn expand(&self, common: &RunCommon, wall_secs: Option<f64>) -> PerformanceMetrics {
        let initial = common.initial_equity;
        let net = self.final_equity - initial;
        let total_return_pct = pct(net, initial);
        let (wins, losses, count) = (
            u64::from(self.winning_trades),
            u64::from(self.losing_trades),
            u64::from(self.trade_count),
        );
        PerformanceMetrics {
            initial_equity: initial,
            final_equity: self.final_equity,
            net_profit: net,
            total_return_pct,
            annualized_return_pct: nan_none(self.annualized_return_pct),
            max_drawdown: self.max_drawdown,
            max_drawdown_pct: self.max_drawdown_pct,
            sharpe: self.sharpe(),
            sortino: self.sortino(),
            profit_factor: self.profit_factor(),
            return_over_drawdown: (self.max_drawdown_pct > 0.0)
                .then(|| total_return_pct / self.max_drawdown_pct),
            win_rate: self.win_rate(),
            trade_count: count,
            winning_trades: wins,
            losing_trades: losses,
            average_win: (wins > 0).then(|| self.gross_profit / wins as f64),
            average_loss: (losses > 0).then(|| self.gross_loss / losses as f64),
            expectancy: (count > 0).then(|| (self.gross_profit + self.gross_loss) / count as f64),
            largest_win: nan_none(self.largest_win),
            largest_loss: nan_none(self.largest_loss),
            exposure_pct: self.exposure_pct,
            total_commission: self.total_commission,
            main_bars: common.main_bars,
            sub_bars: common.sub_bars,
            wall_time_ms: wall_secs.map(|w| w * 1000.0),
            sub_bars_per_second: wall_secs.map(|w| {
                if w > 0.0 {
                    common.sub_bars as f64 / w
                } else {
                    0.0
                }
            }),
        }
    }
}

/// What every run over the same data and cash shares: kept once per
/// optimization instead of once per trial.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunCommon {
    /// Starting cash.
    pub initial_equity: f64,
    /// Main bars the strategy saw.
    pub main_bars: u64,
    /// Sub-bars covered.
    pub sub_bars: u64,
}

/// Running statistics of an equity curve (drawdowns, sums of per-bar
/// returns), fed one main-bar close at a time — by the bar loop itself, so
/// a trial's curve is never read back for its metrics.
///
/// A bar whose equity did not move (no position: often half the bars)
/// costs one comparison: its return is exactly 0 and it cannot change a
/// drawdown. Drawdowns are tracked in integers, the % one by
/// cross-multiplication, leaving one division per moving bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurveStats {
    peak: i64,
    max_dd: i64,
    /// The largest (drawdown, its peak) by drawdown ÷ peak, peaks > 0 only.
    pct_dd: i64,
    pct_peak: i64,
    prev: i64,
    flat: u64,
    moving: u64,
    sum: f64,
    sum_sq: f64,
    down_sq: f64,
}

impl CurveStats {
    /// Before the first bar, with the initial equity (money raw).
    #[must_use]
    pub fn new(initial: i64) -> Self {
        Self {
            peak: initial,
            max_dd: 0,
            pct_dd: 0,
            pct_peak: 1,
            prev: initial,
            flat: 0,
            moving: 0,
            sum: 0.0,
            sum_sq: 0.0,
            down_sq: 0.0,
        }
    }

    /// The statistics of a whole curve.
    #[must_use]
    pub fn of(initial: i64, equity: &[i64]) -> Self {
        let mut s = Self::new(initial);
        for &e in equity {
            s.push(e);
        }
        s
    }

    /// Adds `count` main-bar closes at the same equity `raw` (a stretch
    /// without a position): one step, then `count − 1` flat bars.
    #[inline]
    pub fn push_run(&mut self, raw: i64, count: u64) {
        if count == 0 {
            return;
        }
        self.push(raw);
        self.flat += (count - 1) * u64::from(raw != 0);
    }

    /// Adds the closes of a stretch in which the account holds `pos` and
    /// `cash` and nothing else changes: equity is `pos × close + cash`,
    /// written to `out`; the statistics end exactly (bit for bit) as if
    /// each bar had gone through [`CurveStats::push`]. Returns how many bars
    /// were done: fewer than `closes.len()` only if an equity overflows
    /// `i64` (the caller finishes those bars itself).
    ///
    /// This is where an optimization trial spends most of its bars, so it
    /// runs in two passes over the stretch instead of one: integers first
    /// (equities and drawdowns: a drawdown only needs the lowest equity
    /// between two new peaks), then returns in blocks, their divisions on
    /// SIMD lanes, summed in bar order as `push` does.
    pub fn push_held(&mut self, cash: i64, pos: i64, closes: &[i64], out: &mut [i64]) -> usize {
        let n = closes.len().min(out.len());
        let mut done = n;
        for (i, (slot, &close)) in out[..n].iter_mut().zip(&closes[..n]).enumerate() {
            match pos.checked_mul(close).and_then(|v| v.checked_add(cash)) {
                Some(e) => *slot = e,
                None => {
                    done = i;
                    break;
                }
            }
        }
        let equity = &out[..done];
        self.track_drawdowns(equity);
        self.add_returns(equity);
        done
    }

    /// The drawdown part of [`CurveStats::push`] over many bars: between
    /// two new peaks the peak is constant, so only the lowest equity can
    /// deepen either drawdown; it is checked when the next peak comes (or
    /// at the end), with the same strict comparisons, so the result is the
    /// same as bar by bar.
    fn track_drawdowns(&mut self, equity: &[i64]) {
        let Some(&first) = equity.first() else {
            return;
        };
        let mut low = first.min(self.peak);
        for &e in equity {
            if e > self.peak {
                self.deepen(low);
                self.peak = e;
                low = e;
            } else {
                low = low.min(e);
            }
        }
        self.deepen(low);
    }

    /// Records `low` (≤ peak) as a drawdown from the current peak.
    #[inline]
    fn deepen(&mut self, low: i64) {
        if low >= self.peak {
            return;
        }
        let dd = self.peak - low;
        self.max_dd = self.max_dd.max(dd);
        // dd ÷ peak > pct_dd ÷ pct_peak, cross-multiplied (i128 only when
        // the i64 products overflow)
        let deeper = match (
            dd.checked_mul(self.pct_peak),
            self.pct_dd.checked_mul(self.peak),
        ) {
            (Some(a), Some(b)) => a > b,
            _ => {
                i128::from(dd) * i128::from(self.pct_peak)
                    > i128::from(self.pct_dd) * i128::from(self.peak)
            }
        };
        if self.peak > 0 && deeper {
            (self.pct_dd, self.pct_peak) = (dd, self.peak);
        }
    }

    /// The return part of [`CurveStats::push`] over many bars. A bar equal
    /// to the previous one adds a zero return, which leaves every sum as it
    /// is (they start at +0 and can never become −0), so only the counts
    /// tell moving bars from flat ones.
    fn add_returns(&mut self, equity: &[i64]) {
        const BLOCK: usize = 256;
        let mut r = [0.0f64; BLOCK];
        let mut prev = self.prev;
        for block in equity.chunks(BLOCK) {
            let (moving, flat) = returns(prev, block, &mut r[..block.len()]);
            self.moving += moving;
            self.flat += flat;
            for &x in &r[..block.len()] {
                self.sum += x;
                self.sum_sq += x * x;
                let d = x.min(0.0);
                self.down_sq += d * d;
            }
            prev = block[block.len() - 1];
        }
        self.prev = prev;
    }

    /// The running sums of every per-bar return so far and of their
    /// squares: what the per-block sums of [`crate::robustness::blocks`]
    /// are differences of.
    #[inline]
    #[must_use]
    pub fn return_sums(&self) -> (f64, f64) {
        (self.sum, self.sum_sq)
    }

    /// Adds the equity at the next main-bar close (money raw).
    #[inline(always)]
    pub fn push(&mut self, raw: i64) {
        if raw == self.prev {
            self.flat += u64::from(raw != 0);
            return;
        }
        if raw > self.peak {
            self.peak = raw;
        } else {
            self.deepen(raw);
        }
        if self.prev != 0 {
            let r = (raw - self.prev) as f64 / self.prev as f64;
            self.moving += 1;
            self.sum += r;
            self.sum_sq += r * r;
            let d = r.min(0.0);
            self.down_sq += d * d;
        }
        self.prev = raw;
    }
}

/// Per-bar returns of `equity` after `prev` into `r` (0 where the
/// previous equity is 0, as [`CurveStats::push`] skips those), and the
/// counts of moving and of flat (unchanged, non-zero) bars. The divisions
/// are independent, so this loop runs on SIMD lanes (AVX2 or AVX-512 when
/// the CPU has them, picked at run time); each lane's IEEE division is the
/// same as a scalar one, so the results are bit for bit those of `push`.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512dq+avx512vl+avx2+fma+bmi1+bmi2+popcnt+lzcnt",
    "x86_64+avx2+fma+bmi1+bmi2+popcnt+lzcnt",
))]
fn returns(prev: i64, equity: &[i64], r: &mut [f64]) -> (u64, u64) {
    let n = equity.len().min(r.len());
    let (mut moving, mut flat) = (0u64, 0u64);
    let mut step = |p: i64, e: i64| -> f64 {
        moving += u64::from(e != p && p != 0);
        flat += u64::from(e == p && e != 0);
        if p != 0 {
            (e - p) as f64 / p as f64
        } else {
            0.0
        }
    };
    if n == 0 {
        return (0, 0);
    }
    r[0] = step(prev, equity[0]);
    for ((x, &p), &e) in r[1..n].iter_mut().zip(&equity[..n - 1]).zip(&equity[1..n]) {
        *x = step(p, e);
    }
    (moving, flat)
}

/// Inputs of [`compute`].
#[derive(Debug, Clone, Copy)]
pub struct MetricsInput<'a> {
    /// Instrument (for the money scale).
    pub instrument: &'a Instrument,
    /// Initial cash, money raw.
    pub initial_cash: i64,
    /// Equity at each main-bar close, money raw.
    pub equity: &'a [i64],
    /// The curve's statistics if the bar loop gathered them (else they
    /// are computed from `equity`).
    pub curve: Option<&'a CurveStats>,
    /// Main-bar open times, ms.
    pub times: &'a [i64],
    /// Main timeframe in ms (to count the last bar's span).
    pub bar_ms: i64,
    /// Closed trades.
    pub trades: &'a [TradeRecord],
    /// Main bars that closed with a position.
    pub exposure_bars: u64,
    /// Commission paid, money raw.
    pub total_commission: i64,
    /// Sub-bars covered.
    pub sub_bars: u64,
    /// Wall time, seconds.
    pub wall_secs: f64,
}

/// Computes every metric from an equity curve and a trade list.
#[must_use]
pub fn compute(inp: &MetricsInput<'_>) -> PerformanceMetrics {
    compute_trial(inp).expand(&common(inp), Some(inp.wall_secs))
}

/// What `inp` shares with every other run over the same data and cash.
#[must_use]
pub fn common(inp: &MetricsInput<'_>) -> RunCommon {
    RunCommon {
        initial_equity: inp
            .instrument
            .money_f64(crate::Money::from_raw(inp.initial_cash)),
        main_bars: inp.equity.len() as u64,
        sub_bars: inp.sub_bars,
    }
}

/// Computes the compact statistics (all of [`compute`] but the shared and
/// derived parts); `sub_bars` and `wall_secs` of `inp` are not read.
#[must_use]
pub fn compute_trial(inp: &MetricsInput<'_>) -> TrialMetrics {
    let m = |raw: i64| inp.instrument.money_f64(crate::Money::from_raw(raw));
    let initial = m(inp.initial_cash);
    let final_equity = inp.equity.last().map_or(initial, |&e| m(e));

    let span_ms = match (inp.times.first(), inp.times.last()) {
        (Some(a), Some(b)) => (b - a + inp.bar_ms) as f64,
        _ => 0.0,
    };
    let years = span_ms / MS_PER_YEAR;
    let annualized_return_pct = (years > 0.0 && initial > 0.0).then(|| {
        if final_equity <= 0.0 {
            -100.0
        } else {
            ((final_equity / initial).powf(1.0 / years) - 1.0) * 100.0
        }
    });

    let inv_unit = 1.0 / inp.instrument.money_scale.unit() as f64;
    let curve = match inp.curve {
        Some(c) => *c,
        None => CurveStats::of(inp.initial_cash, inp.equity),
    };
    let CurveStats {
        max_dd,
        pct_dd,
        pct_peak,
        flat,
        moving,
        sum,
        sum_sq,
        down_sq,
        ..
    } = curve;
    let n = flat + moving;
    let max_dd = max_dd as f64 * inv_unit;
    let max_dd_pct = pct_dd as f64 / pct_peak as f64;
    let mean = if n > 0 { sum / n as f64 } else { 0.0 };
    let m2 = (sum_sq - sum * mean).max(0.0);
    let periods_per_year = periods_per_year(inp.times, inp.bar_ms, inp.equity.len());
    let ann = periods_per_year.sqrt();
    let std = if n > 1 {
        (m2 / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    let sharpe = (n > 1 && std > 0.0 && ann > 0.0).then(|| mean / std * ann);
    let down_dev = if n > 0 {
        (down_sq / n as f64).sqrt()
    } else {
        0.0
    };
    let sortino = (n > 1 && down_dev > 0.0 && ann > 0.0).then(|| mean / down_dev * ann);

    let mut wins = (0u64, 0.0f64, f64::NAN);
    let mut losses = (0u64, 0.0f64, f64::NAN);
    for t in inp.trades {
        let p = m(t.pnl);
        if t.pnl > 0 {
            wins = (wins.0 + 1, wins.1 + p, p.max(wins.2));
        } else if t.pnl < 0 {
            losses = (losses.0 + 1, losses.1 + p, p.min(losses.2));
        }
    }
    TrialMetrics {
        final_equity,
        annualized_return_pct: annualized_return_pct.unwrap_or(f64::NAN),
        max_drawdown: max_dd,
        max_drawdown_pct: max_dd_pct * 100.0,
        sharpe: sharpe.unwrap_or(f64::NAN),
        sortino: sortino.unwrap_or(f64::NAN),
        gross_profit: wins.1,
        gross_loss: losses.1,
        largest_win: wins.2,
        largest_loss: losses.2,
        exposure_pct: pct(inp.exposure_bars as f64, inp.equity.len() as f64),
        total_commission: m(inp.total_commission),
        trade_count: count32(inp.trades.len() as u64),
        winning_trades: count32(wins.0),
        losing_trades: count32(losses.0),
    }
}

/// Main bars per year of a run over bars opening at `times` (each
/// `bar_ms` long) with `bars` equity points: what annualises the per-bar
/// Sharpe and Sortino ratios (0 for an empty span).
#[must_use]
pub fn periods_per_year(times: &[i64], bar_ms: i64, bars: usize) -> f64 {
    let span_ms = match (times.first(), times.last()) {
        (Some(a), Some(b)) => (b - a + bar_ms) as f64,
        _ => 0.0,
    };
    let years = span_ms / MS_PER_YEAR;
    if years > 0.0 {
        bars as f64 / years
    } else {
        0.0
    }
}

fn pct(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b * 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stretch of closes with repeats, new highs, deep falls and a price
    /// of zero, marked against a long and a short position.
    fn closes() -> Vec<i64> {
        let mut x = 99u64;
        let mut p = 1_000i64;
        (0..5_000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                p = (p + (x % 21) as i64 - 10).max(0);
                if i % 997 == 0 {
                    p += 300;
                }
                p
            })
            .collect()
    }

    #[test]
    fn a_held_stretch_ends_exactly_like_bar_by_bar_pushes() {
        let closes = closes();
        for (initial, cash, pos) in [
            (100_000, 3, 97),
            (100_000, 500_000, -400),
            (0, 0, 1),
            (5, -20, 3),
        ] {
            let mut one = CurveStats::new(initial);
            let mut want = vec![0; closes.len()];
            for (w, &c) in want.iter_mut().zip(&closes) {
                *w = pos * c + cash;
                one.push(*w);
            }
            let mut many = CurveStats::new(initial);
            let mut out = vec![0; closes.len()];
            // in uneven pieces, like fast-forwards between signals
            let mut k = 0;
            for len in [1, 2, 300, 257, 256, 1_000].into_iter().cycle() {
                let end = (k + len).min(closes.len());
                let done = many.push_held(cash, pos, &closes[k..end], &mut out[k..end]);
                assert_eq!(done, end - k);
                k = end;
                if k == closes.len() {
                    break;
                }
                many.push(pos * closes[k] + cash);
                out[k] = pos * closes[k] + cash;
                k += 1;
            }
            assert_eq!(out, want, "equities for pos {pos}");
            assert_eq!(many, one, "statistics for pos {pos}");
            assert_eq!(many.sum.to_bits(), one.sum.to_bits());
        }
    }

    #[test]
    fn a_held_stretch_stops_before_an_overflowing_equity() {
        let mut s = CurveStats::new(10);
        let mut out = [0; 3];
        let done = s.push_held(0, i64::MAX / 4, &[1, 2, 5], &mut out);
        assert_eq!(done, 2);
        assert_eq!(out[..2], [i64::MAX / 4, i64::MAX / 4 * 2]);
    }
}
