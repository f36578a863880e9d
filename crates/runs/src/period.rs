//! A run's period as users write it (`2024-01-01`, an ISO instant or epoch
//! seconds/milliseconds) turned into `[from, to)` milliseconds, and the
//! work it holds estimated from the dataset's catalog entry alone.

use crate::settings::FieldError;
use atf_data::{time, DatasetInfo};

/// `[from_ms, to_ms)`; `None` = the dataset's own start / end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Period {
    /// First instant included.
    pub from_ms: Option<i64>,
    /// First instant excluded.
    pub to_ms: Option<i64>,
}

fn bound(text: &str, end: bool) -> Result<i64, FieldError> {
    let field = if end { "to" } else { "from" };
    let ms = time::parse_timestamp(text).map_err(|e| FieldError::new(field, e.to_string()))?;
    // A bare date as the end of a period means "through that day".
    let date_only = text.trim().len() == 10 && text.contains('-');
    Ok(if end && date_only {
        ms + 86_400_000
    } else if end {
        ms + 1
    } else {
        ms
    })
}

impl Period {
    /// Parses the optional `from` and `to` texts.
    ///
    /// # Errors
    /// `from` / `to`: not a date or instant; `to`: not after `from`.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, FieldError> {
        let from_ms = from.map(|t| bound(t, false)).transpose()?;
        let to_ms = to.map(|t| bound(t, true)).transpose()?;
        if let (Some(a), Some(b)) = (from_ms, to_ms) {
            if a >= b {
                return Err(FieldError::new("to", "empty period: must be after from"));
            }
        }
        Ok(Self { from_ms, to_ms })
    }

    /// Whether it covers all of `ds`.
    #[must_use]
    pub fn covers(&self, ds: &DatasetInfo) -> bool {
        self.from_ms.is_none_or(|f| f <= ds.first_ts_ms)
            && self.to_ms.is_none_or(|t| t > ds.last_ts_ms)
    }

    /// The number of the dataset's bars in the period, from its catalog
    /// entry alone: exact when the period covers the whole dataset,
    /// otherwise the dataset's rows in proportion to the time covered (the
    /// run replaces it with the exact count once its bars are loaded).
    #[must_use]
    pub fn estimate_bars(&self, ds: &DatasetInfo) -> u64 {
        if self.covers(ds) {
            return ds.rows;
        }
        let step = ds.timeframe.millis();
        let (first, end) = (ds.first_ts_ms, ds.last_ts_ms + step);
        let start = self.from_ms.map_or(first, |f| f.max(first));
        let stop = self.to_ms.map_or(end, |t| t.min(end));
        if stop <= start {
            return 0;
        }
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "an estimate in 1..=rows; the run counts exactly once loaded"
        )]
        let est = (ds.rows as f64 * (stop - start) as f64 / (end - first) as f64).ceil() as u64;
        est.clamp(1, ds.rows)
    }

    /// Refuses a period that holds none of the dataset's bars.
    ///
    /// # Errors
    /// `from` (or `to`) naming the dataset's range.
    pub fn check_overlaps(&self, ds: &DatasetInfo) -> Result<(), FieldError> {
        if self.estimate_bars(ds) > 0 {
            return Ok(());
        }
        let field = if self.from_ms.is_some_and(|f| f > ds.last_ts_ms) {
            "from"
        } else {
            "to"
        };
        Err(FieldError::new(
            field,
            format!(
                "empty period: dataset '{}' has bars from {} to {}",
                ds.name,
                time::format_iso(ds.first_ts_ms),
                time::format_iso(ds.last_ts_ms)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atf_engine::Timeframe;

    fn ds() -> DatasetInfo {
        DatasetInfo {
            id: 1,
            name: "d".into(),
            symbol: "D".into(),
            timeframe: Timeframe::M1,
            first_ts_ms: 0,
            last_ts_ms: 99 * 60_000,
            rows: 100,
            price_decimals: 2,
            volume_decimals: 0,
            sha256: String::new(),
            file: "x".into(),
            imported_at_ms: 0,
            source_name: "x".into(),
        }
    }

    #[test]
    fn whole_dataset_is_exact_and_a_half_is_half() {
        let d = ds();
        assert_eq!(Period::default().estimate_bars(&d), 100);
        let half = Period {
            from_ms: Some(50 * 60_000),
            to_ms: None,
        };
        assert_eq!(half.estimate_bars(&d), 50);
        let outside = Period {
            from_ms: Some(1_000 * 60_000),
            to_ms: None,
        };
        assert_eq!(outside.estimate_bars(&d), 0);
        assert_eq!(outside.check_overlaps(&d).unwrap_err().field, "from");
    }

    #[test]
    fn dates_and_refusals() {
        let p = Period::parse(Some("2024-01-01"), Some("2024-01-01")).unwrap();
        assert_eq!(p.to_ms.unwrap() - p.from_ms.unwrap(), 86_400_000);
        assert_eq!(Period::parse(Some("soon"), None).unwrap_err().field, "from");
        assert_eq!(
            Period::parse(Some("2024-02-01"), Some("2024-01-01"))
                .unwrap_err()
                .field,
            "to"
        );
    }
}
