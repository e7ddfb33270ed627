//! One member's storage, modelled by meaning rather than by Java's bytes: the txn log as a
//! list of entries with a synced prefix and an unsynced tail, snapshots by zxid, and the two
//! epoch files. The byte formats are tested elsewhere (`storage`); what the simulator needs
//! is the one thing a real disk does to a protocol: **a crash keeps what was synced and
//! only some of what was not**.
//!
//! - Appends are unsynced until an fsync that started after them completes. One fsync is in
//!   flight at a time and covers every append made before it started (group commit, as
//!   Java's `SyncRequestProcessor` batches), so the synced entries are always a prefix.
//! - A crash drops the unsynced tail, sometimes only its later part (the kernel may have
//!   written some pages back already).
//! - Snapshots are written as `storage::snapshot::write_snapshot` does: to a temporary file,
//!   fsynced, then renamed into place. So a snapshot appears, complete and synced, when its
//!   write finishes; until then the old file (if any) stays, and a crash loses only the
//!   write in progress. A write in progress is not undone by a truncation that happens
//!   meanwhile: the rename still lands afterwards, as it would on the runtime's snapshot
//!   thread.
//! - Epoch files are written durably at once (Java writes them with `AtomicFileOutputStream`,
//!   which fsyncs before the rename).
//! - Truncation is treated as durable when done (Java truncates with `setLength` and deletes
//!   later files; a crash right after cannot bring entries back in this model).
//! - `restore` is Java's `FileTxnSnapLog.restore`: the newest snapshot, then every logged
//!   entry after it, applied leniently; it reads what a live process would see (synced or
//!   not), so a restart must `crash` first.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::rng::Rng;
use crate::jute::txn::TxnEntry;
use crate::storage::snapshot::SnapshotImage;
use crate::tree::DataTree;
use crate::types::Zxid;
use bytes::Bytes;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct LogEntry {
    pub zxid: Zxid,
    pub data: Bytes,
    /// Order of the append on this disk; an fsync covers every seq up to the one it started at.
    seq: u64,
    pub synced: bool,
}

/// A snapshot file in place (always complete and synced: it was renamed in after fsync).
#[derive(Clone, Debug)]
pub struct SnapFile {
    pub image: Box<SnapshotImage>,
    /// Which write put it there.
    pub generation: u64,
}

/// A snapshot being written (the temporary file).
#[derive(Clone, Debug)]
struct SnapWrite {
    zxid: Zxid,
    image: Box<SnapshotImage>,
    notify: bool,
}

/// What a crash destroyed, for the trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrashLoss {
    pub log_entries_lost: usize,
    pub log_entries_kept_unsynced: usize,
    pub snapshots_lost: usize,
    pub first_lost: Option<Zxid>,
}

/// The database as a restart or a reload sees it.
pub struct Restored {
    pub tree: DataTree,
    /// Raw entries replayed after the snapshot, oldest first.
    pub replayed: Vec<(Zxid, Bytes)>,
    /// `(acceptedEpoch, currentEpoch)`, defaulted from the last zxid when a file is missing,
    /// as `QuorumPeer.loadDataBase` does.
    pub epochs: (i64, i64),
    /// Java refuses to start in these states (`loadDataBase` throws); the simulator reports
    /// them instead of starting the member.
    pub refused: Option<String>,
}

#[derive(Debug, Default)]
pub struct SimDisk {
    log: Vec<LogEntry>,
    next_seq: u64,
    /// The seq an in-flight fsync covers up to.
    fsync_upto: Option<u64>,
    snaps: BTreeMap<Zxid, SnapFile>,
    next_generation: u64,
    /// Snapshot writes in progress, by generation.
    writing: BTreeMap<u64, SnapWrite>,
    accepted_epoch: Option<i64>,
    current_epoch: Option<i64>,
    current_epoch_tmp: Option<i64>,
    pub appends: u64,
    pub fsyncs: u64,
}

impl SimDisk {
    pub fn new() -> SimDisk {
        SimDisk::default()
    }

    /// Appends one entry (unsynced). Returns true when no fsync is in flight, so the caller
    /// should start one.
    pub fn append(&mut self, zxid: Zxid, data: Bytes) -> bool {
        self.next_seq += 1;
        self.appends += 1;
        self.log.push(LogEntry { zxid, data, seq: self.next_seq, synced: false });
        self.fsync_upto.is_none()
    }

    /// Starts an fsync of everything appended so far; `None` when all is synced already.
    pub fn begin_fsync(&mut self) -> Option<u64> {
        if self.fsync_upto.is_some() || self.log.iter().all(|e| e.synced) {
            return None;
        }
        self.fsync_upto = Some(self.next_seq);
        Some(self.next_seq)
    }

    /// The fsync started at `upto` completed. Returns the last zxid of the synced prefix,
    /// which is what `Durable` reports, when that fsync synced anything still in the log.
    pub fn end_fsync(&mut self, upto: u64) -> Option<Zxid> {
        if self.fsync_upto != Some(upto) {
            return None;
        }
        self.fsync_upto = None;
        self.fsyncs += 1;
        let mut last = None;
        for e in self.log.iter_mut().filter(|e| e.seq <= upto) {
            e.synced = true;
            last = Some(e.zxid);
        }
        last
    }

    /// Syncs everything appended so far at once (the runtime's disk thread does this before
    /// a snapshot, a truncation or a reload). Returns the last zxid, if anything was unsynced.
    pub fn sync_all(&mut self) -> Option<Zxid> {
        if self.log.iter().all(|e| e.synced) {
            return None;
        }
        for e in &mut self.log {
            e.synced = true;
        }
        self.log.last().map(|e| e.zxid)
    }

    /// Drops every entry after `zxid` and every snapshot newer than it; returns the zxids
    /// of the log entries dropped.
    pub fn truncate(&mut self, zxid: Zxid) -> Vec<Zxid> {
        let dropped = self.log.iter().filter(|e| e.zxid > zxid).map(|e| e.zxid).collect();
        self.log.retain(|e| e.zxid <= zxid);
        self.snaps.retain(|z, _| *z <= zxid);
        dropped
    }

    /// Starts writing `snapshot.<zxid>`; it appears when `end_snapshot` says the write is
    /// done. Returns the write's generation.
    pub fn begin_snapshot(&mut self, zxid: Zxid, image: Box<SnapshotImage>, notify: bool) -> u64 {
        self.next_generation += 1;
        let generation = self.next_generation;
        self.writing.insert(generation, SnapWrite { zxid, image, notify });
        generation
    }

    /// A snapshot write finished: fsynced and renamed into place. Returns its zxid and
    /// whether the peer asked to be told, or `None` if a crash lost it meanwhile.
    pub fn end_snapshot(&mut self, generation: u64) -> Option<(Zxid, bool)> {
        let w = self.writing.remove(&generation)?;
        self.snaps.insert(w.zxid, SnapFile { image: w.image, generation });
        Some((w.zxid, w.notify))
    }

    pub fn write_accepted_epoch(&mut self, epoch: i64) {
        self.accepted_epoch = Some(epoch);
    }

    pub fn write_current_epoch(&mut self, epoch: i64) {
        self.current_epoch = Some(epoch);
        // The real write goes through currentEpoch.tmp and a rename: no tmp file is left.
        self.current_epoch_tmp = None;
    }

    /// `currentEpoch.tmp`, which `restore` uses when the log is ahead of `currentEpoch`.
    pub fn write_current_epoch_tmp(&mut self, epoch: i64) {
        self.current_epoch_tmp = Some(epoch);
    }

    /// The synced log entries with `from ≤ zxid ≤ upto`, or `None` when the log no longer
    /// reaches back to `from` (the leader then sends a SNAP).
    pub fn read_log(&self, from: Zxid, upto: Zxid) -> Option<Vec<(Zxid, Bytes)>> {
        // As the runtime's reader: the log must hold `from` itself.
        if !self.log.iter().any(|e| e.zxid == from) {
            return None;
        }
        Some(self.log.iter().filter(|e| e.zxid >= from && e.zxid <= upto).map(|e| (e.zxid, e.data.clone())).collect())
    }

    /// The process died: unsynced bytes are lost, some of the unsynced log tail may survive.
    pub fn crash(&mut self, rng: &mut Rng) -> CrashLoss {
        self.crash_keeping(
            |unsynced| if unsynced == 0 || rng.chance(500) { 0 } else { rng.below(unsynced as u64 + 1) as usize },
        )
    }

    /// Power loss: nothing unsynced survives (scripts use this to open a window exactly).
    pub fn power_loss(&mut self) -> CrashLoss {
        self.crash_keeping(|_| 0)
    }

    fn crash_keeping(&mut self, keep: impl FnOnce(usize) -> usize) -> CrashLoss {
        let first_unsynced = self.log.iter().position(|e| !e.synced).unwrap_or(self.log.len());
        let unsynced = self.log.len() - first_unsynced;
        // Half the time the whole unsynced tail goes; otherwise a random prefix of it stays.
        let kept = keep(unsynced).min(unsynced);
        let cut = first_unsynced + kept;
        let first_lost = self.log.get(cut).map(|e| e.zxid);
        self.log.truncate(cut);
        for e in &mut self.log {
            e.synced = true;
        }
        let lost = self.writing.len();
        self.writing.clear();
        self.fsync_upto = None;
        CrashLoss {
            log_entries_lost: unsynced - kept,
            log_entries_kept_unsynced: kept,
            snapshots_lost: lost,
            first_lost,
        }
    }

    /// `FileTxnSnapLog.restore` + the epoch files, over what is on the disk now.
    pub fn restore(&self, extended_types: bool) -> Restored {
        let snap = self.snaps.iter().next_back();
        let (mut tree, snap_zxid) = match snap {
            Some((z, s)) => match tree_from_image(&s.image, *z, extended_types) {
                Ok(t) => (t, *z),
                Err(e) => {
                    return Restored {
                        tree: DataTree::new(extended_types),
                        replayed: Vec::new(),
                        epochs: (0, 0),
                        refused: Some(format!("snapshot 0x{:x} does not load: {e}", z.0)),
                    }
                }
            },
            None => (DataTree::new(extended_types), Zxid::ZERO),
        };
        let mut replayed = Vec::new();
        let mut refused = None;
        for e in self.log.iter().filter(|e| e.zxid > snap_zxid) {
            match TxnEntry::decode(&e.data) {
                Ok(t) => {
                    tree.apply(&t.header, &t.txn);
                    replayed.push((e.zxid, e.data.clone()));
                }
                Err(err) => {
                    refused = Some(format!("log entry 0x{:x} does not decode: {err}", e.zxid.0));
                    break;
                }
            }
        }
        let last_epoch = tree.last_zxid.epoch();
        let mut current = self.current_epoch.unwrap_or(last_epoch);
        if last_epoch > current {
            // QuorumPeer.loadDataBase: a leftover currentEpoch.tmp wins when the log is ahead.
            // As `storage::epoch::load_epochs`: with the tmp file present, the log's epoch.
            if self.current_epoch_tmp.is_some() {
                current = last_epoch;
            }
        }
        let accepted = self.accepted_epoch.unwrap_or(last_epoch);
        if refused.is_none() && last_epoch > current {
            refused = Some(format!("The current epoch, {current}, is older than the last zxid, {}", tree.last_zxid));
        } else if refused.is_none() && accepted < current {
            refused = Some(format!("The accepted epoch, {accepted} is less than the current epoch, {current}"));
        }
        Restored { tree, replayed, epochs: (accepted, current), refused }
    }

    pub fn log(&self) -> &[LogEntry] {
        &self.log
    }

    pub fn snapshots(&self) -> &BTreeMap<Zxid, SnapFile> {
        &self.snaps
    }

    pub fn epochs(&self) -> (Option<i64>, Option<i64>) {
        (self.accepted_epoch, self.current_epoch)
    }

    /// The synced log entry at `zxid`, if any.
    pub fn synced_entry(&self, zxid: Zxid) -> Option<&LogEntry> {
        self.log.iter().find(|e| e.zxid == zxid && e.synced)
    }

    /// Snapshots (all synced) at or after `zxid`, oldest first.
    pub fn synced_snapshots_from(&self, zxid: Zxid) -> impl Iterator<Item = (&Zxid, &SnapFile)> {
        self.snaps.range(zxid..)
    }

    /// Snapshot writes in progress.
    pub fn snapshots_being_written(&self) -> usize {
        self.writing.len()
    }

    /// The last zxid a restart would recover (synced state only).
    pub fn last_synced_zxid(&self) -> Zxid {
        let log = self.log.iter().rev().find(|e| e.synced).map(|e| e.zxid);
        let snap = self.snaps.keys().next_back().copied();
        log.max(snap).unwrap_or(Zxid::ZERO)
    }
}

/// A tree from a snapshot image, as `FileSnap.deserialize` fills `DataTree`.
pub fn tree_from_image(img: &SnapshotImage, zxid: Zxid, extended_types: bool) -> Result<DataTree, String> {
    let mut tree = DataTree::empty(extended_types);
    for (id, timeout) in &img.sessions {
        tree.sessions.insert(*id, *timeout);
    }
    for (id, list) in &img.acls {
        tree.acls.insert_loaded(*id, list.clone());
    }
    for n in &img.nodes {
        tree.load_node(&n.path, n.data.clone(), n.acl, n.stat.clone())?;
    }
    tree.acls.purge_unused();
    tree.last_zxid = zxid;
    Ok(tree)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::jute::records::Acl;
    use crate::jute::txn::{CreateTxn, Txn, TxnHeader};
    use crate::server::persist::image_from_tree;

    fn create(zxid: i64, path: &str) -> Bytes {
        let e = TxnEntry {
            header: TxnHeader { client_id: 1, cxid: 1, zxid, time: 1000, type_: 1 },
            txn: Txn::Create(
                1,
                CreateTxn {
                    path: path.into(),
                    data: Some(Bytes::from_static(b"v")),
                    acl: crate::tree::acl::open_acl_unsafe(),
                    ephemeral: false,
                    parent_c_version: 1,
                },
            ),
            digest: None,
        };
        Bytes::from(e.encode())
    }

    fn z(c: u32) -> Zxid {
        Zxid::new(1, c)
    }

    #[test]
    fn fsync_covers_appends_made_before_it_started() {
        let mut d = SimDisk::new();
        assert!(d.append(z(1), create(z(1).0, "/a")));
        let f1 = d.begin_fsync().unwrap();
        assert!(!d.append(z(2), create(z(2).0, "/b")), "an fsync is in flight");
        assert_eq!(d.begin_fsync(), None);
        assert_eq!(d.end_fsync(f1), Some(z(1)));
        assert!(d.log()[0].synced && !d.log()[1].synced);
        let f2 = d.begin_fsync().unwrap();
        assert_eq!(d.end_fsync(f2), Some(z(2)));
        assert_eq!(d.begin_fsync(), None, "nothing left to sync");
    }

    #[test]
    fn crash_keeps_the_synced_prefix_and_at_most_a_prefix_of_the_rest() {
        for seed in 0..50 {
            let mut d = SimDisk::new();
            for c in 1..=3 {
                d.append(z(c), create(z(c).0, &format!("/n{c}")));
            }
            let f = d.begin_fsync().unwrap();
            d.end_fsync(f);
            for c in 4..=8 {
                d.append(z(c), create(z(c).0, &format!("/n{c}")));
            }
            let loss = d.crash(&mut Rng::new(seed));
            let zs: Vec<u32> = d.log().iter().map(|e| e.zxid.counter()).collect();
            assert!(zs.len() >= 3 && zs.len() <= 8, "{zs:?}");
            assert_eq!(zs, (1..=zs.len() as u32).collect::<Vec<_>>(), "a prefix survives, never a hole");
            assert_eq!(loss.log_entries_lost + loss.log_entries_kept_unsynced, 5);
            assert!(d.log().iter().all(|e| e.synced), "what survived a crash is on disk");
        }
    }

    #[test]
    fn a_snapshot_appears_only_once_written_and_a_crash_loses_only_the_write_in_progress() {
        let mut d = SimDisk::new();
        let img = Box::new(image_from_tree(&DataTree::new(true)));
        let g1 = d.begin_snapshot(z(2), img.clone(), true);
        assert!(d.snapshots().is_empty(), "not in place before the rename");
        assert_eq!(d.end_snapshot(g1), Some((z(2), true)));
        let g2 = d.begin_snapshot(z(2), img.clone(), false);
        d.begin_snapshot(z(5), img.clone(), false);
        let loss = d.crash(&mut Rng::new(1));
        assert_eq!(loss.snapshots_lost, 2);
        assert_eq!(d.snapshots().keys().copied().collect::<Vec<_>>(), vec![z(2)], "the old copy survives its rewrite");
        assert_eq!(d.snapshots()[&z(2)].generation, g1);
        assert_eq!(d.end_snapshot(g2), None, "the crash lost that write");
        d.append(z(3), create(z(3).0, "/x"));
        d.truncate(z(1));
        assert!(d.snapshots().is_empty());
        assert!(d.log().is_empty());
    }

    #[test]
    fn a_snapshot_write_in_progress_lands_after_a_truncation_like_the_runtime_thread() {
        let mut d = SimDisk::new();
        let img = Box::new(image_from_tree(&DataTree::new(true)));
        let g = d.begin_snapshot(z(4), img, false);
        d.truncate(z(3));
        assert_eq!(d.end_snapshot(g), Some((z(4), false)));
        assert!(d.snapshots().contains_key(&z(4)));
    }

    #[test]
    fn restore_is_newest_snapshot_plus_later_log_entries() {
        let mut d = SimDisk::new();
        for c in 1..=4 {
            d.append(z(c), create(z(c).0, &format!("/n{c}")));
        }
        let mut t = DataTree::new(true);
        for e in &d.log()[..2] {
            let x = TxnEntry::decode(&e.data).unwrap();
            t.apply(&x.header, &x.txn);
        }
        let g = d.begin_snapshot(z(2), Box::new(image_from_tree(&t)), false);
        d.end_snapshot(g);
        d.write_current_epoch(1);
        d.write_accepted_epoch(1);
        let r = d.restore(true);
        assert!(r.refused.is_none(), "{:?}", r.refused);
        assert_eq!(r.tree.last_zxid, z(4));
        assert_eq!(r.replayed.iter().map(|(z, _)| z.counter()).collect::<Vec<_>>(), vec![3, 4]);
        assert!(r.tree.get("/n1").is_some() && r.tree.get("/n4").is_some());
        assert_eq!(r.epochs, (1, 1));
        let mut full = DataTree::new(true);
        for e in d.log() {
            let x = TxnEntry::decode(&e.data).unwrap();
            full.apply(&x.header, &x.txn);
        }
        assert_eq!(r.tree.digest(), full.digest(), "snapshot + replay equals a full replay");
        let acl: Vec<Acl> = r.tree.acl_of(r.tree.get("/n1").unwrap());
        assert_eq!(acl, crate::tree::acl::open_acl_unsafe());
    }

    #[test]
    fn restore_refuses_a_current_epoch_older_than_the_log_like_java() {
        let mut d = SimDisk::new();
        d.append(Zxid::new(2, 1), create(Zxid::new(2, 1).0, "/a"));
        d.write_current_epoch(1);
        d.write_accepted_epoch(2);
        let r = d.restore(true);
        assert_eq!(r.refused.as_deref(), Some("The current epoch, 1, is older than the last zxid, 0x200000001"));
        let fresh = SimDisk::new().restore(true);
        assert!(fresh.refused.is_none());
        assert_eq!(fresh.epochs, (0, 0));
    }
}
