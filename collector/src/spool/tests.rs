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

/// The spool against a model: random sequences of appends, reads, commits (which free
/// segments), rewinds and crashes (with a torn record or a half-written checkpoint left behind),
/// each followed by a reopen. Whatever the sequence, reading from the checkpoint returns exactly
/// the acknowledged records not yet committed, in order: nothing acknowledged is lost, nothing
/// freed comes back.
mod model {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Action {
        Append(usize),
        Read(usize),
        Commit,
        Rewind,
        /// a crash, leaving `torn` bytes of an unfinished record (0: none) at the end of the
        /// newest segment, and maybe a half-written checkpoint
        Crash {
            torn: usize,
            checkpoint_tmp: bool,
        },
    }

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            4 => (1usize..1500).prop_map(Action::Append),
            3 => (1usize..6).prop_map(Action::Read),
            2 => Just(Action::Commit),
            1 => Just(Action::Rewind),
            1 => (0usize..40, any::<bool>()).prop_map(|(torn, checkpoint_tmp)| Action::Crash { torn, checkpoint_tmp }),
        ]
    }

    /// What the spool must hold: every acknowledged record, which of them are committed, and
    /// where the reader is.
    #[derive(Default)]
    struct Model {
        acked: Vec<Vec<u8>>,
        committed: usize,
        read: usize,
    }

    /// A record that says which one it is, so a misplaced one shows.
    fn payload(index: usize, len: usize) -> Vec<u8> {
        let mut bytes = format!("record-{index}-").into_bytes();
        bytes.resize(len.max(bytes.len()), (index % 251) as u8);
        bytes
    }

    fn check(actions: Vec<Action>) -> Result<(), TestCaseError> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let dir = tempdir();
        // small segments, so commits free some and reads cross them
        let cfg = config(dir.path(), 4096, 64 << 20);
        let (mut spool, mut reader) = open(&cfg).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut model = Model::default();
        for action in actions {
            match action {
                Action::Append(len) => {
                    let record = payload(model.acked.len(), len);
                    runtime.block_on(spool.append(record.clone())).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    model.acked.push(record);
                }
                Action::Read(n) => {
                    let got = reader.read(n, usize::MAX).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    let end = (model.read + n).min(model.acked.len());
                    prop_assert_eq!(&got, &model.acked[model.read..end].to_vec(), "read {} from {}", n, model.read);
                    model.read = end;
                }
                Action::Commit => {
                    reader.commit(reader.position()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    model.committed = model.read;
                }
                Action::Rewind => {
                    reader.rewind();
                    model.read = model.committed;
                }
                Action::Crash { torn, checkpoint_tmp } => {
                    drop((spool, reader));
                    let newest = segment::list_segments(dir.path()).unwrap_or_default().into_iter().max();
                    if let (Some(id), true) = (newest, torn > 0) {
                        let mut file =
                            std::fs::OpenOptions::new().append(true).open(segment::segment_path(dir.path(), id))?;
                        let mut record = segment::encode_header(&[7u8; 64]).to_vec();
                        record.extend_from_slice(&[7u8; 64]);
                        file.write_all(&record[..torn.min(record.len() - 1)])?;
                    }
                    if checkpoint_tmp {
                        std::fs::write(dir.path().join("checkpoint.tmp"), b"12 3")?;
                    }
                    (spool, reader) = open(&cfg).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    model.read = model.committed;
                }
            }
        }
        // from the checkpoint, after one more crash: exactly what was acknowledged and not freed
        drop((spool, reader));
        let (_spool, mut reader) = open(&cfg).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(read_all(&mut reader), model.acked[model.committed..].to_vec());
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
        #[test]
        fn acknowledged_records_survive_any_sequence_and_freed_ones_stay_gone(
            actions in proptest::collection::vec(action(), 1..60)
        ) {
            check(actions)?;
        }
    }
}

/// A full file system (here: the next segment is `/dev/full`, whose writes fail with ENOSPC):
/// the append fails as disk-full, is not acknowledged, leaves nothing behind, and the spool
/// goes on in a fresh segment once there is room.
#[tokio::test]
async fn a_full_disk_refuses_the_append_and_the_spool_goes_on() {
    let dir = tempdir();
    let (spool, mut reader) = open(&config(dir.path(), 4096, 64 << 20)).unwrap_or_else(|e| panic!("{e}"));
    spool.append(vec![1u8; 3000]).await.unwrap_or_else(|e| panic!("{e}"));
    // the second record does not fit the first segment: it goes to segment 2, a full disk
    let full = segment::segment_path(dir.path(), 2);
    std::os::unix::fs::symlink("/dev/full", &full).unwrap_or_else(|e| panic!("{e}"));
    let refused = spool.append(vec![2u8; 3000]).await;
    assert!(matches!(&refused, Err(e) if e.is_disk_full()), "refused as disk full: {refused:?}");
    std::fs::remove_file(&full).unwrap_or_else(|e| panic!("{e}"));
    spool.append(vec![3u8; 3000]).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read_all(&mut reader), vec![vec![1u8; 3000], vec![3u8; 3000]]);
    assert_eq!(spool.bytes_used(), 2 * (3000 + segment::HEADER_LEN), "the refused record is not counted");
}
