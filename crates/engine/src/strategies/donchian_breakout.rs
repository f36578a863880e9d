//! Donchian channel breakout with optional stop-loss and take-profit.

use crate::fixed::Ratio;
use crate::indicators::RollingExtreme;
use crate::lines::Indicators;
use crate::params::{ParamError, Params};
use crate::strategy::{Ctx, Strategy, StrategyError};

/// Enters on a close beyond the previous `entry` bars' high (low), exits on a
/// close beyond the previous `exit` bars' opposite extreme, with optional
/// percentage stop-loss and take-profit attached to each new position.
#[derive(Debug, Clone)]
pub struct DonchianBreakout {
    entry_hi: RollingExtreme,
    entry_lo: RollingExtreme,
    exit_hi: RollingExtreme,
    exit_lo: RollingExtreme,
    /// Channel values of the previous bar (the current bar is not in its own channel).
    prev: Option<[i64; 4]>,
    long_only: bool,
    brackets: (Option<Ratio>, Option<Ratio>),
    brackets_set: bool,
}

fn pct_ratio(pct: f64) -> Option<Ratio> {
    // percent with at most 7 decimals, parsed exactly from its shortest text
    (pct > 0.0)
        .then(|| Ratio::from_percent_str(&format!("{pct}")).ok())
        .flatten()
}

/// The parameters of [`DonchianBreakout`].
#[derive(Debug, Clone, Params)]
#[params(crate = crate)]
pub struct DonchianBreakoutParams {
    /// Breakout channel length in main bars
    #[param(default = 20, min = 1, max = 10_000)]
    pub entry: usize,
    /// Exit channel length in main bars
    #[param(default = 10, min = 1, max = 10_000)]
    pub exit: usize,
    /// Stop-loss distance from entry in %, 0 = none
    #[param(default = 0.0, min = 0.0, max = 99.0, step = 0.5)]
    pub stop_loss_pct: f64,
    /// Take-profit distance from entry in %, 0 = none
    #[param(default = 0.0, min = 0.0, max = 1000.0, step = 0.5)]
    pub take_profit_pct: f64,
    /// Only long positions; false also trades downside breakouts
    #[param(default = true)]
    pub long_only: bool,
}

impl Strategy for DonchianBreakout {
    const NAME: &'static str = "donchian-breakout";
    const VERSION: &'static str = "1.0.0";
    const DESCRIPTION: &'static str =
        "Donchian channel breakout with optional % stop-loss / take-profit";

    type Params = DonchianBreakoutParams;

    fn new(p: DonchianBreakoutParams, _ind: &Indicators<'_>) -> Result<Self, ParamError> {
        let (entry, exit) = (p.entry, p.exit);
        Ok(Self {
            entry_hi: RollingExtreme::max(entry),
            entry_lo: RollingExtreme::min(entry),
            exit_hi: RollingExtreme::max(exit),
            exit_lo: RollingExtreme::min(exit),
            prev: None,
            long_only: p.long_only,
            brackets: (pct_ratio(p.stop_loss_pct), pct_ratio(p.take_profit_pct)),
            brackets_set: false,
        })
    }

    #[inline(always)]
    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StrategyError> {
        if !self.brackets_set {
            ctx.set_brackets_pct(self.brackets.0, self.brackets.1);
            self.brackets_set = true;
        }
        let b = ctx.bar();
        if let Some([ehi, elo, xhi, xlo]) = self.prev {
            let c = b.close;
            if c > ehi && !ctx.is_long() {
                ctx.go_long();
            } else if c < elo && !self.long_only && !ctx.is_short() {
                ctx.go_short();
            } else if (ctx.is_long() && c < xlo) || (ctx.is_short() && c > xhi) {
                ctx.close_position();
            }
        }
        let now = (
            self.entry_hi.push(b.high),
            self.entry_lo.push(b.low),
            self.exit_hi.push(b.high),
            self.exit_lo.push(b.low),
        );
        self.prev = match now {
            (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
            _ => None,
        };
        Ok(())
    }
}
