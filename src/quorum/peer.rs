//! One ensemble member as a single state machine (`QuorumPeer`): the client-facing server
//! core, the election, and the role it currently plays — standalone, looking, leading,
//! following or observing — with the durable facts Zab needs (epochs, the committed log,
//! how far the log is synced).
//!
//! The runtime (or the simulator) calls [`Peer::handle`] / [`Peer::handle_timeout`] with
//! the current time and executes what [`Peer::poll_output`] returns, in order. Nothing here
//! reads a clock, touches a socket or a file, or draws a random number.

use super::election::{Notification, ServerState};
use super::io::{Input, Output};
use super::leader::{Abdicate, Leader};
use super::learner::{Learner, Quit};
use super::sync::CommittedLog;
use crate::jute::txn::TxnEntry;
use crate::server::{self, Now, Server};
use crate::types::{ServerId, Zxid};
use bytes::Bytes;
use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

/// Who votes and what makes a quorum (`QuorumVerifier`), as the peer needs it.
pub trait QuorumCheck: Send + Sync + std::fmt::Debug {
    fn contains_quorum(&self, ids: &BTreeSet<ServerId>) -> bool;
    fn is_voter(&self, id: ServerId) -> bool;
    /// Whether `id` is a member at all (voter or observer).
    fn knows(&self, id: ServerId) -> bool;
    /// `QuorumServer.toString` of a member, for logs.
    fn describe(&self, id: ServerId) -> String;
}

/// What the peer needs from an election (`FastLeaderElection`), so the state machine can
/// also be driven by a scripted election in tests.
pub trait Elector: std::fmt::Debug + Send {
    /// Begins a round (`lookForLeader`) with our last zxid and current epoch.
    fn start(&mut self, now_ms: u64, last_zxid: Zxid, current_epoch: i64);
    /// A notification from a peer (in every state: a settled server answers lookers).
    fn handle(&mut self, now_ms: u64, from: ServerId, msg: Notification);
    fn handle_timeout(&mut self, now_ms: u64);
    fn poll_timeout(&self) -> Option<u64>;
    fn poll_event(&mut self) -> Option<ElectionEvent>;
    /// `updateElectionVote`: once the new epoch is established.
    fn update_vote_epoch(&mut self, epoch: i64);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElectionEvent {
    Send {
        to: ServerId,
        msg: Notification,
    },
    /// The round is over: follow (or lead, or observe) `leader`.
    Decided {
        leader: ServerId,
        state: ServerState,
    },
}

/// Settings, fixed for the life of the peer.
#[derive(Debug, Clone)]
pub struct PeerOptions {
    pub my_id: ServerId,
    pub observer: bool,
    /// No ensemble: one server, its own log is the quorum.
    pub standalone: bool,
    pub tick_ms: u64,
    pub init_limit: u64,
    pub sync_limit: u64,
    pub quorum: Arc<dyn QuorumCheck>,
    /// The QV string sent in NEWLEADER.
    pub qv_string: String,
    pub qv_version: i64,
    pub leader_serves: bool,
    pub extended_types: bool,
    /// Observers log the txns they are informed of (`syncEnabled`).
    pub sync_enabled: bool,
    /// DIFF a learner behind the committed log from the txn log (`snapshotSizeFactor` ≥ 0).
    pub txnlog_sync: bool,
    /// `readonlymode.enabled`: serve read-only clients while cut off from a quorum.
    pub read_only_mode: bool,
    /// Test-only: always SNAP (`LearnerHandler.forceSnapSync`).
    pub force_snap_sync: bool,
    pub commit_log_count: usize,
    /// Deliberately broken rules, for showing that the simulator's invariants catch them.
    pub bugs: Bugs,
}

/// Test-only switches that break one Zab rule each. All off in production; the simulator
/// turns one on to prove the invariant guarding that rule fires.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bugs {
    /// A follower ACKs a proposal (and NEWLEADER) as soon as it arrives, before it is durable.
    pub ack_before_durable: bool,
    /// A follower applies a proposal to its tree when it arrives, without waiting for COMMIT.
    pub apply_uncommitted: bool,
    /// A leader commits a proposal on its first acknowledgement (its own, usually).
    pub commit_without_quorum: bool,
}

/// The environment variable that turns [`Bugs`] on in a real server process, for the fault
/// harness (compat-tests/faults) to show that its checks catch a broken rule end to end.
pub const TEST_ONLY_BREAK_ENV: &str = "RUZK_TEST_ONLY_BREAK";

impl Bugs {
    /// Parses a comma list of switch names (`ack_before_durable`, `apply_uncommitted`,
    /// `commit_without_quorum`); an unknown name is an error so a typo cannot pass for a fix.
    pub fn parse(list: &str) -> Result<Bugs, String> {
        let mut b = Bugs::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "ack_before_durable" => b.ack_before_durable = true,
                "apply_uncommitted" => b.apply_uncommitted = true,
                "commit_without_quorum" => b.commit_without_quorum = true,
                other => return Err(format!("{TEST_ONLY_BREAK_ENV}: unknown switch {other:?}")),
            }
        }
        Ok(b)
    }
}

impl PeerOptions {
    /// A standalone server: no ensemble, its own log is the quorum.
    pub fn standalone(opts: &server::Options) -> PeerOptions {
        let me = opts.server_id;
        PeerOptions {
            my_id: me,
            observer: false,
            standalone: true,
            tick_ms: opts.tick_ms,
            init_limit: 10,
            sync_limit: 5,
            quorum: Arc::new(Majority::of([me])),
            qv_string: String::new(),
            qv_version: 0,
            leader_serves: true,
            extended_types: opts.prep.extended_types,
            sync_enabled: true,
            txnlog_sync: false,
            read_only_mode: false,
            force_snap_sync: false,
            commit_log_count: 500,
            bugs: Bugs::default(),
        }
    }
}

/// A plain majority of voters (`QuorumMaj`), with observers known but not voting.
#[derive(Debug, Clone, Default)]
pub struct Majority {
    pub voters: BTreeSet<ServerId>,
    pub observers: BTreeSet<ServerId>,
}

impl Majority {
    pub fn of(voters: impl IntoIterator<Item = ServerId>) -> Majority {
        Majority { voters: voters.into_iter().collect(), observers: BTreeSet::new() }
    }
}

impl QuorumCheck for Majority {
    fn contains_quorum(&self, ids: &BTreeSet<ServerId>) -> bool {
        ids.iter().filter(|i| self.voters.contains(i)).count() > self.voters.len() / 2
    }
    fn is_voter(&self, id: ServerId) -> bool {
        self.voters.contains(&id)
    }
    fn knows(&self, id: ServerId) -> bool {
        self.voters.contains(&id) || self.observers.contains(&id)
    }
    fn describe(&self, id: ServerId) -> String {
        format!("server.{id}")
    }
}

/// The election of a standalone server: there is none.
#[derive(Debug, Default)]
pub struct NoElection;

impl Elector for NoElection {
    fn start(&mut self, _now_ms: u64, _last_zxid: Zxid, _current_epoch: i64) {}
    fn handle(&mut self, _now_ms: u64, _from: ServerId, _msg: Notification) {}
    fn handle_timeout(&mut self, _now_ms: u64) {}
    fn poll_timeout(&self) -> Option<u64> {
        None
    }
    fn poll_event(&mut self) -> Option<ElectionEvent> {
        None
    }
    fn update_vote_epoch(&mut self, _epoch: i64) {}
}

impl QuorumCheck for super::verifier::QuorumVerifier {
    fn contains_quorum(&self, ids: &BTreeSet<ServerId>) -> bool {
        super::verifier::QuorumVerifier::contains_quorum(self, ids)
    }
    fn is_voter(&self, id: ServerId) -> bool {
        super::verifier::QuorumVerifier::is_voter(self, id)
    }
    fn knows(&self, id: ServerId) -> bool {
        self.all_members().contains_key(&id.0)
    }
    fn describe(&self, id: ServerId) -> String {
        self.all_members().get(&id.0).map_or_else(String::new, |s| s.to_java_string())
    }
}

impl Elector for super::election::Election {
    fn start(&mut self, now_ms: u64, last_zxid: Zxid, current_epoch: i64) {
        super::election::Election::start(self, now_ms, last_zxid, current_epoch)
    }
    fn handle(&mut self, now_ms: u64, from: ServerId, msg: Notification) {
        super::election::Election::handle(self, now_ms, from, msg)
    }
    fn handle_timeout(&mut self, now_ms: u64) {
        super::election::Election::handle_timeout(self, now_ms)
    }
    fn poll_timeout(&self) -> Option<u64> {
        super::election::Election::poll_timeout(self)
    }
    fn poll_event(&mut self) -> Option<ElectionEvent> {
        use super::election::ElectionOutput;
        self.poll_output().map(|o| match o {
            ElectionOutput::Send { to, notification } => ElectionEvent::Send { to, msg: notification },
            ElectionOutput::Decided { leader, state, .. } => ElectionEvent::Decided { leader, state },
        })
    }
    fn update_vote_epoch(&mut self, epoch: i64) {
        super::election::Election::update_vote_epoch(self, epoch)
    }
}

/// The durable facts the protocol keeps, and how far the log has got.
#[derive(Debug)]
pub struct Store {
    pub accepted_epoch: i64,
    pub current_epoch: i64,
    pub committed: CommittedLog,
    /// Every append up to here is synced.
    pub durable: Zxid,
    /// The last zxid handed to the log.
    pub appended: Zxid,
    /// Where the logged history we can vouch for begins: entries from here on lie on our
    /// current history. Older entries may predate a SNAP that replaced the database (proposals
    /// never committed), so a DIFF must not be served from them (ZOOKEEPER-2846).
    pub history_from: Zxid,
    /// The epoch last written to `currentEpoch.tmp` (see [`Ctx::note_epoch_on_disk`]).
    pub tmp_epoch: i64,
}

/// What a role handler may touch while it runs.
pub struct Ctx<'a> {
    pub now: Now,
    pub opts: &'a PeerOptions,
    pub server: &'a mut Server,
    pub out: &'a mut VecDeque<Output>,
    pub store: &'a mut Store,
    pub election: &'a mut dyn Elector,
    pub election_took_ms: u64,
}

impl Ctx<'_> {
    /// Hands a txn entry to the log.
    pub fn append(&mut self, zxid: Zxid, entry: Bytes) {
        self.note_epoch_on_disk(zxid);
        self.store.appended = self.store.appended.max(zxid);
        self.out.push_back(Output::Append { zxid, entry });
    }

    /// Before state of an epoch newer than `currentEpoch` becomes durable (a learner mid-sync),
    /// `currentEpoch.tmp` records that epoch, so a crash before `currentEpoch` itself is written
    /// leaves a disk that loads (`loadDataBase` takes the tmp file when the log is ahead). The
    /// value is the epoch of what is written, never the epoch being joined: a sync that stops
    /// before reaching its epoch must not make a restart claim it.
    pub fn note_epoch_on_disk(&mut self, zxid: Zxid) {
        let e = zxid.epoch();
        if e > self.store.current_epoch && e > self.store.tmp_epoch {
            self.store.tmp_epoch = e;
            self.out.push_back(Output::WriteEpoch { kind: super::io::EpochKind::CurrentTmp, epoch: e });
        }
    }

    /// Drops the log after `zxid` (and snapshots newer than it).
    pub fn truncate(&mut self, zxid: Zxid) {
        self.store.appended = self.store.appended.min(zxid);
        self.store.durable = self.store.durable.min(zxid);
        self.out.push_back(Output::Truncate { zxid });
    }
}

#[derive(Debug)]
enum Role {
    Standalone,
    Looking,
    Leading(Box<Leader>),
    Following(Box<Learner>),
}

/// One member: see the module documentation.
pub struct Peer {
    opts: PeerOptions,
    server: Server,
    election: Box<dyn Elector>,
    role: Role,
    store: Store,
    out: VecDeque<Output>,
    now: Now,
    looking_since_ms: u64,
    election_took_ms: u64,
    /// Leaving a role with txns logged but not committed: once they are durable they are
    /// applied (Java's `fastForwardDataBase`) and only then does the election start, so
    /// the vote we offer is exactly what our log holds.
    draining: Option<(Zxid, Vec<(TxnEntry, Bytes)>)>,
    /// `readonlymode.enabled`: when a read-only server starts if we are still looking
    /// (Java's grace period, `max(2000, tickTime)`).
    read_only_at: Option<u64>,
    /// Learner connections that arrived while we were still looking, with what they sent.
    held_links: std::collections::BTreeMap<super::io::LinkId, Vec<super::packet::QuorumPacket>>,
}

/// Packets a learner may send before we lead (FOLLOWERINFO, and little else).
const MAX_HELD_PACKETS: usize = 16;

impl Peer {
    /// A peer over a database restored from disk; `replayed` are the raw entries replayed
    /// after the snapshot (the committed log starts from them, as `ZKDatabase` does).
    pub fn new(
        opts: PeerOptions,
        server: Server,
        epochs: (i64, i64),
        replayed: Vec<(Zxid, Bytes)>,
        election: Box<dyn Elector>,
        now: Now,
    ) -> Peer {
        let last = server.tree.last_zxid;
        let mut committed = CommittedLog::new(opts.commit_log_count);
        // The entries replayed after the snapshot are the log we know lies on our history.
        let history_from = replayed.first().map_or(last, |(z, _)| *z);
        for (z, d) in replayed {
            committed.push(z, d);
        }
        let store = Store {
            accepted_epoch: epochs.0,
            current_epoch: epochs.1,
            committed,
            durable: last,
            appended: last,
            history_from,
            tmp_epoch: epochs.1,
        };
        let role = if opts.standalone { Role::Standalone } else { Role::Looking };
        let mut p = Peer {
            opts,
            server,
            election,
            role,
            store,
            out: VecDeque::new(),
            now,
            looking_since_ms: now.mono_ms,
            election_took_ms: 0,
            draining: None,
            read_only_at: None,
            held_links: Default::default(),
        };
        if p.opts.standalone {
            p.server.start_standalone();
        } else {
            p.server.tree.set_config_node(&p.opts.qv_string, p.opts.qv_version, now.wall_ms);
            // No clients until a role is settled: a member that served while looking would
            // prepare txns outside any epoch.
            p.server.stop_serving();
            p.start_looking();
        }
        p
    }

    pub fn server(&self) -> &Server {
        &self.server
    }

    pub fn my_id(&self) -> ServerId {
        self.opts.my_id
    }

    /// The current role as `srvr` names it, with the leader when there is one.
    pub fn state(&self) -> (ServerState, Option<ServerId>) {
        match &self.role {
            Role::Standalone | Role::Looking => (ServerState::Looking, None),
            Role::Leading(_) => (ServerState::Leading, Some(self.opts.my_id)),
            Role::Following(l) if l.is_observer() => (ServerState::Observing, Some(l.leader())),
            Role::Following(l) => (ServerState::Following, Some(l.leader())),
        }
    }

    pub fn is_standalone(&self) -> bool {
        matches!(self.role, Role::Standalone)
    }

    /// Whether clients are being served (a started leader or an up-to-date learner).
    pub fn is_serving(&self) -> bool {
        match &self.role {
            Role::Standalone => true,
            Role::Leading(l) => l.is_started(),
            Role::Following(l) => l.is_serving(),
            Role::Looking => false,
        }
    }

    pub fn epochs(&self) -> (i64, i64) {
        (self.store.accepted_epoch, self.store.current_epoch)
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When `handle_timeout` should next run (monotonic ms).
    pub fn poll_timeout(&self) -> Option<u64> {
        let role = match &self.role {
            Role::Leading(l) => Some(l.poll_timeout()),
            Role::Following(l) => Some(l.poll_timeout()),
            Role::Standalone | Role::Looking => None,
        };
        [self.server.poll_timeout(), self.election.poll_timeout(), role, self.read_only_at].into_iter().flatten().min()
    }

    pub fn handle(&mut self, now: Now, input: Input) {
        self.now = now;
        match input {
            Input::Client(i) => {
                if matches!(i, server::Input::FourLetter { .. }) {
                    self.refresh_role_info();
                }
                self.server.handle(now, i)
            }
            Input::Vote { from, msg } => self.election.handle(now.mono_ms, from, msg),
            Input::LearnerConnected { link } => match &mut self.role {
                Role::Leading(_) => self.with_leader(|l, ctx| {
                    l.on_link(ctx, link);
                    Ok(())
                }),
                // Learners may decide before we do: hold them until we know our own role
                // (Java's port is simply closed until it leads, and learners retry).
                Role::Looking => {
                    self.held_links.insert(link, Vec::new());
                }
                _ => self.out.push_back(Output::CloseLearner { link }),
            },
            Input::FromLearner { link, packet } => {
                if let Some(held) = self.held_links.get_mut(&link) {
                    if held.len() < MAX_HELD_PACKETS {
                        held.push(packet);
                    } else {
                        self.held_links.remove(&link);
                        self.out.push_back(Output::CloseLearner { link });
                    }
                } else {
                    self.with_leader(|l, ctx| l.on_packet(ctx, link, packet))
                }
            }
            Input::LearnerClosed { link } => {
                self.held_links.remove(&link);
                self.with_leader(|l, _| {
                    l.on_link_closed(link);
                    Ok(())
                })
            }
            Input::LeaderConnected => self.with_learner(|l, ctx| {
                l.on_connected(ctx);
                Ok(())
            }),
            Input::FromLeader(p) => self.with_learner(|l, ctx| l.on_packet(ctx, p)),
            Input::LeaderClosed => self.with_learner(|l, ctx| l.on_closed(ctx)),
            Input::Durable { zxid } => self.on_durable(zxid),
            Input::SnapshotWritten { zxid } => self.with_learner(|l, ctx| {
                l.on_snapshot_written(ctx, zxid);
                Ok(())
            }),
            Input::Reloaded { tree, replayed } => self.with_learner(|l, ctx| l.on_reloaded(ctx, *tree, replayed)),
            Input::TakeSnapshot => self.server.handle(now, server::Input::TakeSnapshot),
            Input::LogRead { link, entries } => self.with_leader(|l, ctx| {
                l.on_log_read(ctx, link, entries);
                Ok(())
            }),
        }
        self.after_step();
    }

    pub fn handle_timeout(&mut self, now: Now) {
        self.now = now;
        if self.read_only_at.is_some_and(|at| now.mono_ms >= at) {
            self.read_only_at = None;
            if matches!(self.role, Role::Looking) && self.draining.is_none() {
                self.server.start_read_only(now);
            }
        }
        self.server.handle_timeout(now);
        self.election.handle_timeout(now.mono_ms);
        match &self.role {
            Role::Leading(_) => self.with_leader(|l, ctx| l.on_timeout(ctx)),
            Role::Following(_) => self.with_learner(|l, ctx| l.on_timeout(ctx)),
            _ => {}
        }
        self.after_step();
    }

    fn on_durable(&mut self, zxid: Zxid) {
        self.store.durable = self.store.durable.max(zxid);
        match &self.role {
            Role::Standalone => self.server.handle(self.now, server::Input::Durable { zxid }),
            Role::Leading(_) => self.with_leader(|l, ctx| {
                l.on_durable(ctx, zxid);
                Ok(())
            }),
            Role::Following(_) => self.with_learner(|l, ctx| {
                l.on_durable(ctx);
                Ok(())
            }),
            Role::Looking => {}
        }
        if self.draining.as_ref().is_some_and(|(z, _)| self.store.durable >= *z) {
            self.finish_draining();
        }
    }

    fn with_leader(&mut self, f: impl FnOnce(&mut Leader, &mut Ctx<'_>) -> Result<(), Abdicate>) {
        let Role::Leading(l) = &mut self.role else { return };
        let mut ctx = Ctx {
            now: self.now,
            opts: &self.opts,
            server: &mut self.server,
            out: &mut self.out,
            store: &mut self.store,
            election: self.election.as_mut(),
            election_took_ms: self.election_took_ms,
        };
        if let Err(Abdicate(why)) = f(l, &mut ctx) {
            tracing::info!("Shutting down leader: {why}");
            self.leave_role();
        }
    }

    fn with_learner(&mut self, f: impl FnOnce(&mut Learner, &mut Ctx<'_>) -> Result<(), Quit>) {
        let Role::Following(l) = &mut self.role else { return };
        let mut ctx = Ctx {
            now: self.now,
            opts: &self.opts,
            server: &mut self.server,
            out: &mut self.out,
            store: &mut self.store,
            election: self.election.as_mut(),
            election_took_ms: self.election_took_ms,
        };
        if let Err(Quit(why)) = f(l, &mut ctx) {
            tracing::warn!("Exception when following the leader: {why}");
            self.leave_role();
        }
    }

    /// Routes what the server core and the election produced, until both are quiet.
    fn after_step(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(o) = self.server.poll_output() {
                progressed = true;
                self.route_server_output(o);
            }
            while let Some(e) = self.election.poll_event() {
                progressed = true;
                match e {
                    ElectionEvent::Send { to, msg } => self.out.push_back(Output::Vote { to, msg }),
                    ElectionEvent::Decided { leader, state } => self.decided(leader, state),
                }
            }
            if !progressed {
                break;
            }
        }
    }

    fn route_server_output(&mut self, o: server::Output) {
        match o {
            server::Output::Send { conn, bytes } => self.out.push_back(Output::ClientSend { conn, bytes }),
            server::Output::Close { conn } => self.out.push_back(Output::ClientClose { conn }),
            server::Output::Snapshot { zxid, image } => {
                self.out.push_back(Output::Snapshot { zxid, image, notify: false })
            }
            server::Output::Append { zxid, entry } => {
                self.store.appended = self.store.appended.max(zxid);
                self.out.push_back(Output::Append { zxid, entry: entry.clone() });
                self.with_leader(|l, ctx| {
                    l.propose(ctx, zxid, entry);
                    Ok(())
                });
            }
            server::Output::Forward { session, cxid, op, body, auth } => {
                self.with_learner(|l, ctx| {
                    l.forward(ctx, session, cxid, op, &body, auth);
                    Ok(())
                });
            }
            server::Output::Revalidate { session, timeout } => {
                self.with_learner(|l, ctx| {
                    l.revalidate(ctx, session, timeout);
                    Ok(())
                });
            }
        }
    }

    fn decided(&mut self, leader: ServerId, state: ServerState) {
        if !matches!(self.role, Role::Looking) || self.draining.is_some() {
            return;
        }
        self.election_took_ms = self.now.mono_ms.saturating_sub(self.looking_since_ms);
        // A read-only server stops when a role is settled (its clients reconnect to a full one).
        self.read_only_at = None;
        if self.server.pipeline() == server::Pipeline::ReadOnly {
            self.server.stop_serving();
        }
        let mut ctx = Ctx {
            now: self.now,
            opts: &self.opts,
            server: &mut self.server,
            out: &mut self.out,
            store: &mut self.store,
            election: self.election.as_mut(),
            election_took_ms: self.election_took_ms,
        };
        self.role = match state {
            ServerState::Leading => Role::Leading(Box::new(Leader::new(&mut ctx))),
            ServerState::Following => Role::Following(Box::new(Learner::new(&mut ctx, leader, false))),
            ServerState::Observing => Role::Following(Box::new(Learner::new(&mut ctx, leader, true))),
            ServerState::Looking => Role::Looking,
        };
        let held = std::mem::take(&mut self.held_links);
        for (link, packets) in held {
            if matches!(self.role, Role::Leading(_)) {
                self.with_leader(|l, ctx| {
                    l.on_link(ctx, link);
                    for p in packets {
                        l.on_packet(ctx, link, p)?;
                    }
                    Ok(())
                });
            } else {
                self.out.push_back(Output::CloseLearner { link });
            }
        }
    }

    /// Ends the current role: connections dropped, clients disconnected, and the txns we
    /// logged but never saw committed applied once durable, then a new election.
    fn leave_role(&mut self) {
        let role = std::mem::replace(&mut self.role, Role::Looking);
        let mut pending: Vec<(TxnEntry, Bytes)> = Vec::new();
        match role {
            Role::Leading(mut l) => {
                let mut ctx = Ctx {
                    now: self.now,
                    opts: &self.opts,
                    server: &mut self.server,
                    out: &mut self.out,
                    store: &mut self.store,
                    election: self.election.as_mut(),
                    election_took_ms: self.election_took_ms,
                };
                l.shutdown(&mut ctx);
                for (_, data) in l.take_outstanding() {
                    match TxnEntry::decode(&data) {
                        Ok(e) => pending.push((e, data)),
                        Err(e) => tracing::error!("outstanding proposal does not decode: {e}"),
                    }
                }
            }
            Role::Following(mut l) => {
                self.out.push_back(Output::CloseLeader);
                pending = l.take_pending();
            }
            Role::Standalone | Role::Looking => {}
        }
        self.server.stop_serving();
        // The server's own queue may hold writes it prepared and logged as leader.
        let last = pending.last().map(|(e, _)| Zxid(e.header.zxid));
        match last {
            Some(z) if z > self.store.durable => self.draining = Some((z, pending)),
            _ => {
                self.draining = Some((Zxid::NONE, pending));
                self.finish_draining();
            }
        }
    }

    fn finish_draining(&mut self) {
        let Some((_, pending)) = self.draining.take() else { return };
        for (entry, data) in pending {
            let zxid = Zxid(entry.header.zxid);
            if zxid <= self.server.tree.last_zxid {
                continue;
            }
            self.server.apply_committed(entry);
            self.store.committed.push(zxid, data);
        }
        self.start_looking();
    }

    /// What `srvr`, `stat` and `mntr` report about our role (`ServerStats` state,
    /// `getDetailedPeerState`, the leader's gauges).
    fn refresh_role_info(&mut self) {
        let now = self.now.mono_ms;
        let info = match &self.role {
            Role::Standalone => return,
            Role::Looking if self.server.pipeline() == server::Pipeline::ReadOnly => server::RoleInfo {
                server_state: "read-only".into(),
                peer_state: Some("looking - election".into()),
                ..Default::default()
            },
            Role::Looking => server::RoleInfo {
                server_state: "looking".into(),
                peer_state: Some("looking - election".into()),
                ..Default::default()
            },
            Role::Leading(l) => server::RoleInfo {
                server_state: "leader".into(),
                peer_state: Some(format!("leading - {}", l.zab_state())),
                leader: Some(l.stats(now)),
                synced_observers: Some(l.synced_observers() as i64),
            },
            Role::Following(l) => {
                let (state, peer) = if l.is_observer() { ("observer", "observing") } else { ("follower", "following") };
                server::RoleInfo {
                    server_state: state.into(),
                    peer_state: Some(format!("{peer} - {}", l.zab_state())),
                    ..Default::default()
                }
            }
        };
        self.server.role = info;
    }

    fn start_looking(&mut self) {
        self.role = Role::Looking;
        self.looking_since_ms = self.now.mono_ms;
        if self.opts.read_only_mode {
            self.read_only_at = Some(self.now.mono_ms + self.opts.tick_ms.max(2000));
        }
        let last = self.server.tree.last_zxid;
        tracing::info!(
            "LOOKING: my id = {}, my last zxid = 0x{:x}, current epoch = {}",
            self.opts.my_id,
            last.0,
            self.store.current_epoch
        );
        self.election.start(self.now.mono_ms, last, self.store.current_epoch);
    }
}

#[cfg(test)]
mod bugs_env_tests {
    use super::Bugs;

    #[test]
    fn parses_switch_lists_and_refuses_unknown_names() {
        assert_eq!(Bugs::parse(""), Ok(Bugs::default()));
        assert_eq!(
            Bugs::parse("commit_without_quorum, apply_uncommitted"),
            Ok(Bugs { ack_before_durable: false, apply_uncommitted: true, commit_without_quorum: true })
        );
        assert_eq!(
            Bugs::parse("commit_without_quorom"),
            Err("RUZK_TEST_ONLY_BREAK: unknown switch \"commit_without_quorom\"".to_string())
        );
    }
}
