//! The trials a cancelled optimization recorded, kept exactly (the
//! scale-out codec's compact form) so a resume continues from them
//! (`optimization_recorded_trials`, migration 4).

use super::{RunStore, StoreError};
use crate::distributed::codec;
use atf_engine::optimize::Trial;
use rusqlite::{params, OptionalExtension, Transaction};
use std::collections::HashMap;

/// Writes `trials` as the ones optimization `id` recorded (inside its save).
pub(super) fn save(tx: &Transaction<'_>, id: &str, trials: &[Trial]) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO optimization_recorded_trials (optimization_id, trials) VALUES (?1, ?2)",
        params![id, codec::encode(0, trials)],
    )
    .map(drop)
}

impl RunStore {
    /// The trials cancelled optimization `id` recorded, exactly as the
    /// engine made them (`None` when it kept none: not cancelled, or
    /// stored before this existed).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails or the stored trials do not
    /// decode.
    pub fn recorded_trials(&self, id: &str) -> Result<Option<Vec<Trial>>, StoreError> {
        let blob: Option<Vec<u8>> = self.read(|c| {
            c.query_row(
                "SELECT trials FROM optimization_recorded_trials WHERE optimization_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
        })?;
        blob.map(|b| {
            codec::decode(&b, &mut HashMap::new())
                .map(|chunk| chunk.trials)
                .map_err(|reason| StoreError::Recorded {
                    path: self.path.clone(),
                    reason,
                })
        })
        .transpose()
    }
}
