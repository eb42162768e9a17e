//! Segment files and the record format: `[len u32 LE][crc32 u32 LE][payload]`.

use super::SpoolError;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

pub const HEADER_LEN: u64 = 8;
/// A record larger than this is corruption, not data (batches are far smaller).
pub const MAX_RECORD_LEN: u32 = 256 << 20;

/// A place in the spool: a segment and a byte offset in it. Ordered by segment, then offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    pub segment: u64,
    pub offset: u64,
}

pub fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("seg-{id:020}.log"))
}

/// Segment ids present in the folder, ascending.
pub fn list_segments(dir: &Path) -> Result<Vec<u64>, SpoolError> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(SpoolError::io(dir))? {
        let entry = entry.map_err(SpoolError::io(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(id) = name.strip_prefix("seg-").and_then(|n| n.strip_suffix(".log")).and_then(|n| n.parse().ok()) {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

pub fn encode_header(payload: &[u8]) -> [u8; 8] {
    let mut header = [0u8; 8];
    header[..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    header[4..].copy_from_slice(&crc32fast::hash(payload).to_le_bytes());
    header
}

/// Outcome of reading one record.
pub enum ReadRecord {
    Record(Vec<u8>),
    /// Clean end of data.
    End,
    /// A torn or corrupt record starts here.
    Corrupt,
}

pub fn read_record(reader: &mut impl Read) -> std::io::Result<ReadRecord> {
    let mut header = [0u8; 8];
    match read_full(reader, &mut header)? {
        0 => return Ok(ReadRecord::End),
        8 => {}
        _ => return Ok(ReadRecord::Corrupt),
    }
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if len > MAX_RECORD_LEN {
        return Ok(ReadRecord::Corrupt);
    }
    let mut payload = vec![0u8; len as usize];
    if read_full(reader, &mut payload)? != payload.len() || crc32fast::hash(&payload) != crc {
        return Ok(ReadRecord::Corrupt);
    }
    Ok(ReadRecord::Record(payload))
}

fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Length of the valid prefix of a segment: where the first torn or corrupt record starts.
pub fn valid_length(path: &Path) -> Result<u64, SpoolError> {
    let file = File::open(path).map_err(SpoolError::io(path))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut valid = 0u64;
    loop {
        match read_record(&mut reader).map_err(SpoolError::io(path))? {
            ReadRecord::Record(payload) => valid += HEADER_LEN + payload.len() as u64,
            ReadRecord::End | ReadRecord::Corrupt => return Ok(valid),
        }
    }
}
