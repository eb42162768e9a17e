//! Records ClickHouse refuses while it accepts the records after them: set aside in
//! `<spool>/dead-letter/`, so one bad batch never stops the events behind it, and kept until an
//! operator replays or removes them (`meshward spool dead-letter`).
//!
//! Each record is two files named for where it sat in the spool: `<segment>-<offset>.batch` (the
//! record's payload, an encoded `EventBatch`) and `<segment>-<offset>.reason` (ClickHouse's
//! answer). The batch is fsynced before the reason, and both before the writer's checkpoint
//! moves past the record, so a crash either keeps the record in the spool or here.

use super::{Position, SpoolError};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

const DIR: &str = "dead-letter";

/// The dead-letter folder of one spool.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    dir: PathBuf,
}

/// One record set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadRecord {
    /// where it sat in the spool (also its name)
    pub at: Position,
    pub path: PathBuf,
    pub bytes: u64,
    /// what ClickHouse answered
    pub reason: String,
}

impl DeadLetter {
    /// The dead-letter folder of the spool in `spool_dir` (created when the first record is set
    /// aside).
    pub fn of(spool_dir: &Path) -> Self {
        DeadLetter { dir: spool_dir.join(DIR) }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn name(at: Position) -> String {
        format!("{:020}-{:020}", at.segment, at.offset)
    }

    /// Writes a record and why it was refused, durably.
    pub fn set_aside(&self, at: Position, payload: &[u8], reason: &str) -> Result<(), SpoolError> {
        std::fs::create_dir_all(&self.dir).map_err(SpoolError::io(&self.dir))?;
        let name = Self::name(at);
        for (extension, data) in [("batch", payload), ("reason", reason.as_bytes())] {
            let path = self.dir.join(format!("{name}.{extension}"));
            let write = || -> std::io::Result<()> {
                let mut file = File::create(&path)?;
                file.write_all(data)?;
                file.sync_all()
            };
            write().map_err(SpoolError::io(&path))?;
        }
        File::open(&self.dir).and_then(|d| d.sync_all()).map_err(SpoolError::io(&self.dir))?;
        metrics::counter!("meshward_writer_dead_letter_records_total").increment(1);
        Ok(())
    }

    /// The records set aside, oldest spool position first.
    pub fn list(&self) -> Result<Vec<DeadRecord>, SpoolError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(SpoolError::Io { path: self.dir.clone(), error }),
        };
        let mut records = Vec::new();
        for entry in entries {
            let entry = entry.map_err(SpoolError::io(&self.dir))?;
            let path = entry.path();
            let Some(at) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".batch"))
                .and_then(|n| n.split_once('-'))
                .and_then(|(s, o)| Some(Position { segment: s.parse().ok()?, offset: o.parse().ok()? }))
            else {
                continue;
            };
            let bytes = entry.metadata().map_err(SpoolError::io(&path))?.len();
            let reason = std::fs::read_to_string(path.with_extension("reason")).unwrap_or_default();
            records.push(DeadRecord { at, path, bytes, reason });
        }
        records.sort_by_key(|r| r.at);
        Ok(records)
    }

    pub fn read(&self, record: &DeadRecord) -> Result<Vec<u8>, SpoolError> {
        std::fs::read(&record.path).map_err(SpoolError::io(&record.path))
    }

    /// Deletes a record (after it was replayed, or on the operator's word).
    pub fn remove(&self, record: &DeadRecord) -> Result<(), SpoolError> {
        std::fs::remove_file(&record.path).map_err(SpoolError::io(&record.path))?;
        match std::fs::remove_file(record.path.with_extension("reason")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(SpoolError::Io { path: record.path.with_extension("reason"), error: e })
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_aside_list_read_remove() {
        let dir = tempfile::tempdir().expect("temp dir");
        let dead = DeadLetter::of(dir.path());
        assert!(dead.list().expect("empty list").is_empty(), "no folder yet: nothing set aside");
        dead.set_aside(Position { segment: 3, offset: 800 }, b"second", "Code: 241. Memory limit").expect("write");
        dead.set_aside(Position { segment: 3, offset: 16 }, b"first", "Code: 27").expect("write");
        let listed = dead.list().expect("list");
        assert_eq!(listed.iter().map(|r| (r.at.offset, r.bytes)).collect::<Vec<_>>(), vec![(16, 5), (800, 6)]);
        assert_eq!(listed[1].reason, "Code: 241. Memory limit");
        assert_eq!(dead.read(&listed[0]).expect("read"), b"first");
        dead.remove(&listed[0]).expect("remove");
        assert_eq!(dead.list().expect("list").len(), 1);
        assert_eq!(std::fs::read_dir(dead.dir()).expect("dir").count(), 2, "both files of the removed one are gone");
    }
}
