//! The writing end: one thread owns the newest segment and commits appends in groups.

use super::segment::{encode_header, list_segments, segment_path, valid_length, Position};
use super::{SpoolError, Usage};
use crate::config::{FsyncPolicy, SpoolConfig};
use bytes::Bytes;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};

/// Appends waiting for the thread at most; more wait in `append` (backpressure on ingest).
const QUEUE_DEPTH: usize = 1024;
/// Appends committed together at most.
const MAX_GROUP: usize = 512;

struct AppendRequest {
    payload: Bytes,
    done: oneshot::Sender<Result<(), SpoolError>>,
}

/// Handle for appending to the spool; cheap to clone.
#[derive(Clone)]
pub struct Spool {
    tx: mpsc::Sender<AppendRequest>,
    usage: Arc<Usage>,
    max_bytes: u64,
}

struct Appender {
    dir: PathBuf,
    segment_bytes: u64,
    max_bytes: u64,
    fsync: FsyncPolicy,
    usage: Arc<Usage>,
    id: u64,
    file: BufWriter<File>,
    len: u64,
}

impl Spool {
    /// Recovers the folder and starts the appender thread. Returns the handle and the head
    /// position (end of durable data) that readers follow.
    pub(super) fn start(
        config: &SpoolConfig,
        usage: Arc<Usage>,
        checkpoint: Position,
    ) -> Result<(Spool, watch::Receiver<Position>), SpoolError> {
        let dir = config.dir.clone();
        let ids = list_segments(&dir)?;
        for &id in &ids {
            let path = segment_path(&dir, id);
            if id < checkpoint.segment {
                // fully written to ClickHouse before a crash that came before their deletion
                std::fs::remove_file(&path).map_err(SpoolError::io(&path))?;
                continue;
            }
            let len = std::fs::metadata(&path).map_err(SpoolError::io(&path))?.len();
            usage.add(len);
        }
        let mut last = ids.iter().copied().filter(|id| *id >= checkpoint.segment).max();
        if let Some(id) = last {
            let path = segment_path(&dir, id);
            let len = std::fs::metadata(&path).map_err(SpoolError::io(&path))?.len();
            let valid = valid_length(&path)?;
            if valid < len {
                tracing::warn!(segment = %path.display(), valid, len, "cutting a torn record off the spool's tail");
                let file = OpenOptions::new().write(true).open(&path).map_err(SpoolError::io(&path))?;
                file.set_len(valid).map_err(SpoolError::io(&path))?;
                file.sync_all().map_err(SpoolError::io(&path))?;
                usage.sub(len - valid);
            }
            if valid == 0 && id > checkpoint.segment {
                last = Some(id - 1);
                std::fs::remove_file(&path).map_err(SpoolError::io(&path))?;
            }
        }
        // Always start a fresh segment: the recovered ones are only read from now on.
        let id = last.map_or(checkpoint.segment.max(1), |id| id + 1);
        let head = match last {
            Some(last) if last >= checkpoint.segment => {
                let len = std::fs::metadata(segment_path(&dir, last)).map(|m| m.len()).unwrap_or(0);
                Position { segment: last, offset: len }
            }
            _ => checkpoint,
        };
        let (file, path) = create_segment(&dir, id)?;
        if config.fsync == FsyncPolicy::Always {
            sync_dir(&dir)?;
        }
        let _ = path;
        let appender = Appender {
            dir,
            segment_bytes: config.segment_bytes,
            max_bytes: config.max_bytes,
            fsync: config.fsync,
            usage: usage.clone(),
            id,
            file: BufWriter::with_capacity(1 << 20, file),
            len: 0,
        };
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let (head_tx, head_rx) = watch::channel(head);
        std::thread::Builder::new()
            .name("meshward-spool".into())
            .spawn(move || appender.run(rx, head_tx))
            .map_err(SpoolError::io(&config.dir))?;
        Ok((Spool { tx, usage, max_bytes: config.max_bytes }, head_rx))
    }

    /// Appends one record; returns once it is durable per the fsync policy. Takes anything that
    /// becomes `Bytes` without a copy (ingest hands over the gRPC message as received).
    pub async fn append(&self, payload: impl Into<Bytes>) -> Result<(), SpoolError> {
        let payload = payload.into();
        let used = self.usage.get();
        if used + payload.len() as u64 > self.max_bytes {
            return Err(SpoolError::Full { used, max: self.max_bytes });
        }
        let (done, result) = oneshot::channel();
        self.tx.send(AppendRequest { payload, done }).await.map_err(|_| SpoolError::Closed)?;
        result.await.map_err(|_| SpoolError::Closed)?
    }

    pub fn bytes_used(&self) -> u64 {
        self.usage.get()
    }

    pub fn is_full(&self) -> bool {
        self.usage.get() >= self.max_bytes
    }
}

fn create_segment(dir: &Path, id: u64) -> Result<(File, PathBuf), SpoolError> {
    let path = segment_path(dir, id);
    let file = OpenOptions::new().create(true).append(true).open(&path).map_err(SpoolError::io(&path))?;
    Ok((file, path))
}

fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(SpoolError::io(dir))
}

impl Appender {
    fn run(mut self, mut rx: mpsc::Receiver<AppendRequest>, head: watch::Sender<Position>) {
        while let Some(first) = rx.blocking_recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(request) => group.push(request),
                    Err(_) => break,
                }
            }
            let group_start = Position { segment: self.id, offset: self.len };
            let mut results: Vec<Result<(), SpoolError>> = Vec::with_capacity(group.len());
            let mut failure = None;
            for request in &group {
                let result = if failure.is_some() { Err(SpoolError::Closed) } else { self.write(&request.payload) };
                if let Err(SpoolError::Io { error, .. }) = &result {
                    failure = Some(error.kind());
                }
                results.push(result);
            }
            let written = results.iter().filter(|r| r.is_ok()).count();
            if failure.is_none() && written > 0 {
                if let Err(SpoolError::Io { error, .. }) = self.commit() {
                    failure = Some(error.kind());
                }
            }
            match failure {
                // nothing of this group is acknowledged, and none of its bytes stay in the
                // segment the next group appends to
                Some(kind) => {
                    tracing::error!(error = ?kind, "spool write failed; refusing this group");
                    metrics::counter!("meshward_spool_write_failures_total").increment(1);
                    for result in &mut results {
                        *result = Err(SpoolError::Io {
                            path: self.dir.clone(),
                            error: std::io::Error::new(kind, "writing the spool failed"),
                        });
                    }
                    self.recover(group_start);
                }
                None if written > 0 => {
                    head.send_replace(Position { segment: self.id, offset: self.len });
                }
                None => {}
            }
            metrics::counter!("meshward_spool_commits_total").increment(1);
            for (request, result) in group.into_iter().zip(results) {
                let _ = request.done.send(result);
            }
        }
    }

    fn write(&mut self, payload: &[u8]) -> Result<(), SpoolError> {
        let size = super::segment::HEADER_LEN + payload.len() as u64;
        let used = self.usage.get();
        if used + size > self.max_bytes {
            return Err(SpoolError::Full { used, max: self.max_bytes });
        }
        if self.len > 0 && self.len + size > self.segment_bytes {
            self.roll()?;
        }
        let path = segment_path(&self.dir, self.id);
        self.file.write_all(&encode_header(payload)).map_err(SpoolError::io(&path))?;
        self.file.write_all(payload).map_err(SpoolError::io(&path))?;
        self.len += size;
        self.usage.add(size);
        Ok(())
    }

    fn commit(&mut self) -> Result<(), SpoolError> {
        let path = segment_path(&self.dir, self.id);
        self.file.flush().map_err(SpoolError::io(&path))?;
        if self.fsync == FsyncPolicy::Always {
            self.file.get_ref().sync_data().map_err(SpoolError::io(&path))?;
        }
        Ok(())
    }

    /// After a failed write or commit (a full disk): forgets what the group wrote, none of it
    /// acknowledged, and goes on in a fresh segment. The bytes still buffered are dropped, the
    /// segment is cut back to where the group started (best effort: the reader skips a torn
    /// tail of a segment that is not the head), and the next group starts a new segment, so it
    /// never lands after a half-written record.
    fn recover(&mut self, group_start: Position) {
        let keep = if self.id == group_start.segment { group_start.offset } else { 0 };
        let path = segment_path(&self.dir, self.id);
        let (replacement, moved) = match create_segment(&self.dir, self.id + 1) {
            Ok((file, _)) => (file, true),
            // no new segment either: stay, cut back, and try again with the next group
            Err(_) => match OpenOptions::new().append(true).open(&path) {
                Ok(file) => (file, false),
                Err(_) => return,
            },
        };
        let old = std::mem::replace(&mut self.file, BufWriter::with_capacity(1 << 20, replacement));
        let (file, _unwritten) = old.into_parts();
        if let Err(err) = file.set_len(keep) {
            tracing::warn!(segment = %path.display(), error = %err, "could not cut a failed write off the spool segment; the reader skips it");
        }
        self.usage.sub(self.len.saturating_sub(keep));
        if moved {
            self.id += 1;
            self.len = 0;
        } else {
            self.len = keep;
        }
    }

    /// Closes the current segment and starts the next one.
    fn roll(&mut self) -> Result<(), SpoolError> {
        self.commit()?;
        let (file, _) = create_segment(&self.dir, self.id + 1)?;
        if self.fsync == FsyncPolicy::Always {
            sync_dir(&self.dir)?;
        }
        self.id += 1;
        self.file = BufWriter::with_capacity(1 << 20, file);
        self.len = 0;
        Ok(())
    }
}
