//! The member's disk thread, as `runtime::disk` runs it: storage requests execute strictly in
//! the order the core issued them. Appends are written at once and synced by group commit;
//! a snapshot for a SNAP sync, a truncation and a reload first sync every earlier append, and
//! the synced snapshot and the reload *block* the thread: later requests wait until they
//! finish. A leader's read of its txn log (to DIFF a learner from it) also runs in order,
//! after a sync. Ordinary (`snapCount`) snapshots are written on a thread of their own and block
//! nothing. Epoch files are written by the core itself, synchronously, so they are not here.
//!
//! The Peer relies on this order (a log entry after a SNAP must never be durable before the
//! SNAP's snapshot is), so the simulator keeps it; see the report on the io.rs contract.

use super::cluster::{Event, Sim};
use crate::quorum::io::Input;
use crate::sim_trace;
use crate::storage::snapshot::SnapshotImage;
use crate::types::Zxid;
use bytes::Bytes;

/// One storage request.
#[derive(Debug)]
pub(super) enum DiskOp {
    Append(Zxid, Bytes),
    Truncate(Zxid),
    Reload,
    Snapshot(Zxid, Box<SnapshotImage>, bool),
    /// A leader reads its txn log to DIFF a learner from it (`LogRead` follows).
    ReadLog {
        link: crate::quorum::io::LinkId,
        from: Zxid,
        upto: Zxid,
    },
}

impl Sim {
    /// A storage request from member `m`'s core: run now, or after what blocks the thread.
    pub(super) fn storage(&mut self, m: usize, op: DiskOp) {
        if self.members[m].disk_busy {
            self.members[m].disk_backlog.push_back(op);
        } else {
            self.run_disk_op(m, op);
        }
    }

    fn run_disk_op(&mut self, m: usize, op: DiskOp) {
        match op {
            DiskOp::Append(zxid, entry) => self.append(m, zxid, entry),
            DiskOp::Truncate(zxid) => {
                self.sync_now(m);
                let dropped = self.members[m].disk.truncate(zxid);
                sim_trace!(
                    self.trace,
                    self.now,
                    "m{m} truncates its log to {zxid} ({} entries dropped)",
                    dropped.len()
                );
                for z in dropped {
                    self.truncated.insert((m, z), self.now);
                }
                self.recheck_acks_after(zxid);
            }
            DiskOp::Reload => {
                self.sync_now(m);
                let r = self.members[m].disk.restore(true);
                if let Some(why) = &r.refused {
                    sim_trace!(self.trace, self.now, "m{m} reload refused: {why}");
                }
                self.members[m].disk_busy = true;
                let (inc, at) = (self.members[m].inc, self.now + self.rng_disk.range(1, 20));
                let input = Input::Reloaded { tree: Box::new(r.tree), replayed: r.replayed };
                self.schedule(at, Event::DiskDone { m, inc, input });
            }
            DiskOp::ReadLog { link, from, upto } => {
                // In order on the disk thread, after a sync, like every other read.
                self.sync_now(m);
                let entries = self.members[m].disk.read_log(from, upto);
                let (inc, at) = (self.members[m].inc, self.now + self.rng_disk.range(1, 5));
                self.schedule(at, Event::Deliver { m, inc, input: Input::LogRead { link, entries } });
            }
            DiskOp::Snapshot(zxid, image, notify) => {
                if notify {
                    self.sync_now(m);
                    self.members[m].disk_busy = true;
                }
                let generation = self.members[m].disk.begin_snapshot(zxid, image, notify);
                let t = &self.cfg.timing;
                let (lo, hi) = (t.snapshot_min_ms, t.snapshot_max_ms);
                let at = self.now + self.rng_disk.latency(lo, hi);
                let inc = self.members[m].inc;
                sim_trace!(self.trace, self.now, "m{m} writes snapshot {zxid}{}", if notify { " (sync)" } else { "" });
                self.schedule(at, Event::SnapshotSynced { m, inc, generation });
            }
        }
    }

    /// Syncs every append so far; `Durable` follows as its own event (never re-entering the
    /// peer while its outputs are being executed).
    fn sync_now(&mut self, m: usize) {
        if let Some(zxid) = self.members[m].disk.sync_all() {
            let (inc, now) = (self.members[m].inc, self.now);
            self.schedule(now, Event::Deliver { m, inc, input: Input::Durable { zxid } });
        }
    }

    /// A blocking request finished: the queued ones run, in order, until one blocks again.
    pub(super) fn disk_released(&mut self, m: usize) {
        self.members[m].disk_busy = false;
        while let Some(op) = self.members[m].disk_backlog.pop_front() {
            self.run_disk_op(m, op);
            if self.members[m].disk_busy {
                break;
            }
        }
    }

    /// A snapshot write finished: synced and renamed into place.
    pub(super) fn on_snapshot_synced(&mut self, m: usize, inc: u64, generation: u64) {
        if self.members[m].inc != inc {
            return;
        }
        let Some((zxid, asked)) = self.members[m].disk.end_snapshot(generation) else { return };
        sim_trace!(self.trace, self.now, "m{m} snapshot {zxid} is in place");
        if asked {
            self.disk_released(m);
            self.deliver(m, Input::SnapshotWritten { zxid });
        }
    }

    /// A reload finished.
    pub(super) fn on_disk_done(&mut self, m: usize, inc: u64, input: Input) {
        if self.members[m].inc != inc {
            return;
        }
        self.disk_released(m);
        self.deliver(m, input);
    }
}
