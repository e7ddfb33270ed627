//! Java ZooKeeper's on-disk formats (txn log, snapshots, epoch files), restore and purge.
//!
//! Everything here is plain synchronous `std::fs` code over Java 3.8's exact byte layouts
//! (protocol.md §5), so a data dir can move between a Java server and ours in both
//! directions. Nothing here knows the data tree: snapshots are exchanged as
//! [`snapshot::SnapshotImage`], logs as raw entry bytes or decoded [`crate::jute::txn::TxnEntry`].
//! The async runtime wraps these calls on its disk thread.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

pub mod cli;
pub mod epoch;
pub mod purge;
pub mod restore;
pub mod snappy_stream;
pub mod snapshot;
pub mod txnlog;

use std::path::{Path, PathBuf};

/// The sub-directory Java keeps its files in, under both dataDir and dataLogDir.
pub const VERSION_DIR: &str = "version-2";
pub const LOG_PREFIX: &str = "log";
pub const SNAPSHOT_PREFIX: &str = "snapshot";

/// Why a storage operation failed. A torn tail is *not* an error (it is the normal end of
/// a log after a crash, as in Java); a checksum mismatch is.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The io error is part of the message, not a chained `source`, so `{:#}` does not
    /// print it twice.
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{}: corrupt at offset {offset}: {reason}", path.display())]
    Corrupt { path: PathBuf, offset: u64, reason: String },
    #[error("{}: checksum mismatch at offset {offset}", path.display())]
    ChecksumMismatch { path: PathBuf, offset: u64 },
    #[error("{}: not a ZooKeeper {kind} file (magic {magic:#010x})", path.display())]
    BadMagic { path: PathBuf, kind: &'static str, magic: u32 },
}

pub type Result<T> = std::result::Result<T, StorageError>;

impl StorageError {
    pub(crate) fn io(path: &Path, error: std::io::Error) -> Self {
        StorageError::Io { path: path.to_path_buf(), error }
    }
    pub(crate) fn corrupt(path: &Path, offset: u64, reason: impl Into<String>) -> Self {
        StorageError::Corrupt { path: path.to_path_buf(), offset, reason: reason.into() }
    }
}

/// `Util.getZxidFromName`: `prefix.<hex>[.anything]`; anything else is not ours (Java: -1).
pub fn zxid_from_name(name: &str, prefix: &str) -> Option<i64> {
    let mut parts = name.split('.');
    if parts.next()? != prefix {
        return None;
    }
    // Java's Long.parseLong(s, 16) accepts an optional sign; our writers never emit one.
    i64::from_str_radix(parts.next()?, 16).ok()
}

/// `Util.makeLogName`: lower-case hex without leading zeros, like `Long.toHexString`
/// (which prints negative values as their two's complement).
pub fn log_name(zxid: i64) -> String {
    format!("{LOG_PREFIX}.{:x}", zxid as u64)
}

/// Lists `dir`'s files whose names parse as `prefix.<hex>…`, sorted by zxid ascending.
pub fn list_by_zxid(dir: &Path, prefix: &str) -> Result<Vec<(i64, PathBuf)>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StorageError::io(dir, e)),
    };
    let mut out = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| StorageError::io(dir, e))?;
        let name = ent.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(z) = zxid_from_name(name, prefix) {
            out.push((z, ent.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// fsyncs a directory so a rename or create inside it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| StorageError::io(dir, e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_like_java() {
        assert_eq!(zxid_from_name("log.1c", LOG_PREFIX), Some(0x1c));
        assert_eq!(zxid_from_name("snapshot.62.gz", SNAPSHOT_PREFIX), Some(0x62));
        assert_eq!(zxid_from_name("snapshot.zz", SNAPSHOT_PREFIX), None);
        assert_eq!(zxid_from_name("logx.1", LOG_PREFIX), None);
        assert_eq!(zxid_from_name("log", LOG_PREFIX), None);
        assert_eq!(log_name(0x1_0000_0001), "log.100000001");
    }
}
