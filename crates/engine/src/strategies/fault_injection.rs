//! A strategy that fails on purpose, to see failure handling work.

use crate::indicators::{Cross, Relation, Sma};
use crate::params::{ParamError, ParamSpace, ParamSpec, Params};
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

impl Strategy for FaultInjection {
    const NAME: &'static str = "fault-injection";
    const VERSION: &'static str = "1.0.0";
    const DESCRIPTION: &'static str =
        "Test strategy: close vs SMA, panics or errors on purpose at a chosen bar (fault=panic|error); not for trading";

    fn params() -> ParamSpace {
        ParamSpace(vec![
            ParamSpec::int("period", "SMA period in main bars", 20, 1, 10_000),
            ParamSpec::choice(
                "fault",
                "What to do at fault_bar: nothing, panic, or return an error",
                "none",
                &["none", "panic", "error"],
            ),
            ParamSpec::int(
                "fault_bar",
                "Main bar (0-based) at which the fault happens",
                50,
                0,
                1_000_000_000,
            ),
        ])
    }

    fn from_params(p: &Params) -> Result<Self, ParamError> {
        Ok(Self {
            sma: Sma::new(p.int("period") as usize),
            rel: Relation::default(),
            fault: match p.choice("fault") {
                "panic" => Fault::Panic,
                "error" => Fault::Error,
                _ => Fault::None,
            },
            fault_bar: p.int("fault_bar") as usize,
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
