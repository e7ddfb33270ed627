//! What the clients observed: every acknowledged write (with the reply's zxid), counts of
//! everything else, and the violations found while replies and watch events arrived.
//!
//! Only what the checks need is kept for the whole run (acknowledged writes are small);
//! the readable per-op story lives in the trace.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use crate::types::Zxid;
use std::collections::BTreeMap;
use std::fmt;

/// One broken rule: which invariant, when, and a sentence saying what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub invariant: &'static str,
    pub at_ms: u64,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] at {}.{:03}s: {}", self.invariant, self.at_ms / 1000, self.at_ms % 1000, self.detail)
    }
}

/// Names of the invariants, so tests and reports refer to them by one spelling.
pub mod inv {
    pub const ONE_LEADER_PER_EPOCH: &str = "one_leader_per_epoch";
    pub const TXN_AGREEMENT: &str = "same_zxid_same_txn";
    pub const DIGEST_AGREEMENT: &str = "same_zxid_same_digest";
    pub const ACK_DURABLE_ON_QUORUM: &str = "acked_write_durable_on_quorum";
    pub const ACK_NEVER_LOST: &str = "acked_write_never_lost";
    pub const ACK_MATCHES_TXN: &str = "acked_reply_matches_its_txn";
    pub const NO_DIRTY_READ: &str = "clients_see_only_kept_state";
    pub const SESSION_FIFO: &str = "session_fifo_order";
    pub const WATCH_ONCE: &str = "watch_fires_once";
    pub const WATCH_BEFORE_DATA: &str = "watch_event_before_new_data";
    pub const RESTART_REFUSED: &str = "restart_from_disk_accepted";
    pub const CONVERGENCE: &str = "members_converge_after_heal";
    pub const LIVENESS: &str = "liveness_after_heal";
    pub const HISTORY_REPLAY: &str = "final_tree_is_the_replayed_history";
    pub const DISK_MATCHES_TREE: &str = "disk_restores_the_same_tree";
    pub const SIM_STALL: &str = "no_busy_timer";

    /// Every name above.
    pub const ALL: &[&str] = &[
        ONE_LEADER_PER_EPOCH,
        TXN_AGREEMENT,
        DIGEST_AGREEMENT,
        ACK_DURABLE_ON_QUORUM,
        ACK_NEVER_LOST,
        ACK_MATCHES_TXN,
        NO_DIRTY_READ,
        SESSION_FIFO,
        WATCH_ONCE,
        WATCH_BEFORE_DATA,
        RESTART_REFUSED,
        CONVERGENCE,
        LIVENESS,
        HISTORY_REPLAY,
        DISK_MATCHES_TREE,
        SIM_STALL,
    ];
}

/// A write a client saw succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AckedWrite {
    pub zxid: Zxid,
    pub session: i64,
    pub xid: i32,
    pub op: i32,
    pub path: String,
    pub client: usize,
    /// The member that answered.
    pub member: usize,
    pub at_ms: u64,
}

#[derive(Clone, Debug, Default)]
pub struct ClientStats {
    pub sent: u64,
    pub replies: u64,
    pub writes_acked: u64,
    /// Requests whose connection died first: outcome unknown.
    pub lost: u64,
    pub errors: BTreeMap<i32, u64>,
    pub watch_events: u64,
    pub sessions_created: u64,
    pub sessions_expired: u64,
    pub connects: u64,
    pub refused_connects: u64,
}

#[derive(Debug, Default)]
pub struct History {
    pub acked: Vec<AckedWrite>,
    /// Acks the cluster has not checked against the disks yet (indexes into `acked`).
    pub unchecked_acks: Vec<usize>,
    pub violations: Vec<Violation>,
    pub stats: ClientStats,
    /// When the liveness probe's write succeeded.
    pub probe_acked_at: Option<u64>,
    /// Every zxid a reply header carried (the state the answering server had applied),
    /// with who saw it first: each must belong to the history every later leader keeps.
    pub seen: BTreeMap<Zxid, Seen>,
    /// Seen zxids not yet checked against the established epochs.
    pub unchecked_seen: Vec<Zxid>,
}

/// Who first saw a zxid in a reply, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    pub client: usize,
    pub member: usize,
    pub at_ms: u64,
}

impl History {
    pub fn violate(&mut self, invariant: &'static str, at_ms: u64, detail: String) {
        self.violations.push(Violation { invariant, at_ms, detail });
    }

    /// A reply said the server had applied up to `zxid`.
    pub fn saw(&mut self, zxid: Zxid, client: usize, member: usize, at_ms: u64) {
        if zxid.0 > 0 && !self.seen.contains_key(&zxid) {
            self.seen.insert(zxid, Seen { client, member, at_ms });
            self.unchecked_seen.push(zxid);
        }
    }

    pub fn ack(&mut self, w: AckedWrite) {
        self.stats.writes_acked += 1;
        self.unchecked_acks.push(self.acked.len());
        self.acked.push(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_violation_reads_as_one_line() {
        let v = Violation { invariant: inv::SESSION_FIFO, at_ms: 12_345, detail: "reply xid 7 before xid 6".into() };
        assert_eq!(v.to_string(), "[session_fifo_order] at 12.345s: reply xid 7 before xid 6");
    }
}
