//! The simulator's ground truth about the replicated history, built only from what the
//! members did (their log appends, which member led which epoch from which zxid, the
//! trees they reported), never from inside the protocol code:
//!
//! - **canonical txns**: every entry any member ever appended, by zxid. Zab never gives
//!   one zxid two meanings (one leader per epoch, zxids assigned once), so a second,
//!   different entry for a zxid is a violation on the spot.
//! - **epochs**: the leader established for each epoch and the zxid it started from (its
//!   base). The history ending at any zxid `(e, n)` is then fixed: `(e, 1..=n)` after the
//!   history of epoch `e`'s base, recursively. That is what lets the checks ask "is this
//!   acknowledged write still in the history every later leader built on?" in O(log n).
//! - **observed digests**: the tree digest each member reported at each zxid; two members
//!   at one zxid must agree.
//!
//! At the end, replaying the canonical txns of the final history from an empty tree must
//! give exactly the digest every member holds: the trees really are that history.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::history::{inv, AckedWrite, Seen, Violation};
use crate::jute::txn::TxnEntry;
use crate::tree::DataTree;
use crate::types::Zxid;
use bytes::Bytes;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochInfo {
    pub leader: usize,
    /// The leader's last zxid when it took office: its history is the epoch's prefix.
    pub base: Zxid,
    pub established_ms: u64,
}

/// `epoch → highest counter included` for one history.
pub type Chain = BTreeMap<i64, u32>;

#[derive(Debug, Default)]
pub struct Ghost {
    canon: BTreeMap<Zxid, (Bytes, usize)>,
    epochs: BTreeMap<i64, EpochInfo>,
    observed: BTreeMap<Zxid, (u64, usize)>,
}

impl Ghost {
    pub fn new() -> Ghost {
        Ghost::default()
    }

    pub fn txn(&self, zxid: Zxid) -> Option<&Bytes> {
        self.canon.get(&zxid).map(|(b, _)| b)
    }

    pub fn epochs(&self) -> &BTreeMap<i64, EpochInfo> {
        &self.epochs
    }

    /// The digest first reported for a tree at `zxid`, and by which member.
    pub fn observed(&self, zxid: Zxid) -> Option<(u64, usize)> {
        self.observed.get(&zxid).copied()
    }

    pub fn canonical_len(&self) -> usize {
        self.canon.len()
    }

    /// A member appended `data` as `zxid` to its log.
    pub fn record_append(&mut self, member: usize, zxid: Zxid, data: &Bytes, now: u64) -> Option<Violation> {
        let header_zxid = data.get(12..20).and_then(|b| <[u8; 8]>::try_from(b).ok()).map(i64::from_be_bytes);
        if header_zxid != Some(zxid.0) {
            return Some(Violation {
                invariant: inv::TXN_AGREEMENT,
                at_ms: now,
                detail: format!("m{member} logged {zxid} with a txn header saying {header_zxid:x?}"),
            });
        }
        match self.canon.get(&zxid) {
            None => {
                self.canon.insert(zxid, (data.clone(), member));
                None
            }
            Some((b, _)) if b == data => None,
            Some((b, first)) => Some(Violation {
                invariant: inv::TXN_AGREEMENT,
                at_ms: now,
                detail: format!(
                    "m{member} logged {zxid} as {} but m{first} logged it as {}",
                    summary(data),
                    summary(b)
                ),
            }),
        }
    }

    /// Member `leader` established epoch `epoch` (a quorum acknowledged NEWLEADER) from `base`.
    pub fn record_epoch(&mut self, epoch: i64, leader: usize, base: Zxid, now: u64) -> Option<Violation> {
        match self.epochs.get(&epoch) {
            None => {
                self.epochs.insert(epoch, EpochInfo { leader, base, established_ms: now });
                None
            }
            Some(e) if e.leader == leader => None,
            Some(e) => Some(Violation {
                invariant: inv::ONE_LEADER_PER_EPOCH,
                at_ms: now,
                detail: format!(
                    "m{leader} established epoch {epoch}, which m{} established at {} ms",
                    e.leader, e.established_ms
                ),
            }),
        }
    }

    /// A member's tree is at `zxid` with `digest`.
    pub fn observe_tree(&mut self, member: usize, zxid: Zxid, digest: u64, now: u64) -> Option<Violation> {
        match self.observed.get(&zxid) {
            None => {
                self.observed.insert(zxid, (digest, member));
                None
            }
            Some((d, _)) if *d == digest => None,
            Some((d, first)) => Some(Violation {
                invariant: inv::DIGEST_AGREEMENT,
                at_ms: now,
                detail: format!("m{member} is at {zxid} with digest {digest:x}, m{first} was at {zxid} with {d:x}"),
            }),
        }
    }

    /// The epochs (and how far into each) the history ending at `tip` contains.
    pub fn chain(&self, tip: Zxid) -> Result<Chain, String> {
        let mut chain = Chain::new();
        let mut tip = tip;
        while tip.epoch() > 0 {
            if tip.counter() > 0 {
                chain.entry(tip.epoch()).or_insert(tip.counter());
            }
            let Some(e) = self.epochs.get(&tip.epoch()) else {
                return Err(format!("{tip} is in epoch {} that no established leader is known for", tip.epoch()));
            };
            if e.base > tip {
                return Err(format!("epoch {} starts at {} after {tip}", tip.epoch(), e.base));
            }
            if e.base.epoch() >= tip.epoch() {
                // The base is in the same epoch only when it is the epoch's zxid 0.
                break;
            }
            tip = e.base;
        }
        Ok(chain)
    }

    /// Whether `z` is in the history ending at `tip`.
    pub fn in_history(&self, z: Zxid, tip: Zxid) -> Result<bool, String> {
        Ok(contains(&self.chain(tip)?, z))
    }

    /// An acknowledgement names a txn of that session and xid (the reply's zxid is the
    /// txn's), and every leader established after its epoch built on it.
    pub fn check_ack(&self, a: &AckedWrite, now: u64) -> Vec<Violation> {
        let mut v = Vec::new();
        match self.txn(a.zxid).map(|b| TxnEntry::decode(b)) {
            None => v.push(Violation {
                invariant: inv::ACK_MATCHES_TXN,
                at_ms: now,
                detail: format!(
                    "client {} was told {} succeeded at {}, which no member ever logged",
                    a.client, a.path, a.zxid
                ),
            }),
            Some(Err(e)) => v.push(Violation {
                invariant: inv::ACK_MATCHES_TXN,
                at_ms: now,
                detail: format!("the txn at {} does not decode: {e}", a.zxid),
            }),
            Some(Ok(t)) if t.header.client_id != a.session || t.header.cxid != a.xid => v.push(Violation {
                invariant: inv::ACK_MATCHES_TXN,
                at_ms: now,
                detail: format!(
                    "client {} (session 0x{:x} xid {}) was acked at {}, but that txn is session 0x{:x} cxid {}",
                    a.client, a.session, a.xid, a.zxid, t.header.client_id, t.header.cxid
                ),
            }),
            Some(Ok(_)) => {}
        }
        for (epoch, e) in self.epochs.range(a.zxid.epoch() + 1..) {
            v.extend(self.ack_in_epoch(a, *epoch, e, now));
        }
        v
    }

    fn ack_in_epoch(&self, a: &AckedWrite, epoch: i64, e: &EpochInfo, now: u64) -> Option<Violation> {
        match self.in_history(a.zxid, e.base) {
            Ok(true) => None,
            Ok(false) => Some(Violation {
                invariant: inv::ACK_NEVER_LOST,
                at_ms: now,
                detail: format!(
                    "the write acked at {} (client {}, {} on m{}) is not in the history epoch {epoch}'s leader \
                     (m{}) built on, which ends at {}",
                    a.zxid, a.client, a.path, a.member, e.leader, e.base
                ),
            }),
            Err(why) => Some(Violation { invariant: inv::ACK_NEVER_LOST, at_ms: now, detail: why }),
        }
    }

    /// A new epoch was established: every write acknowledged so far must be in its base.
    pub fn check_epoch_keeps_acks(&self, epoch: i64, acked: &[AckedWrite], now: u64) -> Vec<Violation> {
        let Some(e) = self.epochs.get(&epoch) else { return Vec::new() };
        let chain = match self.chain(e.base) {
            Ok(c) => c,
            Err(why) => return vec![Violation { invariant: inv::ACK_NEVER_LOST, at_ms: now, detail: why }],
        };
        acked
            .iter()
            .filter(|a| a.zxid.epoch() < epoch && !contains(&chain, a.zxid))
            .map(|a| Violation {
                invariant: inv::ACK_NEVER_LOST,
                at_ms: now,
                detail: format!(
                    "epoch {epoch}'s leader (m{}) starts from {}, without the write acked at {} \
                     (client {}, {} on m{})",
                    e.leader, e.base, a.zxid, a.client, a.path, a.member
                ),
            })
            .collect()
    }

    /// A zxid a client saw in a reply: every epoch established after it must keep it.
    pub fn check_seen(&self, z: Zxid, who: &Seen, now: u64) -> Vec<Violation> {
        self.epochs
            .range(z.epoch() + 1..)
            .filter(|(_, e)| z.counter() > 0 && !self.in_history(z, e.base).unwrap_or(true))
            .map(|(epoch, e)| dirty(z, who, *epoch, e, now))
            .collect()
    }

    /// A new epoch was established: every state a client has seen must be in its base.
    pub fn check_epoch_keeps_seen(&self, epoch: i64, seen: &BTreeMap<Zxid, Seen>, now: u64) -> Vec<Violation> {
        let Some(e) = self.epochs.get(&epoch) else { return Vec::new() };
        let Ok(chain) = self.chain(e.base) else { return Vec::new() };
        seen.range(..Zxid::epoch_start(epoch))
            .filter(|(z, _)| z.counter() > 0 && !contains(&chain, **z))
            .map(|(z, who)| dirty(*z, who, epoch, e, now))
            .collect()
    }

    /// The first zxid (in order) at which a member's observed tree differs from what the
    /// history to that zxid replays to: where the trees and the history parted (expensive;
    /// for failure reports).
    pub fn first_divergence(&self, extended_types: bool) -> Option<String> {
        for (z, (digest, member)) in &self.observed {
            if z.counter() == 0 {
                continue;
            }
            match self.replay(*z, extended_types) {
                Ok(t) if t.digest() == *digest => {}
                Ok(t) => {
                    return Some(format!(
                    "m{member}'s tree at {z} (digest {digest:x}) is not the history to {z} (digest {:x}, chain {:?})",
                    t.digest(),
                    self.chain(*z).unwrap_or_default()
                ))
                }
                Err(_) => {}
            }
        }
        None
    }

    /// The tree the history ending at `tip` produces, replayed from an empty database.
    pub fn replay(&self, tip: Zxid, extended_types: bool) -> Result<DataTree, String> {
        let chain = self.chain(tip)?;
        let mut tree = DataTree::new(extended_types);
        for (epoch, last) in &chain {
            for c in 1..=*last {
                let z = Zxid::new(*epoch as u32, c);
                let bytes =
                    self.txn(z).ok_or_else(|| format!("the history to {tip} needs {z}, which no member logged"))?;
                let t = TxnEntry::decode(bytes).map_err(|e| format!("{z} does not decode: {e}"))?;
                tree.apply(&t.header, &t.txn);
            }
        }
        Ok(tree)
    }
}

fn dirty(z: Zxid, who: &Seen, epoch: i64, e: &EpochInfo, now: u64) -> Violation {
    Violation {
        invariant: inv::NO_DIRTY_READ,
        at_ms: now,
        detail: format!(
            "client {} was answered by m{} at {} ms from a state at {z}, which epoch {epoch}'s leader (m{}) \
             dropped: its history ends at {}",
            who.client, who.member, who.at_ms, e.leader, e.base
        ),
    }
}

pub fn contains(chain: &Chain, z: Zxid) -> bool {
    z.counter() > 0 && chain.get(&z.epoch()).is_some_and(|last| z.counter() <= *last)
}

fn summary(data: &Bytes) -> String {
    match TxnEntry::decode(data) {
        Ok(t) => format!("type {} session 0x{:x} cxid {}", t.header.type_, t.header.client_id, t.header.cxid),
        Err(e) => format!("undecodable ({e})"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::jute::txn::{CreateTxn, Txn, TxnHeader};

    fn create(zxid: Zxid, session: i64, cxid: i32, path: &str) -> Bytes {
        let e = TxnEntry {
            header: TxnHeader { client_id: session, cxid, zxid: zxid.0, time: 1, type_: 1 },
            txn: Txn::Create(
                1,
                CreateTxn {
                    path: path.into(),
                    data: None,
                    acl: crate::tree::acl::open_acl_unsafe(),
                    ephemeral: false,
                    parent_c_version: 0,
                },
            ),
            digest: None,
        };
        Bytes::from(e.encode())
    }

    fn ack(zxid: Zxid, session: i64, xid: i32) -> AckedWrite {
        AckedWrite { zxid, session, xid, op: 1, path: "/a".into(), client: 0, member: 0, at_ms: 0 }
    }

    fn z(e: u32, c: u32) -> Zxid {
        Zxid::new(e, c)
    }

    #[test]
    fn one_zxid_one_txn() {
        let mut g = Ghost::new();
        assert_eq!(g.record_append(0, z(1, 1), &create(z(1, 1), 5, 1, "/a"), 0), None);
        assert_eq!(g.record_append(1, z(1, 1), &create(z(1, 1), 5, 1, "/a"), 0), None);
        let v = g.record_append(2, z(1, 1), &create(z(1, 1), 5, 1, "/b"), 0).unwrap();
        assert_eq!(v.invariant, inv::TXN_AGREEMENT);
        let v = g.record_append(2, z(1, 2), &create(z(1, 3), 5, 1, "/b"), 0).unwrap();
        assert!(v.detail.contains("txn header"), "{v}");
    }

    #[test]
    fn histories_follow_epoch_bases() {
        let mut g = Ghost::new();
        g.record_epoch(1, 0, z(0, 0), 0);
        // Epoch 1 went to (1,5); epoch 2's leader had only (1,3); epoch 3's leader had (2,2).
        g.record_epoch(2, 1, z(1, 3), 0);
        g.record_epoch(3, 2, z(2, 2), 0);
        let c = g.chain(z(3, 4)).unwrap();
        assert_eq!(c, [(1, 3), (2, 2), (3, 4)].into_iter().collect());
        assert!(g.in_history(z(1, 3), z(3, 1)).unwrap());
        assert!(!g.in_history(z(1, 4), z(3, 1)).unwrap(), "(1,4) was abandoned at epoch 2");
        assert!(!g.in_history(z(3, 5), z(3, 4)).unwrap());
        assert!(g.in_history(z(2, 1), z(3, 0)).unwrap(), "an epoch's zxid 0 holds its base's history");
        assert!(g.chain(z(4, 1)).is_err(), "epoch 4 has no known leader");
        let v = g.record_epoch(2, 2, z(1, 3), 5).unwrap();
        assert_eq!(v.invariant, inv::ONE_LEADER_PER_EPOCH);
    }

    #[test]
    fn an_ack_missing_from_a_later_epoch_is_a_lost_write() {
        let mut g = Ghost::new();
        g.record_epoch(1, 0, z(0, 0), 0);
        g.record_append(0, z(1, 1), &create(z(1, 1), 7, 3, "/a"), 0);
        g.record_append(0, z(1, 2), &create(z(1, 2), 7, 4, "/b"), 0);
        let acks = vec![ack(z(1, 1), 7, 3), ack(z(1, 2), 7, 4)];
        assert!(g.check_ack(&acks[0], 0).is_empty());
        g.record_epoch(2, 1, z(1, 1), 0);
        let v = g.check_epoch_keeps_acks(2, &acks, 9);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].invariant, inv::ACK_NEVER_LOST);
        assert!(v[0].detail.contains("0x100000002"), "{}", v[0]);
        let wrong = g.check_ack(&ack(z(1, 1), 7, 9), 0);
        assert_eq!(wrong.first().map(|v| v.invariant), Some(inv::ACK_MATCHES_TXN));
    }

    #[test]
    fn replay_rebuilds_the_tree_of_a_history_and_digests_must_agree() {
        let mut g = Ghost::new();
        g.record_epoch(1, 0, z(0, 0), 0);
        g.record_append(0, z(1, 1), &create(z(1, 1), 7, 1, "/a"), 0);
        g.record_append(0, z(1, 2), &create(z(1, 2), 7, 2, "/b"), 0);
        g.record_epoch(2, 1, z(1, 1), 0);
        g.record_append(1, z(2, 1), &create(z(2, 1), 7, 3, "/c"), 0);
        let t = g.replay(z(2, 1), true).unwrap();
        assert!(t.get("/a").is_some() && t.get("/b").is_none() && t.get("/c").is_some());
        assert_eq!(g.observe_tree(0, z(2, 1), t.digest(), 0), None);
        assert_eq!(g.observe_tree(1, z(2, 1), t.digest() ^ 1, 0).map(|v| v.invariant), Some(inv::DIGEST_AGREEMENT));
        assert!(g.replay(z(2, 2), true).is_err(), "a hole in the history is reported");
    }
}
