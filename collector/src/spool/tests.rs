use super::*;
use crate::config::{FsyncPolicy, SpoolConfig};
use std::io::Write;

fn config(dir: &std::path::Path, segment_bytes: u64, max_bytes: u64) -> SpoolConfig {
    SpoolConfig { dir: dir.to_path_buf(), segment_bytes, max_bytes, fsync: FsyncPolicy::Always }
}

fn read_all(reader: &mut SpoolReader) -> Vec<Vec<u8>> {
    reader.read(usize::MAX, usize::MAX).unwrap_or_else(|e| panic!("{e}"))
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn appended_records_are_read_back_in_order_across_segments() {
    let dir = tempdir();
    let (spool, mut reader) = open(&config(dir.path(), 1 << 20, 64 << 20)).unwrap_or_else(|e| panic!("{e}"));
    let records: Vec<Vec<u8>> = (0..40u32).map(|i| vec![i as u8; 100_000]).collect();
    for r in &records {
        spool.append(r.clone()).await.unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(segment::list_segments(dir.path()).map(|s| s.len()).unwrap_or(0) >= 4);
    assert_eq!(read_all(&mut reader), records);
    assert!(!reader.has_data());
}

#[tokio::test]
async fn restart_resumes_at_checkpoint_and_frees_segments() {
    let dir = tempdir();
    let cfg = config(dir.path(), 1 << 20, 64 << 20);
    {
        let (spool, mut reader) = open(&cfg).unwrap_or_else(|e| panic!("{e}"));
        for i in 0..30u8 {
            spool.append(vec![i; 100_000]).await.unwrap_or_else(|e| panic!("{e}"));
        }
        let first = reader.read(20, usize::MAX).unwrap_or_default();
        assert_eq!(first.len(), 20);
        reader.commit(reader.position()).unwrap_or_else(|e| panic!("{e}"));
        // read further but crash before committing
        assert_eq!(read_all(&mut reader).len(), 10);
    }
    let (spool, mut reader) = open(&cfg).unwrap_or_else(|e| panic!("{e}"));
    let rest = read_all(&mut reader);
    assert_eq!(rest.len(), 10);
    assert_eq!(rest[0], vec![20u8; 100_000]);
    spool.append(vec![99]).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read_all(&mut reader), vec![vec![99u8]]);
    reader.commit(reader.position()).unwrap_or_else(|e| panic!("{e}"));
    assert!(spool.bytes_used() < 1 << 20, "old segments freed, used {}", spool.bytes_used());
}

#[tokio::test]
async fn torn_tail_is_cut_on_restart() {
    let dir = tempdir();
    let cfg = config(dir.path(), 1 << 20, 64 << 20);
    {
        let (spool, _reader) = open(&cfg).unwrap_or_else(|e| panic!("{e}"));
        spool.append(b"one".to_vec()).await.unwrap_or_else(|e| panic!("{e}"));
        spool.append(b"two".to_vec()).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let last = segment::list_segments(dir.path()).unwrap_or_default().into_iter().max().unwrap_or(0);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(segment::segment_path(dir.path(), last))
        .unwrap_or_else(|e| panic!("{e}"));
    file.write_all(&[200, 0, 0, 0, 1, 2]).unwrap_or_else(|e| panic!("{e}"));
    drop(file);
    let (spool, mut reader) = open(&cfg).unwrap_or_else(|e| panic!("{e}"));
    spool.append(b"three".to_vec()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read_all(&mut reader), vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]);
}

#[tokio::test]
async fn quota_refuses_appends_until_freed() {
    let dir = tempdir();
    let (spool, mut reader) = open(&config(dir.path(), 1 << 20, 3 << 20)).unwrap_or_else(|e| panic!("{e}"));
    let mut accepted = 0;
    let mut refused = false;
    for i in 0..40u8 {
        match spool.append(vec![i; 200_000]).await {
            Ok(()) => accepted += 1,
            Err(SpoolError::Full { .. }) => {
                refused = true;
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(refused && accepted >= 10, "accepted {accepted}");
    assert_eq!(read_all(&mut reader).len(), accepted);
    reader.commit(reader.position()).unwrap_or_else(|e| panic!("{e}"));
    // the head segment stays, the closed ones are gone: room again
    assert!(spool.append(vec![1; 200_000]).await.is_ok());
}
