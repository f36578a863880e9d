//! The demo datasets bundled into the binary (see `data/demo/NOTICE.md`
//! for their source and licence), so a fresh install can run a backtest
//! from any directory.

/// `meta` key recording that the demo datasets were imported once.
pub(crate) const SEEDED_KEY: &str = "demo_seeded_at_ms";

/// One bundled dataset.
#[derive(Debug, Clone, Copy)]
pub struct DemoDataset {
    /// Dataset name in the catalog.
    pub name: &'static str,
    /// Instrument symbol.
    pub symbol: &'static str,
    /// The original file name (gzipped CSV).
    pub file_name: &'static str,
    /// The file's bytes.
    pub bytes: &'static [u8],
}

/// The bundled demo datasets: SPY 1-minute bars (Jan and Mar 2011,
/// NinjaTrader export via pyalgotrade) and SPY daily bars 1998–2021
/// (QuantConnect Lean), both Apache-2.0.
pub const DATASETS: [DemoDataset; 2] = [
    DemoDataset {
        name: "spy-1m",
        symbol: "SPY",
        file_name: "spy_1m_ninjatrader_2011-01_2011-03.csv.gz",
        bytes: include_bytes!("../../../data/demo/spy_1m_ninjatrader_2011-01_2011-03.csv.gz"),
    },
    DemoDataset {
        name: "spy-1d",
        symbol: "SPY",
        file_name: "spy_1d_lean_1998_2021.csv.gz",
        bytes: include_bytes!("../../../data/demo/spy_1d_lean_1998_2021.csv.gz"),
    },
];
