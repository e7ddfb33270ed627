//! Startup recovery (Java `FileTxnSnapLog` constructor checks and `restore`): load the newest
//! snapshot that parses and seals correctly, then the logged txns after it.
//!
//! Differences from Java, all stricter or tidier: a zxid gap inside an epoch (a missing
//! log file or entries) is an error naming the file and offset where Java would silently
//! replay around it, and a torn tail of the last log is cut off (Java leaves it in place and
//! starts a new file; both read the same afterwards).
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::snapshot::{find_valid_snapshots, read_snapshot, SnapshotImage};
use super::txnlog::{self, FileEnd, TxnLogIterator};
use super::{epoch::epoch_of, Result, StorageError, LOG_PREFIX, SNAPSHOT_PREFIX, VERSION_DIR};
use crate::jute::txn::TxnEntry;
use std::path::{Path, PathBuf};

/// Java tries at most this many snapshots, newest first.
pub const MAX_SNAPSHOTS_TRIED: usize = 100;

/// The two `version-2` directories of a data dir (equal when there is no dataLogDir).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDirs {
    pub snap: PathBuf,
    pub log: PathBuf,
}

impl DataDirs {
    /// As the `FileTxnSnapLog` constructor: append `version-2`, create missing directories,
    /// and with a separate log dir refuse snapshots in it or logs in the snapshot dir
    /// (ZOOKEEPER-2967).
    pub fn open(data_dir: &Path, data_log_dir: Option<&Path>) -> Result<DataDirs> {
        let snap = data_dir.join(VERSION_DIR);
        let log = data_log_dir.unwrap_or(data_dir).join(VERSION_DIR);
        for d in [&snap, &log] {
            std::fs::create_dir_all(d).map_err(|e| StorageError::io(d, e))?;
        }
        if snap != log {
            if has_prefixed(&log, SNAPSHOT_PREFIX)? {
                return Err(StorageError::corrupt(
                    &log,
                    0,
                    "Log directory has snapshot files. Check if dataLogDir and dataDir configuration is correct.",
                ));
            }
            if has_prefixed(&snap, LOG_PREFIX)? {
                return Err(StorageError::corrupt(
                    &snap,
                    0,
                    "Snapshot directory has log files. Check if dataLogDir and dataDir configuration is correct.",
                ));
            }
        }
        Ok(DataDirs { snap, log })
    }
}

/// `Util.isSnapshotFileName` / `isLogFileName`: any name starting with `prefix.`.
fn has_prefixed(dir: &Path, prefix: &str) -> Result<bool> {
    let rd = std::fs::read_dir(dir).map_err(|e| StorageError::io(dir, e))?;
    let p = format!("{prefix}.");
    for ent in rd {
        let ent = ent.map_err(|e| StorageError::io(dir, e))?;
        if ent.file_name().to_str().is_some_and(|n| n.starts_with(&p)) {
            return Ok(true);
        }
    }
    Ok(false)
}

#[derive(Clone, Debug, Default)]
pub struct RestoreOptions {
    /// `zookeeper.snapshot.trust.empty`: logs without any snapshot are accepted (and, as in
    /// Java, not replayed).
    pub trust_empty_snapshot: bool,
}

#[derive(Clone, Debug)]
pub struct Restored<T = SnapshotImage> {
    /// `None`: no snapshot at all; start from a fresh tree and write `snapshot.0`, as Java does.
    pub image: Option<T>,
    /// The loaded snapshot's name zxid (0 when there is none).
    pub snap_zxid: i64,
    pub snap_path: Option<PathBuf>,
    /// Logged txns with zxid > `snap_zxid`, in log order, to replay leniently.
    pub txns: Vec<TxnEntry>,
    /// The last log ended in a partial record that was cut off.
    pub torn_tail_truncated: bool,
}

impl<T> Restored<T> {
    /// The highest zxid known after replay (`FileTxnSnapLog.restore`'s return value).
    pub fn last_zxid(&self) -> i64 {
        self.txns.last().map_or(self.snap_zxid, |t| t.header.zxid)
    }
}

/// `restore` with default options. `snap_dir` and `log_dir` are the `version-2` directories.
pub fn restore(snap_dir: &Path, log_dir: &Path) -> Result<Restored> {
    restore_with(snap_dir, log_dir, &RestoreOptions::default())
}

pub fn restore_with(snap_dir: &Path, log_dir: &Path, opts: &RestoreOptions) -> Result<Restored> {
    restore_using(snap_dir, log_dir, opts, read_snapshot, |img| img.digest)
}

/// `restore_with`, loading each candidate snapshot with `load` (the server loads straight into
/// its tree); `digest_of` gives the loaded snapshot's digest section.
pub fn restore_using<T>(
    snap_dir: &Path,
    log_dir: &Path,
    opts: &RestoreOptions,
    mut load: impl FnMut(&Path) -> Result<T>,
    digest_of: impl Fn(&T) -> Option<super::snapshot::ZxidDigest>,
) -> Result<Restored<T>> {
    let candidates = find_valid_snapshots(snap_dir)?;
    let mut loaded = None;
    for (zxid, path) in candidates.iter().take(MAX_SNAPSHOTS_TRIED) {
        tracing::info!("Reading snapshot {}", path.display());
        match load(path) {
            Ok(img) => {
                loaded = Some((*zxid, path.clone(), img));
                break;
            }
            Err(e) => tracing::warn!("problem reading snap file {}: {e}", path.display()),
        }
    }
    let Some((snap_zxid, snap_path, image)) = loaded else {
        if !candidates.is_empty() {
            return Err(StorageError::corrupt(snap_dir, 0, "Not able to find valid snapshots"));
        }
        if txnlog::last_logged_zxid(log_dir)? != -1 && !opts.trust_empty_snapshot {
            return Err(StorageError::corrupt(
                log_dir,
                0,
                "No snapshot found, but there are log entries. Something is broken!",
            ));
        }
        return Ok(Restored {
            image: None,
            snap_zxid: 0,
            snap_path: None,
            txns: Vec::new(),
            torn_tail_truncated: false,
        });
    };

    let mut it = TxnLogIterator::open(log_dir, snap_zxid + 1)?;
    let mut txns: Vec<TxnEntry> = Vec::new();
    let mut prev = snap_zxid;
    while let Some((raw, path)) = it.next_entry()? {
        check_sequence(prev, raw.zxid, &path, raw.offset)?;
        prev = raw.zxid;
        txns.push(raw.decode(&path)?);
    }
    // Only the newest file may end torn; cut it back to its last complete record.
    let mut torn_tail_truncated = false;
    if let Some(last) = it.files.last() {
        if let FileEnd::Torn(at) = last.end {
            tracing::warn!("{}: cutting a partial record at offset {at}", last.path.display());
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&last.path)
                .map_err(|e| StorageError::io(&last.path, e))?;
            f.set_len(at).and_then(|_| f.sync_all()).map_err(|e| StorageError::io(&last.path, e))?;
            torn_tail_truncated = true;
        }
    }
    if let Some(d) = digest_of(&image) {
        if d.zxid > prev {
            tracing::warn!(
                "Highest txn zxid 0x{prev:x} is not covering the snapshot digest zxid 0x{:x}, which might lead to inconsistent state",
                d.zxid
            );
        }
    }
    Ok(Restored { image: Some(image), snap_zxid, snap_path: Some(snap_path), txns, torn_tail_truncated })
}

/// Within an epoch zxids are consecutive; a new epoch may start anywhere above the old one.
fn check_sequence(prev: i64, next: i64, path: &Path, offset: u64) -> Result<()> {
    if next <= prev {
        return Err(StorageError::corrupt(path, offset, format!("zxid 0x{next:x} after 0x{prev:x}: out of order")));
    }
    if epoch_of(next) == epoch_of(prev) && next != prev + 1 {
        return Err(StorageError::corrupt(
            path,
            offset,
            format!(
                "gap in the txn log: zxid 0x{next:x} follows 0x{prev:x} (txns 0x{:x}..0x{:x} missing)",
                prev + 1,
                next - 1
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "restore_tests.rs"]
mod tests;
