//! The disk thread: appends txn entries to Java's txn log and syncs them with group commit
//! (every entry queued while one fsync runs shares the next), then reports `Durable` to the
//! core. Every `snapCount/2 + rand(snapCount/2)` entries it rolls the log and asks the core
//! for a snapshot, as Java's `SyncRequestProcessor` does. Snapshots are written
//! on a thread of their own, so neither the core nor a commit waits on them.

use super::{CoreMsg, Settings};
use crate::server::Input;
use crate::storage::snapshot::{self, Compression, SnapshotImage};
use crate::storage::txnlog::{TxnLogOptions, TxnLogWriter};
use bytes::Bytes;
use rand::Rng;
use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;
use tokio::sync::mpsc;

enum Msg {
    Append(i64, Bytes),
    Snapshot(i64, Box<SnapshotImage>),
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
        }
    }
}

fn write_snapshot(dir: &std::path::Path, compression: Compression, zxid: i64, img: &SnapshotImage) {
    let path = dir.join(snapshot::snapshot_name(zxid, compression));
    let t0 = std::time::Instant::now();
    match snapshot::write_snapshot(&path, img, compression) {
        Ok(()) => tracing::info!(
            "Snapshot taken: {} ({} nodes) in {} ms",
            path.display(),
            img.nodes.len(),
            t0.elapsed().as_millis()
        ),
        Err(e) => tracing::error!("Severe unrecoverable error writing snapshot {}: {e}", path.display()),
    }
}

impl Disk {
    pub(crate) fn start(cfg: DiskConfig, core: mpsc::Sender<CoreMsg>) -> anyhow::Result<Disk> {
        let (tx, rx) = std_mpsc::channel::<Msg>();
        let mut log = TxnLogWriter::new(&cfg.log_dir, cfg.log.clone())?;
        let handle = std::thread::Builder::new().name("ruzk-disk".into()).spawn(move || {
            let mut rng = rand::thread_rng();
            let half = cfg.snap_count / 2;
            let mut threshold = half + rng.gen_range(0..half.max(1));
            let mut count = 0u64;
            let mut stop = false;
            while !stop {
                let Ok(first) = rx.recv() else { break };
                let mut batch = vec![first];
                while let Ok(m) = rx.try_recv() {
                    batch.push(m);
                }
                let mut upto = None;
                let mut snaps = Vec::new();
                for m in batch {
                    match m {
                        Msg::Append(z, entry) => {
                            if let Err(e) = log.append(&entry, z) {
                                // Acknowledging a write we could not log would lose it: stop.
                                tracing::error!("Severe unrecoverable error appending to the txn log: {e}");
                                std::process::exit(14);
                            }
                            upto = Some(z);
                            count += 1;
                        }
                        Msg::Snapshot(z, img) => snaps.push((z, img)),
                        Msg::Stop => stop = true,
                    }
                }
                if let Some(z) = upto {
                    match log.commit() {
                        Ok(Some(d)) if d > cfg.fsync_warning => tracing::warn!(
                            "fsync-ing the write ahead log in ruzk-disk took {}ms which will adversely effect operation latency.",
                            d.as_millis()
                        ),
                        Ok(_) => {}
                        Err(e) => {
                            tracing::error!("Severe unrecoverable error syncing the txn log: {e}");
                            std::process::exit(14);
                        }
                    }
                    if core.blocking_send(CoreMsg::Input(Input::Durable { zxid: crate::types::Zxid(z) })).is_err() {
                        break;
                    }
                    if count > threshold {
                        count = 0;
                        threshold = half + rng.gen_range(0..half.max(1));
                        if let Err(e) = log.roll() {
                            tracing::error!("rolling the txn log failed: {e}");
                        }
                        let _ = core.blocking_send(CoreMsg::Input(Input::TakeSnapshot));
                    }
                }
                for (z, img) in snaps {
                    // On its own thread: a snapshot of a big tree takes long enough to write and
                    // fsync that doing it here would hold up every commit behind it.
                    let (dir, compression) = (cfg.snap_dir.clone(), cfg.compression);
                    let spawned = std::thread::Builder::new()
                        .name("ruzk-snapshot".into())
                        .spawn(move || write_snapshot(&dir, compression, z, &img));
                    if let Err(e) = spawned {
                        tracing::error!("could not start the snapshot thread: {e}");
                    }
                }
            }
            let _ = log.commit();
        })?;
        Ok(Disk { tx, handle: Some(handle) })
    }

    pub(crate) fn append(&self, zxid: i64, entry: Bytes) {
        let _ = self.tx.send(Msg::Append(zxid, entry));
    }

    pub(crate) fn snapshot(&self, zxid: i64, image: Box<SnapshotImage>) {
        let _ = self.tx.send(Msg::Snapshot(zxid, image));
    }

    pub(crate) fn stop(mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
