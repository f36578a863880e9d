//! A strategy that fails on purpose, to see failure handling work.

use crate::indicators::{Cross, Relation, Sma};
use crate::lines::Indicators;
use crate::params::{ParamError, Params};
use crate::strategy::{Ctx, Strategy, StrategyError};

/// Close-versus-SMA trend follower that, when told to, panics or returns an
/// error at a chosen main bar.
///
/// It exists for testing and demonstrating how failures are recorded: a
/// failed backtest keeps its message and stack trace, and a grid with
/// `--axis fault=none,panic,error` shows failed trials beside completed ones.
/// Not meant for trading.
#[derive(Debug, Clone)]
pub struct FaultInjection {
    sma: Sma,
    rel: Relation,
    fault: Fault,
    fault_bar: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    Panic,
    Error,
}

/// The parameters of [`FaultInjection`].
#[derive(Debug, Clone, Params)]
#[params(crate = crate)]
pub struct FaultInjectionParams {
    /// SMA period in main bars
    #[param(default = 20, min = 1, max = 10_000)]
    pub period: usize,
    /// What to do at fault_bar: nothing, panic, or return an error
    #[param(default = "none", options("none", "panic", "error"))]
    pub fault: &'static str,
    /// Main bar (0-based) at which the fault happens
    #[param(default = 50, min = 0, max = 1_000_000_000)]
    pub fault_bar: usize,
}

impl Strategy for FaultInjection {
    const NAME: &'static str = "fault-injection";
    const VERSION: &'static str = "1.0.0";
    const DESCRIPTION: &'static str =
        "Test strategy: close vs SMA, panics or errors on purpose at a chosen bar (fault=panic|error); not for trading";

    type Params = FaultInjectionParams;

    fn new(p: FaultInjectionParams, _ind: &Indicators<'_>) -> Result<Self, ParamError> {
        Ok(Self {
            sma: Sma::new(p.period),
            rel: Relation::default(),
            fault: match p.fault {
                "panic" => Fault::Panic,
                "error" => Fault::Error,
                _ => Fault::None,
            },
            fault_bar: p.fault_bar,
        })
    }

    #[inline(always)]
    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StrategyError> {
        if ctx.index() == self.fault_bar {
            let at = format!("bar {} (period {})", self.fault_bar, self.sma.period());
            match self.fault {
                Fault::Panic => panic!("injected panic at {at}"),
                Fault::Error => return Err(StrategyError::new(format!("injected error at {at}"))),
                Fault::None => {}
            }
        }
        let closes = ctx.closes();
        if !self.sma.update(closes) {
            return Ok(());
        }
        let n = self.sma.period() as i128;
        let ord = (i128::from(ctx.close()) * n).cmp(&self.sma.sum());
        match self.rel.update(ord) {
            Cross::Above => ctx.go_long(),
            Cross::Below => ctx.close_position(),
            Cross::None => {}
        }
        Ok(())
    }
}
