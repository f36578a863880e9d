//! `#[derive(Params)]` against the hand-written declarations it replaces.

use atf_engine::params::{ParamError, ParamSpace, ParamSpec, ParamValue, Params, StrategyParams};

/// All four kinds, the way a strategy declares them.
#[derive(Debug, Clone, PartialEq, Params)]
#[params(crate = atf_engine)]
struct RsiDip {
    /// RSI period in main bars
    #[param(default = 14, min = 1, max = 10_000)]
    period: usize,
    /// Enter long below this RSI
    #[param(default = 30.0, min = 0.0, max = 100.0, step = 1.0)]
    oversold: f64,
    /// Only long positions;
    /// false also shorts above overbought
    #[param(default = true)]
    long_only: bool,
    /// Price the indicator reads
    #[param(default = "close", options("close", "hl2"))]
    source: &'static str,
}

fn rsi_dip_by_hand() -> ParamSpace {
    ParamSpace(vec![
        ParamSpec::int("period", "RSI period in main bars", 14, 1, 10_000),
        ParamSpec::float(
            "oversold",
            "Enter long below this RSI",
            30.0,
            0.0,
            100.0,
            1.0,
        ),
        ParamSpec::bool(
            "long_only",
            "Only long positions; false also shorts above overbought",
            true,
        ),
        ParamSpec::choice(
            "source",
            "Price the indicator reads",
            "close",
            &["close", "hl2"],
        ),
    ])
}

/// The less common forms: steps, negative bounds, narrow types, renames,
/// explicit descriptions, no doc comment, the string form of `crate`.
#[derive(Debug, Clone, PartialEq, atf_engine::Params)]
#[params(crate = "atf_engine")]
struct Odd {
    /// Ignored: `description` wins
    #[param(
        default = 20,
        min = 5,
        max = 100,
        step = 5,
        description = "Lookback, in steps of 5"
    )]
    lookback: u32,
    #[param(default = -2, min = -10, max = 10)]
    offset: i8,
    #[param(default = 255, min = 0, max = 255)]
    level: u8,
    #[param(default = -9_223_372_036_854_775_808, min = -9_223_372_036_854_775_808, max = 0)]
    floor: i64,
    /// A narrow float
    #[param(default = -0.5, min = -1, max = 1, step = 0.25)]
    tilt: f32,
    #[param(name = "type", default = "a", options("a", "b", "c"))]
    r#type: &'static str,
    /// Raw identifiers lose their `r#`
    #[param(default = false)]
    r#override: bool,
}

#[derive(Debug, Params)]
#[params(crate = atf_engine)]
struct Empty {}

#[test]
fn space_equals_the_hand_written_one() {
    assert_eq!(RsiDip::space(), rsi_dip_by_hand());
    assert_eq!(
        Odd::space(),
        ParamSpace(vec![
            ParamSpec::int("lookback", "Lookback, in steps of 5", 20, 5, 100).with_step(5.0),
            ParamSpec::int("offset", "", -2, -10, 10),
            ParamSpec::int("level", "", 255, 0, 255),
            ParamSpec::int("floor", "", i64::MIN, i64::MIN, 0),
            ParamSpec::float("tilt", "A narrow float", -0.5, -1.0, 1.0, 0.25),
            ParamSpec::choice("type", "", "a", &["a", "b", "c"]),
            ParamSpec::bool("override", "Raw identifiers lose their `r#`", false),
        ])
    );
    assert_eq!(Empty::space(), ParamSpace(Vec::new()));
}

#[test]
fn from_params_gives_the_typed_struct() {
    let params = RsiDip::space().resolve([("period", "20")]).unwrap();
    assert_eq!(
        RsiDip::from_params(&params).unwrap(),
        RsiDip {
            period: 20,
            oversold: 30.0,
            long_only: true,
            source: "close",
        }
    );

    let params = RsiDip::space()
        .resolve([("oversold", "25.5"), ("long_only", "no"), ("source", "HL2")])
        .unwrap();
    let p = RsiDip::from_params(&params).unwrap();
    assert_eq!(
        (p.period, p.oversold, p.long_only, p.source),
        (14, 25.5, false, "hl2")
    );

    let odd = Odd::from_params(&Odd::space().defaults()).unwrap();
    assert_eq!(
        odd,
        Odd {
            lookback: 20,
            offset: -2,
            level: 255,
            floor: i64::MIN,
            tilt: -0.5,
            r#type: "a",
            r#override: false,
        }
    );
    let params = Odd::space()
        .resolve_values(&[
            ("offset", ParamValue::Int(-10)),
            ("type", ParamValue::Choice("c")),
        ])
        .unwrap();
    let odd = Odd::from_params(&params).unwrap();
    assert_eq!((odd.offset, odd.r#type), (-10, "c"));
}

#[test]
fn out_of_range_input_is_refused_as_before() {
    for input in [
        [("period", "0")],
        [("period", "10001")],
        [("oversold", "100.5")],
        [("source", "open")],
        [("long_only", "maybe")],
        [("perod", "3")],
    ] {
        let derived: Result<Params, ParamError> = RsiDip::space().resolve(input);
        assert_eq!(derived, rsi_dip_by_hand().resolve(input), "{input:?}");
        assert!(derived.is_err(), "{input:?}");
    }
    assert_eq!(
        RsiDip::space()
            .resolve([("period", "0")])
            .unwrap_err()
            .to_string(),
        "parameter 'period': 0 is outside the allowed range 1..=10000"
    );
    assert!(matches!(
        Odd::space().resolve([("level", "256")]),
        Err(ParamError::OutOfRange { .. })
    ));
}
