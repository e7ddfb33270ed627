//! Deleting old snapshots and logs (Java `PurgeTxnLog.purge`, run by zkCleanup.sh and by the
//! autopurge task): keep the `retain` newest valid snapshots and every log any of them needs.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::snapshot::find_valid_snapshots;
use super::txnlog::log_files_from;
use super::{zxid_from_name, Result, StorageError, LOG_PREFIX, SNAPSHOT_PREFIX};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Java refuses to keep fewer than 3 snapshots.
pub const MIN_RETAIN: usize = 3;

/// Purges the `version-2` dirs; returns the removed files. Everything whose name zxid is
/// below the oldest retained snapshot goes, except the newest log starting at or before it
/// (it may hold that snapshot's later txns). As in Java, a `snapshot.`/`log.` name that does
/// not parse counts as zxid -1 and is removed too.
pub fn purge(snap_dir: &Path, log_dir: &Path, retain: usize) -> Result<Vec<PathBuf>> {
    if retain < MIN_RETAIN {
        return Err(StorageError::corrupt(snap_dir, 0, "count should be greater than or equal to 3"));
    }
    let snaps = find_valid_snapshots(snap_dir)?;
    let Some((least, _)) = snaps.get(..retain.min(snaps.len())).and_then(|s| s.last()) else {
        return Ok(Vec::new());
    };
    let least = *least;
    let keep: HashSet<PathBuf> = log_files_from(log_dir, least)?.into_iter().map(|(_, p)| p).collect();
    let mut doomed = Vec::new();
    for (dir, prefix) in [(log_dir, LOG_PREFIX), (snap_dir, SNAPSHOT_PREFIX)] {
        let rd = std::fs::read_dir(dir).map_err(|e| StorageError::io(dir, e))?;
        for ent in rd {
            let ent = ent.map_err(|e| StorageError::io(dir, e))?;
            let name = ent.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.starts_with(&format!("{prefix}.")) || keep.contains(&ent.path()) {
                continue;
            }
            if zxid_from_name(name, prefix).unwrap_or(-1) < least {
                doomed.push(ent.path());
            }
        }
    }
    doomed.sort();
    let mut removed = Vec::new();
    for f in doomed {
        match std::fs::remove_file(&f) {
            Ok(()) => removed.push(f),
            Err(e) => tracing::warn!("Failed to remove {}: {e}", f.display()),
        }
    }
    Ok(removed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn touch(d: &Path, names: &[&str]) {
        for n in names {
            let p = d.join(n);
            if n.starts_with("snapshot.") {
                // Valid enough for the tail check.
                std::fs::write(p, [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 1, b'/']).unwrap();
            } else {
                std::fs::write(p, b"x").unwrap();
            }
        }
    }

    fn names(d: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        v.sort();
        v
    }

    #[test]
    fn keeps_n_snapshots_and_the_logs_they_need() {
        let d = tempfile::tempdir().unwrap();
        touch(
            d.path(),
            &["snapshot.5", "snapshot.10", "snapshot.20", "snapshot.30", "log.1", "log.8", "log.12", "log.25"],
        );
        // An invalid (torn) newest snapshot does not count towards the retained ones.
        std::fs::write(d.path().join("snapshot.40"), b"torn").unwrap();
        let removed = purge(d.path(), d.path(), 3).unwrap();
        let removed: Vec<String> =
            removed.iter().map(|p| p.file_name().unwrap().to_str().unwrap().to_string()).collect();
        // Oldest retained is snapshot.10: log.8 may hold its txns, log.1 and snapshot.5 go.
        assert_eq!(removed, vec!["log.1", "snapshot.5"]);
        assert_eq!(
            names(d.path()),
            vec!["log.12", "log.25", "log.8", "snapshot.10", "snapshot.20", "snapshot.30", "snapshot.40"]
        );
    }

    #[test]
    fn refuses_fewer_than_three_and_tolerates_few_snapshots() {
        let d = tempfile::tempdir().unwrap();
        assert!(purge(d.path(), d.path(), 2).is_err());
        touch(d.path(), &["snapshot.5", "log.1", "log.3"]);
        // One snapshot: it is the oldest retained; log.3 may hold its txns, log.1 cannot.
        let removed = purge(d.path(), d.path(), 3).unwrap();
        assert_eq!(removed, vec![d.path().join("log.1")]);
        assert_eq!(names(d.path()), vec!["log.3", "snapshot.5"]);
    }

    #[test]
    fn separate_log_dir() {
        let s = tempfile::tempdir().unwrap();
        let l = tempfile::tempdir().unwrap();
        touch(s.path(), &["snapshot.1", "snapshot.2", "snapshot.3", "snapshot.4"]);
        touch(l.path(), &["log.1", "log.2", "log.3", "log.4"]);
        purge(s.path(), l.path(), 3).unwrap();
        assert_eq!(names(s.path()), vec!["snapshot.2", "snapshot.3", "snapshot.4"]);
        assert_eq!(names(l.path()), vec!["log.2", "log.3", "log.4"]);
    }
}
