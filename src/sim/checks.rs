//! What the simulator checks while a run goes on: after each input it looks at the member
//! that handled it (role changes, epochs established, the tree's zxid and digest), and
//! after each event at the acknowledgements clients received. The end-of-run checks live in
//! `run.rs`, the client-side ones in `client.rs`, the history bookkeeping in `ghost.rs`.
//! It also runs the oracle, which decides elections from the same view.

use super::cluster::{Seen, Sent, Sim};
use super::history::{inv, Violation};
use super::oracle::View;
use crate::quorum::election::ServerState;
use crate::quorum::packet::{kind, QuorumPacket};
use crate::quorum::peer::QuorumCheck;
use crate::sim_trace;
use crate::types::{ServerId, Zxid};
use std::collections::BTreeSet;

impl Sim {
    /// The oracle decides what elections it can; members given a decision get a wake-up.
    pub(super) fn run_oracle(&mut self) {
        if self.oracle.undecided().is_empty() {
            return;
        }
        let views: Vec<View> = self
            .members
            .iter()
            .map(|mm| {
                let (state, leader, serving) = match &mm.peer {
                    Some(p) => {
                        let (s, l) = p.state();
                        (s, l, p.is_serving())
                    }
                    None => (ServerState::Looking, None, false),
                };
                View { sid: mm.sid, voter: mm.voter, up: mm.is_live(), state, leader, serving }
            })
            .collect();
        let parts = self.partitions.clone();
        let quorum = self.quorum.clone();
        let talk = move |a: usize, b: usize| parts.can_talk(a, b);
        let q = move |s: &BTreeSet<ServerId>| quorum.contains_quorum(s);
        let (lo, hi) = (self.cfg.timing.election_min_ms, self.cfg.timing.election_max_ms);
        let rng = &mut self.rng_elect;
        let mut delay = || rng.range(lo, hi);
        let decided = self.oracle.decide(self.now, &views, &talk, &q, &mut delay);
        for (m, leader, state) in decided {
            sim_trace!(self.trace, self.now, "election: m{m} will be {state:?} (leader sid {leader})");
            self.schedule_timer(m);
        }
    }

    // ------------------------------------------------------------------ observation

    /// What a member shows after an input: role changes, epochs established, its tree.
    pub(super) fn observe(&mut self, m: usize) {
        let Some(p) = self.members[m].peer.as_ref() else { return };
        let (state, leader) = p.state();
        let serving = p.is_serving();
        let (_, current_epoch) = p.epochs();
        let zxid = p.server().tree.last_zxid;
        let digest = p.server().tree.digest();
        let now = self.now;
        let before = self.members[m].seen.clone();
        let seen = Seen { state, leader, serving, zxid, digest };
        if seen == before {
            return;
        }
        if (state, leader, serving) != (before.state, before.leader, before.serving) {
            sim_trace!(
                self.trace,
                now,
                "m{m} is {state:?}{}{} (epoch {current_epoch}, zxid {zxid})",
                leader.map(|l| format!(" leader={l}")).unwrap_or_default(),
                if serving { " serving" } else { "" }
            );
        }
        if state == ServerState::Leading && before.state != ServerState::Leading {
            self.members[m].leading_base = Some(zxid);
        }
        if state == ServerState::Leading && serving && !(before.state == ServerState::Leading && before.serving) {
            let base = self.members[m].leading_base.unwrap_or(zxid);
            self.stats.epochs += 1;
            sim_trace!(self.trace, now, "m{m} established epoch {current_epoch} from {base}");
            if let Some(v) = self.ghost.record_epoch(current_epoch, m, base, now) {
                self.violate(v);
            }
            for v in self.ghost.check_epoch_keeps_acks(current_epoch, &self.history.acked, now) {
                self.violate(v);
            }
            for v in self.ghost.check_epoch_keeps_seen(current_epoch, &self.history.seen, now) {
                self.violate(v);
            }
        }
        if (zxid, digest) != (before.zxid, before.digest) {
            if let Some(v) = self.ghost.observe_tree(m, zxid, digest, now) {
                self.violate(v);
            }
        }
        self.members[m].seen = seen;
    }

    /// Acknowledgements clients received since the last event: each must name its txn,
    /// be in every later epoch's history, and be durable on a quorum of voters now.
    pub(super) fn check_new_acks(&mut self) {
        let now = self.now;
        for z in std::mem::take(&mut self.history.unchecked_seen) {
            let Some(who) = self.history.seen.get(&z).copied() else { continue };
            for v in self.ghost.check_seen(z, &who, now) {
                self.violate(v);
            }
        }
        if self.history.unchecked_acks.is_empty() {
            return;
        }
        for i in std::mem::take(&mut self.history.unchecked_acks) {
            let Some(a) = self.history.acked.get(i).cloned() else { continue };
            sim_trace!(
                self.trace,
                now,
                "ACK client {} {} at {} (m{}, {}/{} voters durable)",
                a.client,
                a.path,
                a.zxid,
                a.member,
                self.durable_voters(a.zxid),
                self.cfg.voters
            );
            for v in self.ghost.check_ack(&a, now) {
                self.violate(v);
            }
            self.check_durable_on_quorum(a.zxid, i, "when it was acknowledged");
            self.acked_by_zxid.insert(a.zxid, i);
        }
    }

    /// Voters whose disk holds `z` durably: in their synced log, or under a synced
    /// snapshot whose history contains it.
    pub fn durable_voters(&self, z: Zxid) -> usize {
        self.members
            .iter()
            .filter(|m| m.voter)
            .filter(|m| {
                m.disk.synced_entry(z).is_some()
                    || m.disk.synced_snapshots_from(z).any(|(s, _)| self.ghost.in_history(z, *s).unwrap_or(false))
            })
            .count()
    }

    fn check_durable_on_quorum(&mut self, z: Zxid, ack: usize, when: &str) {
        let n = self.durable_voters(z);
        if n < self.quorum_size() {
            let a = self.history.acked.get(ack).cloned();
            let who = a.map(|a| format!("client {} {} via m{}", a.client, a.path, a.member)).unwrap_or_default();
            let holders: Vec<String> = self
                .members
                .iter()
                .enumerate()
                .filter(|(_, m)| m.voter)
                .map(|(i, m)| {
                    let e = m.disk.log().iter().find(|e| e.zxid == z);
                    format!(
                        "{i}:{}",
                        match e {
                            Some(e) if e.synced => "synced",
                            Some(_) => "unsynced",
                            None => "absent",
                        }
                    )
                })
                .collect();
            self.violate(Violation {
                invariant: inv::ACK_DURABLE_ON_QUORUM,
                at_ms: self.now,
                detail: format!(
                    "the write acked at {z} ({who}) is durable on {n} of {} voters {when}, a quorum is {} [{}]",
                    self.cfg.voters,
                    self.quorum_size(),
                    holders.join(" ")
                ),
            });
        }
    }

    /// A truncation dropped entries after `z`: every acknowledged write beyond it must
    /// still be on a quorum.
    pub(super) fn recheck_acks_after(&mut self, z: Zxid) {
        let later: Vec<(Zxid, usize)> = self.acked_by_zxid.range(z.next()..).map(|(z, i)| (*z, *i)).collect();
        for (zz, i) in later {
            self.check_durable_on_quorum(zz, i, "after a truncation");
        }
    }

    pub(super) fn packet_sent(&mut self, from: usize, to: usize, p: &QuorumPacket) {
        self.stats.packets += 1;
        if p.type_ == kind::TRUNC && p.zxid == Zxid::NONE {
            sim_trace!(self.trace, self.now, "m{from} tells m{to} to TRUNC to -1 (its whole log)");
            self.evidence.push((self.now, super::known::TRUNC_TO_NONE));
        }
        if self.record_packets {
            self.sent.push(Sent { at_ms: self.now, from, to, type_: p.type_, zxid: p.zxid });
        }
        if p.type_ != kind::PING {
            sim_trace!(self.trace, self.now, "  m{from} -> m{to} {} {}", kind::name(p.type_), p.zxid);
        }
    }
}
