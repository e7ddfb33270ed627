//! The leader side of Zab (`Leader`, `LearnerHandler`, `LearnerMaster`), sans-I/O.
//!
//! Phases, as Java 3.8 runs them:
//! 1. *Discovery*: a quorum (this server included) sends FOLLOWERINFO with its accepted
//!    epoch; the new epoch is one more than the largest, persisted as `acceptedEpoch`, and
//!    sent back in LEADERINFO. A quorum of ACKEPOCH (none ahead of us) ends the election
//!    and `currentEpoch` is persisted.
//! 2. *Sync*: each learner gets DIFF/TRUNC/SNAP ([`super::sync`]), the proposals still
//!    outstanding, then NEWLEADER. A quorum of NEWLEADER ACKs starts the server (UPTODATE).
//! 3. *Broadcast*: proposals go to synced followers and are committed, in zxid order, once a
//!    quorum (our own durable log included) has acknowledged them; observers get INFORM.
//!
//! Every wait is bounded by `initLimit` (discovery and sync) or `syncLimit` (broadcast)
//! ticks; missing a quorum sends the whole peer back to election.

use super::io::{EpochKind, LinkId, Output};
use super::packet::{kind, LearnerInfo, QuorumPacket, ZAB_PROTOCOL_VERSION};
use super::peer::Ctx;
use super::sync::{self, SyncPlan};
use crate::jute::records::Id;
use crate::types::{ServerId, SessionId, Zxid};
use bytes::{Buf, BufMut, Bytes};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Why leading stopped; the peer logs it and goes back to election.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Abdicate(pub String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Waiting for FOLLOWERINFO/OBSERVERINFO.
    Info,
    /// Waiting for the epoch to be decided before LEADERINFO can go out.
    Epoch,
    /// LEADERINFO sent, waiting for ACKEPOCH.
    AckEpoch,
    /// ACKEPOCH received, waiting for a quorum of them.
    Election,
    /// Behind the committed log: waiting for the txn log to be read.
    Reading,
    /// Synced and NEWLEADER sent, waiting for its ACK.
    NewLeaderAck,
    /// NEWLEADER acked; UPTODATE goes out once the leader has started.
    Startup,
    /// Broadcast.
    Running,
}

/// One learner connection (`LearnerHandler`).
#[derive(Debug)]
struct Handler {
    sid: ServerId,
    observer: bool,
    stage: Stage,
    accepted_epoch: i64,
    peer_last: Zxid,
    /// Gets proposals/commits (participants) or informs (observers).
    forwarding: bool,
    /// NEWLEADER is queued: pings may go out.
    pinging: bool,
    tick_of_next_ack_deadline: u64,
    /// Proposals sent and not yet acknowledged, with when they were sent (`SyncLimitCheck`).
    unacked: VecDeque<(Zxid, u64)>,
}

/// A proposal waiting for its quorum.
#[derive(Debug)]
struct Proposal {
    data: Bytes,
    acks: BTreeSet<ServerId>,
}

#[derive(Debug)]
pub struct Leader {
    epoch: i64,
    /// When the current discovery/sync wait gives up (each wait gets `initLimit` ticks).
    phase_deadline_ms: u64,
    links: BTreeMap<LinkId, Handler>,
    /// Participants whose FOLLOWERINFO (or our own accepted epoch) counts for the epoch.
    connecting: BTreeSet<ServerId>,
    proposed_epoch: i64,
    epoch_decided: bool,
    /// Participants whose ACKEPOCH counts (`electingFollowers`).
    electing: BTreeSet<ServerId>,
    election_finished: bool,
    newleader_acks: BTreeSet<ServerId>,
    started: bool,
    started_at_ms: Option<u64>,
    /// `(currentEpoch, lastProcessedZxid)` when leading began (`leaderStateSummary`).
    summary: (i64, Zxid),
    outstanding: BTreeMap<Zxid, Proposal>,
    last_committed: Zxid,
    last_proposed: Zxid,
    pending_syncs: BTreeMap<Zxid, Vec<LinkId>>,
    tick: u64,
    next_half_tick_ms: u64,
    full_tick: bool,
    /// Observer sids handed out to learners that sent no LearnerInfo (`followerCounter`).
    anonymous_counter: i64,
}

fn epoch_bytes(v: i32) -> Bytes {
    Bytes::copy_from_slice(&v.to_be_bytes())
}

impl Leader {
    /// Starts leading (`Leader.lead`): counts our own accepted epoch toward the new one.
    pub fn new(ctx: &mut Ctx<'_>) -> Leader {
        let me = ctx.opts.my_id;
        let summary = (ctx.store.current_epoch, ctx.server.tree.last_zxid);
        let mut l = Leader {
            epoch: -1,
            phase_deadline_ms: ctx.now.mono_ms + ctx.opts.init_limit * ctx.opts.tick_ms,
            links: BTreeMap::new(),
            connecting: BTreeSet::new(),
            proposed_epoch: -1,
            epoch_decided: false,
            electing: BTreeSet::new(),
            election_finished: false,
            newleader_acks: BTreeSet::new(),
            started: false,
            started_at_ms: None,
            summary,
            outstanding: BTreeMap::new(),
            last_committed: Zxid::NONE,
            last_proposed: Zxid::NONE,
            pending_syncs: BTreeMap::new(),
            tick: 0,
            next_half_tick_ms: ctx.now.mono_ms + ctx.opts.tick_ms / 2,
            full_tick: false,
            anonymous_counter: -1,
        };
        tracing::info!("LEADING - LEADER ELECTION TOOK - {} MS", ctx.election_took_ms);
        l.offer_epoch(ctx, me, ctx.store.accepted_epoch);
        l
    }

    pub fn epoch(&self) -> i64 {
        self.epoch
    }

    /// Whether the server is up (a quorum acknowledged NEWLEADER).
    pub fn is_started(&self) -> bool {
        self.started
    }

    pub fn last_proposed(&self) -> Zxid {
        self.last_proposed
    }

    pub fn outstanding(&self) -> usize {
        self.outstanding.len()
    }

    pub fn pending_syncs(&self) -> usize {
        self.pending_syncs.values().map(Vec::len).sum()
    }

    /// The leader's gauges for `mntr`/`srvr` (`LeaderZooKeeperServer.registerMetrics`).
    pub fn stats(&self, now_ms: u64) -> crate::server::fourlw::LeaderInfo {
        let forwarding =
            |observer: bool| self.links.values().filter(|h| h.forwarding && h.observer == observer).count();
        crate::server::fourlw::LeaderInfo {
            learners: self.links.values().filter(|h| h.stage != Stage::Info).count() as i64,
            synced_followers: forwarding(false) as i64,
            synced_non_voting_followers: 0,
            pending_syncs: self.pending_syncs() as i64,
            leader_uptime_ms: self.started_at_ms.map_or(0, |t| now_ms.saturating_sub(t)) as i64,
            proposal_sizes: Default::default(),
        }
    }

    /// Observers receiving INFORMs (`zk_synced_observers`).
    pub fn synced_observers(&self) -> usize {
        self.links.values().filter(|h| h.forwarding && h.observer).count()
    }

    /// Java's ZabState while leading.
    pub fn zab_state(&self) -> &'static str {
        if self.started {
            "broadcast"
        } else if self.election_finished {
            "synchronization"
        } else {
            "discovery"
        }
    }

    fn synced(&self, h: &Handler) -> bool {
        h.stage != Stage::Info && self.tick <= h.tick_of_next_ack_deadline
    }

    pub fn poll_timeout(&self) -> u64 {
        if self.started {
            self.next_half_tick_ms
        } else {
            self.next_half_tick_ms.min(self.phase_deadline_ms)
        }
    }

    // ------------------------------------------------------------------ discovery

    /// `getEpochToPropose`: one more than the largest accepted epoch of a quorum.
    fn offer_epoch(&mut self, ctx: &mut Ctx<'_>, sid: ServerId, accepted: i64) {
        if self.epoch_decided {
            return;
        }
        if accepted >= self.proposed_epoch {
            self.proposed_epoch = accepted + 1;
        }
        if ctx.opts.quorum.is_voter(sid) {
            self.connecting.insert(sid);
        }
        if self.connecting.contains(&ctx.opts.my_id) && ctx.opts.quorum.contains_quorum(&self.connecting) {
            self.epoch_decided = true;
            self.phase_deadline_ms = ctx.now.mono_ms + ctx.opts.init_limit * ctx.opts.tick_ms;
            self.epoch = self.proposed_epoch;
            ctx.store.accepted_epoch = self.epoch;
            ctx.out.push_back(Output::WriteEpoch { kind: EpochKind::Accepted, epoch: self.epoch });
            let waiting: Vec<LinkId> =
                self.links.iter().filter(|(_, h)| h.stage == Stage::Epoch).map(|(k, _)| *k).collect();
            for link in waiting {
                self.send_leader_info(ctx, link);
            }
            let me = ctx.opts.my_id;
            let summary = self.summary;
            self.ack_epoch(ctx, me, summary.0, summary.1);
        }
    }

    fn send_leader_info(&mut self, ctx: &mut Ctx<'_>, link: LinkId) {
        let p =
            QuorumPacket::with_data(kind::LEADERINFO, Zxid::epoch_start(self.epoch), epoch_bytes(ZAB_PROTOCOL_VERSION));
        ctx.out.push_back(Output::ToLearner { link, packet: p });
        if let Some(h) = self.links.get_mut(&link) {
            h.stage = Stage::AckEpoch;
        }
    }

    /// `waitForEpochAck`. Returns false when the learner is ahead of us and must go.
    fn ack_epoch(&mut self, ctx: &mut Ctx<'_>, sid: ServerId, current_epoch: i64, last: Zxid) -> bool {
        if self.election_finished {
            return true;
        }
        if current_epoch != -1 {
            let (my_epoch, my_last) = self.summary;
            if current_epoch > my_epoch || (current_epoch == my_epoch && last > my_last) {
                tracing::error!(
                    "Follower is ahead of the leader, leader summary: {} (current epoch), 0x{:x} (last zxid)",
                    my_epoch,
                    my_last.0
                );
                return false;
            }
            if last != Zxid::NONE && ctx.opts.quorum.is_voter(sid) {
                self.electing.insert(sid);
            }
        }
        if self.electing.contains(&ctx.opts.my_id) && ctx.opts.quorum.contains_quorum(&self.electing) {
            self.election_finished = true;
            self.phase_deadline_ms = ctx.now.mono_ms + ctx.opts.init_limit * ctx.opts.tick_ms;
            ctx.store.current_epoch = self.epoch;
            ctx.out.push_back(Output::WriteEpoch { kind: EpochKind::Current, epoch: self.epoch });
            // The next proposal is the first of the new epoch (`zk.setZxid(makeZxid(epoch, 0))`).
            ctx.server.set_next_zxid(Zxid::epoch_start(self.epoch));
            self.last_proposed = Zxid::epoch_start(self.epoch);
            let waiting: Vec<LinkId> =
                self.links.iter().filter(|(_, h)| h.stage == Stage::Election).map(|(k, _)| *k).collect();
            for link in waiting {
                self.sync_learner(ctx, link);
            }
            let me = ctx.opts.my_id;
            self.ack_new_leader(ctx, me, Zxid::epoch_start(self.epoch));
        }
        true
    }

    // ------------------------------------------------------------------ sync

    /// `syncFollower` + `startForwarding` + NEWLEADER for one learner.
    fn sync_learner(&mut self, ctx: &mut Ctx<'_>, link: LinkId) {
        let Some(h) = self.links.get(&link) else { return };
        let (sid, peer_last) = (h.sid, h.peer_last);
        let last_processed = ctx.server.tree.last_zxid;
        let log = &ctx.store.committed;
        tracing::info!(
            "Synchronizing with Learner sid: {} maxCommittedLog=0x{:x} minCommittedLog=0x{:x} lastProcessedZxid=0x{:x} peerLastZxid=0x{:x}",
            sid,
            log.max().unwrap_or(last_processed).0,
            log.min().unwrap_or(last_processed).0,
            last_processed.0,
            peer_last.0
        );
        // The txn log may DIFF a learner only from where our logged history is known good.
        let disk_sync = ctx.opts.txnlog_sync && peer_last >= ctx.store.history_from;
        let plan = sync::plan(peer_last, last_processed, log, ctx.opts.force_snap_sync, disk_sync);
        if plan == SyncPlan::FromDisk {
            if let Some(h) = self.links.get_mut(&link) {
                h.stage = Stage::Reading;
            }
            ctx.out.push_back(Output::ReadLog { link, from: peer_last, upto: Zxid(i64::MAX) });
            return;
        }
        self.send_sync(ctx, link, plan);
    }

    /// The txn log was read for a learner behind the committed log.
    pub fn on_log_read(&mut self, ctx: &mut Ctx<'_>, link: LinkId, entries: Option<Vec<(Zxid, Bytes)>>) {
        let Some(h) = self.links.get(&link) else { return };
        if h.stage != Stage::Reading {
            return;
        }
        let (sid, peer_last) = (h.sid, h.peer_last);
        let plan = match entries {
            Some(e) => {
                tracing::info!("Use txnlog and committedLog for peer sid: {sid}");
                sync::plan_from_disk(peer_last, &e, &ctx.store.committed)
            }
            None => SyncPlan::Snap,
        };
        self.send_sync(ctx, link, plan);
    }

    /// Sends the sync the plan chose, then what `startForwarding` adds, then NEWLEADER.
    fn send_sync(&mut self, ctx: &mut Ctx<'_>, link: LinkId, plan: SyncPlan) {
        let Some(h) = self.links.get(&link) else { return };
        let (sid, observer, peer_last) = (h.sid, h.observer, h.peer_last);
        let last_processed = ctx.server.tree.last_zxid;
        let plan_kind = match &plan {
            SyncPlan::Packets { packets, .. } => packets.first().map(|p| p.type_),
            _ => None,
        };
        let last_queued = match plan {
            SyncPlan::Snap | SyncPlan::FromDisk => {
                tracing::info!(
                    "Sending snapshot last zxid of peer is 0x{:x}, zxid of leader is 0x{:x}, send zxid of db as 0x{:x}",
                    peer_last.0,
                    self.last_proposed.0,
                    last_processed.0
                );
                let body = super::snap::encode_body(&ctx.server.tree);
                let packet = QuorumPacket::with_data(kind::SNAP, last_processed, body);
                ctx.out.push_back(Output::ToLearner { link, packet });
                last_processed
            }
            SyncPlan::Packets { packets, last_queued } => {
                if let Some(first) = packets.first() {
                    tracing::info!(
                        "Sending {} zxid=0x{:x}  for peer sid: {}",
                        kind::name(first.type_),
                        first.zxid.0,
                        sid
                    );
                }
                for packet in packets {
                    ctx.out.push_back(Output::ToLearner { link, packet });
                }
                last_queued
            }
        };
        // A DIFF keeps the learner's log: the outstanding proposals it already holds (it logged
        // them before it reconnected) are not sent again, so its durable copy counts now.
        let kept = match &plan_kind {
            Some(k) if *k == kind::DIFF => peer_last,
            _ => Zxid::NONE,
        };
        if !observer && kept != Zxid::NONE {
            let held: Vec<Zxid> = self.outstanding.range(..=kept).map(|(z, _)| *z).collect();
            for z in held {
                self.process_ack(ctx, sid, z);
            }
        }
        // startForwarding: participants also get the proposals still waiting for a quorum.
        let now = ctx.now.mono_ms;
        let mut sent = Vec::new();
        if !observer {
            for (z, p) in self.outstanding.range(last_queued.next()..) {
                ctx.out.push_back(Output::ToLearner {
                    link,
                    packet: QuorumPacket::with_data(kind::PROPOSAL, *z, p.data.clone()),
                });
                sent.push((*z, now));
            }
        }
        let newleader = QuorumPacket::with_data(
            kind::NEWLEADER,
            Zxid::epoch_start(self.epoch),
            Bytes::from(ctx.opts.qv_string.clone()),
        );
        ctx.out.push_back(Output::ToLearner { link, packet: newleader });
        if let Some(h) = self.links.get_mut(&link) {
            h.forwarding = true;
            h.pinging = true;
            h.unacked.extend(sent);
            h.stage = Stage::NewLeaderAck;
        }
    }

    /// `waitForNewLeaderAck`; a quorum starts the server (`startZkServer`).
    fn ack_new_leader(&mut self, ctx: &mut Ctx<'_>, sid: ServerId, zxid: Zxid) {
        if self.started {
            return;
        }
        if zxid != Zxid::epoch_start(self.epoch) {
            tracing::error!(
                "NEWLEADER ACK from sid: {} is from a different epoch - current 0x{:x} received 0x{:x}",
                sid,
                Zxid::epoch_start(self.epoch).0,
                zxid.0
            );
            return;
        }
        if ctx.opts.quorum.is_voter(sid) {
            self.newleader_acks.insert(sid);
        }
        if !(self.newleader_acks.contains(&ctx.opts.my_id) && ctx.opts.quorum.contains_quorum(&self.newleader_acks)) {
            return;
        }
        self.started = true;
        self.started_at_ms = Some(ctx.now.mono_ms);
        let start = Zxid::epoch_start(self.epoch);
        self.last_committed = start;
        tracing::info!(
            "Have quorum of supporters, sids: [ {} ]; starting up and setting last processed zxid: 0x{:x}",
            self.newleader_acks.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(","),
            start.0
        );
        ctx.server.start_leading(ctx.now, start, ctx.opts.leader_serves);
        ctx.election.update_vote_epoch(self.epoch);
        let ready: Vec<LinkId> =
            self.links.iter().filter(|(_, h)| h.stage == Stage::Startup).map(|(k, _)| *k).collect();
        for link in ready {
            self.send_uptodate(ctx, link);
        }
    }

    fn send_uptodate(&mut self, ctx: &mut Ctx<'_>, link: LinkId) {
        ctx.out.push_back(Output::ToLearner { link, packet: QuorumPacket::bare(kind::UPTODATE, Zxid::NONE) });
        if let Some(h) = self.links.get_mut(&link) {
            h.stage = Stage::Running;
        }
    }

    // ------------------------------------------------------------------ learner links

    pub fn on_link(&mut self, ctx: &mut Ctx<'_>, link: LinkId) {
        let deadline = self.tick + ctx.opts.init_limit + ctx.opts.sync_limit;
        self.links.insert(
            link,
            Handler {
                sid: ServerId(-1),
                observer: false,
                stage: Stage::Info,
                accepted_epoch: -1,
                peer_last: Zxid::NONE,
                forwarding: false,
                pinging: false,
                tick_of_next_ack_deadline: deadline,
                unacked: VecDeque::new(),
            },
        );
    }

    pub fn on_link_closed(&mut self, link: LinkId) {
        if let Some(h) = self.links.remove(&link) {
            tracing::warn!("******* GOODBYE learner sid {} ********", h.sid);
            self.forget_acks(h.sid);
        }
    }

    fn drop_link(&mut self, ctx: &mut Ctx<'_>, link: LinkId, why: &str) {
        if let Some(h) = self.links.remove(&link) {
            tracing::warn!("closing learner sid {}: {}", h.sid, why);
            ctx.out.push_back(Output::CloseLearner { link });
            self.forget_acks(h.sid);
        }
    }

    /// A learner's acknowledgements stand only while its connection does: when it comes back
    /// it may be truncated below them (Java keeps counting them; a write could then commit
    /// while durable on a minority). The sync credits back what it keeps.
    fn forget_acks(&mut self, sid: ServerId) {
        for p in self.outstanding.values_mut() {
            p.acks.remove(&sid);
        }
    }

    pub fn on_packet(&mut self, ctx: &mut Ctx<'_>, link: LinkId, p: QuorumPacket) -> Result<(), Abdicate> {
        let Some(h) = self.links.get_mut(&link) else { return Ok(()) };
        let stage = h.stage;
        if matches!(stage, Stage::Startup | Stage::Running) {
            h.tick_of_next_ack_deadline = self.tick + ctx.opts.sync_limit;
        }
        match stage {
            Stage::Info => self.on_learner_info(ctx, link, p),
            Stage::AckEpoch => {
                if p.type_ != kind::ACKEPOCH {
                    self.drop_link(ctx, link, &format!("{} is not ACKEPOCH", kind::name(p.type_)));
                    return Ok(());
                }
                let mut b = p.body();
                if b.len() < 4 {
                    self.drop_link(ctx, link, "ACKEPOCH without its epoch");
                    return Ok(());
                }
                let current = i64::from(b.get_i32());
                let sid = self.links.get(&link).map_or(ServerId(-1), |h| h.sid);
                if let Some(h) = self.links.get_mut(&link) {
                    h.peer_last = p.zxid;
                    h.stage = Stage::Election;
                }
                if !self.ack_epoch(ctx, sid, current, p.zxid) {
                    self.drop_link(ctx, link, "Follower is ahead of the leader");
                    return Ok(());
                }
                if self.election_finished && self.links.get(&link).is_some_and(|h| h.stage == Stage::Election) {
                    self.sync_learner(ctx, link);
                }
            }
            Stage::NewLeaderAck => {
                if p.type_ != kind::ACK {
                    self.drop_link(
                        ctx,
                        link,
                        &format!("Next packet was supposed to be an ACK, but received packet: {}", kind::name(p.type_)),
                    );
                    return Ok(());
                }
                let sid = self.links.get(&link).map_or(ServerId(-1), |h| h.sid);
                if let Some(h) = self.links.get_mut(&link) {
                    h.stage = Stage::Startup;
                    h.tick_of_next_ack_deadline = self.tick + ctx.opts.sync_limit;
                }
                self.ack_new_leader(ctx, sid, p.zxid);
                if self.started && self.links.get(&link).is_some_and(|h| h.stage == Stage::Startup) {
                    self.send_uptodate(ctx, link);
                }
            }
            Stage::Startup | Stage::Running => self.on_running_packet(ctx, link, p),
            Stage::Epoch | Stage::Election | Stage::Reading => {
                self.drop_link(ctx, link, &format!("unexpected {} before sync", kind::name(p.type_)));
            }
        }
        Ok(())
    }

    fn on_learner_info(&mut self, ctx: &mut Ctx<'_>, link: LinkId, p: QuorumPacket) {
        if p.type_ != kind::FOLLOWERINFO && p.type_ != kind::OBSERVERINFO {
            self.drop_link(
                ctx,
                link,
                &format!("First packet {} is not FOLLOWERINFO or OBSERVERINFO!", kind::name(p.type_)),
            );
            return;
        }
        let info = match &p.data {
            Some(d) => match LearnerInfo::from_slice(d) {
                Ok(i) => i,
                Err(e) => {
                    self.drop_link(ctx, link, &e.to_string());
                    return;
                }
            },
            None => {
                let sid = ServerId(self.anonymous_counter);
                self.anonymous_counter -= 1;
                LearnerInfo { server_id: sid, protocol_version: 0, config_version: -1 }
            }
        };
        if info.config_version > ctx.opts.qv_version {
            self.drop_link(ctx, link, "Follower is ahead of the leader (has a later activated configuration)");
            return;
        }
        if info.protocol_version < ZAB_PROTOCOL_VERSION {
            self.drop_link(ctx, link, "pre-Zab-1.0 learners (protocol version < 0x10000) are not supported");
            return;
        }
        let observer = p.type_ == kind::OBSERVERINFO;
        if !ctx.opts.quorum.knows(info.server_id) {
            tracing::info!("Follower sid: {} not in the current config {:x}", info.server_id, ctx.opts.qv_version);
        } else {
            tracing::info!("Follower sid: {} : info : {}", info.server_id, ctx.opts.quorum.describe(info.server_id));
        }
        let accepted = p.zxid.epoch();
        // A learner re-connecting replaces its older connection.
        let stale: Vec<LinkId> =
            self.links.iter().filter(|(k, h)| **k != link && h.sid == info.server_id).map(|(k, _)| *k).collect();
        for s in stale {
            self.drop_link(ctx, s, "replaced by a newer connection from the same sid");
        }
        if let Some(h) = self.links.get_mut(&link) {
            h.sid = info.server_id;
            h.observer = observer;
            h.accepted_epoch = accepted;
            h.stage = Stage::Epoch;
        }
        if self.epoch_decided {
            self.send_leader_info(ctx, link);
        } else {
            self.offer_epoch(ctx, info.server_id, accepted);
        }
    }

    fn on_running_packet(&mut self, ctx: &mut Ctx<'_>, link: LinkId, p: QuorumPacket) {
        let sid = self.links.get(&link).map_or(ServerId(-1), |h| h.sid);
        match p.type_ {
            kind::ACK => {
                if let Some(h) = self.links.get_mut(&link) {
                    while h.unacked.front().is_some_and(|(z, _)| *z <= p.zxid) {
                        h.unacked.pop_front();
                    }
                    if h.observer {
                        return;
                    }
                }
                self.process_ack(ctx, sid, p.zxid);
            }
            kind::PING => {
                let mut b = p.body();
                while b.len() >= 12 {
                    let id = b.get_i64();
                    let to = b.get_i32();
                    ctx.server.touch_session(SessionId(id), to);
                }
            }
            kind::REVALIDATE => {
                let mut b = p.body();
                if b.len() < 12 {
                    self.drop_link(ctx, link, "short REVALIDATE");
                    return;
                }
                let id = b.get_i64();
                let to = b.get_i32();
                let valid = ctx.server.revalidate_session(SessionId(id), to);
                let mut data = Vec::with_capacity(9);
                data.put_i64(id);
                data.put_u8(u8::from(valid));
                ctx.out.push_back(Output::ToLearner {
                    link,
                    packet: QuorumPacket::with_data(kind::REVALIDATE, p.zxid, data),
                });
            }
            kind::REQUEST => {
                let mut b = p.body();
                if b.len() < 16 {
                    self.drop_link(ctx, link, "short REQUEST");
                    return;
                }
                let session = SessionId(b.get_i64());
                let cxid = b.get_i32();
                let op = b.get_i32();
                if op == crate::jute::opcode::op::SYNC {
                    if self.outstanding.is_empty() {
                        ctx.out.push_back(Output::ToLearner { link, packet: QuorumPacket::bare(kind::SYNC, Zxid(0)) });
                    } else {
                        self.pending_syncs.entry(self.last_proposed).or_default().push(link);
                    }
                    return;
                }
                let auth: Vec<Id> = p.authinfo.clone().unwrap_or_default();
                ctx.server.submit_forwarded(session, cxid, op, b, auth);
            }
            other => tracing::warn!("unexpected quorum packet, type: {}", kind::name(other)),
        }
    }

    // ------------------------------------------------------------------ broadcast

    /// `Leader.propose`: a txn the server prepared and handed to the log.
    pub fn propose(&mut self, ctx: &mut Ctx<'_>, zxid: Zxid, data: Bytes) {
        self.last_proposed = zxid;
        let now = ctx.now.mono_ms;
        for (link, h) in self.links.iter_mut().filter(|(_, h)| h.forwarding && !h.observer) {
            ctx.out.push_back(Output::ToLearner {
                link: *link,
                packet: QuorumPacket::with_data(kind::PROPOSAL, zxid, data.clone()),
            });
            h.unacked.push_back((zxid, now));
        }
        self.outstanding.insert(zxid, Proposal { data, acks: BTreeSet::new() });
    }

    /// Our own log is durable up to `zxid`: our acknowledgement of everything up to it.
    pub fn on_durable(&mut self, ctx: &mut Ctx<'_>, zxid: Zxid) {
        let me = ctx.opts.my_id;
        let mine: Vec<Zxid> = self.outstanding.range(..=zxid).map(|(z, _)| *z).collect();
        for z in mine {
            self.process_ack(ctx, me, z);
        }
    }

    /// `processAck` + `tryToCommit`, committing strictly in zxid order; a later proposal that
    /// reached its quorum first commits as soon as the earlier ones have.
    fn process_ack(&mut self, ctx: &mut Ctx<'_>, sid: ServerId, zxid: Zxid) {
        if zxid.counter() == 0 || zxid <= self.last_committed {
            return;
        }
        let Some(p) = self.outstanding.get_mut(&zxid) else {
            tracing::warn!("Trying to commit future proposal: zxid 0x{:x} from {}", zxid.0, sid);
            return;
        };
        p.acks.insert(sid);
        while let Some((&z, p)) = self.outstanding.iter().next() {
            let bug = ctx.opts.bugs.commit_without_quorum && !p.acks.is_empty();
            if !bug && !ctx.opts.quorum.contains_quorum(&p.acks) {
                break;
            }
            let Some(p) = self.outstanding.remove(&z) else { break };
            self.commit(ctx, z, p.data);
        }
    }

    fn commit(&mut self, ctx: &mut Ctx<'_>, zxid: Zxid, data: Bytes) {
        if zxid != self.last_committed.next() && zxid.counter() != 1 {
            tracing::warn!("Commiting zxid 0x{:x} not first! First is 0x{:x}", zxid.0, self.last_committed.next().0);
        }
        self.last_committed = zxid;
        for (link, h) in &self.links {
            if !h.forwarding {
                continue;
            }
            let packet = if h.observer {
                QuorumPacket::with_data(kind::INFORM, zxid, data.clone())
            } else {
                QuorumPacket::bare(kind::COMMIT, zxid)
            };
            ctx.out.push_back(Output::ToLearner { link: *link, packet });
        }
        ctx.server.commit_upto(zxid);
        ctx.store.committed.push(zxid, data);
        if let Some(links) = self.pending_syncs.remove(&zxid) {
            for link in links {
                if self.links.contains_key(&link) {
                    ctx.out.push_back(Output::ToLearner { link, packet: QuorumPacket::bare(kind::SYNC, Zxid(0)) });
                }
            }
        }
    }

    // ------------------------------------------------------------------ time

    /// Every half tick: pings; every tick: the quorum-liveness check (`Leader.lead` loop),
    /// the proposal ack deadline of each learner, and the discovery/sync deadlines.
    pub fn on_timeout(&mut self, ctx: &mut Ctx<'_>) -> Result<(), Abdicate> {
        let now = ctx.now.mono_ms;
        let expired = !self.started && now >= self.phase_deadline_ms;
        if expired && !self.epoch_decided {
            return Err(Abdicate("Timeout while waiting for epoch from quorum".into()));
        }
        if expired && !self.election_finished {
            return Err(Abdicate("Timeout while waiting for epoch to be acked by quorum".into()));
        }
        if expired {
            return Err(Abdicate(format!(
                "Waiting for a quorum of followers, only synced with sids: [ {} ]",
                self.newleader_acks.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(",")
            )));
        }
        while now >= self.next_half_tick_ms {
            self.next_half_tick_ms += (ctx.opts.tick_ms / 2).max(1);
            if !self.started {
                continue;
            }
            if self.full_tick {
                self.tick += 1;
                let mut synced: BTreeSet<ServerId> = BTreeSet::new();
                synced.insert(ctx.opts.my_id);
                for h in self.links.values() {
                    if !h.observer && self.synced(h) {
                        synced.insert(h.sid);
                    }
                }
                if !ctx.opts.quorum.contains_quorum(&synced) {
                    return Err(Abdicate(format!(
                        "Not sufficient followers synced, only synced with sids: [ {} ]",
                        synced.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(",")
                    )));
                }
            }
            self.full_tick = !self.full_tick;
            let limit_ms = ctx.opts.sync_limit * ctx.opts.tick_ms;
            let late: Vec<LinkId> = self
                .links
                .iter()
                .filter(|(_, h)| h.unacked.front().is_some_and(|(_, at)| now.saturating_sub(*at) >= limit_ms))
                .map(|(k, _)| *k)
                .collect();
            for link in late {
                self.drop_link(ctx, link, "Closing connection to peer due to transaction timeout.");
            }
            let ping = QuorumPacket::bare(kind::PING, self.last_proposed);
            for (link, h) in &self.links {
                if h.pinging {
                    ctx.out.push_back(Output::ToLearner { link: *link, packet: ping.clone() });
                }
            }
        }
        Ok(())
    }

    /// Closes every learner connection (`Leader.shutdown`).
    pub fn shutdown(&mut self, ctx: &mut Ctx<'_>) {
        for link in std::mem::take(&mut self.links).into_keys() {
            ctx.out.push_back(Output::CloseLearner { link });
        }
    }

    /// Proposals logged by us but not committed, oldest first (replayed on shutdown, as
    /// Java's `fastForwardDataBase` does).
    pub fn take_outstanding(&mut self) -> Vec<(Zxid, Bytes)> {
        std::mem::take(&mut self.outstanding).into_iter().map(|(z, p)| (z, p.data)).collect()
    }
}
