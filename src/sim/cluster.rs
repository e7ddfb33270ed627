//! The simulated ensemble: members (a real [`Peer`] over a real `Server` and `DataTree`
//! each, a [`SimDisk`]), the network between them, the clients, and the event loop that
//! moves everything forward in virtual time.
//!
//! One event runs at a time, in `(time, sequence)` order. An event delivers one input to
//! one member (or one client); the member's outputs are executed at once, in order, the
//! way `runtime::core` executes them: bytes into streams, appends and snapshots onto the
//! disk (their completion scheduled after a drawn latency), epoch files written before the
//! next output. Then the member's next timer is scheduled and what it now shows (role,
//! tree) is checked. Nothing here reads a clock or a random source other than the seed.
//!
//! Indexing into `members`/`clients` uses indexes the simulator made itself; the only
//! outside bytes (server replies) are decoded in `client.rs`, which denies indexing.

use super::client::{Client, Role as ClientRole};
use super::disk::SimDisk;
use super::faults::Faults;
use super::ghost::Ghost;
use super::history::{inv, History, Violation};
use super::net::{Msg, Partitions, Streams, VoteChannel};
use super::oracle::Oracle;
use super::queue::EventQueue;
use super::rng::Rng;
use super::storage::DiskOp;
use super::trace::Trace;
use super::workload::Mix;
use crate::quorum::election::{Notification, ServerState};
use crate::quorum::io::{EpochKind, Input, Output};
use crate::quorum::packet::QuorumPacket;
use crate::quorum::peer::{Bugs, Majority, Peer};
use crate::server::{self, Now};
use crate::sim_trace;
use crate::types::{ServerId, Zxid};
use bytes::Bytes;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// Virtual time 0 on the members' wall clocks (2023-11-14), so txn times look real.
const WALL_EPOCH_MS: i64 = 1_700_000_000_000;

/// Latencies, drawn per message or per disk operation.
#[derive(Clone, Debug)]
pub struct Timing {
    pub net_min_ms: u64,
    pub net_max_ms: u64,
    pub fsync_min_ms: u64,
    pub fsync_max_ms: u64,
    pub snapshot_min_ms: u64,
    pub snapshot_max_ms: u64,
    pub election_min_ms: u64,
    pub election_max_ms: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            net_min_ms: 1,
            net_max_ms: 8,
            fsync_min_ms: 1,
            fsync_max_ms: 15,
            snapshot_min_ms: 5,
            snapshot_max_ms: 60,
            election_min_ms: 200,
            election_max_ms: 600,
        }
    }
}

/// Everything that shapes one run; a pure function of the seed unless a test overrides it.
#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    pub voters: usize,
    pub observers: usize,
    pub clients: usize,
    pub tick_ms: u64,
    pub init_limit: u64,
    pub sync_limit: u64,
    pub timing: Timing,
    pub faults: Faults,
    pub bugs: Bugs,
    pub keep_trace: bool,
    pub commit_log_count: usize,
    /// Entries between snapshots (`snapCount`, randomised around it like Java's roll).
    pub snap_count: u64,
    pub force_snap_sync: bool,
    pub mix: Mix,
    pub stop_on_violation: bool,
    /// Invariants not checked (to show what else catches a bug), by name.
    pub disabled: BTreeSet<&'static str>,
    pub election: ElectionKind,
}

/// Who elects leaders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElectionKind {
    /// The real `FastLeaderElection` over the simulated election channels.
    Fle,
    /// The [`Oracle`]: FLE's outcome without its messages, steerable by scripts.
    Oracle,
}

impl Config {
    /// A run of `members` voters, the knobs drawn from the seed so different seeds also
    /// explore different configurations (committed-log sizes that force SNAP, frequent
    /// snapshots, forced SNAP sync).
    pub fn new(seed: u64, members: usize) -> Config {
        let mut r = Rng::new(seed).fork("config");
        let commit_log_count = *r.pick(&[2usize, 5, 20, 500]).unwrap_or(&500);
        let snap_count = *r.pick(&[10u64, 50, 200, 10_000]).unwrap_or(&10_000);
        Config {
            seed,
            voters: members.max(1),
            observers: 0,
            clients: 4,
            tick_ms: 200,
            init_limit: 10,
            sync_limit: 5,
            timing: Timing::default(),
            faults: Faults::all(),
            bugs: Bugs::default(),
            keep_trace: false,
            commit_log_count,
            snap_count,
            force_snap_sync: r.chance(100),
            mix: Mix::default(),
            stop_on_violation: true,
            disabled: BTreeSet::new(),
            election: ElectionKind::Fle,
        }
    }
}

/// What the simulator last saw of a member, to notice changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub state: ServerState,
    pub leader: Option<ServerId>,
    pub serving: bool,
    pub zxid: Zxid,
    pub digest: u64,
}

impl Default for Seen {
    fn default() -> Self {
        Seen { state: ServerState::Looking, leader: None, serving: false, zxid: Zxid::NONE, digest: 0 }
    }
}

/// One ensemble member: its process (when up) and its disk (always).
pub struct Member {
    pub sid: ServerId,
    pub voter: bool,
    pub peer: Option<Peer>,
    /// Bumped at every crash, so nothing meant for a previous life is delivered.
    pub inc: u64,
    pub paused: bool,
    /// Inputs that arrived while paused, delivered in order on resume.
    pub(super) inbox: VecDeque<Input>,
    pub disk: SimDisk,
    pub(super) timer_at: Option<u64>,
    pub(super) skew_ms: i64,
    /// Learner side: the current leader connection.
    pub(super) link: Option<u64>,
    pub seen: Seen,
    /// The tree's last zxid when this member last became leader (its epoch's base).
    pub(super) leading_base: Option<Zxid>,
    pub(super) appends_since_snapshot: u64,
    pub(super) snapshot_threshold: u64,
    /// Fsyncs take this much longer until then (a slow disk).
    pub(super) slow_disk: Option<(u64, u64)>,
    pub(super) last_timer_ms: u64,
    pub(super) spins: u32,
    /// The disk thread is blocked (a synced snapshot or a reload in progress) ...
    pub(super) disk_busy: bool,
    /// ... and these requests wait for it, in order.
    pub(super) disk_backlog: VecDeque<DiskOp>,
}

impl Member {
    pub fn is_up(&self) -> bool {
        self.peer.is_some()
    }

    /// Up and not paused: it reacts now.
    pub fn is_live(&self) -> bool {
        self.peer.is_some() && !self.paused
    }
}

#[derive(Debug)]
pub(super) enum Event {
    Timer {
        m: usize,
        inc: u64,
    },
    Deliver {
        m: usize,
        inc: u64,
        input: Input,
    },
    Fsync {
        m: usize,
        inc: u64,
        upto: u64,
    },
    SnapshotSynced {
        m: usize,
        inc: u64,
        generation: u64,
    },
    /// A blocking storage request (a reload) finished.
    DiskDone {
        m: usize,
        inc: u64,
        input: Input,
    },
    Link {
        id: u64,
        dir: usize,
    },
    Conn {
        id: u64,
        dir: usize,
    },
    Vote {
        from: usize,
        to: usize,
    },
    ClientTick {
        c: usize,
    },
    ClientRefused {
        c: usize,
    },
    Fault,
    Restart {
        m: usize,
    },
    Resume {
        m: usize,
        inc: u64,
    },
    Heal {
        generation: u64,
    },
}

/// Counters for the end-of-run report.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub events: u64,
    pub crashes: u64,
    pub restarts: u64,
    pub partitions: u64,
    pub pauses: u64,
    pub breaks: u64,
    pub votes_dropped: u64,
    pub slow_disks: u64,
    pub epochs: u64,
    pub packets: u64,
}

/// A link packet as it was sent, for scripted scenarios to wait on.
#[derive(Clone, Debug)]
pub struct Sent {
    pub at_ms: u64,
    pub from: usize,
    pub to: usize,
    pub type_: i32,
    pub zxid: Zxid,
}

pub struct Sim {
    pub cfg: Config,
    pub now: u64,
    pub(super) queue: EventQueue<Event>,
    pub members: Vec<Member>,
    pub clients: Vec<Client>,
    pub(super) links: Streams<QuorumPacket>,
    pub(super) conns: Streams<Bytes>,
    pub(super) votes: BTreeMap<(usize, usize), VoteChannel<Notification>>,
    pub partitions: Partitions,
    pub(super) partition_generation: u64,
    pub oracle: Oracle,
    pub ghost: Ghost,
    pub history: History,
    pub trace: Trace,
    pub(super) rng_net: Rng,
    pub(super) rng_disk: Rng,
    pub(super) rng_fault: Rng,
    pub(super) rng_elect: Rng,
    pub(super) quorum: Arc<Majority>,
    pub(super) client_wake: Vec<Option<u64>>,
    /// Random faults are being injected.
    pub faults_on: bool,
    pub stats: Stats,
    pub violations: Vec<Violation>,
    /// Acknowledged writes by zxid (indexes into `history.acked`), for re-checks.
    pub(super) acked_by_zxid: BTreeMap<Zxid, usize>,
    /// Link packets sent, kept for scripted scenarios (empty unless `record_packets`).
    pub sent: Vec<Sent>,
    /// Link packets handed to their receiver, likewise.
    pub delivered: Vec<Sent>,
    /// Log entries truncations dropped: (member, zxid) → when (for classifying failures).
    pub truncated: BTreeMap<(usize, Zxid), u64>,
    /// Known-bug evidence seen so far (when, which bug), for classifying failures.
    pub evidence: Vec<(u64, &'static str)>,
    pub record_packets: bool,
    /// Election messages are dropped with this probability (per mille).
    pub vote_drop_per_mille: u32,
}

impl Sim {
    pub fn new(cfg: Config) -> Sim {
        let root = Rng::new(cfg.seed);
        let n = cfg.voters + cfg.observers;
        let sids: Vec<ServerId> = (1..=n as i64).map(ServerId).collect();
        let mut quorum = Majority::of(sids.iter().copied().take(cfg.voters));
        quorum.observers = sids.iter().copied().skip(cfg.voters).collect();
        let mut rng_disk = root.fork("disk");
        let members = sids
            .iter()
            .enumerate()
            .map(|(i, sid)| Member {
                sid: *sid,
                voter: i < cfg.voters,
                peer: None,
                inc: 0,
                paused: false,
                inbox: VecDeque::new(),
                disk: SimDisk::new(),
                timer_at: None,
                skew_ms: rng_disk.range(0, 2000) as i64 - 1000,
                link: None,
                seen: Seen::default(),
                leading_base: None,
                appends_since_snapshot: 0,
                snapshot_threshold: cfg.snap_count / 2 + rng_disk.below(cfg.snap_count / 2 + 1),
                slow_disk: None,
                last_timer_ms: 0,
                spins: 0,
                disk_busy: false,
                disk_backlog: VecDeque::new(),
            })
            .collect();
        let clients = (0..cfg.clients)
            .map(|i| Client::new(i, ClientRole::Worker, n, cfg.mix, root.fork(&format!("client{i}"))))
            .chain(std::iter::once(Client::new(cfg.clients, ClientRole::Probe, n, cfg.mix, root.fork("probe"))))
            .collect::<Vec<_>>();
        let client_wake = vec![None; clients.len()];
        let mut sim = Sim {
            now: 0,
            queue: EventQueue::default(),
            members,
            clients,
            links: Streams::default(),
            conns: Streams::default(),
            votes: BTreeMap::new(),
            partitions: Partitions::default(),
            partition_generation: 0,
            oracle: Oracle::new(n),
            ghost: Ghost::new(),
            history: History::default(),
            trace: Trace::new(cfg.keep_trace, 400),
            rng_net: root.fork("net"),
            rng_disk,
            rng_fault: root.fork("fault"),
            rng_elect: root.fork("elect"),
            quorum: Arc::new(quorum),
            client_wake,
            faults_on: false,
            stats: Stats::default(),
            violations: Vec::new(),
            acked_by_zxid: BTreeMap::new(),
            sent: Vec::new(),
            delivered: Vec::new(),
            truncated: BTreeMap::new(),
            evidence: Vec::new(),
            record_packets: false,
            vote_drop_per_mille: 0,
            cfg,
        };
        sim_trace!(
            sim.trace,
            0,
            "sim seed={} voters={} observers={} clients={} commitLogCount={} snapCount={} forceSnapSync={} \
             election={:?} bugs={:?} (members are named m0..m{}, m<i> is server.<i+1>)",
            sim.cfg.seed,
            sim.cfg.voters,
            sim.cfg.observers,
            sim.cfg.clients,
            sim.cfg.commit_log_count,
            sim.cfg.snap_count,
            sim.cfg.force_snap_sync,
            sim.cfg.election,
            sim.cfg.bugs,
            n - 1
        );
        for m in 0..n {
            sim.start_member(m);
        }
        for c in 0..sim.clients.len() {
            sim.wake_client(c, 0);
        }
        sim
    }

    pub fn quorum_size(&self) -> usize {
        self.cfg.voters / 2 + 1
    }

    pub(super) fn now_for(&self, m: usize) -> Now {
        Now { mono_ms: self.now, wall_ms: WALL_EPOCH_MS + self.now as i64 + self.members[m].skew_ms }
    }

    pub(super) fn schedule(&mut self, at: u64, e: Event) {
        self.queue.push(at.max(self.now), e);
    }

    pub(super) fn net_delay(&mut self) -> u64 {
        let t = &self.cfg.timing;
        let (lo, hi) = (t.net_min_ms, t.net_max_ms);
        self.rng_net.latency(lo, hi)
    }

    pub(super) fn index_of(&self, sid: ServerId) -> Option<usize> {
        self.members.iter().position(|m| m.sid == sid)
    }

    pub(super) fn violate(&mut self, v: Violation) {
        if self.cfg.disabled.contains(v.invariant) {
            return;
        }
        sim_trace!(self.trace, self.now, "VIOLATION {v}");
        self.violations.push(v);
    }

    pub fn failed(&self) -> bool {
        !self.violations.is_empty() || self.history.violations.iter().any(|v| !self.cfg.disabled.contains(v.invariant))
    }

    /// Every violation found so far, client-side ones included, oldest first.
    pub fn all_violations(&self) -> Vec<Violation> {
        let client = self.history.violations.iter().filter(|v| !self.cfg.disabled.contains(v.invariant));
        let mut v: Vec<Violation> = self.violations.iter().chain(client).cloned().collect();
        v.sort_by_key(|v| v.at_ms);
        v
    }

    // ------------------------------------------------------------------ the loop

    /// Runs one event. False when nothing is left to run.
    pub fn step(&mut self) -> bool {
        let Some((t, e)) = self.queue.pop() else { return false };
        self.now = t;
        self.stats.events += 1;
        self.handle_event(e);
        self.after_event();
        true
    }

    /// Runs until `done` holds or virtual time passes `deadline_ms`; true if `done` held.
    /// Stops early on a violation when the config says so.
    pub fn run_until(&mut self, deadline_ms: u64, mut done: impl FnMut(&Sim) -> bool) -> bool {
        loop {
            if done(self) {
                return true;
            }
            if self.cfg.stop_on_violation && self.failed() {
                return false;
            }
            match self.queue.peek_time() {
                Some(t) if t <= deadline_ms => {
                    self.step();
                }
                _ => {
                    self.now = self.now.max(deadline_ms);
                    return done(self);
                }
            }
        }
    }

    /// Runs for `ms` of virtual time.
    pub fn run_for(&mut self, ms: u64) {
        let until = self.now + ms;
        self.run_until(until, |_| false);
    }

    fn handle_event(&mut self, e: Event) {
        match e {
            Event::Timer { m, inc } => self.on_timer(m, inc),
            Event::Deliver { m, inc, input } => {
                if self.members[m].inc == inc {
                    self.deliver(m, input);
                }
            }
            Event::Fsync { m, inc, upto } => self.on_fsync(m, inc, upto),
            Event::SnapshotSynced { m, inc, generation } => self.on_snapshot_synced(m, inc, generation),
            Event::DiskDone { m, inc, input } => self.on_disk_done(m, inc, input),
            Event::Link { id, dir } => self.on_link_event(id, dir),
            Event::Conn { id, dir } => self.on_conn_event(id, dir),
            Event::Vote { from, to } => self.on_vote_event(from, to),
            Event::ClientTick { c } => {
                if self.client_wake[c] == Some(self.now) {
                    self.client_wake[c] = None;
                    self.clients[c].tick(self.now, &mut self.trace, &mut self.history);
                    self.after_client(c);
                }
            }
            Event::ClientRefused { c } => {
                self.clients[c].on_closed(self.now, None, &mut self.trace, &mut self.history);
                self.after_client(c);
            }
            Event::Fault => self.random_fault(),
            Event::Restart { m } => self.restart(m),
            Event::Resume { m, inc } => {
                if self.members[m].inc == inc {
                    self.resume(m);
                }
            }
            Event::Heal { generation } => {
                if generation == self.partition_generation {
                    self.heal();
                }
            }
        }
    }

    /// After every event: elections, then the checks over what changed.
    fn after_event(&mut self) {
        self.run_oracle();
        self.check_new_acks();
    }

    // ------------------------------------------------------------------ members

    /// Hands one input to a member (queued while paused, dropped while down).
    pub(super) fn deliver(&mut self, m: usize, input: Input) {
        let now = self.now_for(m);
        let member = &mut self.members[m];
        if member.paused {
            member.inbox.push_back(input);
            return;
        }
        let Some(peer) = member.peer.as_mut() else { return };
        peer.handle(now, input);
        self.drive(m);
    }

    fn on_timer(&mut self, m: usize, inc: u64) {
        let now = self.now;
        let member = &mut self.members[m];
        if member.inc != inc || member.timer_at != Some(now) || !member.is_live() {
            return;
        }
        member.timer_at = None;
        if member.last_timer_ms == now {
            member.spins += 1;
        } else {
            member.spins = 0;
            member.last_timer_ms = now;
        }
        let spins = member.spins;
        let t = self.now_for(m);
        if let Some(p) = self.members[m].peer.as_mut() {
            p.handle_timeout(t);
        }
        if spins == 1000 {
            self.violate(Violation {
                invariant: inv::SIM_STALL,
                at_ms: now,
                detail: format!("m{m} asked for its timer at {now} ms a thousand times without time passing"),
            });
        }
        self.drive(m);
    }

    /// Executes a member's outputs, schedules its next timer and looks at what changed.
    pub(super) fn drive(&mut self, m: usize) {
        loop {
            let Some(peer) = self.members[m].peer.as_mut() else { return };
            let outs: Vec<Output> = std::iter::from_fn(|| peer.poll_output()).collect();
            if outs.is_empty() {
                break;
            }
            for o in outs {
                self.execute(m, o);
            }
        }
        self.schedule_timer(m);
        self.observe(m);
    }

    pub(super) fn schedule_timer(&mut self, m: usize) {
        let now = self.now;
        let member = &mut self.members[m];
        let Some(peer) = member.peer.as_ref() else {
            member.timer_at = None;
            return;
        };
        match peer.poll_timeout() {
            Some(t) => {
                // A timer that keeps asking for "now" is given 1 ms, so virtual time moves.
                let at = if member.spins >= 1000 { t.max(now + 1) } else { t.max(now) };
                if member.timer_at != Some(at) {
                    member.timer_at = Some(at);
                    let inc = member.inc;
                    self.schedule(at, Event::Timer { m, inc });
                }
            }
            None => member.timer_at = None,
        }
    }

    fn execute(&mut self, m: usize, o: Output) {
        match o {
            Output::ClientSend { conn, bytes } => self.conn_send(conn, 1, Msg::Data(bytes)),
            Output::ClientClose { conn } => {
                if let Some(s) = self.conns.get_mut(conn) {
                    if s.is_open(1) {
                        s.close_end(1);
                        self.conn_send(conn, 1, Msg::Fin);
                    }
                }
                // The runtime reports the socket gone once it closed it.
                let inc = self.members[m].inc;
                let now = self.now;
                self.schedule(now, Event::Deliver { m, inc, input: Input::Client(server::Input::Closed { conn }) });
            }
            Output::Vote { to, msg } => {
                if let Some(t) = self.index_of(to) {
                    self.votes.entry((m, t)).or_default().offer(msg);
                    self.pump_votes(m, t);
                }
            }
            Output::ConnectLeader { leader } => self.connect_leader(m, leader),
            Output::ToLeader(p) => {
                if let Some(id) = self.members[m].link {
                    self.link_send(id, 0, p);
                }
            }
            Output::CloseLeader => {
                if let Some(id) = self.members[m].link.take() {
                    self.close_link_end(id, 0);
                }
            }
            Output::ToLearner { link, packet } => self.link_send(link, 1, packet),
            Output::CloseLearner { link } => self.close_link_end(link, 1),
            Output::Append { zxid, entry } => {
                if let Some(v) = self.ghost.record_append(m, zxid, &entry, self.now) {
                    self.violate(v);
                }
                self.storage(m, DiskOp::Append(zxid, entry));
            }
            Output::Truncate { zxid } => self.storage(m, DiskOp::Truncate(zxid)),
            Output::Reload => self.storage(m, DiskOp::Reload),
            Output::ReadLog { link, from, upto } => self.storage(m, DiskOp::ReadLog { link, from, upto }),
            Output::Snapshot { zxid, image, notify } => self.storage(m, DiskOp::Snapshot(zxid, image, notify)),
            Output::WriteEpoch { kind, epoch } => {
                let disk = &mut self.members[m].disk;
                match kind {
                    EpochKind::Accepted => disk.write_accepted_epoch(epoch),
                    EpochKind::Current => disk.write_current_epoch(epoch),
                    EpochKind::CurrentTmp => disk.write_current_epoch_tmp(epoch),
                }
                sim_trace!(self.trace, self.now, "m{m} writes {kind:?} epoch {epoch}");
            }
        }
    }

    pub(super) fn append(&mut self, m: usize, zxid: Zxid, entry: Bytes) {
        sim_trace!(self.trace, self.now, "m{m} log + {zxid}");
        let start = self.members[m].disk.append(zxid, entry);
        if start {
            self.start_fsync(m);
        }
        self.members[m].appends_since_snapshot += 1;
    }

    fn start_fsync(&mut self, m: usize) {
        let Some(upto) = self.members[m].disk.begin_fsync() else { return };
        let t = &self.cfg.timing;
        let (lo, hi) = (t.fsync_min_ms, t.fsync_max_ms);
        let mut d = self.rng_disk.latency(lo, hi);
        if let Some((until, extra)) = self.members[m].slow_disk {
            if self.now < until {
                d += extra;
            }
        }
        let inc = self.members[m].inc;
        let at = self.now + d;
        self.schedule(at, Event::Fsync { m, inc, upto });
    }

    fn on_fsync(&mut self, m: usize, inc: u64, upto: u64) {
        if self.members[m].inc != inc {
            return;
        }
        let synced = self.members[m].disk.end_fsync(upto);
        if let Some(zxid) = synced {
            self.deliver(m, Input::Durable { zxid });
        }
        // As the runtime's disk thread does: after a sync, past `snapCount/2 + rand(snapCount/2)`
        // appends, roll the log and ask for a snapshot.
        let member = &mut self.members[m];
        if member.inc == inc && member.appends_since_snapshot >= member.snapshot_threshold.max(2) {
            member.appends_since_snapshot = 0;
            let half = self.cfg.snap_count / 2;
            member.snapshot_threshold = half + self.rng_disk.below(half + 1);
            self.deliver(m, Input::TakeSnapshot);
        }
        if self.members[m].inc == inc && self.members[m].is_up() {
            self.start_fsync(m);
        }
    }
}
