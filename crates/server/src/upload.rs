//! An uploaded dataset's import, running while the body arrives.
//!
//! The import task starts with the `file` field's first bytes on a thread
//! of its own and its own catalog connection, reading the field through a
//! small channel (a few chunks: the body is never buffered twice), bounded
//! by the server's `max_upload_bytes` like any file by
//! [`atf_data::ImportLimits::max_file_bytes`]. Options given after the file
//! (`name`, `symbol`, `priceDecimals`) reach it when the form ends. It never
//! holds the service's catalog, which every submission reads, and the
//! catalog's write lock only for its final rename and insert: an upload in
//! flight, however slow, blocks no submission and no run.

use crate::problem::Problem;
use atf_data::{Catalog, DataError, ImportOptions, ImportReport};
use axum::body::Bytes;
use std::io::Read;
use std::path::PathBuf;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Chunks in flight between the body and the import.
const CHANNEL_CHUNKS: usize = 4;

/// An import under way.
pub(crate) struct Import {
    chunks: mpsc::Sender<Bytes>,
    opts: oneshot::Sender<ImportOptions>,
    task: JoinHandle<Result<ImportReport, DataError>>,
}

impl Import {
    /// Starts importing `file_name` into the catalog of `data_dir`, at most
    /// `max_file_bytes` of it.
    pub(crate) fn start(data_dir: PathBuf, file_name: String, max_file_bytes: u64) -> Self {
        let (chunks, rx) = mpsc::channel(CHANNEL_CHUNKS);
        let (opts, opts_rx) = oneshot::channel::<ImportOptions>();
        let task = tokio::task::spawn_blocking(move || {
            let catalog = Catalog::open(&data_dir)?;
            let reader = Chunks {
                rx,
                current: Bytes::new(),
            };
            let bytes = atf_data::import::read_source(&file_name, reader, max_file_bytes)?;
            // the form has ended: options given after the file are known
            let opts = opts_rx.blocking_recv().map_err(|_| {
                DataError::InvalidOption("the upload ended before its form did".into())
            })?;
            catalog.import_bytes(&file_name, &bytes, &opts)
        });
        Self { chunks, opts, task }
    }

    /// Hands the import the next chunk of the file; `false` once it has
    /// stopped reading (the file is too large: [`Import::finish`] says so).
    pub(crate) async fn feed(&self, chunk: Bytes) -> bool {
        self.chunks.send(chunk).await.is_ok()
    }

    /// Ends the file, gives the import the form's options and waits for it.
    pub(crate) async fn finish(
        self,
        opts: ImportOptions,
    ) -> Result<Result<ImportReport, DataError>, Problem> {
        drop(self.chunks);
        // an import that already failed has dropped its receiver: its error follows
        let _ = self.opts.send(opts);
        self.task
            .await
            .map_err(|e| Problem::internal(format!("import thread: {e}")))
    }
}

/// The file field's chunks as a blocking reader (on the import's thread).
struct Chunks {
    rx: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
