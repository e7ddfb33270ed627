//! Golden tests against logs written by Java 3.8.0, plus torn tails, CRC errors, padding,
//! rolling and truncation.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use super::*;
use crate::jute::opcode::op;
use crate::jute::txn::Txn;
use std::path::PathBuf;

fn java_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/storage/java-3.8.0")
}

fn java_logs() -> Vec<(i64, PathBuf)> {
    let v = list_by_zxid(&java_dir(), LOG_PREFIX).unwrap();
    assert!(v.len() >= 10, "captured logs missing");
    v
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn every_java_log_reencodes_byte_for_byte() {
    for (start, p) in java_logs() {
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[..16], &file_header(0), "{}", p.display());
        let (entries, end) = read_file(&p).unwrap();
        assert_eq!(end, FileEnd::Clean);
        assert_eq!(entries[0].zxid, start, "a log is named after its first zxid");
        let mut again = file_header(0).to_vec();
        for e in &entries {
            let txn = e.decode(&p).unwrap();
            assert_eq!(txn.header.zxid, e.zxid);
            // TxnEntry round trip, then the record framing (crc over the entry bytes only).
            assert_eq!(txn.encode(), e.bytes, "{} zxid {:#x}", p.display(), e.zxid);
            encode_record(&txn.encode(), &mut again);
        }
        again.extend_from_slice(&[0u8; 12]);
        assert_eq!(again, bytes, "{}", p.display());
    }
}

#[test]
fn java_logs_hold_every_txn_kind_and_are_contiguous() {
    let mut it = TxnLogIterator::open(&java_dir(), 1).unwrap();
    let mut prev = 0;
    let mut kinds = std::collections::BTreeSet::new();
    while let Some((e, p)) = it.next_entry().unwrap() {
        assert_eq!(e.zxid, prev + 1, "{}", p.display());
        prev = e.zxid;
        let t = e.decode(&p).unwrap();
        kinds.insert(t.header.type_);
        if let Txn::Multi(subs) = &t.txn {
            assert!(!subs.is_empty());
        }
        if t.header.type_ == op::ERROR {
            assert_eq!(t.digest, None, "error txns carry no digest");
        } else {
            assert!(t.digest.is_some(), "{t:?}");
        }
    }
    for k in [
        op::CREATE_SESSION,
        op::CLOSE_SESSION,
        op::CREATE,
        op::CREATE2,
        op::CREATE_CONTAINER,
        op::CREATE_TTL,
        op::DELETE,
        op::SET_DATA,
        op::SET_ACL,
        op::ERROR,
        op::MULTI,
    ] {
        assert!(kinds.contains(&k), "no txn of type {k} captured: {kinds:?}");
    }
    assert!(it.files.iter().all(|f| f.end == FileEnd::Clean));
    assert!(prev > 0x60);
}

#[test]
fn a_cut_anywhere_in_the_last_entry_stops_cleanly() {
    let (_, p) = java_logs().pop().unwrap();
    let bytes = std::fs::read(&p).unwrap();
    let (entries, _) = read_file(&p).unwrap();
    let last = entries.last().unwrap().clone();
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("log.1");
    for cut in last.offset..last.end {
        for zero_fill in [false, true] {
            // Either the file just ends (no preallocation) or the rest is still zeros.
            let mut b = bytes[..cut as usize].to_vec();
            if zero_fill {
                b.resize(bytes.len() + 64, 0);
            }
            std::fs::write(&f, &b).unwrap();
            let (got, end) = read_file(&f).unwrap();
            assert_eq!(got.len(), entries.len() - 1, "cut {cut}");
            if cut == last.offset {
                assert_eq!(end, FileEnd::Clean);
            } else if cut > last.offset + 4 {
                assert_eq!(end, FileEnd::Torn(last.offset), "cut {cut} zero_fill {zero_fill}");
            } else {
                // The crc's high 4 bytes are always zero (Adler32 in a long): a cut there
                // leaves nothing to tell from padding.
                assert!(end == FileEnd::Clean || end == FileEnd::Torn(last.offset));
            }
        }
    }
}

#[test]
fn a_bad_crc_is_an_error_with_file_and_offset() {
    let (_, p) = java_logs().remove(2);
    let mut bytes = std::fs::read(&p).unwrap();
    let (entries, _) = read_file(&p).unwrap();
    let victim = &entries[1];
    bytes[victim.offset as usize + 12 + 25] ^= 1; // inside the TxnHeader's time field
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("log.9");
    std::fs::write(&f, &bytes).unwrap();
    match read_file(&f) {
        Err(StorageError::ChecksumMismatch { path, offset }) => {
            assert_eq!(path, f);
            assert_eq!(offset, victim.offset);
        }
        other => panic!("{other:?}"),
    }
    // The lenient reader reports it and goes on.
    let mut r = LogFileReader::open(&f).unwrap();
    let oks: Vec<bool> = std::iter::from_fn(|| r.next_record().unwrap()).map(|(_, ok)| ok).collect();
    assert_eq!(oks.iter().filter(|ok| !**ok).count(), 1);
    assert_eq!(oks.len(), entries.len());
}

#[test]
fn garbage_and_wrong_magic() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("log.1");
    std::fs::write(&f, b"ZKSN\0\0\0\x02xxxxxxxxxxxx").unwrap();
    assert!(matches!(LogFileReader::open(&f), Err(StorageError::BadMagic { .. })));
    std::fs::write(&f, b"ZKLG").unwrap();
    assert!(LogFileReader::open(&f).is_err());
    let mut b = file_header(0).to_vec();
    b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff]);
    std::fs::write(&f, &b).unwrap();
    assert!(matches!(read_file(&f), Err(StorageError::Corrupt { offset: 16, .. })));
}

#[test]
fn padding_matches_file_padding() {
    const M: u64 = 64 * 1024 * 1024;
    // A fresh log: header, then one block (67,108,880 bytes, as Java's files are).
    assert_eq!(padded_size(16, 16, M), 16 + M);
    assert_eq!(padded_size(1000, 16 + M, M), 16 + M);
    assert_eq!(padded_size(16 + M - 4096, 16 + M, M), 16 + 2 * M);
    assert_eq!(padded_size(3 * M + 5, 16 + M, M), 4 * M);
    assert_eq!(padded_size(100, 16, 0), 16);
}

fn java_entries() -> Vec<RawEntry> {
    java_logs().iter().flat_map(|(_, p)| read_file(p).unwrap().0).collect()
}

#[test]
fn writer_reproduces_java_files_and_preallocates() {
    let d = tempfile::tempdir().unwrap();
    let opts = TxnLogOptions { prealloc_size: 8192, ..Default::default() };
    let mut w = TxnLogWriter::new(d.path(), opts).unwrap();
    // Same roll points as Java: a new file wherever Java started one.
    let logs = java_logs();
    for (start, p) in &logs {
        w.roll().unwrap();
        for e in read_file(p).unwrap().0 {
            w.append(&e.bytes, e.zxid).unwrap();
        }
        let took = w.commit().unwrap();
        assert!(took.is_some(), "forceSync on: a sync ran");
        assert_eq!(w.current_file().unwrap(), d.path().join(log_name(*start)));
    }
    for (start, p) in &logs {
        let java = std::fs::read(p).unwrap();
        let ours = std::fs::read(d.path().join(log_name(*start))).unwrap();
        let real = java.len() - 12;
        assert_eq!(&ours[..real], &java[..real]);
        assert!(ours[real..].iter().all(|b| *b == 0));
        assert_eq!(ours.len() as u64, padded_size(16, 16, 8192).max(real as u64), "{}", p.display());
    }
}

#[test]
fn size_limit_rolls_at_commit() {
    let d = tempfile::tempdir().unwrap();
    let opts = TxnLogOptions { prealloc_size: 0, size_limit: Some(600), force_sync: false, dbid: 0 };
    let mut w = TxnLogWriter::new(d.path(), opts).unwrap();
    for e in java_entries().iter().take(30) {
        w.append(&e.bytes, e.zxid).unwrap();
        assert_eq!(w.commit().unwrap(), None, "forceSync off: no sync");
    }
    let files = list_by_zxid(d.path(), LOG_PREFIX).unwrap();
    assert!(files.len() > 2, "{files:?}");
    let mut it = TxnLogIterator::open(d.path(), 0).unwrap();
    let mut n = 0;
    while let Some((e, _)) = it.next_entry().unwrap() {
        n += 1;
        assert_eq!(e.zxid, n);
    }
    assert_eq!(n, 30);
    for (_, f) in files {
        let len = std::fs::metadata(&f).unwrap().len();
        assert!(len <= 600 + 200, "{} is {len} bytes", f.display());
    }
}

#[test]
fn iterator_starts_at_the_right_file() {
    let logs = java_logs();
    let (third, _) = logs[2];
    let mut it = TxnLogIterator::open(&java_dir(), third + 2).unwrap();
    let (first, _) = it.next_entry().unwrap().unwrap();
    assert_eq!(first.zxid, third + 2);
    assert_eq!(log_files_from(&java_dir(), third + 2).unwrap()[0].0, third);
    assert_eq!(log_files_from(&java_dir(), 0).unwrap().len(), logs.len());
    assert_eq!(last_logged_zxid(&java_dir()).unwrap(), java_entries().last().unwrap().zxid);
}

#[test]
fn truncate_keeps_up_to_zxid_and_deletes_later_logs() {
    let d = tempfile::tempdir().unwrap();
    copy_dir(&java_dir(), d.path());
    let logs = java_logs();
    let target = logs[4].0 + 2;
    truncate(d.path(), target).unwrap();
    assert_eq!(last_logged_zxid(d.path()).unwrap(), target);
    assert_eq!(list_by_zxid(d.path(), LOG_PREFIX).unwrap().len(), 5);
    // Truncating at a file's last entry's predecessor boundary: the next file goes entirely.
    let boundary = logs[3].0 - 1;
    truncate(d.path(), boundary).unwrap();
    assert_eq!(last_logged_zxid(d.path()).unwrap(), boundary);
    assert_eq!(list_by_zxid(d.path(), LOG_PREFIX).unwrap().len(), 3);
    let empty = tempfile::tempdir().unwrap();
    assert!(truncate(empty.path(), 5).is_err());
}

#[test]
fn empty_last_log_is_deleted_like_java() {
    let d = tempfile::tempdir().unwrap();
    let logs = java_logs();
    std::fs::copy(&logs[0].1, d.path().join("log.1")).unwrap();
    let next = d.path().join(log_name(0x1000));
    std::fs::write(&next, b"").unwrap();
    let mut it = TxnLogIterator::open(d.path(), 1).unwrap();
    while it.next_entry().unwrap().is_some() {}
    assert!(!next.exists());
}

/// Random damage to a real log gives entries, a clean/torn end or an error, never a panic;
/// damage inside a record's bytes is never returned as a good entry.
#[test]
fn random_damage_never_panics_or_passes_bad_bytes() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xfeed);
    let (_, p) = java_logs().remove(3);
    let orig = std::fs::read(&p).unwrap();
    let good: Vec<Vec<u8>> = read_file(&p).unwrap().0.into_iter().map(|e| e.bytes).collect();
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("log.1");
    for _ in 0..500 {
        let mut b = orig.clone();
        let i = rng.gen_range(16..b.len());
        b[i] ^= rng.gen_range(1..=255u8);
        std::fs::write(&f, &b).unwrap();
        if let Ok((entries, _)) = read_file(&f) {
            for e in entries {
                assert!(good.contains(&e.bytes), "a damaged entry passed at byte {i}");
            }
        }
    }
}
