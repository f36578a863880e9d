//! What "best" means: the metric an optimization maximizes.

use crate::metrics::{RunCommon, TrialMetrics};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::str::FromStr;

/// The metric an optimization maximizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fitness {
    /// Annualised Sharpe ratio.
    Sharpe,
    /// Final equity minus initial cash.
    NetProfit,
    /// Total return % ÷ max drawdown %.
    ReturnOverDrawdown,
    /// Gross profit ÷ gross loss.
    ProfitFactor,
    /// Annualised Sortino ratio.
    Sortino,
    /// Winning trades in %.
    WinRate,
}

impl Fitness {
    /// Every fitness, in the order they are listed to users.
    pub const ALL: [Self; 6] = [
        Self::Sharpe,
        Self::NetProfit,
        Self::ReturnOverDrawdown,
        Self::ProfitFactor,
        Self::Sortino,
        Self::WinRate,
    ];

    /// The name users type (`net-profit`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Sharpe => "sharpe",
            Self::NetProfit => "net-profit",
            Self::ReturnOverDrawdown => "return-over-drawdown",
            Self::ProfitFactor => "profit-factor",
            Self::Sortino => "sortino",
            Self::WinRate => "win-rate",
        }
    }

    /// The trial's score, `None` when the metric is undefined for it (no
    /// variance, no losing trade, no drawdown, no trade).
    #[must_use]
    pub fn score(self, m: &TrialMetrics, common: &RunCommon) -> Option<f64> {
        match self {
            Self::Sharpe => m.sharpe(),
            Self::NetProfit => Some(m.final_equity() - common.initial_equity),
            Self::ReturnOverDrawdown => m.expand(common, None).return_over_drawdown,
            Self::ProfitFactor => m.profit_factor(),
            Self::Sortino => m.sortino(),
            Self::WinRate => m.win_rate(),
        }
    }
}

impl std::fmt::Display for Fitness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown fitness name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fitness '{0}' (choose sharpe, net-profit, return-over-drawdown, profit-factor, sortino or win-rate)")]
pub struct UnknownFitness(pub String);

impl FromStr for Fitness {
    type Err = UnknownFitness;

    /// Accepts `net-profit`, `net_profit` and `netProfit` alike.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let folded: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        Self::ALL
            .into_iter()
            .find(|f| f.name().replace('-', "") == folded)
            .ok_or_else(|| UnknownFitness(s.to_owned()))
    }
}

impl Serialize for Fitness {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Fitness {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Fitness {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Self::ALL.iter().map(|f| f.name())))
            .description(Some("The metric trials are ranked by."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Fitness {}
