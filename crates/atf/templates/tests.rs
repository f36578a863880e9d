//! Unit tests of the strategies: backtests on made-up bars.

use crate::rsi_dip::RsiDip;

/// A week down, then a month up.
fn dip_and_rally() -> Vec<f64> {
    let down = (0..6).map(|i| 100.0 - f64::from(i));
    let up = (1..=20).map(|i| 95.0 + 3.0 * f64::from(i));
    down.chain(up).collect()
}

#[test]
fn buys_the_dip_and_sells_the_rally() {
    let data = atf::testing::daily_closes(&dip_and_rally());
    let report = atf::testing::backtest::<RsiDip>(&data, &[("period", "5")]).unwrap();
    assert_eq!(report.trades.len(), 1, "one round trip: in on the fall, out on the rally");
    assert!(report.metrics.net_profit > 0.0);
    assert!(report.open_position.is_none(), "flat at the end");
}

#[test]
fn refuses_oversold_above_overbought() {
    let data = atf::testing::daily_closes(&dip_and_rally());
    let params = [("oversold", "80"), ("overbought", "20")];
    let err = atf::testing::backtest::<RsiDip>(&data, &params).unwrap_err();
    assert!(err.to_string().contains("oversold must be below overbought"), "{err}");
}
