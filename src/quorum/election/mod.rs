//! Fast Leader Election (`FastLeaderElection`, `Vote`), sans-I/O: notifications in, notifications
//! and a decision out. The connections that carry notifications (`QuorumCnxManager`) live in
//! `runtime`; this module only sees decoded [`Notification`]s from a [`ServerId`].
//!
//! One [`Election`] per server, for its whole life, as Java keeps one `FastLeaderElection`: it
//! plays both Java threads. [`Election::handle`] is the `WorkerReceiver` (the replies it sends
//! in every state, which is how a server joining a running ensemble learns the leader) followed
//! by `lookForLeader`'s loop over the receive queue; [`Election::handle_timeout`] is that loop's
//! poll timing out (notification resend with doubling interval, and the end of `finalizeWait`).
//! Notifications to this server itself go through the same receive queue, as Java loops them
//! back through its connection manager, so they never appear as outputs.
//!
//! Time is `now_ms`, any monotonic millisecond count the caller likes. Collections are ordered,
//! so the same inputs always give the same outputs in the same order.

pub mod wire;

#[cfg(test)]
mod golden;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;

use crate::config::Props;
use crate::quorum::verifier::QuorumVerifier;
use crate::types::{ServerId, Zxid};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// `QuorumPeer.ServerState`; the ordinal is the `state` field of a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerState {
    Looking,
    Following,
    Leading,
    Observing,
}

impl ServerState {
    pub fn ordinal(self) -> i32 {
        match self {
            ServerState::Looking => 0,
            ServerState::Following => 1,
            ServerState::Leading => 2,
            ServerState::Observing => 3,
        }
    }

    pub fn from_ordinal(v: i32) -> Option<ServerState> {
        match v {
            0 => Some(ServerState::Looking),
            1 => Some(ServerState::Following),
            2 => Some(ServerState::Leading),
            3 => Some(ServerState::Observing),
            _ => None,
        }
    }

    /// Java's enum name, as logs and the 4lw print it.
    pub fn java_name(self) -> &'static str {
        match self {
            ServerState::Looking => "LOOKING",
            ServerState::Following => "FOLLOWING",
            ServerState::Leading => "LEADING",
            ServerState::Observing => "OBSERVING",
        }
    }
}

/// One election message (`FastLeaderElection.Notification` / `ToSend`), as it travels between
/// servers (`buildMsg`, version 2): the sender's state and the vote it currently backs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub state: ServerState,
    /// The proposed (or established) leader.
    pub leader: ServerId,
    /// The proposed leader's last zxid.
    pub zxid: Zxid,
    /// The sender's logical clock ("round").
    pub election_epoch: i64,
    /// The proposed leader's epoch.
    pub peer_epoch: i64,
    /// Message format version (2 for 3.6+; older formats decode as 0 or 1).
    pub version: i32,
    /// The sender's QV string (`QuorumVerifier.toString`), empty for old formats.
    pub config: Vec<u8>,
}

/// `Vote`: what a server backs, as stored in the vote tables and as the election's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vote {
    /// The notification format the vote came in (0 for votes Java builds itself).
    pub version: i32,
    pub id: ServerId,
    pub zxid: Zxid,
    pub election_epoch: i64,
    pub peer_epoch: i64,
    pub state: ServerState,
}

impl Vote {
    /// `new Vote(id, zxid, electionEpoch, peerEpoch)`: version 0, LOOKING.
    pub fn looking(id: ServerId, zxid: Zxid, election_epoch: i64, peer_epoch: i64) -> Vote {
        Vote { version: 0, id, zxid, election_epoch, peer_epoch, state: ServerState::Looking }
    }

    /// `Vote.equals`, the test that counts a vote towards a quorum. If either side is LOOKING all
    /// of id, zxid, electionEpoch and peerEpoch must match. Between servers out of the election
    /// only id and peerEpoch count (their zxid and round drift after `updateElectionVote`,
    /// ZOOKEEPER-1805), and only id when exactly one side is version 0 (pre-ZOOKEEPER-1732
    /// servers report another peerEpoch).
    pub fn agrees(&self, other: &Vote) -> bool {
        if self.state == ServerState::Looking || other.state == ServerState::Looking {
            self.id == other.id
                && self.zxid == other.zxid
                && self.election_epoch == other.election_epoch
                && self.peer_epoch == other.peer_epoch
        } else if (self.version > 0) ^ (other.version > 0) {
            self.id == other.id
        } else {
            self.id == other.id && self.peer_epoch == other.peer_epoch
        }
    }
}

/// FLE timing (`zookeeper.fastleader.*` and `finalizeWait`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElectionSettings {
    /// First wait for a notification before resending; doubles on every timeout.
    pub min_notification_interval_ms: u64,
    /// Cap of that doubling.
    pub max_notification_interval_ms: u64,
    /// Quiet time after a quorum agrees before the decision is final.
    pub finalize_wait_ms: u64,
}

impl Default for ElectionSettings {
    fn default() -> Self {
        ElectionSettings {
            min_notification_interval_ms: 200,
            max_notification_interval_ms: 60_000,
            finalize_wait_ms: 200,
        }
    }
}

impl ElectionSettings {
    /// Reads `zookeeper.fastleader.minNotificationInterval` / `maxNotificationInterval` as
    /// `Integer.getInteger` does (a value that is not an int is ignored). `finalizeWait` is a
    /// constant in Java 3.8.
    pub fn from_props(props: &Props) -> ElectionSettings {
        let mut s = ElectionSettings::default();
        let int = |name: &str| props.get(name).and_then(|v| v.trim().parse::<i32>().ok());
        if let Some(v) = int("zookeeper.fastleader.minNotificationInterval") {
            s.min_notification_interval_ms = v.max(0) as u64;
        }
        if let Some(v) = int("zookeeper.fastleader.maxNotificationInterval") {
            s.max_notification_interval_ms = v.max(0) as u64;
        }
        s
    }
}

/// What the election asks its driver to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElectionOutput {
    /// Queue this notification for that server (`QuorumCnxManager.toSend`).
    Send { to: ServerId, notification: Notification },
    /// `lookForLeader` returned: this server now leads, follows or observes `leader`. The state
    /// is already set; `vote` becomes the current vote.
    Decided { leader: ServerId, state: ServerState, vote: Vote },
}

/// `proposedLeader`, `proposedZxid`, `proposedEpoch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Proposal {
    leader: ServerId,
    zxid: Zxid,
    epoch: i64,
}

/// One run of `lookForLeader`.
#[derive(Clone, Debug)]
struct Round {
    /// `getInitId()`, `getInitLastLoggedZxid()`, `getPeerEpoch()` for this run.
    init: Proposal,
    /// Votes of this round (`electionEpoch == logicalclock`).
    recvset: BTreeMap<ServerId, Vote>,
    /// FOLLOWING/LEADING votes of any round: how a late server finds an established leader.
    outofelection: BTreeMap<ServerId, Vote>,
    /// Current poll timeout (`notTimeout`).
    not_timeout_ms: u64,
    /// When the current poll for the next notification times out.
    deadline_ms: u64,
    /// While a quorum agrees: when `finalizeWait` of silence will have passed.
    finalize_until_ms: Option<u64>,
}

/// Most notifications kept while LOOKING before `start` runs (Java's queue is unbounded; a
/// driver that never starts the round must not make this grow without end).
const MAX_QUEUED: usize = 1000;

/// One server's Fast Leader Election (see the module docs).
#[derive(Clone, Debug)]
pub struct Election {
    my_id: ServerId,
    /// `LearnerType.PARTICIPANT` (else observer): decides what this server proposes and
    /// whether it ends up FOLLOWING or OBSERVING.
    participant: bool,
    verifier: QuorumVerifier,
    /// The last proposed configuration when it is newer than `verifier` (reconfig).
    next_verifier: Option<QuorumVerifier>,
    settings: ElectionSettings,
    /// `verifier.to_string()`, sent with every notification.
    config_bytes: Vec<u8>,
    state: ServerState,
    logical_clock: i64,
    proposal: Proposal,
    /// `QuorumPeer.currentVote`: unset until the first `start`.
    current_vote: Option<Vote>,
    round: Option<Round>,
    /// `recvqueue`: notifications waiting for `lookForLeader`.
    queue: VecDeque<(ServerId, Notification)>,
    outputs: VecDeque<ElectionOutput>,
}

impl Election {
    /// A server that has not started electing yet (state LOOKING, round 0).
    pub fn new(my_id: ServerId, verifier: QuorumVerifier, participant: bool, settings: ElectionSettings) -> Election {
        let config_bytes = verifier.to_string().into_bytes();
        Election {
            my_id,
            participant,
            verifier,
            next_verifier: None,
            settings,
            config_bytes,
            state: ServerState::Looking,
            logical_clock: 0,
            // FastLeaderElection.starter: -1, -1, and the field default 0.
            proposal: Proposal { leader: ServerId(-1), zxid: Zxid(-1), epoch: 0 },
            current_vote: None,
            round: None,
            queue: VecDeque::new(),
            outputs: VecDeque::new(),
        }
    }

    pub fn my_id(&self) -> ServerId {
        self.my_id
    }

    pub fn state(&self) -> ServerState {
        self.state
    }

    /// `logicalclock`: the current round.
    pub fn logical_clock(&self) -> i64 {
        self.logical_clock
    }

    /// `QuorumPeer.getCurrentVote()` (the result of the last election, with the epoch raised by
    /// [`update_vote_epoch`](Self::update_vote_epoch)); what the 4lw and replies report.
    pub fn current_vote(&self) -> Option<Vote> {
        self.current_vote
    }

    /// `getVote()`: the vote this server is proposing in the current round.
    pub fn proposal(&self) -> Vote {
        Vote::looking(self.proposal.leader, self.proposal.zxid, self.logical_clock, self.proposal.epoch)
    }

    /// True while a round is running (`lookForLeader` in progress).
    pub fn is_electing(&self) -> bool {
        self.round.is_some()
    }

    pub fn verifier(&self) -> &QuorumVerifier {
        &self.verifier
    }

    /// Installs a new committed configuration (reconfig); the next round uses it.
    pub fn set_verifier(&mut self, verifier: QuorumVerifier) {
        self.config_bytes = verifier.to_string().into_bytes();
        self.verifier = verifier;
    }

    /// The last proposed (not yet committed) configuration; it counts only while its version is
    /// above the committed one, as `getVoteTracker` and `getCurrentAndNextConfigVoters` use it.
    pub fn set_next_verifier(&mut self, next: Option<QuorumVerifier>) {
        self.next_verifier = next;
    }

    /// Starts a round (`lookForLeader`): round + 1, propose myself (or, for a server that is
    /// not a voting participant, `Long.MIN_VALUE`), tell every voter, then work through what
    /// arrived while waiting. The first call also sets the current vote as `QuorumPeer`'s
    /// `startLeaderElection` does.
    pub fn start(&mut self, now_ms: u64, last_logged_zxid: Zxid, current_epoch: i64) {
        if self.current_vote.is_none() {
            self.current_vote = Some(Vote::looking(self.my_id, last_logged_zxid, -1, current_epoch));
        }
        self.state = ServerState::Looking;
        self.logical_clock += 1;
        let init = Proposal {
            leader: if self.verifier.is_voter(self.my_id) { self.my_id } else { ServerId(i64::MIN) },
            zxid: if self.participant { last_logged_zxid } else { Zxid(i64::MIN) },
            epoch: if self.participant { current_epoch } else { i64::MIN },
        };
        self.proposal = init;
        self.round = Some(Round {
            init,
            recvset: BTreeMap::new(),
            outofelection: BTreeMap::new(),
            not_timeout_ms: self.settings.min_notification_interval_ms,
            deadline_ms: now_ms.saturating_add(self.settings.min_notification_interval_ms),
            finalize_until_ms: None,
        });
        tracing::info!(
            "New election. My id = {}, proposed zxid=0x{:x}, round 0x{:x}",
            self.my_id,
            init.zxid.0,
            self.logical_clock
        );
        self.send_notifications();
        self.drain(now_ms);
    }

    /// Sets the server state from outside (`QuorumPeer.setPeerState`): LOOKING when a leader or
    /// follower gives up (then call [`start`](Self::start)); any other state ends a round.
    pub fn set_state(&mut self, state: ServerState) {
        self.state = state;
        if state != ServerState::Looking {
            self.round = None;
            self.queue.clear();
        }
    }

    /// `QuorumPeer.updateElectionVote`: once the new epoch is agreed, the current vote carries
    /// it, so servers joining later see matching (id, peerEpoch) votes.
    pub fn update_vote_epoch(&mut self, new_epoch: i64) {
        if let Some(v) = &mut self.current_vote {
            v.peer_epoch = new_epoch;
        }
    }

    /// A notification from `from` (already decoded and checked by the connection layer).
    pub fn handle(&mut self, now_ms: u64, from: ServerId, n: Notification) {
        self.receive(from, n);
        self.drain(now_ms);
    }

    /// When the driver should call [`handle_timeout`](Self::handle_timeout) next.
    pub fn poll_timeout(&self) -> Option<u64> {
        let r = self.round.as_ref()?;
        Some(r.finalize_until_ms.unwrap_or(r.deadline_ms))
    }

    /// Time passed: end a finalize wait with the decision, or resend notifications after a
    /// quiet notification interval and double it (up to the maximum). Java reconnects instead
    /// of resending when no send queue is empty; the connection layer redials on every send,
    /// and a fresh connection repeats the last message anyway, so resending covers both.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        let Some(r) = self.round.as_mut() else { return };
        if let Some(until) = r.finalize_until_ms {
            if now_ms >= until {
                self.decide_from_proposal();
            }
            return;
        }
        if now_ms < r.deadline_ms {
            return;
        }
        r.not_timeout_ms = r.not_timeout_ms.saturating_mul(2).min(self.settings.max_notification_interval_ms);
        r.deadline_ms = now_ms.saturating_add(r.not_timeout_ms);
        tracing::info!("Notification time out: {} ms", r.not_timeout_ms);
        self.send_notifications();
        self.drain(now_ms);
    }

    pub fn poll_output(&mut self) -> Option<ElectionOutput> {
        self.outputs.pop_front()
    }

    // ---- the receive thread (WorkerReceiver) ----

    fn receive(&mut self, from: ServerId, n: Notification) {
        if !self.valid_voter(from) {
            // An observer or unknown server: answer at once with the current vote and state.
            if from == self.my_id {
                return;
            }
            if let Some(cv) = self.current_vote {
                let reply = self.notification(self.state, cv.id, cv.zxid, self.logical_clock, cv.peer_epoch);
                self.send(from, reply);
            }
            return;
        }
        if self.state == ServerState::Looking {
            let lagging = n.state == ServerState::Looking && n.election_epoch < self.logical_clock;
            if self.queue.len() >= MAX_QUEUED {
                self.queue.pop_front();
            }
            self.queue.push_back((from, n));
            if lagging {
                let p = self.proposal;
                let reply = self.notification(ServerState::Looking, p.leader, p.zxid, self.logical_clock, p.epoch);
                self.send(from, reply);
            }
        } else if n.state == ServerState::Looking {
            // Not electing, the sender is: tell it whom I back.
            if let Some(cv) = self.current_vote {
                let reply = self.notification(self.state, cv.id, cv.zxid, cv.election_epoch, cv.peer_epoch);
                self.send(from, reply);
            }
        }
    }

    // ---- lookForLeader ----

    fn drain(&mut self, now_ms: u64) {
        while self.round.is_some() {
            let Some((from, n)) = self.queue.pop_front() else { break };
            self.step(now_ms, from, n);
        }
    }

    /// One notification taken off the queue by `lookForLeader`.
    fn step(&mut self, now_ms: u64, from: ServerId, n: Notification) {
        let p = self.proposal;
        let finalize_wait = self.settings.finalize_wait_ms;
        let better = self.total_order(n.leader, n.zxid, n.peer_epoch, p.leader, p.zxid, p.epoch);
        let Some(r) = self.round.as_mut() else { return };
        if r.finalize_until_ms.is_some() {
            // The finalizeWait loop: anything not better than the proposal is consumed and
            // restarts the wait; a better vote ends it and is handled as usual.
            if !better {
                r.finalize_until_ms = Some(now_ms.saturating_add(finalize_wait));
                return;
            }
            r.finalize_until_ms = None;
        }
        r.deadline_ms = now_ms.saturating_add(r.not_timeout_ms);
        if !(self.valid_voter(from) && self.valid_voter(n.leader)) {
            tracing::warn!("Ignoring notification for sid {} from sid {}", n.leader, from);
            return;
        }
        match n.state {
            ServerState::Looking => self.step_looking(now_ms, from, n),
            ServerState::Observing => {}
            ServerState::Following | ServerState::Leading => self.step_established(from, n),
        }
    }

    fn step_looking(&mut self, now_ms: u64, from: ServerId, n: Notification) {
        let Some(init) = self.round.as_ref().map(|r| r.init) else { return };
        if init.zxid == Zxid(-1) || n.zxid == Zxid(-1) {
            return;
        }
        if n.election_epoch > self.logical_clock {
            self.logical_clock = n.election_epoch;
            if let Some(r) = self.round.as_mut() {
                r.recvset.clear();
            }
            self.proposal = if self.total_order(n.leader, n.zxid, n.peer_epoch, init.leader, init.zxid, init.epoch) {
                Proposal { leader: n.leader, zxid: n.zxid, epoch: n.peer_epoch }
            } else {
                init
            };
            self.send_notifications();
        } else if n.election_epoch < self.logical_clock {
            return;
        } else {
            let p = self.proposal;
            if self.total_order(n.leader, n.zxid, n.peer_epoch, p.leader, p.zxid, p.epoch) {
                self.proposal = Proposal { leader: n.leader, zxid: n.zxid, epoch: n.peer_epoch };
                self.send_notifications();
            }
        }
        let mine = self.proposal();
        let finalize_wait = self.settings.finalize_wait_ms;
        let Some(r) = self.round.as_mut() else { return };
        r.recvset.insert(from, Vote::looking(n.leader, n.zxid, n.election_epoch, n.peer_epoch));
        let reached = self.has_all_quorums(&self.round_votes(true), &mine);
        if reached {
            if let Some(r) = self.round.as_mut() {
                r.finalize_until_ms = Some(now_ms.saturating_add(finalize_wait));
            }
        }
    }

    /// `receivedFollowingNotification` (LEADING adds only the oracle, which ruzk does not
    /// support): join an established leader once a quorum backs it and the leader itself said
    /// LEADING (or, for myself, the round matches).
    fn step_established(&mut self, from: ServerId, n: Notification) {
        let as_sent = Vote {
            version: n.version,
            id: n.leader,
            zxid: n.zxid,
            election_epoch: n.election_epoch,
            peer_epoch: n.peer_epoch,
            state: n.state,
        };
        let end = Vote::looking(n.leader, n.zxid, n.election_epoch, n.peer_epoch);
        if n.election_epoch == self.logical_clock {
            if let Some(r) = self.round.as_mut() {
                // Java stores this one as a version-0 vote.
                r.recvset.insert(from, Vote { version: 0, ..as_sent });
            }
            let votes = self.round_votes(true);
            if self.has_all_quorums(&votes, &as_sent) && self.check_leader(&votes, n.leader, n.election_epoch) {
                self.finish(end);
                return;
            }
        }
        if let Some(r) = self.round.as_mut() {
            r.outofelection.insert(from, as_sent);
        }
        let votes = self.round_votes(false);
        if self.has_all_quorums(&votes, &as_sent) && self.check_leader(&votes, n.leader, n.election_epoch) {
            self.logical_clock = n.election_epoch;
            self.finish(end);
        }
    }

    fn round_votes(&self, recvset: bool) -> BTreeMap<ServerId, Vote> {
        match &self.round {
            Some(r) if recvset => r.recvset.clone(),
            Some(r) => r.outofelection.clone(),
            None => BTreeMap::new(),
        }
    }

    /// `checkLeader`: someone else must have said it is LEADING; I lead only in my own round.
    fn check_leader(&self, votes: &BTreeMap<ServerId, Vote>, leader: ServerId, election_epoch: i64) -> bool {
        if leader != self.my_id {
            votes.get(&leader).is_some_and(|v| v.state == ServerState::Leading)
        } else {
            self.logical_clock == election_epoch
        }
    }

    /// `getVoteTracker(votes, vote).hasAllQuorums()`.
    fn has_all_quorums(&self, votes: &BTreeMap<ServerId, Vote>, vote: &Vote) -> bool {
        let acks: BTreeSet<ServerId> = votes.iter().filter(|(_, v)| vote.agrees(v)).map(|(sid, _)| *sid).collect();
        self.verifier.contains_quorum(&acks) && self.newer_next().is_none_or(|next| next.contains_quorum(&acks))
    }

    fn decide_from_proposal(&mut self) {
        let end = self.proposal();
        self.finish(end);
    }

    /// `setPeerState` + `leaveInstance` + `QuorumPeer.setCurrentVote`.
    fn finish(&mut self, end: Vote) {
        self.state = if end.id == self.my_id {
            ServerState::Leading
        } else if self.participant {
            ServerState::Following
        } else {
            ServerState::Observing
        };
        tracing::info!(
            "Election decided: {} leader={} zxid=0x{:x} round=0x{:x} peerEpoch=0x{:x}",
            self.state.java_name(),
            end.id,
            end.zxid.0,
            end.election_epoch,
            end.peer_epoch
        );
        self.current_vote = Some(end);
        self.round = None;
        self.queue.clear();
        self.outputs.push_back(ElectionOutput::Decided { leader: end.id, state: self.state, vote: end });
    }

    // ---- helpers ----

    fn newer_next(&self) -> Option<&QuorumVerifier> {
        self.next_verifier.as_ref().filter(|n| n.version() > self.verifier.version())
    }

    /// `validVoter`: a voter of the current or the next configuration.
    fn valid_voter(&self, sid: ServerId) -> bool {
        self.verifier.is_voter(sid) || self.next_verifier.as_ref().is_some_and(|n| n.is_voter(sid))
    }

    /// `totalOrderPredicate`: is (new) a better leader than (cur)? Never a server of weight 0.
    fn total_order(
        &self,
        new_id: ServerId,
        new_zxid: Zxid,
        new_epoch: i64,
        cur_id: ServerId,
        cur_zxid: Zxid,
        cur_epoch: i64,
    ) -> bool {
        if self.verifier.weight(new_id) == 0 {
            return false;
        }
        (new_epoch, new_zxid, new_id) > (cur_epoch, cur_zxid, cur_id)
    }

    /// `sendNotifications`: my proposal, as LOOKING, to every voter of the current and next
    /// configuration, myself included (ascending sid).
    fn send_notifications(&mut self) {
        let mut voters: BTreeSet<ServerId> = self.verifier.voting_members().collect();
        if let Some(next) = &self.next_verifier {
            voters.extend(next.voting_members());
        }
        let p = self.proposal;
        for sid in voters {
            let n = self.notification(ServerState::Looking, p.leader, p.zxid, self.logical_clock, p.epoch);
            self.send(sid, n);
        }
    }

    fn notification(
        &self,
        state: ServerState,
        leader: ServerId,
        zxid: Zxid,
        election_epoch: i64,
        peer_epoch: i64,
    ) -> Notification {
        Notification {
            state,
            leader,
            zxid,
            election_epoch,
            peer_epoch,
            version: wire::NOTIFICATION_VERSION,
            config: self.config_bytes.clone(),
        }
    }

    /// `QuorumCnxManager.toSend`: to myself it goes straight into the receive path.
    fn send(&mut self, to: ServerId, n: Notification) {
        if to == self.my_id {
            self.receive(to, n);
        } else {
            self.outputs.push_back(ElectionOutput::Send { to, notification: n });
        }
    }
}
