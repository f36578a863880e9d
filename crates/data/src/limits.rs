//! How much an import may read, inflate and keep: one value, so the CLI
//! (`atf data import`), the server's uploads (`atf serve`) and the demo
//! import at start-up all refuse the same way and every bound is a flag.
//!
//! Why each bound exists: a source is read into memory, a gzip member can
//! expand ~1,000× (a 4 MB upload once inflated 1 GB), every row costs ~56
//! bytes once validated, and a Parquet footer can claim any number of rows
//! or bytes. Each bound is checked before the memory it protects is
//! allocated, and a refusal is [`crate::DataError::TooLarge`] naming it.

/// The bounds of one import. [`ImportLimits::default`] suits market data
/// on a desktop: 1-minute bars for 20 years are ~10 million rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportLimits {
    /// Largest source file (as given, compressed or not), in bytes.
    pub max_file_bytes: u64,
    /// Largest size a gzip source may expand to, whatever its ratio.
    pub max_decompressed_bytes: u64,
    /// Decompressed bytes a gzip source may expand to per compressed byte.
    /// Market data in CSV compresses 3–8×; deflate reaches ~1,000×.
    pub max_gzip_ratio: u64,
    /// Decompressed bytes allowed whatever the ratio (a small, very
    /// regular file may compress better than `max_gzip_ratio`).
    pub gzip_floor_bytes: u64,
    /// Most bars (data rows) in one dataset.
    pub max_rows: u64,
}

/// Default of [`ImportLimits::max_file_bytes`]: 4 GiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 4 << 30;
/// Default of [`ImportLimits::max_decompressed_bytes`]: 4 GiB.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: u64 = 4 << 30;
/// Default of [`ImportLimits::max_gzip_ratio`]: 32.
pub const DEFAULT_MAX_GZIP_RATIO: u64 = 32;
/// Default of [`ImportLimits::gzip_floor_bytes`]: 64 MiB.
pub const DEFAULT_GZIP_FLOOR_BYTES: u64 = 64 << 20;
/// Default of [`ImportLimits::max_rows`]: 50 million bars (~2.8 GB once
/// validated; 95 years of 1-minute bars).
pub const DEFAULT_MAX_ROWS: u64 = 50_000_000;

impl Default for ImportLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
            max_gzip_ratio: DEFAULT_MAX_GZIP_RATIO,
            gzip_floor_bytes: DEFAULT_GZIP_FLOOR_BYTES,
            max_rows: DEFAULT_MAX_ROWS,
        }
    }
}

impl ImportLimits {
    /// How far `compressed` bytes of gzip may expand: `max_gzip_ratio`
    /// times, at least `gzip_floor_bytes`, at most `max_decompressed_bytes`.
    #[must_use]
    pub fn decompressed_limit(&self, compressed: usize) -> u64 {
        (compressed as u64)
            .saturating_mul(self.max_gzip_ratio)
            .max(self.gzip_floor_bytes)
            .min(self.max_decompressed_bytes)
    }

    /// `max_rows` as a `usize` (saturating on 32-bit targets).
    #[must_use]
    pub fn max_rows_usize(&self) -> usize {
        usize::try_from(self.max_rows).unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gzip_limit_is_the_ratio_between_floor_and_cap() {
        let l = ImportLimits::default();
        assert_eq!(l.decompressed_limit(1_000_000), DEFAULT_GZIP_FLOOR_BYTES);
        assert_eq!(l.decompressed_limit(10 << 20), 320 << 20);
        assert_eq!(
            l.decompressed_limit(usize::MAX),
            DEFAULT_MAX_DECOMPRESSED_BYTES
        );
        // a cap below the floor wins
        let tight = ImportLimits {
            max_decompressed_bytes: 1 << 20,
            ..l
        };
        assert_eq!(tight.decompressed_limit(10), 1 << 20);
    }
}
