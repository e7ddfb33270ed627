//! The disk thread: appends txn entries to Java's txn log and syncs them with group commit
//! (every entry queued while one fsync runs shares the next), then reports `Durable` to the
//! core. Every `snapCount/2 + rand(snapCount/2)` entries it rolls the log and asks the core
//! for a snapshot, as Java's `SyncRequestProcessor` does. Ordinary snapshots are written on
//! a thread of their own, so neither the core nor a commit waits on them.
//!
//! The quorum's storage requests run here too, strictly in the order the core issued them
//! (appends before a truncation are synced first): a synced snapshot for a SNAP sync,
//! truncation (the log after a zxid and every newer snapshot) and reloading the database.

use super::core::CoreMsg;
use super::Settings;
use crate::quorum::io::Input;
use crate::server::persist;
use crate::storage::restore::RestoreOptions;
use crate::storage::snapshot::{self, Compression, SnapshotImage};
use crate::storage::txnlog::{self, TxnLogOptions, TxnLogWriter};
use crate::types::Zxid;
use bytes::Bytes;
use rand::Rng;
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;
use tokio::sync::mpsc;

enum Msg {
    Append(Zxid, Bytes),
    /// With `true`, written here and reported as `SnapshotWritten` once synced.
    Snapshot(Zxid, Box<SnapshotImage>, bool),
    Truncate(Zxid),
    Reload,
    ReadLog(crate::quorum::io::LinkId, Zxid, Zxid),
    Stop,
}

pub(crate) struct Disk {
    tx: std_mpsc::Sender<Msg>,
    handle: Option<std::thread::JoinHandle<()>>,
}

pub(crate) struct DiskConfig {
    pub log_dir: PathBuf,
    pub snap_dir: PathBuf,
    pub log: TxnLogOptions,
    pub snap_count: u64,
    pub compression: Compression,
    pub fsync_warning: Duration,
    pub restore: RestoreOptions,
    pub extended_types: bool,
    /// How many replayed entries a reload hands back for the committed log.
    pub commit_log_count: usize,
    /// `zookeeper.snapshotSizeFactor`: a DIFF may read txn logs up to this fraction of the
    /// newest snapshot's size.
    pub snapshot_size_factor: f64,
}

impl DiskConfig {
    pub(crate) fn from_settings(s: &Settings, snap_dir: PathBuf, log_dir: PathBuf) -> DiskConfig {
        DiskConfig {
            log_dir,
            snap_dir,
            log: TxnLogOptions {
                prealloc_size: s.prealloc_kb * 1024,
                force_sync: s.force_sync,
                size_limit: s.txn_log_size_limit_kb.map(|k| k * 1024),
                dbid: 0,
            },
            snap_count: s.snap_count.max(2),
            compression: s.compression,
            fsync_warning: Duration::from_millis(s.fsync_warning_ms),
            restore: RestoreOptions { trust_empty_snapshot: s.trust_empty_snapshot },
            extended_types: s.opts.prep.extended_types,
            commit_log_count: s.commit_log_count,
            snapshot_size_factor: s.snapshot_size_factor,
        }
    }
}

fn write_snapshot(dir: &Path, compression: Compression, zxid: Zxid, img: &SnapshotImage) -> bool {
    let path = dir.join(snapshot::snapshot_name(zxid.0, compression));
    let t0 = std::time::Instant::now();
    match snapshot::write_snapshot(&path, img, compression) {
        Ok(()) => {
            tracing::info!(
                "Snapshot taken: {} ({} nodes) in {} ms",
                path.display(),
                img.nodes.len(),
                t0.elapsed().as_millis()
            );
            true
        }
        Err(e) => {
            tracing::error!("Severe unrecoverable error writing snapshot {}: {e}", path.display());
            false
        }
    }
}

/// Everything the thread owns.
struct Worker {
    cfg: DiskConfig,
    log: TxnLogWriter,
    core: mpsc::Sender<CoreMsg>,
    /// The last appended zxid not yet synced.
    unsynced: Option<Zxid>,
    count: u64,
    threshold: u64,
    rng: rand::rngs::ThreadRng,
    /// Routine snapshots being written on their own threads. A truncation or a reload waits
    /// for them: a snapshot renamed into place after a TRUNC removed newer ones would bring
    /// the truncated txns back at the next start.
    writers: Vec<std::thread::JoinHandle<()>>,
}

impl Worker {
    fn send(&self, i: Input) -> bool {
        self.core.blocking_send(CoreMsg::Input(i)).is_ok()
    }

    fn next_threshold(&mut self) -> u64 {
        let half = self.cfg.snap_count / 2;
        half + self.rng.gen_range(0..half.max(1))
    }

    fn append(&mut self, z: Zxid, entry: &[u8]) {
        if let Err(e) = self.log.append(entry, z.0) {
            // Acknowledging a write we could not log would lose it: stop.
            tracing::error!("Severe unrecoverable error appending to the txn log: {e}");
            std::process::exit(14);
        }
        self.unsynced = Some(z);
        self.count += 1;
    }

    /// Group commit: one fsync for everything appended so far, then `Durable`.
    fn sync(&mut self) -> bool {
        let Some(z) = self.unsynced.take() else { return true };
        match self.log.commit() {
            Ok(Some(d)) if d > self.cfg.fsync_warning => tracing::warn!(
                "fsync-ing the write ahead log in ruzk-disk took {}ms which will adversely effect operation latency.",
                d.as_millis()
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::error!("Severe unrecoverable error syncing the txn log: {e}");
                std::process::exit(14);
            }
        }
        if !self.send(Input::Durable { zxid: z }) {
            return false;
        }
        if self.count > self.threshold {
            self.count = 0;
            self.threshold = self.next_threshold();
            if let Err(e) = self.log.roll() {
                tracing::error!("rolling the txn log failed: {e}");
            }
            return self.send(Input::TakeSnapshot);
        }
        true
    }

    /// Drops logged entries after `z` and snapshots newer than `z`, then appends go to a
    /// fresh file. A newer snapshot would otherwise bring the dropped txns back on restart.
    fn truncate(&mut self, z: Zxid) {
        if let Err(e) = self.log.roll().and_then(|_| self.log.commit().map(|_| ())) {
            tracing::error!("Severe unrecoverable error syncing the txn log: {e}");
            std::process::exit(14);
        }
        let result = (|| -> crate::storage::Result<()> {
            if txnlog::last_logged_zxid(&self.cfg.log_dir)? > z.0 {
                txnlog::truncate(&self.cfg.log_dir, z.0)?;
            }
            for (sz, path) in crate::storage::list_by_zxid(&self.cfg.snap_dir, crate::storage::SNAPSHOT_PREFIX)? {
                if sz > z.0 {
                    tracing::info!("Removing snapshot {} newer than the truncation point 0x{:x}", path.display(), z.0);
                    std::fs::remove_file(&path).map_err(|e| crate::storage::StorageError::io(&path, e))?;
                }
            }
            Ok(())
        })();
        if let Err(e) = result {
            // Java exits here too ("Not able to truncate the log"): continuing could serve
            // transactions the quorum never committed.
            tracing::error!("Not able to truncate the log 0x{:x}: {e}", z.0);
            std::process::exit(13);
        }
        match TxnLogWriter::new(&self.cfg.log_dir, self.cfg.log.clone()) {
            Ok(mut w) => {
                w.set_last_zxid(z.0);
                self.log = w;
            }
            Err(e) => {
                tracing::error!("reopening the txn log failed: {e}");
                std::process::exit(13);
            }
        }
    }

    fn reload(&mut self) -> bool {
        let r = persist::restore_tree_with_tail(
            &self.cfg.snap_dir,
            &self.cfg.log_dir,
            &self.cfg.restore,
            self.cfg.extended_types,
            self.cfg.commit_log_count,
        );
        match r {
            Ok((tree, _, _, replayed)) => self.send(Input::Reloaded { tree: Box::new(tree), replayed }),
            Err(e) => {
                tracing::error!("Unable to load database on disk: {e}");
                std::process::exit(13);
            }
        }
    }

    /// `getProposalsFromTxnLog` with `calculateTxnLogSizeLimit`.
    fn read_log(&mut self, link: crate::quorum::io::LinkId, from: Zxid, upto: Zxid) -> bool {
        let newest = crate::storage::list_by_zxid(&self.cfg.snap_dir, crate::storage::SNAPSHOT_PREFIX)
            .ok()
            .and_then(|v| v.last().and_then(|(_, p)| std::fs::metadata(p).ok()).map(|m| m.len()))
            .unwrap_or(0);
        let limit = (newest as f64 * self.cfg.snapshot_size_factor) as u64;
        let entries = match txnlog::read_for_sync(&self.cfg.log_dir, from.0, upto.0, limit) {
            Ok(e) => e.map(|v| v.into_iter().map(|(z, b)| (Zxid(z), Bytes::from(b))).collect()),
            Err(e) => {
                tracing::warn!("reading the txn log for a learner's DIFF failed: {e}");
                None
            }
        };
        self.send(Input::LogRead { link, entries })
    }

    fn snapshot(&mut self, z: Zxid, img: Box<SnapshotImage>, notify: bool) -> bool {
        if notify {
            if !write_snapshot(&self.cfg.snap_dir, self.cfg.compression, z, &img) {
                std::process::exit(13);
            }
            return self.send(Input::SnapshotWritten { zxid: z });
        }
        // On its own thread: a snapshot of a big tree takes long enough to write and fsync
        // that doing it here would hold up every commit behind it.
        let (dir, compression) = (self.cfg.snap_dir.clone(), self.cfg.compression);
        let spawned = std::thread::Builder::new().name("ruzk-snapshot".into()).spawn(move || {
            write_snapshot(&dir, compression, z, &img);
        });
        match spawned {
            Ok(h) => self.writers.push(h),
            Err(e) => tracing::error!("could not start the snapshot thread: {e}"),
        }
        self.writers.retain(|h| !h.is_finished());
        true
    }

    fn join_writers(&mut self) {
        for h in self.writers.drain(..) {
            let _ = h.join();
        }
    }

    fn run(mut self, rx: std_mpsc::Receiver<Msg>) {
        let mut stop = false;
        while !stop {
            let Ok(first) = rx.recv() else { break };
            let mut batch = vec![first];
            while let Ok(m) = rx.try_recv() {
                batch.push(m);
            }
            for m in batch {
                let ok = match m {
                    Msg::Append(z, entry) => {
                        self.append(z, &entry);
                        true
                    }
                    Msg::Snapshot(z, img, notify) => self.sync() && self.snapshot(z, img, notify),
                    Msg::Truncate(z) => {
                        let ok = self.sync();
                        self.join_writers();
                        self.truncate(z);
                        ok
                    }
                    Msg::Reload => {
                        self.join_writers();
                        self.sync() && self.reload()
                    }
                    Msg::ReadLog(link, from, upto) => self.sync() && self.read_log(link, from, upto),
                    Msg::Stop => {
                        stop = true;
                        true
                    }
                };
                if !ok {
                    stop = true;
                }
            }
            if !self.sync() {
                break;
            }
        }
        let _ = self.log.commit();
    }
}

impl Disk {
    pub(crate) fn start(cfg: DiskConfig, core: mpsc::Sender<CoreMsg>, last_zxid: Zxid) -> anyhow::Result<Disk> {
        let (tx, rx) = std_mpsc::channel::<Msg>();
        let mut log = TxnLogWriter::new(&cfg.log_dir, cfg.log.clone())?;
        log.set_last_zxid(last_zxid.0);
        let handle = std::thread::Builder::new().name("ruzk-disk".into()).spawn(move || {
            let mut w = Worker {
                cfg,
                log,
                core,
                unsynced: None,
                count: 0,
                threshold: 0,
                rng: rand::thread_rng(),
                writers: Vec::new(),
            };
            w.threshold = w.next_threshold();
            w.run(rx)
        })?;
        Ok(Disk { tx, handle: Some(handle) })
    }

    pub(crate) fn append(&self, zxid: Zxid, entry: Bytes) {
        let _ = self.tx.send(Msg::Append(zxid, entry));
    }

    pub(crate) fn snapshot(&self, zxid: Zxid, image: Box<SnapshotImage>, notify: bool) {
        let _ = self.tx.send(Msg::Snapshot(zxid, image, notify));
    }

    pub(crate) fn truncate(&self, zxid: Zxid) {
        let _ = self.tx.send(Msg::Truncate(zxid));
    }

    pub(crate) fn reload(&self) {
        let _ = self.tx.send(Msg::Reload);
    }

    pub(crate) fn read_log(&self, link: crate::quorum::io::LinkId, from: Zxid, upto: Zxid) {
        let _ = self.tx.send(Msg::ReadLog(link, from, upto));
    }

    pub(crate) fn stop(mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
