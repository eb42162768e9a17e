//! The reading end: follows the head, hands out records, persists the checkpoint and frees
//! segments the writer no longer needs.

use super::segment::{list_segments, read_record, segment_path, Position, ReadRecord, HEADER_LEN};
use super::{SpoolError, Usage};
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const CHECKPOINT_FILE: &str = "checkpoint";

pub struct SpoolReader {
    dir: PathBuf,
    /// Everything before this is in ClickHouse.
    committed: Position,
    /// Where the next read starts.
    position: Position,
    head: watch::Receiver<Position>,
    usage: Arc<Usage>,
    file: Option<BufReader<File>>,
}

pub(super) fn load_checkpoint(dir: &Path) -> Result<Position, SpoolError> {
    let path = dir.join(CHECKPOINT_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let mut parts = text.split_whitespace().map(str::parse::<u64>);
            match (parts.next(), parts.next()) {
                (Some(Ok(segment)), Some(Ok(offset))) => Ok(Position { segment, offset }),
                _ => Err(SpoolError::Io {
                    path,
                    error: std::io::Error::other(
                        "checkpoint is not `<segment> <offset>`; remove it to replay the whole spool",
                    ),
                }),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Position::default()),
        Err(error) => Err(SpoolError::Io { path, error }),
    }
}

impl SpoolReader {
    pub(super) fn new(dir: PathBuf, checkpoint: Position, head: watch::Receiver<Position>, usage: Arc<Usage>) -> Self {
        SpoolReader { dir, committed: checkpoint, position: checkpoint, head, usage, file: None }
    }

    /// Position after the last record handed out.
    pub fn position(&self) -> Position {
        self.position
    }

    pub fn has_data(&self) -> bool {
        self.position < *self.head.borrow()
    }

    /// Waits until there is data past the current position, or the timeout passes.
    pub async fn wait_for_data(&mut self, timeout: Duration) {
        let position = self.position;
        let _ = tokio::time::timeout(timeout, self.head.wait_for(|head| position < *head)).await;
    }

    /// Reads durable records from the current position, up to `max_records` or `max_bytes`.
    /// Blocking file I/O: call it from a blocking context.
    pub fn read(&mut self, max_records: usize, max_bytes: usize) -> Result<Vec<Vec<u8>>, SpoolError> {
        let mut records = Vec::new();
        let mut bytes = 0usize;
        while records.len() < max_records && bytes < max_bytes {
            let head = *self.head.borrow();
            if self.position >= head {
                break;
            }
            if self.file.is_none() && !self.open_current(head)? {
                break;
            }
            let path = segment_path(&self.dir, self.position.segment);
            let Some(file) = self.file.as_mut() else {
                break;
            };
            let at_head_segment = self.position.segment == head.segment;
            match read_record(file).map_err(SpoolError::io(&path))? {
                ReadRecord::Record(payload) => {
                    self.position.offset += HEADER_LEN + payload.len() as u64;
                    bytes += payload.len();
                    records.push(payload);
                }
                ReadRecord::End if !at_head_segment => self.next_segment()?,
                ReadRecord::End => break,
                ReadRecord::Corrupt => {
                    metrics::counter!("meshward_spool_corrupt_records_total").increment(1);
                    tracing::error!(segment = %path.display(), offset = self.position.offset, "corrupt spool record; skipping the rest of the segment");
                    if at_head_segment {
                        break;
                    }
                    self.next_segment()?;
                }
            }
        }
        Ok(records)
    }

    /// Opens the segment at the current position, or moves to the next existing one.
    fn open_current(&mut self, head: Position) -> Result<bool, SpoolError> {
        loop {
            let path = segment_path(&self.dir, self.position.segment);
            match File::open(&path) {
                Ok(mut file) => {
                    file.seek(SeekFrom::Start(self.position.offset)).map_err(SpoolError::io(&path))?;
                    self.file = Some(BufReader::with_capacity(1 << 20, file));
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let next = list_segments(&self.dir)?.into_iter().find(|id| *id > self.position.segment);
                    match next {
                        Some(id) if id <= head.segment => self.position = Position { segment: id, offset: 0 },
                        _ => return Ok(false),
                    }
                }
                Err(error) => return Err(SpoolError::Io { path, error }),
            }
        }
    }

    fn next_segment(&mut self) -> Result<(), SpoolError> {
        self.file = None;
        let next = list_segments(&self.dir)?.into_iter().find(|id| *id > self.position.segment);
        self.position = Position { segment: next.unwrap_or(self.position.segment + 1), offset: 0 };
        Ok(())
    }

    /// Goes back to the checkpoint, to read again what was not stored.
    pub fn rewind(&mut self) {
        self.position = self.committed;
        self.file = None;
    }

    /// Records that everything before `position` is stored: persists the checkpoint and
    /// deletes segments wholly before it.
    pub fn commit(&mut self, position: Position) -> Result<(), SpoolError> {
        if position <= self.committed {
            return Ok(());
        }
        let path = self.dir.join(CHECKPOINT_FILE);
        let tmp = self.dir.join("checkpoint.tmp");
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&tmp)?;
            writeln!(file, "{} {}", position.segment, position.offset)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(SpoolError::io(&path))?;
        self.committed = position;
        for id in list_segments(&self.dir)? {
            if id >= position.segment {
                break;
            }
            let segment = segment_path(&self.dir, id);
            let len = std::fs::metadata(&segment).map(|m| m.len()).unwrap_or(0);
            std::fs::remove_file(&segment).map_err(SpoolError::io(&segment))?;
            self.usage.sub(len);
        }
        Ok(())
    }
}
