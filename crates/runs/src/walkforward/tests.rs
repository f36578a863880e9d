use super::*;
use serde_json::json;

const DAY: i64 = 86_400_000;

fn w(body: Value) -> WindowFields {
    serde_json::from_value(body).unwrap()
}

#[test]
fn rolling_and_anchored_windows_by_duration() {
    let f = plan_windows(
        &w(json!({"inSample": "10d", "outOfSample": "5d"})),
        0,
        32 * DAY,
        Timeframe::D1,
    )
    .unwrap();
    // (32 - 10) / 5 = 4 folds; the last 2 days are left out
    assert_eq!(f.len(), 4);
    assert_eq!(
        (f[0].is_from_ms, f[0].is_to_ms, f[0].oos_to_ms),
        (0, 10 * DAY, 15 * DAY)
    );
    assert_eq!(
        (f[3].is_from_ms, f[3].oos_from_ms, f[3].oos_to_ms),
        (15 * DAY, 25 * DAY, 30 * DAY)
    );
    for p in f.windows(2) {
        assert_eq!(
            p[1].oos_from_ms, p[0].oos_to_ms,
            "the step is the OOS length"
        );
    }
    let a = plan_windows(
        &w(json!({"mode": "anchored", "inSample": "10d", "outOfSample": "5d"})),
        0,
        32 * DAY,
        Timeframe::D1,
    )
    .unwrap();
    assert_eq!(a.len(), 4);
    assert!(a.iter().all(|x| x.is_from_ms == 0));
    assert_eq!(a[3].is_to_ms, 25 * DAY);
}

#[test]
fn windows_by_folds_and_fraction_cover_the_period() {
    let f = plan_windows(
        &w(json!({"folds": 4, "oosFraction": 0.2})),
        0,
        80 * DAY,
        Timeframe::D1,
    )
    .unwrap();
    // oos = 80 / (4 + 4) = 10 days, is = 80 - 40 = 40 days
    assert_eq!(f.len(), 4);
    assert_eq!((f[0].is_to_ms, f[0].oos_to_ms), (40 * DAY, 50 * DAY));
    assert_eq!(f[3].oos_to_ms, 80 * DAY);
}

#[test]
fn refusals_name_the_field() {
    let e = |body: Value, span_days: i64, tf: Timeframe| {
        plan_windows(&w(body), 0, span_days * DAY, tf).unwrap_err()
    };
    let d = Timeframe::D1;
    let cases = [
        (json!({}), "inSample", "required"),
        (
            json!({"inSample": "10d"}),
            "outOfSample",
            "required with inSample",
        ),
        (
            json!({"outOfSample": "10d"}),
            "inSample",
            "required with outOfSample",
        ),
        (
            json!({"inSample": "ten days", "outOfSample": "5d"}),
            "inSample",
            "is not a duration",
        ),
        (
            json!({"inSample": "10d", "outOfSample": "5x"}),
            "outOfSample",
            "is not a duration",
        ),
        (
            json!({"inSample": "30d", "outOfSample": "10d"}),
            "inSample",
            "do not fit the period",
        ),
        (
            json!({"inSample": "10d", "outOfSample": "36h"}),
            "outOfSample",
            "whole number of bars",
        ),
        (
            json!({"inSample": "10d", "outOfSample": "5d", "folds": 3}),
            "folds",
            "not both",
        ),
        (json!({"folds": 3}), "oosFraction", "required with folds"),
        (
            json!({"oosFraction": 0.2}),
            "folds",
            "required with oosFraction",
        ),
        (
            json!({"folds": 0, "oosFraction": 0.2}),
            "folds",
            "between 1 and",
        ),
        (
            json!({"folds": 3, "oosFraction": 1.0}),
            "oosFraction",
            "between 0 and 1",
        ),
        (
            json!({"folds": 3, "oosFraction": 0}),
            "oosFraction",
            "between 0 and 1",
        ),
        (
            json!({"folds": 3, "oosFraction": -0.5}),
            "oosFraction",
            "between 0 and 1",
        ),
        (
            json!({"folds": 30, "oosFraction": 0.2}),
            "folds",
            "shorter than one bar",
        ),
    ];
    for (body, field, reason) in cases {
        let err = e(body.clone(), 20, d);
        assert_eq!(err.field, field, "{body}: {err}");
        assert!(err.reason.contains(reason), "{body}: {err}");
    }
}

#[test]
fn the_request_is_an_optimization_request_with_windows() {
    let body = json!({
        "strategy": "sma-cross", "dataset": "spy-1d",
        "axes": {"fast": {"min": 5, "max": 20, "step": 5}},
        "mode": "anchored", "inSample": "180d", "outOfSample": "30d",
        "criteria": {"maxDrawdownPct": 10}
    });
    let r = WalkForwardRequest::from_json(&body).unwrap();
    assert_eq!(r.windows.mode, WindowMode::Anchored);
    assert_eq!(r.windows.in_sample.as_deref(), Some("180d"));
    assert_eq!(r.optimization.run.dataset, "spy-1d");
    let back = serde_json::to_value(&r).unwrap();
    assert_eq!(WalkForwardRequest::from_json(&back).unwrap(), r);
    let c = Criteria::from_fields(&r.windows.criteria).unwrap();
    assert_eq!((c.max_drawdown_pct, c.min_wfe_pct), (10.0, 50.0));

    let field = |body: Value| WalkForwardRequest::from_json(&body).unwrap_err().field;
    assert_eq!(
        field(json!({"strategy": "s", "dataset": "d", "axes": {}, "mode": "sideways"})),
        "mode"
    );
    assert_eq!(
        field(json!({"strategy": "s", "dataset": "d", "axes": {}, "criteria": {"minWfe": 1}})),
        "criteria.minWfe"
    );
    assert_eq!(
        field(json!({"strategy": "s", "dataset": "d", "axes": {}, "folds": -1})),
        "folds"
    );
    assert_eq!(
        field(json!({"strategy": "s", "dataset": "d", "folds": 2})),
        "axes"
    );
    let e = Criteria::from_fields(&CriteriaFields {
        max_drawdown_pct: Some(150.0),
        ..CriteriaFields::default()
    })
    .unwrap_err();
    assert_eq!(e.field, "criteria.maxDrawdownPct");
}

#[test]
fn wfe_is_undefined_over_a_losing_or_flat_in_sample() {
    assert_eq!(ratio_pct(Some(10.0), Some(20.0)), Some(50.0));
    assert_eq!(ratio_pct(Some(-10.0), Some(20.0)), Some(-50.0));
    assert_eq!(ratio_pct(Some(-10.0), Some(-20.0)), None);
    assert_eq!(ratio_pct(Some(10.0), Some(0.0)), None);
    assert_eq!(ratio_pct(None, Some(10.0)), None);
}

fn fold(start: f64, end: f64, fast: i64) -> FoldReport {
    let m: PerformanceMetrics = serde_json::from_value(json!({
        "initialEquity": start, "finalEquity": end, "netProfit": end - start,
        "totalReturnPct": 0.0, "annualizedReturnPct": null, "maxDrawdown": 0.0,
        "maxDrawdownPct": 0.0, "sharpe": null, "sortino": null, "profitFactor": null,
        "returnOverDrawdown": null, "winRate": null, "tradeCount": 1, "winningTrades": 0,
        "losingTrades": 0, "averageWin": null, "averageLoss": null, "expectancy": null,
        "largestWin": null, "largestLoss": null, "exposurePct": 0.0,
        "totalCommission": 0.0, "mainBars": 1, "subBars": 1
    }))
    .unwrap();
    FoldReport {
        is_warmup_bars: 0,
        oos_warmup_bars: 0,
        window: FoldWindow {
            fold: 1,
            is_from_ms: 0,
            is_to_ms: 1,
            oos_from_ms: 1,
            oos_to_ms: 2,
        },
        is_bars: BarRange { from: 0, to: 1 },
        oos_bars: BarRange { from: 1, to: 2 },
        no_bars: false,
        completed: 1,
        failed: 0,
        skipped: 0,
        start_equity: start,
        end_equity: end,
        winner: Some(FoldWinner {
            index: 0,
            params: atf_engine::OrderedMap(vec![("fast".into(), ParamScalar::Int(fast))]),
            is_fitness: None,
            is_metrics: m.clone(),
            oos_metrics: m,
            closed_at_end: None,
            wfe_pct: None,
            is_equity_curve: Vec::new(),
        }),
    }
}

#[test]
fn criteria_and_stability_are_measured_as_documented() {
    // four folds: +600, -100, +300, +200 on one account → +1000
    let folds = vec![
        fold(10_000.0, 10_600.0, 10),
        fold(10_600.0, 10_500.0, 10),
        fold(10_500.0, 10_800.0, 20),
        fold(10_800.0, 11_000.0, 20),
    ];
    let s = StitchedMetrics {
        initial_equity: 10_000.0,
        final_equity: 11_000.0,
        net_profit: 1_000.0,
        total_return_pct: 10.0,
        annualized_return_pct: Some(5.0),
        max_drawdown: 100.0,
        max_drawdown_pct: 0.94,
        sharpe: None,
        sharpe_t_stat: None,
        bars: 4,
        trade_count: 4,
        profitable_folds: 3,
        folds: 4,
    };
    let c = checks(&Criteria::default(), Some(40.0), &s, &folds);
    let got: Vec<(&str, Option<f64>, bool)> = c
        .iter()
        .map(|c| (c.name.as_str(), c.value, c.passed))
        .collect();
    assert_eq!(
        got,
        [
            ("wfe", Some(40.0), false),
            ("profitableFolds", Some(75.0), true),
            ("foldProfitShare", Some(60.0), false),
            ("maxDrawdown", Some(0.94), true),
        ]
    );
    assert_eq!(c[0].rule, "walk-forward efficiency ≥ 50 %");
    let lenient = Criteria {
        min_wfe_pct: 40.0,
        max_fold_profit_share_pct: 61.0,
        ..Criteria::default()
    };
    assert!(checks(&lenient, Some(40.0), &s, &folds)
        .iter()
        .all(|c| c.passed));
    assert!(
        !checks(&lenient, None, &s, &folds)[0].passed,
        "undefined WFE fails"
    );

    let spec = OptimizeSpec {
        grid: atf_engine::grid::Grid::new(
            vec![atf_engine::grid::Axis::parse(
                "fast=10,20",
                &atf_engine::Registry::builtin()
                    .find("sma-cross")
                    .unwrap()
                    .info()
                    .params,
            )
            .unwrap()],
            100,
        )
        .unwrap(),
        constraints: Vec::new(),
        base: atf_engine::Registry::builtin()
            .find("sma-cross")
            .unwrap()
            .info()
            .params
            .resolve(std::iter::empty::<(&str, &str)>())
            .unwrap(),
        fitness: atf_engine::optimize::Fitness::Sharpe,
        top: 1,
        assess: true,
        search: None,
    };
    let st = stability(&spec, &folds);
    assert_eq!(st.len(), 1);
    assert_eq!((st[0].name.as_str(), st[0].distinct), ("fast", 2));
    assert_eq!(st[0].mean, Some(15.0));
    // population sd 5 over mean 15
    assert_eq!(st[0].cv, Some(5.0 / 15.0));
}

#[test]
fn the_in_sample_curve_is_thinned_to_every_kth_point_and_the_last() {
    let curve = |n: i64| -> EquityCurve {
        serde_json::from_value(Value::Array(
            (0..n)
                .map(|i| json!({"time": i, "equity": 1000 + i}))
                .collect(),
        ))
        .unwrap()
    };
    let times = |pts: Vec<EquityPoint>| pts.iter().map(|p| p.time).collect::<Vec<_>>();
    // short curves are kept whole
    assert_eq!(times(thin(&curve(4), 5)), vec![0, 1, 2, 3]);
    assert_eq!(times(thin(&curve(5), 5)), vec![0, 1, 2, 3, 4]);
    // 11 points into 5: every 3rd (10 ÷ 4 rounded up) and the last
    assert_eq!(times(thin(&curve(11), 5)), vec![0, 3, 6, 9, 10]);
    // the last already on the stride is not repeated
    assert_eq!(times(thin(&curve(10), 5)), vec![0, 3, 6, 9]);
    let long = thin(&curve(100_000), IS_CURVE_POINTS);
    assert!(long.len() <= IS_CURVE_POINTS);
    assert_eq!(long.last().unwrap().equity, 100_999.0);
    assert!(thin(&EquityCurve::default(), 5).is_empty());
}

/// What a walk-forward keeps — each fold's winner and the stitched curve,
/// both within the period — is bounded like an optimization's kept trials,
/// the refusal naming the timeframe (a walk-forward has no `top`).
#[test]
fn what_a_walkforward_keeps_is_bounded_by_the_kept_points() {
    let reg = Registry::builtin();
    let ds = DatasetInfo {
        id: 1,
        name: "d".into(),
        symbol: "D".into(),
        timeframe: Timeframe::M1,
        first_ts_ms: 0,
        last_ts_ms: 999 * 60_000,
        rows: 1_000,
        price_decimals: 2,
        volume_decimals: 0,
        sha256: "00".into(),
        file: "x".into(),
        imported_at_ms: 0,
        source_name: "x".into(),
    };
    let req = WalkForwardRequest::from_json(&json!({
        "strategy": "sma-cross", "dataset": "d", "axes": {"fast": [5, 10]},
        "inSample": "100m", "outOfSample": "100m"
    }))
    .unwrap();
    let limits = |max_kept_points| GridLimits {
        max_combinations: 100,
        max_kept_points,
    };
    let job = check_walkforward(&reg, &req, ds.clone(), limits(1_000), None).unwrap();
    assert_eq!((job.windows.len(), job.total), (9, 18));
    let e = check_walkforward(&reg, &req, ds, limits(999), None).unwrap_err();
    assert_eq!(e.field, "timeframe", "{e}");
    assert!(e.reason.contains("999 equity points"), "{e}");
}
