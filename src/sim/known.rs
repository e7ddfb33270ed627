//! Known Peer bugs the simulator has found, and how to recognise each from a failed run,
//! so a seed set can tell "the bug we already reported" from anything new. Each rule looks
//! for the bug's own evidence, not just the invariant that fired.
//!
//! When the lead fixes one of these, its seeds simply start passing; nothing here needs to
//! change, except deleting the entry once the fix has landed.

use super::cluster::Sim;
use super::history::inv;
use super::run::Outcome;

/// A txn the server prepares in the step its leader abdicates is appended to the log but
/// never proposed, applied or truncated; a restart replays it (the member's tree then
/// differs from everyone's at the same zxid).
pub const ORPHAN_APPEND: &str = "orphan log entry after abdication";
/// A learner's ACKs still count after it re-syncs and is TRUNCated below them, so a write
/// is acknowledged while durable on a minority.
pub const STALE_ACK: &str = "stale ACKs across a learner's re-sync";
/// A learner whose sync is interrupted after a TRUNC (or after a SNAP whose snapshot a later
/// TRUNC removed) keeps its in-memory tree, now ahead of its disk, votes and re-syncs with
/// it (an empty DIFF), and its log has a hole: a restart silently loses those txns
/// (ZOOKEEPER-5094/3642's shape).
pub const MEMORY_AHEAD_OF_DISK: &str = "memory ahead of disk after an interrupted TRUNC";
/// A leader DIFFing a learner from its txn log, when the log lacks the learner's last zxid
/// (the entries it returns start after it), queues `TRUNC(-1)`: the learner drops its whole
/// log and every snapshot, cannot reload to -1, and retries the same sync forever.
pub const TRUNC_TO_NONE: &str = "TRUNC(-1) from a DIFF served from the txn log";
/// At start-up `currentEpoch.tmp` is taken as the current epoch whenever the log is ahead of
/// `currentEpoch`, even when the sync that wrote the tmp file never reached that epoch: the
/// member then claims an epoch it never joined, wins an election against members with
/// later history, and truncates committed (acknowledged) txns from them.
pub const EPOCH_TMP_TRUSTED: &str = "currentEpoch.tmp trusted beyond the log's epoch";
/// A learner makes newer-epoch state durable (the SNAP's snapshot, or proposals) before it
/// writes `currentEpoch`; a crash there leaves a disk `loadDataBase` refuses.
pub const EPOCH_BEHIND_DISK: &str = "currentEpoch behind the disk after an interrupted sync";

/// Which known bug explains a failed run, if one does.
pub fn classify(sim: &Sim, o: &Outcome) -> Option<&'static str> {
    let v = o.violations.first()?;
    if sim.cfg.bugs != Default::default() {
        return None;
    }
    match v.invariant {
        inv::RESTART_REFUSED if v.detail.contains("is older than the last zxid") => return Some(EPOCH_BEHIND_DISK),
        inv::ACK_DURABLE_ON_QUORUM if v.detail.contains("when it was acknowledged") => {
            // Counted on a voter that had truncated the txn before the acknowledgement.
            let z = sim.history.acked.iter().map(|a| a.zxid).find(|z| v.detail.contains(&z.to_string()))?;
            let dropped = sim.truncated.iter().any(|((m, t), at)| *t == z && *at <= v.at_ms && sim.members[*m].voter);
            if dropped {
                return Some(STALE_ACK);
            }
        }
        _ => {}
    }
    // Otherwise the earliest evidence one of the bugs left: a restart from a log with txns
    // outside its history or missing some, a start that took currentEpoch.tmp past the log,
    // a TRUNC to -1; or such a log now.
    if let Some((at, bug)) = sim.evidence.first() {
        if *at <= v.at_ms {
            return Some(bug);
        }
    }
    if !matches!(
        v.invariant,
        inv::DIGEST_AGREEMENT
            | inv::DISK_MATCHES_TREE
            | inv::HISTORY_REPLAY
            | inv::CONVERGENCE
            | inv::ACK_NEVER_LOST
            | inv::NO_DIRTY_READ
    ) {
        return None;
    }
    if (0..sim.members.len()).any(|m| !sim.orphans(m).is_empty()) {
        return Some(ORPHAN_APPEND);
    }
    (0..sim.members.len()).any(|m| !sim.holes(m).is_empty()).then_some(MEMORY_AHEAD_OF_DISK)
}
