//! What `--json` prints: one object per run, the same whether the run was
//! local or on a server (`--server`), built from the result types of the
//! engine and the API.

use atf_data::DatasetInfo;
use atf_engine::BacktestReport;
use serde::{Deserialize, Serialize};

/// The dataset a run used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetRef {
    /// Catalog id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Content checksum.
    pub sha256: String,
}

impl From<&DatasetInfo> for DatasetRef {
    fn from(d: &DatasetInfo) -> Self {
        Self {
            id: d.id,
            name: d.name.clone(),
            sha256: d.sha256.clone(),
        }
    }
}

impl From<&atf_runs::store::RunHeader> for DatasetRef {
    fn from(h: &atf_runs::store::RunHeader) -> Self {
        Self {
            id: h.dataset_id,
            name: h.dataset.clone(),
            sha256: h.dataset_sha256.clone(),
        }
    }
}

/// `atf backtest --json`: the dataset and the report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BacktestOutput<'a> {
    /// The dataset.
    pub dataset: DatasetRef,
    /// The report.
    #[serde(flatten)]
    pub report: &'a BacktestReport,
}

/// `atf optimize --json`: the dataset and the optimization's outcome (an
/// [`OptimizationOutcome`](atf_engine::optimize::OptimizationOutcome), or
/// its streamed form for a local run).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OptimizationOutput<O: Serialize> {
    /// The dataset.
    pub dataset: DatasetRef,
    /// Summary, every trial best first, the best trials in full when asked.
    #[serde(flatten)]
    pub outcome: O,
}
