//! Costs, cash and sizing as users write them — decimal text, from CLI
//! flags or API bodies alike — turned into the engine's exact
//! [`BacktestConfig`], with the offending field named on refusal.

use atf_engine::{BacktestConfig, Costs, Instrument, Money, Qty, Ratio, Scale, Sizing};

/// A refused request field: its API name (camelCase) and why. Callers
/// name it their own way (the server as `field` of a problem, the CLI as
/// the flag the field comes from); this crate knows only the API's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field as the API names it (`commissionPct`, `params.fast`,
    /// `axes.slow`, `constraints[0]`).
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FieldError {
    /// A refusal of `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Costs, cash and sizing in the user's decimal text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostSettings<'a> {
    /// Initial cash in the quote currency.
    pub cash: &'a str,
    /// Commission in percent of each fill's notional.
    pub commission_pct: &'a str,
    /// Fixed commission per order.
    pub commission_fixed: &'a str,
    /// Slippage in ticks against the trader.
    pub slippage_ticks: i64,
    /// Order size in percent of equity (ignored when `size_qty` is given).
    pub size_pct: &'a str,
    /// Fixed order quantity.
    pub size_qty: Option<&'a str>,
}

fn money(scale: Scale, field: &'static str, text: &str) -> Result<Money, FieldError> {
    scale
        .parse(text)
        .map(Money::from_raw)
        .map_err(|e| FieldError::new(field, e.to_string()))
}

/// The engine's config for `inst` from `s`.
///
/// # Errors
/// [`FieldError`] naming the first field that does not parse or is out of
/// range (cash ≤ 0, commission outside [0, 10) %, negative fixed
/// commission or slippage, size outside (0, 100] % or a quantity ≤ 0).
pub fn engine_config(
    inst: &Instrument,
    s: &CostSettings<'_>,
) -> Result<BacktestConfig, FieldError> {
    let initial_cash = money(inst.money_scale, "cash", s.cash)?;
    if initial_cash.raw() <= 0 {
        return Err(FieldError::new("cash", "must be positive"));
    }
    let commission_rate = Ratio::from_percent_str(s.commission_pct)
        .map_err(|e| FieldError::new("commissionPct", e.to_string()))?;
    if commission_rate.raw() < 0 || commission_rate.raw() >= Ratio::ONE.raw() / 10 {
        return Err(FieldError::new("commissionPct", "must be between 0 and 10"));
    }
    let commission_fixed = money(inst.money_scale, "commissionFixed", s.commission_fixed)?;
    if commission_fixed.raw() < 0 {
        return Err(FieldError::new("commissionFixed", "must not be negative"));
    }
    if s.slippage_ticks < 0 {
        return Err(FieldError::new("slippageTicks", "must not be negative"));
    }
    // `sizePct` is checked even when `sizeQty` overrides it, so a request
    // never carries a bad value that was silently ignored
    let size_pct = Ratio::from_percent_str(s.size_pct)
        .map_err(|e| FieldError::new("sizePct", e.to_string()))?;
    if size_pct.raw() <= 0 || size_pct.raw() > Ratio::ONE.raw() {
        return Err(FieldError::new("sizePct", "must be in (0, 100]"));
    }
    let sizing = match s.size_qty {
        Some(q) => {
            let qty = inst
                .qty_scale
                .parse(q)
                .map_err(|e| FieldError::new("sizeQty", e.to_string()))?;
            if qty <= 0 {
                return Err(FieldError::new("sizeQty", "must be positive"));
            }
            Sizing::FixedQty(Qty::from_raw(qty))
        }
        None => Sizing::EquityFraction(size_pct),
    };
    Ok(BacktestConfig {
        initial_cash,
        costs: Costs {
            commission_rate,
            commission_fixed,
            slippage_ticks: s.slippage_ticks,
        },
        sizing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: CostSettings<'static> = CostSettings {
        cash: "10000",
        commission_pct: "0.1",
        commission_fixed: "0",
        slippage_ticks: 0,
        size_pct: "100",
        size_qty: None,
    };

    #[test]
    fn parses_exactly_and_names_the_bad_field() {
        let inst = Instrument::new("X", 2);
        let cfg = engine_config(&inst, &OK).unwrap();
        assert_eq!(cfg.initial_cash, Money::from_raw(1_000_000));
        assert_eq!(
            cfg.costs.commission_rate,
            Ratio::from_percent_str("0.1").unwrap()
        );
        let err = |s: CostSettings<'_>| engine_config(&inst, &s).unwrap_err();
        let e = err(CostSettings {
            commission_pct: "abc",
            ..OK
        });
        assert_eq!(e.field, "commissionPct");
        assert_eq!(
            err(CostSettings { cash: "0", ..OK }).to_string(),
            "cash: must be positive"
        );
        assert_eq!(
            err(CostSettings {
                commission_pct: "10",
                ..OK
            })
            .field,
            "commissionPct"
        );
        assert_eq!(
            err(CostSettings {
                slippage_ticks: -1,
                ..OK
            })
            .field,
            "slippageTicks"
        );
        assert_eq!(
            err(CostSettings {
                size_pct: "101",
                ..OK
            })
            .field,
            "sizePct"
        );
        assert_eq!(
            err(CostSettings {
                size_qty: Some("0"),
                ..OK
            })
            .field,
            "sizeQty"
        );
        // a fixed quantity overrides sizePct, which must still be valid
        assert_eq!(
            err(CostSettings {
                size_pct: "-5",
                size_qty: Some("1"),
                ..OK
            })
            .field,
            "sizePct"
        );
        assert_eq!(
            err(CostSettings {
                commission_fixed: "-1",
                ..OK
            })
            .field,
            "commissionFixed"
        );
    }
}
