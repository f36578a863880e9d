//! From source bytes to validated bars: options, naming rules, the report.

use crate::detect::{self, Detected, SourceFormat};
use crate::error::{DataError, Limit};
use crate::limits::ImportLimits;
use crate::validate::{BarsBuilder, Validated, MAX_DETECTED_DECIMALS};
use crate::{csv_source, parquet_source, DatasetInfo};
use serde::Serialize;
use std::io::Read;

/// Longest dataset name.
pub const MAX_NAME_LEN: usize = 64;

/// Choices the user can make when importing; everything else is detected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Dataset name; default: the file name without `.gz`, `.csv`, `.parquet`.
    pub name: Option<String>,
    /// Instrument symbol; default: the name up to the first `_` or `-`, uppercased.
    pub symbol: Option<String>,
    /// Price decimal places; default: the most written in any price. When
    /// given, a price with more non-zero decimals is an error.
    pub price_decimals: Option<u8>,
    /// How much the import may read, inflate and keep.
    pub limits: ImportLimits,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    /// The new catalog entry.
    pub dataset: DatasetInfo,
    /// The detected source format.
    pub format: SourceFormat,
    /// Whether the source was gzip-compressed.
    pub gzipped: bool,
    /// Bars imported.
    pub rows: u64,
    /// Places where consecutive bars are more than one timeframe apart.
    pub gaps: u64,
    /// Whole bar intervals skipped by those gaps.
    pub missing_bars: u64,
    /// Whether some volumes were written with more decimals than fit in
    /// 18 digits next to the largest volume, and were rounded (prices never are).
    pub volume_rounded: bool,
}

/// The parsed, validated content of a source.
pub(crate) struct Parsed {
    pub(crate) validated: Validated,
    pub(crate) format: SourceFormat,
    pub(crate) gzipped: bool,
}

/// Detects the format of `bytes` and reads and validates every row.
pub(crate) fn parse(
    file: &str,
    bytes: &[u8],
    price_decimals: Option<u8>,
    limits: &ImportLimits,
) -> Result<Parsed, DataError> {
    if let Some(d) = price_decimals.filter(|&d| d > MAX_DETECTED_DECIMALS) {
        return Err(DataError::InvalidOption(format!(
            "price decimals {d} is above the maximum of {MAX_DETECTED_DECIMALS}"
        )));
    }
    let (bytes, gzipped) = detect::gunzip(file, bytes, limits)?;
    let mut builder = BarsBuilder::new(file, price_decimals, limits.max_rows);
    let format = match detect::detect(file, &bytes)? {
        Detected::Parquet => {
            parquet_source::read(file, bytes.into_owned(), &mut builder, limits)?;
            SourceFormat::Parquet
        }
        Detected::Csv(layout) => {
            csv_source::read(file, detect::strip_bom(&bytes), &layout, &mut builder)?;
            layout.format
        }
    };
    Ok(Parsed {
        validated: builder.finish()?,
        format,
        gzipped,
    })
}

/// Reads a source to its end, at most `max_bytes` of it (an upload as it
/// arrives, a pipe, a file): the first step of an import, before anything
/// is parsed.
///
/// # Errors
/// [`DataError::TooLarge`] past `max_bytes` (read no further);
/// [`DataError::Io`] when reading fails.
pub fn read_source(label: &str, reader: impl Read, max_bytes: u64) -> Result<Vec<u8>, DataError> {
    read_source_sized(label, reader, max_bytes, 0)
}

/// [`read_source`] with the size the source says it has, if known.
pub(crate) fn read_source_sized(
    label: &str,
    reader: impl Read,
    max_bytes: u64,
    size_hint: u64,
) -> Result<Vec<u8>, DataError> {
    let too_large = || {
        DataError::too_large(
            label,
            Limit::FileBytes,
            max_bytes,
            format!("the file is larger than {max_bytes} bytes"),
        )
    };
    if size_hint > max_bytes {
        return Err(too_large());
    }
    let mut out = Vec::with_capacity(usize::try_from(size_hint).unwrap_or(0));
    let n = reader
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| DataError::io(label, e))?;
    if n as u64 > max_bytes {
        return Err(too_large());
    }
    Ok(out)
}

/// The default dataset name for a source file name: the base name without
/// `.gz`, then `.csv`/`.tsv`/`.txt`/`.parquet`, with characters outside
/// `[A-Za-z0-9._-]` replaced by `_`.
#[must_use]
pub fn default_name(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let mut stem = base;
    for ext in [".gz", ".csv", ".tsv", ".txt", ".parquet"] {
        if stem.len() > ext.len() && stem.to_ascii_lowercase().ends_with(ext) {
            stem = &stem[..stem.len() - ext.len()];
        }
    }
    let name: String = stem
        .chars()
        .map(|c| if is_name_char(c) { c } else { '_' })
        .take(MAX_NAME_LEN)
        .collect();
    if name.is_empty() {
        "dataset".to_owned()
    } else {
        name
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Checks a dataset name: 1 to 64 characters of `[A-Za-z0-9._-]`, not all digits
/// (so it cannot be confused with an id).
///
/// # Errors
/// [`DataError::InvalidName`] naming the rule broken.
pub fn validate_name(name: &str) -> Result<(), DataError> {
    let reason = if name.is_empty() || name.len() > MAX_NAME_LEN {
        Some(format!("must be 1 to {MAX_NAME_LEN} characters long"))
    } else if let Some(c) = name.chars().find(|&c| !is_name_char(c)) {
        Some(format!(
            "'{}' is not allowed; use letters, digits, '.', '_' and '-'",
            c.escape_default()
        ))
    } else if name.bytes().all(|b| b.is_ascii_digit()) {
        Some("must not be only digits (it would look like an id)".to_owned())
    } else if name.starts_with('.') {
        Some("must not start with '.'".to_owned())
    } else {
        None
    };
    match reason {
        Some(reason) => Err(DataError::InvalidName {
            name: name.escape_default().to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// The default symbol for a dataset name: up to the first `_` or `-`, uppercased.
#[must_use]
pub fn default_symbol(name: &str) -> String {
    name.split(['_', '-'])
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(name)
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_symbols() {
        assert_eq!(
            default_name("data/spy_1d_lean_1998_2021.csv.gz"),
            "spy_1d_lean_1998_2021"
        );
        assert_eq!(default_name("x/My Bars.PARQUET"), "My_Bars");
        assert_eq!(default_name("btc.csv"), "btc");
        assert_eq!(default_symbol("eurusd_1m_histdata"), "EURUSD");
        assert_eq!(default_symbol("spy-1m"), "SPY");
        assert_eq!(default_symbol("6eh4"), "6EH4");
        assert!(validate_name("spy-1m.v2").is_ok());
        for bad in ["", "a b", "123", ".hidden", &"x".repeat(65), "a/b"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
