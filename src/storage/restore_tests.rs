//! Restore over copies of the Java 3.8.0 data dir: newest snapshot, fallbacks, torn tails,
//! gaps, corruption and the empty cases.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use super::*;
use crate::storage::list_by_zxid;
use crate::storage::txnlog::read_file;

fn java_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/storage/java-3.8.0")
}

fn copy() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(java_dir()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), d.path().join(e.file_name())).unwrap();
    }
    d
}

fn snaps(d: &Path) -> Vec<(i64, PathBuf)> {
    list_by_zxid(d, SNAPSHOT_PREFIX).unwrap()
}

fn all_logged(d: &Path) -> Vec<i64> {
    list_by_zxid(d, LOG_PREFIX).unwrap().iter().flat_map(|(_, p)| read_file(p).unwrap().0).map(|e| e.zxid).collect()
}

#[test]
fn java_dir_restores_from_the_newest_snapshot() {
    let d = copy();
    let r = restore(d.path(), d.path()).unwrap();
    let (newest, path) = snaps(d.path()).pop().unwrap();
    assert_eq!(r.snap_zxid, newest);
    assert_eq!(r.snap_path.as_deref(), Some(path.as_path()));
    let expect: Vec<i64> = all_logged(d.path()).into_iter().filter(|z| *z > newest).collect();
    let got: Vec<i64> = r.txns.iter().map(|t| t.header.zxid).collect();
    assert_eq!(got, expect);
    assert!(!got.is_empty(), "the capture should have txns after its last snapshot");
    assert_eq!(r.last_zxid(), *all_logged(d.path()).last().unwrap());
    assert!(!r.torn_tail_truncated);
}

#[test]
fn corrupt_or_torn_newest_snapshot_falls_back() {
    let d = copy();
    let s = snaps(d.path());
    let (newest, np) = s[s.len() - 1].clone();
    let (older, _) = s[s.len() - 2].clone();
    // Flip a byte in the middle: still "valid" by the tail check, but the seal fails.
    let mut b = std::fs::read(&np).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0xff;
    std::fs::write(&np, &b).unwrap();
    let r = restore(d.path(), d.path()).unwrap();
    assert_eq!(r.snap_zxid, older);
    assert_eq!(r.txns.first().unwrap().header.zxid, older + 1);
    assert!(r.txns.iter().any(|t| t.header.zxid == newest));
    // Torn (short) newest snapshot: skipped by the validity check.
    b.truncate(b.len() - 7);
    std::fs::write(&np, &b).unwrap();
    assert_eq!(restore(d.path(), d.path()).unwrap().snap_zxid, older);
}

#[test]
fn torn_tail_is_cut_once() {
    let d = copy();
    let (_, last_log) = list_by_zxid(d.path(), LOG_PREFIX).unwrap().pop().unwrap();
    let before = restore(d.path(), d.path()).unwrap();
    // Replace the zero end marker with half of a record.
    let mut b = std::fs::read(&last_log).unwrap();
    let good = b.len() - 12;
    b.truncate(good);
    b.extend_from_slice(&[0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 40, 1, 2, 3]);
    std::fs::write(&last_log, &b).unwrap();
    let r = restore(d.path(), d.path()).unwrap();
    assert!(r.torn_tail_truncated);
    assert_eq!(r.txns, before.txns);
    assert_eq!(std::fs::metadata(&last_log).unwrap().len(), good as u64);
    let again = restore(d.path(), d.path()).unwrap();
    assert!(!again.torn_tail_truncated);
    assert_eq!(again.txns, before.txns);
}

#[test]
fn a_missing_log_file_is_a_gap_error() {
    let d = copy();
    let logs = list_by_zxid(d.path(), LOG_PREFIX).unwrap();
    // Keep only snapshots old enough that the replay crosses the second-to-last log.
    let (victim_start, victim) = logs[logs.len() - 2].clone();
    for (z, p) in snaps(d.path()) {
        if z >= victim_start - 1 {
            std::fs::remove_file(p).unwrap();
        }
    }
    std::fs::remove_file(&victim).unwrap();
    let err = restore(d.path(), d.path()).unwrap_err();
    let (_, next) = &logs[logs.len() - 1];
    match &err {
        StorageError::Corrupt { path, offset, reason } => {
            assert_eq!(path, next);
            assert_eq!(*offset, 16);
            assert!(reason.contains("gap"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_crc_error_during_replay_is_fatal() {
    let d = copy();
    let (_, last_log) = list_by_zxid(d.path(), LOG_PREFIX).unwrap().pop().unwrap();
    let mut b = std::fs::read(&last_log).unwrap();
    let n = b.len();
    b[n - 20] ^= 0x01; // inside the last entry
    std::fs::write(&last_log, &b).unwrap();
    assert!(matches!(restore(d.path(), d.path()), Err(StorageError::ChecksumMismatch { .. })));
}

#[test]
fn empty_and_snapshotless_dirs() {
    let d = tempfile::tempdir().unwrap();
    let r = restore(d.path(), d.path()).unwrap();
    assert!(r.image.is_none());
    assert_eq!(r.snap_zxid, 0);
    // Logs without any snapshot: refused unless trusted.
    let (_, log1) = list_by_zxid(&java_dir(), LOG_PREFIX).unwrap().remove(0);
    std::fs::copy(log1, d.path().join("log.1")).unwrap();
    assert!(restore(d.path(), d.path()).is_err());
    let opts = RestoreOptions { trust_empty_snapshot: true };
    assert!(restore_with(d.path(), d.path(), &opts).unwrap().image.is_none());
    // Snapshots that all fail to load: an error, not an empty tree.
    std::fs::write(d.path().join("snapshot.5"), [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 1, b'/']).unwrap();
    assert!(restore(d.path(), d.path()).is_err());
}

#[test]
fn separate_log_dir_content_checks() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let logs = root.path().join("logs");
    let dirs = DataDirs::open(&data, Some(&logs)).unwrap();
    assert_eq!(dirs.snap, data.join("version-2"));
    assert_eq!(dirs.log, logs.join("version-2"));
    std::fs::write(dirs.log.join("snapshot.1"), b"x").unwrap();
    assert!(DataDirs::open(&data, Some(&logs)).is_err());
    std::fs::remove_file(dirs.log.join("snapshot.1")).unwrap();
    std::fs::write(dirs.snap.join("log.1"), b"x").unwrap();
    assert!(DataDirs::open(&data, Some(&logs)).is_err());
    // Same directory: no check.
    assert!(DataDirs::open(&data, None).is_ok());
}

/// What the runtime will do: snapshot with our writer, log with our writer, crash in the
/// middle of a write, restore. The result must equal restoring Java's own files.
#[test]
fn our_writers_restore_like_java_files_after_a_crash() {
    use crate::storage::snapshot::{read_snapshot, snapshot_name, write_snapshot, Compression};
    use crate::storage::txnlog::{TxnLogOptions, TxnLogWriter};
    let java = restore(&java_dir(), &java_dir()).unwrap();
    let d = tempfile::tempdir().unwrap();
    let (older, older_path) = snaps(&java_dir()).into_iter().rev().nth(2).unwrap();
    let img = read_snapshot(&older_path).unwrap();
    write_snapshot(&d.path().join(snapshot_name(older, Compression::Snappy)), &img, Compression::Snappy).unwrap();
    let mut w = TxnLogWriter::new(d.path(), TxnLogOptions { prealloc_size: 16 * 1024, ..Default::default() }).unwrap();
    let mut it = crate::storage::txnlog::TxnLogIterator::open(&java_dir(), older + 1).unwrap();
    while let Some((e, _)) = it.next_entry().unwrap() {
        w.append(&e.bytes, e.zxid).unwrap();
        w.commit().unwrap();
    }
    // A crash halfway through appending one more record: its first bytes reached the disk.
    let log = w.current_file().unwrap().to_path_buf();
    let len = w.current_len();
    drop(w);
    let f = std::fs::OpenOptions::new().write(true).open(&log).unwrap();
    use std::os::unix::fs::FileExt;
    f.write_all_at(&[0, 0, 0, 0, 9, 9, 9, 9, 0, 0, 1, 0, 7, 7, 7], len).unwrap();
    let ours = restore(d.path(), d.path()).unwrap();
    assert!(ours.torn_tail_truncated);
    assert_eq!(ours.snap_zxid, older);
    let tail: Vec<_> = java.txns.iter().map(|t| t.header.zxid).collect();
    let ours_z: Vec<_> = ours.txns.iter().map(|t| t.header.zxid).collect();
    assert!(ours_z.ends_with(&tail), "{ours_z:x?} vs {tail:x?}");
    assert_eq!(ours.last_zxid(), java.last_zxid());
    assert_eq!(ours.image.unwrap(), img);
}
