//! The on-disk spool between ingest and ClickHouse.
//!
//! Design and invariants:
//! - A batch is acknowledged to the filter only after `Spool::append` returned, i.e. after its
//!   record is written (and, with `fsync: always`, fsynced together with whatever else arrived
//!   meanwhile: group commit). So what was acknowledged survives a crash of the collector.
//! - The spool is a sequence of segment files `seg-<20-digit id>.log` in one folder. Only the
//!   newest segment is appended to; a segment is closed when it passes `segment_bytes`.
//! - A record is `[len: u32 LE][crc32(payload): u32 LE][payload]`; the payload is one encoded
//!   `EventBatch`. On start, the newest segment is scanned and cut at the first torn or
//!   corrupt record (the tail of a write that never completed, so never acknowledged).
//! - The writer reads records up to the published head and remembers a checkpoint (segment,
//!   offset) in `checkpoint`, replaced atomically, only after ClickHouse accepted everything
//!   before it. Segments wholly before the checkpoint are deleted. After a restart, reading
//!   resumes at the checkpoint: records may be written to ClickHouse twice, never lost; the
//!   tables deduplicate on the event id.
//! - The folder's total size is bounded by `max_bytes`: an append that would pass it fails with
//!   `SpoolError::Full` and the ingest refuses the batch, which the filter keeps and resends.
//! - A record ClickHouse refuses while it accepts the records after it is moved to the
//!   dead-letter folder (`dead_letter`) before the checkpoint passes it.
//! - A write or fsync that fails (a full disk) fails its whole group of appends, none of it
//!   acknowledged; its bytes are cut off and appending goes on in a fresh segment, so no record
//!   ever follows a half-written one.

mod appender;
mod dead_letter;
mod reader;
mod segment;

pub use appender::Spool;
pub use dead_letter::{DeadLetter, DeadRecord};
pub use reader::SpoolReader;
pub use segment::Position;

use crate::config::SpoolConfig;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool is full ({used} of {max} bytes); the writer must catch up before more is accepted")]
    Full { used: u64, max: u64 },
    #[error("spool I/O on {path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("spool is closed")]
    Closed,
}

impl SpoolError {
    /// The file system is out of space (not the spool's own quota: that is `Full`).
    pub fn is_disk_full(&self) -> bool {
        matches!(self, SpoolError::Io { error, .. } if error.kind() == std::io::ErrorKind::StorageFull)
    }

    fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> SpoolError {
        let path = path.into();
        move |error| SpoolError::Io { path, error }
    }
}

/// Bytes the spool's segment files take, shared by the appender and the reader.
#[derive(Debug, Default)]
pub(crate) struct Usage(AtomicU64);

impl Usage {
    fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
        metrics::gauge!("meshward_spool_bytes").set(self.get() as f64);
    }
    fn sub(&self, n: u64) {
        let _ = self.0.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| Some(v.saturating_sub(n)));
        metrics::gauge!("meshward_spool_bytes").set(self.get() as f64);
    }
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Opens the spool folder: recovers it, starts the appender, returns both ends.
pub fn open(config: &SpoolConfig) -> Result<(Spool, SpoolReader), SpoolError> {
    std::fs::create_dir_all(&config.dir).map_err(SpoolError::io(&config.dir))?;
    let usage = Arc::new(Usage::default());
    let checkpoint = reader::load_checkpoint(&config.dir)?;
    let (spool, head) = Spool::start(config, usage.clone(), checkpoint)?;
    let reader = SpoolReader::new(config.dir.clone(), checkpoint, head, usage);
    Ok((spool, reader))
}

#[cfg(test)]
mod tests;
