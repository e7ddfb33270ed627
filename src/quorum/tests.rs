//! Zab end to end in one thread: a handful of [`Peer`]s wired by a tiny in-order network
//! and in-memory disks, with the leader chosen by the test (an oracle in place of FLE).
//! These are scenario tests with exact expectations (who syncs how, what is durable when);
//! the randomized search over faults is the simulator's job (`src/sim`).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::election::{Notification, ServerState};
use super::io::{Input, LinkId, Output};
use super::packet::kind;
use super::peer::{Bugs, ElectionEvent, Elector, Majority, Peer, PeerOptions};
use crate::jute::records::*;
use crate::jute::txn::TxnEntry;
use crate::jute::Jute;
use crate::server::{self, Now, Options, Server};
use crate::tree::DataTree;
use crate::types::{ServerId, Zxid};
use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

/// The test decides elections: each peer's elector reports what the oracle says.
#[derive(Debug, Default)]
struct Oracle {
    decided: BTreeMap<ServerId, Option<ServerId>>,
}

#[derive(Debug)]
struct OracleElector {
    me: ServerId,
    observer: bool,
    oracle: Arc<Mutex<Oracle>>,
    looking: bool,
}

impl Elector for OracleElector {
    fn start(&mut self, _: u64, _: Zxid, _: i64) {
        self.looking = true;
        self.oracle.lock().unwrap().decided.insert(self.me, None);
    }
    fn handle(&mut self, _: u64, _: ServerId, _: Notification) {}
    fn handle_timeout(&mut self, _: u64) {}
    fn poll_timeout(&self) -> Option<u64> {
        None
    }
    fn poll_event(&mut self) -> Option<ElectionEvent> {
        if !self.looking {
            return None;
        }
        let leader = self.oracle.lock().unwrap().decided.get(&self.me).copied().flatten()?;
        self.looking = false;
        let state = if leader == self.me {
            ServerState::Leading
        } else if self.observer {
            ServerState::Observing
        } else {
            ServerState::Following
        };
        Some(ElectionEvent::Decided { leader, state })
    }
    fn update_vote_epoch(&mut self, _: i64) {}
}

/// A disk that keeps what was synced and loses the rest on a crash.
#[derive(Debug, Default, Clone)]
struct MemDisk {
    log: Vec<(Zxid, Bytes)>,
    synced: usize,
    snapshots: BTreeMap<Zxid, DataTree>,
    epochs: (i64, i64),
}

impl MemDisk {
    fn restore(&self, ext: bool) -> (DataTree, Vec<(Zxid, Bytes)>) {
        let (mut tree, from) = match self.snapshots.iter().next_back() {
            Some((z, t)) => (t.clone(), *z),
            None => (DataTree::new(ext), Zxid(0)),
        };
        let mut replayed = Vec::new();
        for (z, e) in &self.log {
            if *z > from {
                let entry = TxnEntry::decode(e).unwrap();
                tree.apply(&entry.header, &entry.txn);
                tree.last_zxid = *z;
                replayed.push((*z, e.clone()));
            }
        }
        (tree, replayed)
    }
}

struct Member {
    peer: Option<Peer>,
    disk: MemDisk,
    observer: bool,
    /// Appends waiting for the next sync (the test decides when disks sync).
    hold_sync: bool,
}

struct Cluster {
    now: u64,
    members: BTreeMap<ServerId, Member>,
    oracle: Arc<Mutex<Oracle>>,
    voters: Vec<ServerId>,
    observers: Vec<ServerId>,
    commit_log: usize,
    /// link → (leader, learner)
    links: BTreeMap<LinkId, (ServerId, ServerId)>,
    /// learner → its link
    learner_link: BTreeMap<ServerId, LinkId>,
    next_link: LinkId,
    /// Messages in flight, delivered in order.
    wire: VecDeque<(ServerId, Input)>,
    /// Partitioned: no link can form or carry packets between a cut member and others.
    cut: Vec<ServerId>,
    /// Every packet type seen per (from, to), for assertions.
    seen: Vec<(ServerId, ServerId, i32, Zxid)>,
    clients: BTreeMap<u64, (ServerId, VecDeque<Bytes>)>,
}

fn now(ms: u64) -> Now {
    Now { mono_ms: ms, wall_ms: 1_800_000_000_000 + ms as i64 }
}

impl Cluster {
    fn new(voters: &[i64], observers: &[i64], commit_log: usize) -> Cluster {
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("info").try_init();
        let mut c = Cluster {
            now: 1000,
            members: BTreeMap::new(),
            oracle: Arc::new(Mutex::new(Oracle::default())),
            voters: voters.iter().map(|v| ServerId(*v)).collect(),
            observers: observers.iter().map(|v| ServerId(*v)).collect(),
            commit_log,
            links: BTreeMap::new(),
            learner_link: BTreeMap::new(),
            next_link: 1,
            wire: VecDeque::new(),
            cut: Vec::new(),
            seen: Vec::new(),
            clients: BTreeMap::new(),
        };
        for id in voters.iter().chain(observers) {
            let id = ServerId(*id);
            let observer = c.observers.contains(&id);
            c.members.insert(id, Member { peer: None, disk: MemDisk::default(), observer, hold_sync: false });
            c.start(id);
        }
        c
    }

    fn opts(&self, id: ServerId, observer: bool) -> PeerOptions {
        let mut q = Majority::of(self.voters.iter().copied());
        q.observers = self.observers.iter().copied().collect();
        PeerOptions {
            my_id: id,
            observer,
            standalone: false,
            tick_ms: 2000,
            init_limit: 10,
            sync_limit: 5,
            quorum: Arc::new(q),
            qv_string: "version=0".into(),
            qv_version: 0,
            leader_serves: true,
            extended_types: false,
            sync_enabled: true,
            txnlog_sync: false,
            read_only_mode: false,
            force_snap_sync: false,
            commit_log_count: self.commit_log,
            bugs: Bugs::default(),
        }
    }

    fn start(&mut self, id: ServerId) {
        let m = &self.members[&id];
        let (tree, replayed) = m.disk.restore(false);
        let epochs = m.disk.epochs;
        let observer = m.observer;
        let opts = self.opts(id, observer);
        let sopts = Options { server_id: id, tick_ms: 2000, ..Options::default() };
        let server = Server::new(sopts, tree, now(self.now));
        let elector = OracleElector { me: id, observer, oracle: self.oracle.clone(), looking: false };
        let peer = Peer::new(opts, server, epochs, replayed, Box::new(elector), now(self.now));
        self.members.get_mut(&id).unwrap().peer = Some(peer);
        self.drain_outputs(id);
    }

    /// Kills a member: its links break, unsynced appends are lost.
    fn crash(&mut self, id: ServerId) {
        let m = self.members.get_mut(&id).unwrap();
        m.peer = None;
        let keep = m.disk.synced;
        m.disk.log.truncate(keep);
        self.break_links_of(id, false);
        self.wire.retain(|(to, _)| *to != id);
    }

    /// Breaks every link of `id`; both ends hear of it unless `id` itself is dead.
    fn break_links_of(&mut self, id: ServerId, notify_self: bool) {
        let gone: Vec<(LinkId, (ServerId, ServerId))> =
            self.links.iter().filter(|(_, (l, f))| *l == id || *f == id).map(|(k, v)| (*k, *v)).collect();
        for (link, (leader, learner)) in gone {
            self.links.remove(&link);
            self.learner_link.remove(&learner);
            if leader != id || notify_self {
                self.wire.push_back((leader, Input::LearnerClosed { link }));
            }
            if learner != id || notify_self {
                self.wire.push_back((learner, Input::LeaderClosed));
            }
        }
    }

    fn elect(&mut self, leader: i64, members: &[i64]) {
        let mut o = self.oracle.lock().unwrap();
        for m in members {
            o.decided.insert(ServerId(*m), Some(ServerId(leader)));
        }
        drop(o);
        for m in members {
            self.poke(ServerId(*m));
        }
    }

    /// Runs a timeout round on one member so it polls its elector.
    fn poke(&mut self, id: ServerId) {
        let t = now(self.now);
        if let Some(p) = self.members.get_mut(&id).and_then(|m| m.peer.as_mut()) {
            p.handle_timeout(t);
        }
        self.drain_outputs(id);
    }

    fn drain_outputs(&mut self, id: ServerId) {
        loop {
            let Some(o) = self.members.get_mut(&id).and_then(|m| m.peer.as_mut()).and_then(|p| p.poll_output()) else {
                break;
            };
            self.execute(id, o);
        }
    }

    fn execute(&mut self, id: ServerId, o: Output) {
        let m = self.members.get_mut(&id).unwrap();
        match o {
            Output::Append { zxid, entry } => {
                m.disk.log.push((zxid, entry));
                if !m.hold_sync {
                    m.disk.synced = m.disk.log.len();
                    self.wire.push_back((id, Input::Durable { zxid }));
                }
            }
            Output::Truncate { zxid } => {
                m.disk.log.retain(|(z, _)| *z <= zxid);
                m.disk.synced = m.disk.synced.min(m.disk.log.len());
                m.disk.snapshots.retain(|z, _| *z <= zxid);
            }
            Output::Reload => {
                let (tree, replayed) = m.disk.restore(false);
                self.wire.push_back((id, Input::Reloaded { tree: Box::new(tree), replayed }));
            }
            Output::Snapshot { zxid, image: _, notify } => {
                let tree = m.peer.as_ref().unwrap().server().tree.clone();
                assert_eq!(tree.last_zxid, zxid, "a snapshot is of the tree as it is");
                m.disk.snapshots.insert(zxid, tree);
                if notify {
                    self.wire.push_back((id, Input::SnapshotWritten { zxid }));
                }
            }
            Output::WriteEpoch { kind, epoch } => match kind {
                super::io::EpochKind::Accepted => m.disk.epochs.0 = epoch,
                super::io::EpochKind::Current => m.disk.epochs.1 = epoch,
                super::io::EpochKind::CurrentTmp => {}
            },
            Output::ConnectLeader { leader } => {
                if self.cut.contains(&id) || self.cut.contains(&leader) || self.members[&leader].peer.is_none() {
                    self.wire.push_back((id, Input::LeaderClosed));
                } else {
                    let link = self.next_link;
                    self.next_link += 1;
                    self.links.insert(link, (leader, id));
                    self.learner_link.insert(id, link);
                    self.wire.push_back((leader, Input::LearnerConnected { link }));
                    self.wire.push_back((id, Input::LeaderConnected));
                }
            }
            Output::ToLeader(p) => {
                if let Some(&link) = self.learner_link.get(&id) {
                    let (leader, _) = self.links[&link];
                    self.seen.push((id, leader, p.type_, p.zxid));
                    self.wire.push_back((leader, Input::FromLearner { link, packet: p }));
                }
            }
            Output::CloseLeader => {
                if let Some(link) = self.learner_link.remove(&id) {
                    if let Some((leader, _)) = self.links.remove(&link) {
                        self.wire.push_back((leader, Input::LearnerClosed { link }));
                    }
                }
            }
            Output::ToLearner { link, packet } => {
                if let Some(&(_, learner)) = self.links.get(&link) {
                    self.seen.push((id, learner, packet.type_, packet.zxid));
                    self.wire.push_back((learner, Input::FromLeader(packet)));
                }
            }
            Output::CloseLearner { link } => {
                if let Some((_, learner)) = self.links.remove(&link) {
                    self.learner_link.remove(&learner);
                    self.wire.push_back((learner, Input::LeaderClosed));
                }
            }
            Output::ClientSend { conn, bytes } => {
                if let Some((_, q)) = self.clients.get_mut(&conn) {
                    q.push_back(bytes);
                }
            }
            Output::ClientClose { conn } => {
                self.clients.remove(&conn);
            }
            Output::Vote { .. } => {}
            Output::ReadLog { link, from, upto } => {
                let entries: Vec<(Zxid, Bytes)> =
                    m.disk.log.iter().filter(|(z, _)| *z >= from && *z <= upto).cloned().collect();
                let reaches = m.disk.log.first().is_some_and(|(z, _)| *z <= from);
                self.wire.push_back((id, Input::LogRead { link, entries: reaches.then_some(entries) }));
            }
        }
    }

    /// Delivers everything in flight (and what it causes) until the wire is quiet.
    fn settle(&mut self) {
        let mut steps = 0;
        while let Some((to, input)) = self.wire.pop_front() {
            steps += 1;
            assert!(steps < 1_000_000, "no quiescence");
            let t = now(self.now);
            let Some(p) = self.members.get_mut(&to).and_then(|m| m.peer.as_mut()) else { continue };
            p.handle(t, input);
            self.drain_outputs(to);
        }
    }

    /// Lets virtual time pass in small steps, running timers.
    fn advance(&mut self, ms: u64) {
        let end = self.now + ms;
        while self.now < end {
            self.now += 50;
            let ids: Vec<ServerId> = self.members.keys().copied().collect();
            for id in ids {
                let due = self.members[&id].peer.as_ref().and_then(|p| p.poll_timeout()).is_some_and(|d| d <= self.now);
                if due {
                    self.poke(id);
                }
            }
            self.settle();
        }
    }

    fn peer(&self, id: i64) -> &Peer {
        self.members[&ServerId(id)].peer.as_ref().unwrap()
    }

    fn state(&self, id: i64) -> ServerState {
        self.peer(id).state().0
    }

    /// Connects a client to `member`; returns its conn id once the session is up.
    fn connect(&mut self, conn: u64, member: i64) -> i64 {
        let id = ServerId(member);
        self.clients.insert(conn, (id, VecDeque::new()));
        let addr = "127.0.0.1:5000".parse().unwrap();
        self.wire.push_back((id, Input::Client(server::Input::Accepted { conn, addr })));
        let req = ConnectRequest { time_out: 30000, passwd: Some(Bytes::from(vec![0u8; 16])), ..Default::default() };
        self.wire.push_back((id, Input::Client(server::Input::Frame { conn, frame: Bytes::from(req.to_bytes()) })));
        self.settle();
        let f = self.clients.get_mut(&conn).unwrap().1.pop_front().expect("connect response");
        ConnectResponse::from_slice(&f[4..]).unwrap().session_id
    }

    /// Sends one request and returns (header, body) of its reply.
    fn call(&mut self, conn: u64, xid: i32, op: i32, body: &[u8]) -> (ReplyHeader, Bytes) {
        let member = self.clients[&conn].0;
        let mut f = RequestHeader { xid, type_: op }.to_bytes();
        f.extend_from_slice(body);
        self.wire.push_back((member, Input::Client(server::Input::Frame { conn, frame: Bytes::from(f) })));
        self.settle();
        loop {
            let f = self.clients.get_mut(&conn).unwrap().1.pop_front().expect("a reply");
            let h = ReplyHeader::from_slice(&f[4..]).unwrap();
            if h.xid == xid {
                return (h, f.slice(20..));
            }
        }
    }

    fn create(&mut self, conn: u64, xid: i32, path: &str) -> i32 {
        let c = CreateRequest {
            path: path.into(),
            data: Some(Bytes::from(path.to_string())),
            acl: Some(crate::tree::acl::open_acl_unsafe()),
            flags: 0,
        };
        self.call(conn, xid, crate::jute::opcode::op::CREATE, &c.to_bytes()).0.err
    }

    fn digests(&self) -> BTreeMap<ServerId, (Zxid, u64)> {
        self.members
            .iter()
            .filter_map(|(id, m)| m.peer.as_ref().map(|p| (*id, (p.server().tree.last_zxid, p.server().tree.digest()))))
            .collect()
    }

    fn sync_modes_to(&self, learner: i64) -> Vec<i32> {
        self.seen
            .iter()
            .filter(|(_, to, t, _)| *to == ServerId(learner) && matches!(*t, kind::DIFF | kind::TRUNC | kind::SNAP))
            .map(|(_, _, t, _)| *t)
            .collect()
    }
}

fn all_same(c: &Cluster) {
    let d = c.digests();
    let first = d.values().next().copied().unwrap();
    assert!(d.values().all(|v| v.1 == first.1), "trees differ: {d:?}");
}

#[test]
fn three_members_elect_sync_and_serve_writes_from_every_member() {
    let mut c = Cluster::new(&[1, 2, 3], &[], 500);
    c.elect(3, &[1, 2, 3]);
    c.settle();
    assert_eq!(c.state(3), ServerState::Leading);
    assert_eq!(c.state(1), ServerState::Following);
    assert!(c.peer(1).is_serving() && c.peer(3).is_serving());
    // Both learners got an empty DIFF (everyone at zxid 0).
    assert_eq!(c.sync_modes_to(1), vec![kind::DIFF]);
    assert_eq!(c.peer(3).epochs(), (1, 1));
    assert_eq!(c.peer(1).epochs(), (1, 1));
    // A client on a follower: createSession and create are forwarded and answered there.
    c.connect(10, 1);
    assert_eq!(c.create(10, 1, "/a"), 0);
    c.connect(11, 3);
    assert_eq!(c.create(11, 1, "/b"), 0);
    c.connect(12, 2);
    assert_eq!(c.create(12, 1, "/a"), crate::jute::error_code::NODE_EXISTS);
    let g = GetDataRequest { path: "/b".into(), watch: false };
    let (h, body) = c.call(12, 2, crate::jute::opcode::op::GET_DATA, &g.to_bytes());
    assert_eq!(h.err, 0);
    assert_eq!(GetDataResponse::from_slice(&body).unwrap().data.as_deref(), Some(&b"/b"[..]));
    all_same(&c);
    // Epoch 1, txns 1..=6 (3 sessions, 3 creates incl. the error txn).
    assert_eq!(c.digests()[&ServerId(1)].0, Zxid::new(1, 6));
}

#[test]
fn a_follower_acks_only_after_its_log_is_durable() {
    let mut c = Cluster::new(&[1, 2, 3], &[], 500);
    c.elect(3, &[1, 2, 3]);
    c.settle();
    c.members.get_mut(&ServerId(1)).unwrap().hold_sync = true;
    c.members.get_mut(&ServerId(2)).unwrap().hold_sync = true;
    c.clients.insert(10, (ServerId(3), VecDeque::new()));
    let addr = "127.0.0.1:5000".parse().unwrap();
    c.wire.push_back((ServerId(3), Input::Client(server::Input::Accepted { conn: 10, addr })));
    let req = ConnectRequest { time_out: 30000, passwd: Some(Bytes::from(vec![0u8; 16])), ..Default::default() };
    c.wire
        .push_back((ServerId(3), Input::Client(server::Input::Frame { conn: 10, frame: Bytes::from(req.to_bytes()) })));
    c.settle();
    assert!(c.clients[&10].1.is_empty(), "no session before a quorum has it durably");
    // The createSession cannot commit: neither follower has synced, so neither ACKed.
    let acks = c.seen.iter().filter(|(f, _, t, z)| f.0 != 3 && *t == kind::ACK && z.counter() > 0).count();
    assert_eq!(acks, 0);
    assert_eq!(c.peer(3).server().tree.last_zxid, Zxid::epoch_start(1));
    // Follower 2's disk syncs: its ACK goes out and the txn commits everywhere.
    let m = c.members.get_mut(&ServerId(2)).unwrap();
    m.disk.synced = m.disk.log.len();
    let z = m.disk.log.last().unwrap().0;
    c.wire.push_back((ServerId(2), Input::Durable { zxid: z }));
    c.settle();
    assert!(c.seen.iter().any(|(f, _, t, zz)| f.0 == 2 && *t == kind::ACK && *zz == z));
    assert_eq!(c.peer(3).server().tree.last_zxid, z);
    assert_eq!(c.peer(1).server().tree.last_zxid, z, "followers apply on COMMIT even before their own sync");
    assert_eq!(c.clients[&10].1.len(), 1, "the session is established once committed");
}

#[test]
fn a_follower_that_missed_writes_catches_up_by_diff_and_one_further_behind_by_snap() {
    let mut c = Cluster::new(&[1, 2, 3], &[], 20);
    c.elect(3, &[1, 2, 3]);
    c.settle();
    c.connect(10, 3);
    c.crash(ServerId(1));
    c.settle();
    for i in 0..5 {
        assert_eq!(c.create(10, i + 1, &format!("/d{i}")), 0);
    }
    c.start(ServerId(1));
    c.elect(3, &[1]);
    c.settle();
    assert_eq!(c.sync_modes_to(1), vec![kind::DIFF, kind::DIFF]);
    all_same(&c);
    // Now more than the committed log (20) behind: SNAP.
    c.crash(ServerId(2));
    c.settle();
    for i in 0..30 {
        assert_eq!(c.create(10, 100 + i, &format!("/s{i}")), 0);
    }
    c.start(ServerId(2));
    c.elect(3, &[2]);
    c.settle();
    assert_eq!(c.sync_modes_to(2), vec![kind::DIFF, kind::SNAP]);
    assert!(c.peer(2).is_serving());
    all_same(&c);
    // The SNAP was written as a snapshot before the NEWLEADER ACK.
    assert!(c.members[&ServerId(2)].disk.snapshots.contains_key(&c.peer(3).server().tree.last_zxid));
    // And the learner survives a crash with everything (snapshot + log).
    c.crash(ServerId(2));
    let (tree, _) = c.members[&ServerId(2)].disk.restore(false);
    assert_eq!(tree.digest(), c.peer(3).server().tree.digest());
}

#[test]
fn an_old_leader_with_uncommitted_proposals_is_truncated() {
    let mut c = Cluster::new(&[1, 2, 3], &[], 500);
    c.elect(3, &[1, 2, 3]);
    c.settle();
    c.connect(10, 3);
    assert_eq!(c.create(10, 1, "/x"), 0);
    // Cut the followers off: the leader logs proposals nobody acknowledges.
    c.cut = vec![ServerId(1), ServerId(2)];
    c.break_links_of(ServerId(1), true);
    c.break_links_of(ServerId(2), true);
    c.settle();
    let before = c.peer(3).server().tree.last_zxid;
    // Java's leader keeps accepting proposals until it notices the lost quorum.
    let mut f = RequestHeader { xid: 2, type_: crate::jute::opcode::op::CREATE }.to_bytes();
    let cr =
        CreateRequest { path: "/lost".into(), data: None, acl: Some(crate::tree::acl::open_acl_unsafe()), flags: 0 };
    f.extend_from_slice(&cr.to_bytes());
    c.wire.push_back((ServerId(3), Input::Client(server::Input::Frame { conn: 10, frame: Bytes::from(f) })));
    c.settle();
    assert!(c.members[&ServerId(3)].disk.log.last().unwrap().0 > before, "the proposal is in the old leader's log");
    c.crash(ServerId(3));
    c.cut.clear();
    // 1 and 2 elect 2 and write on.
    c.elect(2, &[1, 2]);
    c.settle();
    assert_eq!(c.state(2), ServerState::Leading);
    c.connect(20, 2);
    assert_eq!(c.create(20, 1, "/y"), 0);
    // The old leader restarts with the never-committed txn and must drop it.
    c.start(ServerId(3));
    c.elect(2, &[3]);
    c.settle();
    let modes = c.sync_modes_to(3);
    assert_eq!(modes.last(), Some(&kind::SNAP), "never TRUNC across epochs: {modes:?}");
    all_same(&c);
    let t = &c.peer(3).server().tree;
    assert!(t.get("/lost").is_none() && t.get("/y").is_some());
}

#[test]
fn a_learner_ahead_in_the_same_epoch_gets_trunc() {
    let mut c = Cluster::new(&[1, 2, 3], &[], 500);
    c.elect(3, &[1, 2, 3]);
    c.settle();
    c.connect(10, 3);
    assert_eq!(c.create(10, 1, "/x"), 0);
    // Follower 1 logs a proposal the others never see (the leader dies mid-broadcast).
    let z = c.peer(3).server().tree.last_zxid.next();
    let entry = TxnEntry {
        header: crate::jute::txn::TxnHeader { client_id: 0, cxid: 0, zxid: z.0, time: 5, type_: -1 },
        txn: crate::jute::txn::Txn::Error(crate::jute::txn::ErrorTxn { err: -101 }),
        digest: None,
    };
    c.crash(ServerId(3));
    c.settle();
    c.members.get_mut(&ServerId(1)).unwrap().disk.log.push((z, Bytes::from(entry.encode())));
    c.members.get_mut(&ServerId(1)).unwrap().disk.synced += 1;
    c.crash(ServerId(1));
    // 2 and 3 elect 2 (1 is down); then 1 comes back ahead of 2 in epoch 1 → TRUNC to 2's last.
    c.start(ServerId(3));
    c.elect(2, &[2, 3]);
    c.settle();
    assert_eq!(c.state(2), ServerState::Leading);
    c.start(ServerId(1));
    assert_eq!(c.peer(1).server().tree.last_zxid, z);
    c.elect(2, &[1]);
    c.settle();
    let modes = c.sync_modes_to(1);
    assert_eq!(modes.last(), Some(&kind::TRUNC), "{modes:?}");
    all_same(&c);
    assert!(c.members[&ServerId(1)].disk.log.iter().all(|(zz, _)| *zz != z), "the log no longer holds it");
}

#[test]
fn a_member_refuses_clients_until_its_role_is_settled() {
    let mut c = Cluster::new(&[1, 2, 3], &[], 500);
    c.clients.insert(10, (ServerId(1), VecDeque::new()));
    let addr = "127.0.0.1:5000".parse().unwrap();
    c.wire.push_back((ServerId(1), Input::Client(server::Input::Accepted { conn: 10, addr })));
    let req = ConnectRequest { time_out: 30000, passwd: Some(Bytes::from(vec![0u8; 16])), ..Default::default() };
    c.wire
        .push_back((ServerId(1), Input::Client(server::Input::Frame { conn: 10, frame: Bytes::from(req.to_bytes()) })));
    c.settle();
    assert!(!c.clients.contains_key(&10), "closed: ZooKeeperServer not running");
    assert!(c.members[&ServerId(1)].disk.log.is_empty(), "nothing prepared while looking");
}

#[test]
fn observers_receive_inform_and_never_vote() {
    let mut c = Cluster::new(&[1, 2, 3], &[4], 500);
    c.elect(3, &[1, 2, 3, 4]);
    c.settle();
    assert_eq!(c.state(4), ServerState::Observing);
    c.connect(10, 4);
    assert_eq!(c.create(10, 1, "/o"), 0);
    all_same(&c);
    assert!(c.seen.iter().any(|(_, to, t, _)| to.0 == 4 && *t == kind::INFORM));
    assert!(!c.seen.iter().any(|(from, _, t, z)| from.0 == 4 && *t == kind::ACK && z.counter() > 0));
}

#[test]
fn a_leader_without_a_quorum_steps_down_and_its_clients_are_dropped() {
    let mut c = Cluster::new(&[1, 2, 3], &[], 500);
    c.elect(3, &[1, 2, 3]);
    c.settle();
    c.connect(10, 3);
    c.crash(ServerId(1));
    c.crash(ServerId(2));
    c.settle();
    c.advance(30_000);
    assert_eq!(c.state(3), ServerState::Looking);
    assert!(!c.clients.contains_key(&10));
}
