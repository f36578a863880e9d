//! The flag behind a refused request field: the one table from the API's
//! field names (`commissionPct`, `params.fast`, `axes.slow`,
//! `constraints[0]`, as `atf_runs` and the server name them) to the flags
//! that fill them (`--commission-pct`, `--param fast`, `--axis slow`,
//! `--constraint 'fast<slow'`).
//!
//! Local runs (checked here by `atf_runs::plan`) and `--server` runs
//! (checked by the server, the same planner) refuse through it alike, so a
//! bad value reads the same whoever checked it: the planner's reason after
//! the flag, one line, exit 2.

use crate::exit::CliError;
use atf_runs::FieldError;

/// What the table needs besides a field's name: the `--constraint` texts,
/// to quote the one refused (`constraints[1]` → `--constraint 'a<b'`).
#[derive(Debug, Clone, Copy, Default)]
pub struct FieldNames<'a> {
    /// The `--constraint` flags, in order.
    pub constraints: &'a [String],
}

/// Top-level request fields and their flags.
const FLAGS: [(&str, &str); 29] = [
    ("strategy", "--strategy"),
    ("dataset", "--dataset"),
    ("timeframe", "--timeframe"),
    ("from", "--from"),
    ("to", "--to"),
    ("warmupBars", "--warmup"),
    ("params", "--param"),
    ("cash", "--cash"),
    ("commissionPct", "--commission-pct"),
    ("commissionFixed", "--commission-fixed"),
    ("slippageTicks", "--slippage-ticks"),
    ("sizePct", "--size-pct"),
    ("sizeQty", "--size-qty"),
    ("axes", "--axis"),
    ("constraints", "--constraint"),
    ("maximize", "--maximize"),
    ("top", "--top"),
    ("method", "--method"),
    ("budget", "--budget"),
    ("seed", "--seed"),
    ("mode", "--mode"),
    ("inSample", "--in-sample"),
    ("outOfSample", "--out-of-sample"),
    ("folds", "--folds"),
    ("oosFraction", "--oos-fraction"),
    ("criteria.minWfePct", "--min-wfe"),
    ("criteria.minProfitableFoldsPct", "--min-profitable-folds"),
    ("criteria.maxFoldProfitSharePct", "--max-fold-profit-share"),
    ("criteria.maxDrawdownPct", "--max-drawdown"),
];

/// The flag a request field comes from (`commissionPct` →
/// `--commission-pct`, `params.fast` → `--param fast`, `axes.slow.step` →
/// `--axis slow`); `None` for a field no flag fills (`body`).
pub fn flag_of(field: &str, names: &FieldNames<'_>) -> Option<String> {
    if let Some(name) = field.strip_prefix("params.") {
        return Some(format!("--param {name}"));
    }
    if let Some(rest) = field.strip_prefix("axes.") {
        let name = rest.split('.').next().unwrap_or(rest);
        return Some(format!("--axis {name}"));
    }
    if let Some(rest) = field.strip_prefix("constraints[") {
        let text = rest
            .strip_suffix(']')
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| names.constraints.get(i));
        return Some(match text {
            Some(t) => format!("--constraint '{t}'"),
            None => "--constraint".to_owned(),
        });
    }
    FLAGS
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, flag)| (*flag).to_owned())
}

/// `flag: reason`, without saying twice what the reason already names:
/// `--axis 'fast=5..50:0': step must be positive`, `--param 'fast': 0 is
/// outside …`, `--axis fats: unknown parameter 'fats' …`.
pub fn with_flag(flag: &str, reason: &str) -> String {
    for (prefix, word) in [("--axis", "axis '"), ("--constraint", "constraint '")] {
        if flag.starts_with(prefix) && reason.starts_with(word) {
            return format!("--{reason}");
        }
    }
    if flag.starts_with("--axis") {
        if let Some(rest) = reason.strip_prefix("axis: ") {
            return format!("{flag}: {rest}");
        }
    }
    if flag.starts_with("--param") {
        if let Some(rest) = reason.strip_prefix("parameter '") {
            return format!("--param '{rest}");
        }
    }
    format!("{flag}: {reason}")
}

/// A refused field as the user reads it: its flag and the reason.
pub fn describe(e: &FieldError, names: &FieldNames<'_>) -> String {
    match flag_of(&e.field, names) {
        Some(flag) => with_flag(&flag, &e.reason),
        None => e.to_string(),
    }
}

/// A refused field as the CLI's bad-input error (one line, exit 2).
pub fn refused(e: &FieldError, names: &FieldNames<'_>) -> CliError {
    CliError::Usage(describe(e, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_named_by_their_flags() {
        let constraints = ["fast<slow".to_owned()];
        let names = FieldNames {
            constraints: &constraints,
        };
        let flag = |f: &str| flag_of(f, &names);
        assert_eq!(flag("commissionPct").as_deref(), Some("--commission-pct"));
        assert_eq!(flag("params.fast").as_deref(), Some("--param fast"));
        assert_eq!(flag("params").as_deref(), Some("--param"));
        assert_eq!(flag("axes.slow").as_deref(), Some("--axis slow"));
        assert_eq!(flag("axes.slow.step").as_deref(), Some("--axis slow"));
        assert_eq!(flag("axes").as_deref(), Some("--axis"));
        assert_eq!(
            flag("constraints[0]").as_deref(),
            Some("--constraint 'fast<slow'")
        );
        assert_eq!(flag("constraints[7]").as_deref(), Some("--constraint"));
        for (field, f) in FLAGS {
            assert_eq!(flag(field).as_deref(), Some(f));
        }
        assert_eq!(flag("from").as_deref(), Some("--from"));
        assert_eq!(flag("dataset").as_deref(), Some("--dataset"));
        assert_eq!(flag("body"), None);
        assert_eq!(flag(""), None);
    }

    #[test]
    fn the_reason_follows_the_flag_once() {
        assert_eq!(
            with_flag("--axis fast", "axis 'fast=1..2:0': step must be positive"),
            "--axis 'fast=1..2:0': step must be positive"
        );
        assert_eq!(
            with_flag("--param fast", "parameter 'fast': 0 is outside"),
            "--param 'fast': 0 is outside"
        );
        assert_eq!(
            with_flag("--axis fats", "axis: unknown parameter 'fats'"),
            "--axis fats: unknown parameter 'fats'"
        );
        assert_eq!(
            with_flag("--commission-pct", "must be between 0 and 10"),
            "--commission-pct: must be between 0 and 10"
        );
        let names = FieldNames::default();
        assert_eq!(
            describe(
                &FieldError::new("top", "must be between 1 and 1000"),
                &names
            ),
            "--top: must be between 1 and 1000"
        );
        assert_eq!(
            describe(&FieldError::new("body", "expected a JSON object"), &names),
            "body: expected a JSON object"
        );
    }
}
