//! How a leader brings a learner up to date (`LearnerHandler.syncFollower` and
//! `queueCommittedProposals`): the committed log it keeps in memory, and the pure decision
//! between an (empty or not) DIFF, a TRUNC and a SNAP, with the packets that follow it.
//!
//! The rules are Java 3.8's, so a Java learner sees exactly what a Java leader would send,
//! with one deliberate difference: the committed log refuses to hold a gap (ZOOKEEPER-4925,
//! where a discontinuous committed log made a DIFF skip transactions), so a learner the log
//! cannot serve contiguously gets a SNAP instead.

use super::packet::{kind, QuorumPacket};
use crate::types::Zxid;
use bytes::Bytes;
use std::collections::VecDeque;

/// The last committed transactions (`ZKDatabase.committedLog`), as the PROPOSAL data bytes
/// (`TxnHeader ‖ record ‖ [TxnDigest]`) so a DIFF re-sends exactly what was proposed.
#[derive(Clone, Debug, Default)]
pub struct CommittedLog {
    entries: VecDeque<(Zxid, Bytes)>,
    cap: usize,
}

impl CommittedLog {
    /// `cap` is `zookeeper.commitLogCount` (500 by default).
    pub fn new(cap: usize) -> CommittedLog {
        CommittedLog { entries: VecDeque::new(), cap: cap.max(1) }
    }

    /// Records a committed transaction. One that does not follow the last one (a gap, or a
    /// zxid going backwards) empties the log first: a DIFF must never skip a transaction.
    pub fn push(&mut self, zxid: Zxid, data: Bytes) {
        if let Some(&(last, _)) = self.entries.back() {
            let follows = zxid == last.next() || (zxid.epoch() > last.epoch() && zxid.counter() == 1);
            if !follows {
                tracing::warn!("committed log: 0x{:x} does not follow 0x{:x}; starting it afresh", zxid.0, last.0);
                self.entries.clear();
            }
        }
        self.entries.push_back((zxid, data));
        while self.entries.len() > self.cap {
            self.entries.pop_front();
        }
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `minCommittedLog`, or `None` when empty.
    pub fn min(&self) -> Option<Zxid> {
        self.entries.front().map(|(z, _)| *z)
    }

    /// `maxCommittedLog`, or `None` when empty.
    pub fn max(&self) -> Option<Zxid> {
        self.entries.back().map(|(z, _)| *z)
    }

    pub fn iter(&self) -> impl Iterator<Item = &(Zxid, Bytes)> {
        self.entries.iter()
    }
}

/// What the leader sends a learner before NEWLEADER.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncPlan {
    /// DIFF or TRUNC as the first packet, then PROPOSAL/COMMIT pairs (all already committed).
    /// `last_queued` is where `startForwarding` continues from.
    Packets { packets: Vec<QuorumPacket>, last_queued: Zxid },
    /// SNAP of the whole database, then forwarding from its zxid.
    Snap,
    /// The learner is behind the committed log: read the txn log first (the leader asks the
    /// disk and finishes with [`plan_from_disk`]).
    FromDisk,
}

impl SyncPlan {
    /// The sync mode's name as Java logs it.
    pub fn mode(&self) -> &'static str {
        match self {
            SyncPlan::Snap => "SNAP",
            SyncPlan::FromDisk => "DIFF",
            SyncPlan::Packets { packets, .. } => match packets.first().map(|p| p.type_) {
                Some(kind::TRUNC) => "TRUNC",
                _ => "DIFF",
            },
        }
    }
}

/// `syncFollower` for a learner whose last logged zxid is `peer_last`, against a leader that
/// has applied up to `last_processed` and keeps `log`. `disk_sync` is Java's
/// `txnLogSyncEnabled` (`snapshotSizeFactor` ≥ 0).
pub fn plan(peer_last: Zxid, last_processed: Zxid, log: &CommittedLog, force_snap: bool, disk_sync: bool) -> SyncPlan {
    let new_epoch_zxid = peer_last.counter() == 0;
    let (min, max) = match (log.min(), log.max()) {
        (Some(a), Some(b)) => (a, b),
        _ => (last_processed, last_processed),
    };
    if force_snap {
        SyncPlan::Snap
    } else if last_processed == peer_last {
        SyncPlan::Packets { packets: vec![QuorumPacket::bare(kind::DIFF, peer_last)], last_queued: peer_last }
    } else if peer_last > max && !new_epoch_zxid {
        SyncPlan::Packets { packets: vec![QuorumPacket::bare(kind::TRUNC, max)], last_queued: max }
    } else if min <= peer_last && peer_last <= max {
        let mut q = Queue::default();
        let last = q.run(log.iter().map(|(z, d)| (*z, d)), peer_last, None, max);
        q.finish(last)
    } else if peer_last < min && disk_sync && !log.is_empty() {
        SyncPlan::FromDisk
    } else {
        SyncPlan::Snap
    }
}

/// The rest of `syncFollower` once the txn log was read: its entries up to the committed
/// log's start, then the committed log; a gap between the two means SNAP.
pub fn plan_from_disk(peer_last: Zxid, disk: &[(Zxid, Bytes)], log: &CommittedLog) -> SyncPlan {
    let (Some(min), Some(max)) = (log.min(), log.max()) else { return SyncPlan::Snap };
    let mut q = Queue::default();
    let cur = q.run(disk.iter().map(|(z, d)| (*z, d)), peer_last, Some(min), max);
    if cur < min {
        tracing::warn!("Detected gap between end of txnlog: 0x{:x} and start of committedLog: 0x{:x}", cur.0, min.0);
        return SyncPlan::Snap;
    }
    let last = q.run(log.iter().map(|(z, d)| (*z, d)), cur, None, max);
    q.finish(last)
}

/// `queueCommittedProposals`, whose `needOpPacket` carries over between the txn-log and the
/// committed-log passes, as the field of Java's `LearnerHandler` does.
struct Queue {
    packets: Vec<QuorumPacket>,
    need_op: bool,
}

impl Default for Queue {
    fn default() -> Queue {
        Queue { packets: Vec::new(), need_op: true }
    }
}

impl Queue {
    /// Returns the last zxid queued (`peer_last` when nothing was).
    fn run<'a>(
        &mut self,
        itr: impl Iterator<Item = (Zxid, &'a Bytes)>,
        peer_last: Zxid,
        max_zxid: Option<Zxid>,
        last_committed: Zxid,
    ) -> Zxid {
        let new_epoch_zxid = peer_last.counter() == 0;
        let mut queued = peer_last;
        let mut prev = Zxid::NONE;
        for (zxid, data) in itr {
            if max_zxid.is_some_and(|m| zxid > m) {
                break;
            }
            if zxid < peer_last {
                prev = zxid;
                continue;
            }
            if self.need_op {
                if zxid == peer_last {
                    self.packets.push(QuorumPacket::bare(kind::DIFF, last_committed));
                    self.need_op = false;
                    continue;
                }
                if new_epoch_zxid {
                    self.packets.push(QuorumPacket::bare(kind::DIFF, last_committed));
                    self.need_op = false;
                } else if zxid > peer_last {
                    if zxid.epoch() != peer_last.epoch() || prev == Zxid::NONE {
                        // Never TRUNC across an epoch (the learner would crash), nor to nothing
                        // (the entries start after the learner's last zxid): SNAP instead.
                        return queued;
                    }
                    self.packets.push(QuorumPacket::bare(kind::TRUNC, prev));
                    self.need_op = false;
                }
            }
            if zxid <= queued {
                continue;
            }
            self.packets.push(QuorumPacket::with_data(kind::PROPOSAL, zxid, data.clone()));
            self.packets.push(QuorumPacket::bare(kind::COMMIT, zxid));
            queued = zxid;
        }
        if self.need_op && new_epoch_zxid {
            self.packets.push(QuorumPacket::bare(kind::DIFF, last_committed));
            self.need_op = false;
        }
        queued
    }

    /// Java: "Unhandled scenario ... fall back to use snapshot" when no DIFF/TRUNC was queued.
    fn finish(self, last_queued: Zxid) -> SyncPlan {
        if self.need_op {
            SyncPlan::Snap
        } else {
            SyncPlan::Packets { packets: self.packets, last_queued }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_of(range: std::ops::RangeInclusive<u32>, epoch: u32) -> CommittedLog {
        let mut l = CommittedLog::new(500);
        for c in range {
            l.push(Zxid::new(epoch, c), Bytes::from(vec![c as u8]));
        }
        l
    }

    fn shape(p: &SyncPlan) -> Vec<(i32, i64)> {
        match p {
            SyncPlan::Snap | SyncPlan::FromDisk => vec![(kind::SNAP, 0)],
            SyncPlan::Packets { packets, .. } => packets.iter().map(|q| (q.type_, q.zxid.0)).collect(),
        }
    }

    /// The three cases captured from a Java 3.8.0 leader (protocol.md §6.7).
    #[test]
    fn java_captured_decisions() {
        let log = log_of(1..=10, 1);
        let last = Zxid::new(1, 10);
        // peer at 0x100000002 -> DIFF(maxCL) + every later pair
        let p = plan(Zxid::new(1, 2), last, &log, false, false);
        let s = shape(&p);
        assert_eq!(s[0], (kind::DIFF, 0x1_0000_000a));
        assert_eq!(s[1], (kind::PROPOSAL, 0x1_0000_0003));
        assert_eq!(s[2], (kind::COMMIT, 0x1_0000_0003));
        assert_eq!(s.len(), 1 + 2 * 8);
        assert_eq!(p, SyncPlan::Packets { packets: p_packets(&p), last_queued: last });
        // peer at 0 with a log starting at 1 -> SNAP (below the committed log)
        assert_eq!(plan(Zxid(0), last, &log, false, false), SyncPlan::Snap);
        // peer ahead in the same epoch -> TRUNC(maxCL)
        assert_eq!(shape(&plan(Zxid::new(1, 0x99), last, &log, false, false)), vec![(kind::TRUNC, 0x1_0000_000a)]);
    }

    fn p_packets(p: &SyncPlan) -> Vec<QuorumPacket> {
        match p {
            SyncPlan::Packets { packets, .. } => packets.clone(),
            SyncPlan::Snap | SyncPlan::FromDisk => vec![],
        }
    }

    #[test]
    fn in_sync_peer_gets_an_empty_diff_at_its_own_zxid() {
        let log = log_of(1..=10, 1);
        let p = plan(Zxid::new(1, 10), Zxid::new(1, 10), &log, false, false);
        assert_eq!(shape(&p), vec![(kind::DIFF, 0x1_0000_000a)]);
        assert_eq!(p.mode(), "DIFF");
        // An empty committed log behaves as min = max = lastProcessed.
        let empty = CommittedLog::new(500);
        assert_eq!(shape(&plan(Zxid(5), Zxid(5), &empty, false, false)), vec![(kind::DIFF, 5)]);
        assert_eq!(shape(&plan(Zxid(7), Zxid(5), &empty, false, false)), vec![(kind::TRUNC, 5)]);
        assert_eq!(plan(Zxid(3), Zxid(5), &empty, false, false), SyncPlan::Snap);
    }

    #[test]
    fn divergent_peer_in_the_same_epoch_is_truncated_to_the_last_common_zxid() {
        // Leader: 1..=5 of epoch 1, then 1..=3 of epoch 2. Peer logged 0x100000007 (never
        // committed): it lies between 0x100000005 and 0x200000001 -> SNAP (other epoch next).
        let mut log = log_of(1..=5, 1);
        for c in 1..=3 {
            log.push(Zxid::new(2, c), Bytes::new());
        }
        assert_eq!(plan(Zxid::new(1, 7), Zxid::new(2, 3), &log, false, false), SyncPlan::Snap);
        // A learner at a new-epoch zxid (counter 0) gets a DIFF from where its epoch begins.
        let s = shape(&plan(Zxid::new(2, 0), Zxid::new(2, 3), &log, false, false));
        assert_eq!(s[0], (kind::DIFF, 0x2_0000_0003));
        assert_eq!(s[1], (kind::PROPOSAL, 0x2_0000_0001));
        assert_eq!(s.len(), 7);
    }

    #[test]
    fn peer_between_entries_of_one_epoch_gets_trunc_to_the_previous_entry() {
        // Gaps cannot exist in our log, but a peer zxid can be absent from the log when the
        // log starts mid-epoch; here the peer holds 0x10000000a while the log jumps epochs.
        let mut log = log_of(1..=9, 1);
        log.push(Zxid::new(1, 10), Bytes::new());
        // Peer at 0x100000004 exists in the log: DIFF.
        assert_eq!(plan(Zxid::new(1, 4), Zxid::new(1, 10), &log, false, false).mode(), "DIFF");
    }

    #[test]
    fn a_gap_empties_the_committed_log_so_no_diff_skips_a_txn() {
        let mut log = log_of(1..=5, 1);
        log.push(Zxid::new(1, 7), Bytes::new());
        assert_eq!((log.min(), log.max(), log.len()), (Some(Zxid::new(1, 7)), Some(Zxid::new(1, 7)), 1));
        // A new epoch may only begin at counter 1.
        log.push(Zxid::new(2, 1), Bytes::new());
        assert_eq!(log.len(), 2);
        log.push(Zxid::new(3, 2), Bytes::new());
        assert_eq!(log.len(), 1);
    }

    #[test]
    fn committed_log_keeps_only_the_newest_entries() {
        let log = log_of(1..=12, 1);
        let mut small = CommittedLog::new(4);
        for (z, d) in log.iter() {
            small.push(*z, d.clone());
        }
        assert_eq!((small.min(), small.max()), (Some(Zxid::new(1, 9)), Some(Zxid::new(1, 12))));
        // A peer that fell below it gets a SNAP, or a read of the txn log when that is on.
        assert_eq!(plan(Zxid::new(1, 3), Zxid::new(1, 12), &small, false, false), SyncPlan::Snap);
        assert_eq!(plan(Zxid::new(1, 3), Zxid::new(1, 12), &small, false, true), SyncPlan::FromDisk);
        // From the txn log: 4..=8 on disk (plus older), then the committed log 9..=12.
        let disk: Vec<(Zxid, Bytes)> = log.iter().take(9).cloned().collect();
        let s = shape(&plan_from_disk(Zxid::new(1, 3), &disk, &small));
        assert_eq!(s[0], (kind::DIFF, 0x1_0000_000c));
        assert_eq!(s[1], (kind::PROPOSAL, 0x1_0000_0004));
        assert_eq!(s.len(), 1 + 2 * 9);
        // Entries that start after the learner's last zxid never make a TRUNC to nothing.
        let later: Vec<(Zxid, Bytes)> = log.iter().skip(4).take(5).cloned().collect();
        assert_eq!(plan_from_disk(Zxid::new(1, 3), &later, &small), SyncPlan::Snap);
        // A gap between the txn log's end and the committed log's start: SNAP.
        let short: Vec<(Zxid, Bytes)> = log.iter().take(6).cloned().collect();
        assert_eq!(plan_from_disk(Zxid::new(1, 3), &short, &small), SyncPlan::Snap);
        assert_eq!(plan(Zxid::new(1, 12), Zxid::new(1, 12), &small, true, false), SyncPlan::Snap);
    }
}
