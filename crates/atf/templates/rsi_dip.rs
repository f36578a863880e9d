use atf::prelude::*;

#[derive(Debug, Clone, Params)]
pub struct RsiDipParams {
    #[param(default = 14, min = 2, max = 200, description = "RSI period in bars")]
    pub period: usize,
    #[param(default = 30.0, min = 1.0, max = 99.0, step = 1.0, description = "Buy below this RSI")]
    pub oversold: f64,
    #[param(default = 70.0, min = 1.0, max = 99.0, step = 1.0, description = "Sell over this RSI")]
    pub overbought: f64,
}

/// Buys the dip: long when the RSI says oversold, flat again when it says overbought.
pub struct RsiDip {
    rsi: Line, // computed once per period, shared by every trial of a grid
    p: RsiDipParams,
}

impl Strategy for RsiDip {
    const NAME: &'static str = "rsi-dip";
    const DESCRIPTION: &'static str = "Long below RSI oversold, flat above overbought";
    type Params = RsiDipParams;

    fn new(p: RsiDipParams, ind: &Indicators<'_>) -> Result<Self, ParamError> {
        if p.oversold >= p.overbought {
            return Err(ParamError::inconsistent("oversold must be below overbought"));
        }
        Ok(Self { rsi: ind.rsi(p.period), p })
    }

    fn on_bar(&mut self, ctx: &mut Ctx<'_>) -> Result<(), StrategyError> {
        match self.rsi.now(ctx) {
            Some(rsi) if rsi < self.p.oversold && ctx.is_flat() => ctx.buy(),
            Some(rsi) if rsi > self.p.overbought && ctx.is_long() => ctx.close_position(),
            _ => {}
        }
        Ok(())
    }
}
