//! `currentEpoch` / `acceptedEpoch` in the snapshot dir (Java `QuorumPeer.readLongFromFile`,
//! `writeLongToFile` through `AtomicFileWritingIdiom`) and the `initialize` marker.
//!
//! An epoch file holds a decimal long with no newline. It is replaced atomically: write
//! `<name>.tmp`, fsync, rename. After a crash between the two steps `currentEpoch.tmp` may be
//! the newer value; `load_epochs` uses it exactly when Java does.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::{Result, StorageError};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const CURRENT_EPOCH: &str = "currentEpoch";
pub const ACCEPTED_EPOCH: &str = "acceptedEpoch";
pub const TMP_EXTENSION: &str = ".tmp";

/// The epoch (high 32 bits) of a zxid.
pub fn epoch_of(zxid: i64) -> i64 {
    zxid >> 32
}

/// Reads `snap_dir/name`; `Ok(None)` if it does not exist. Like `BufferedReader.readLine`
/// plus `Long.parseLong`: the first line, no surrounding spaces allowed.
pub fn read_epoch(snap_dir: &Path, name: &str) -> Result<Option<i64>> {
    let path = snap_dir.join(name);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StorageError::io(&path, e)),
    };
    let text = String::from_utf8_lossy(&text);
    let line = text.split(['\n', '\r']).next().unwrap_or("");
    line.parse::<i64>()
        .map(Some)
        .map_err(|_| StorageError::corrupt(&path, 0, format!("Found {line:?} in {}", path.display())))
}

/// Writes `snap_dir/name` atomically (tmp, fsync, rename, directory fsync).
pub fn write_epoch(snap_dir: &Path, name: &str, value: i64) -> Result<()> {
    let path = snap_dir.join(name);
    let tmp = snap_dir.join(format!("{name}{TMP_EXTENSION}"));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(value.to_string().as_bytes())?;
        f.sync_all()
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(StorageError::io(&tmp, e));
    }
    std::fs::rename(&tmp, &path).map_err(|e| StorageError::io(&path, e))?;
    super::sync_dir(snap_dir)
}

/// Writes `currentEpoch.tmp` in place (fsynced, no rename): the value `load_epochs` takes
/// when the log holds a newer epoch than `currentEpoch`, exactly as Java's loader does with
/// the leftover of an interrupted atomic write.
pub fn write_current_tmp(snap_dir: &Path, value: i64) -> Result<()> {
    let tmp = snap_dir.join(format!("{CURRENT_EPOCH}{TMP_EXTENSION}"));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(value.to_string().as_bytes())?;
        f.sync_all()
    };
    write().map_err(|e| StorageError::io(&tmp, e))?;
    super::sync_dir(snap_dir)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Epochs {
    pub current: i64,
    pub accepted: i64,
}

/// `QuorumPeer.loadDataBase` after the tree is loaded: missing files are created from the
/// epoch of `last_processed_zxid`; a current epoch older than that zxid is repaired from
/// `currentEpoch.tmp` or refused; accepted < current is refused.
pub fn load_epochs(snap_dir: &Path, last_processed_zxid: i64) -> Result<Epochs> {
    let epoch_of_zxid = epoch_of(last_processed_zxid);
    let mut current = match read_epoch(snap_dir, CURRENT_EPOCH)? {
        Some(c) => c,
        None => {
            tracing::info!("{CURRENT_EPOCH} not found! Creating with a reasonable default of {epoch_of_zxid}.");
            write_epoch(snap_dir, CURRENT_EPOCH, epoch_of_zxid)?;
            epoch_of_zxid
        }
    };
    if epoch_of_zxid > current {
        let tmp = format!("{CURRENT_EPOCH}{TMP_EXTENSION}");
        match read_epoch(snap_dir, &tmp)? {
            Some(t) => {
                // Java takes the tmp value itself. ruzk takes the epoch of the log's last txn,
                // which a leader of that epoch had established (its txns exist only after a
                // quorum acknowledged its NEWLEADER); a tmp value above it would claim an epoch
                // this member never reached, and could win an election over newer history.
                let adopted = epoch_of_zxid;
                tracing::info!(
                    "{tmp} found ({t}). Setting current epoch to {adopted}, the epoch of the last logged txn."
                );
                write_epoch(snap_dir, CURRENT_EPOCH, adopted)?;
                current = adopted;
            }
            None => {
                return Err(StorageError::corrupt(
                    &snap_dir.join(CURRENT_EPOCH),
                    0,
                    format!("The current epoch, {current:#x}, is older than the last zxid, {last_processed_zxid:#x}"),
                ))
            }
        }
    }
    let accepted = match read_epoch(snap_dir, ACCEPTED_EPOCH)? {
        Some(a) => a,
        None => {
            tracing::info!("{ACCEPTED_EPOCH} not found! Creating with a reasonable default of {epoch_of_zxid}.");
            write_epoch(snap_dir, ACCEPTED_EPOCH, epoch_of_zxid)?;
            epoch_of_zxid
        }
    };
    if accepted < current {
        return Err(StorageError::corrupt(
            &snap_dir.join(ACCEPTED_EPOCH),
            0,
            format!("The accepted epoch, {accepted:#x} is less than the current epoch, {current:#x}"),
        ));
    }
    Ok(Epochs { current, accepted })
}

/// The `initialize` marker. Java looks for it next to the *log* `version-2` directory
/// (`new File(dataDir.getParent(), "initialize")` where dataDir is the log dir), i.e. in
/// dataLogDir (= dataDir when no separate log dir is set).
pub fn initialize_marker(data_log_dir: &Path) -> PathBuf {
    data_log_dir.join("initialize")
}

/// Deletes the marker; true if it was there (an empty database is then trusted).
pub fn take_initialize_marker(data_log_dir: &Path) -> Result<bool> {
    let p = initialize_marker(data_log_dir);
    match std::fs::remove_file(&p) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StorageError::io(&p, e)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn epoch_files_are_bare_decimal_and_atomic() {
        let d = tempfile::tempdir().unwrap();
        write_epoch(d.path(), CURRENT_EPOCH, 7).unwrap();
        assert_eq!(std::fs::read(d.path().join(CURRENT_EPOCH)).unwrap(), b"7");
        assert!(!d.path().join("currentEpoch.tmp").exists());
        assert_eq!(read_epoch(d.path(), CURRENT_EPOCH).unwrap(), Some(7));
        assert_eq!(read_epoch(d.path(), ACCEPTED_EPOCH).unwrap(), None);
        std::fs::write(d.path().join(ACCEPTED_EPOCH), "9\n").unwrap();
        assert_eq!(read_epoch(d.path(), ACCEPTED_EPOCH).unwrap(), Some(9));
        std::fs::write(d.path().join(ACCEPTED_EPOCH), " 9").unwrap();
        assert!(read_epoch(d.path(), ACCEPTED_EPOCH).is_err());
    }

    #[test]
    fn load_epochs_follows_quorum_peer() {
        let d = tempfile::tempdir().unwrap();
        // Missing files are created from the zxid's epoch.
        let e = load_epochs(d.path(), 0x3_0000_0005).unwrap();
        assert_eq!(e, Epochs { current: 3, accepted: 3 });
        assert_eq!(read_epoch(d.path(), ACCEPTED_EPOCH).unwrap(), Some(3));
        // The log is ahead of currentEpoch: only a currentEpoch.tmp rescues it.
        assert!(load_epochs(d.path(), 0x4_0000_0001).is_err());
        std::fs::write(d.path().join("currentEpoch.tmp"), "4").unwrap();
        write_epoch(d.path(), ACCEPTED_EPOCH, 4).unwrap();
        assert_eq!(load_epochs(d.path(), 0x4_0000_0001).unwrap(), Epochs { current: 4, accepted: 4 });
        // accepted < current is refused.
        write_epoch(d.path(), ACCEPTED_EPOCH, 2).unwrap();
        assert!(load_epochs(d.path(), 0x4_0000_0001).is_err());
    }

    #[test]
    fn initialize_marker_is_consumed_once() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(initialize_marker(d.path()), "").unwrap();
        assert!(take_initialize_marker(d.path()).unwrap());
        assert!(!take_initialize_marker(d.path()).unwrap());
    }
}
