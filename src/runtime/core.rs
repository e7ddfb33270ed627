//! The core task: owns the [`Peer`] and executes what it asks for. Every decision is the
//! peer's; this loop only moves inputs in and outputs out, in order, and never awaits a
//! client, a peer or the disk (bounded queues, `try_send`; a full queue closes that
//! connection).

use super::conn;
use super::disk::Disk;
use super::quorum_net::{self, LinkOut};
use super::Clock;
use crate::config::Config;
use crate::quorum::election::Notification;
use crate::quorum::io::{EpochKind, Input, LinkId, Output};
use crate::quorum::peer::Peer;
use crate::server::{self, IoFacts};
use crate::storage::restore::DataDirs;
use crate::types::ServerId;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Messages taken from the core's queue in one round before their outputs are executed.
const ROUND_MSGS: usize = 256;

/// Messages to the core task.
pub(crate) enum CoreMsg {
    /// A client connection was accepted; its writer listens behind `handle`.
    Register { conn: u64, addr: SocketAddr, handle: conn::ConnHandle },
    /// The request frames one read of connection `conn` delivered, in order.
    Frames { conn: u64, frames: Vec<bytes::Bytes> },
    /// A client connection event.
    Client(server::Input),
    /// Storage completions, learner packets, election notifications.
    Input(Input),
    /// A learner connected to our quorum port; its writer listens on `tx`.
    LearnerLink { link: LinkId, tx: mpsc::Sender<LinkOut> },
    /// Our connection to the leader (generation `gen`) is up; its writer listens on `tx`.
    LeaderLink { gen: u64, tx: mpsc::Sender<LinkOut> },
    /// Something from leader connection `gen` (ignored once a newer one exists).
    FromLeader { gen: u64, input: Input },
}

/// Where election notifications go (the election connection manager).
pub(crate) trait VoteSink: Send {
    fn send(&self, to: ServerId, msg: Notification);
}

impl VoteSink for super::qcm::QcmHandle {
    fn send(&self, to: ServerId, msg: Notification) {
        super::qcm::QcmHandle::send(self, to, &msg)
    }
}

/// No ensemble: nowhere to send votes.
pub(crate) struct NoVotes;

impl VoteSink for NoVotes {
    fn send(&self, _to: ServerId, _msg: Notification) {}
}

pub(crate) struct Core {
    pub peer: Peer,
    pub clock: Clock,
    pub disk: Disk,
    pub dirs: DataDirs,
    pub config: Arc<Config>,
    pub votes: Box<dyn VoteSink>,
    pub max_packet: usize,
    pub cnx_timeout: Duration,
    pub core_tx: mpsc::Sender<CoreMsg>,
    pub conns: HashMap<u64, conn::ConnHandle>,
    /// Replies produced in this round, per connection, sent as one batch when it ends.
    pub outbox: HashMap<u64, Vec<bytes::Bytes>>,
    pub links: HashMap<LinkId, mpsc::Sender<LinkOut>>,
    /// The current leader connection: its generation, and its writer once connected.
    pub leader_gen: u64,
    pub leader_tx: Option<mpsc::Sender<LinkOut>>,
}

impl Core {
    fn handle(&mut self, i: Input) {
        let now = self.clock.now();
        self.peer.handle(now, i);
    }

    /// Executes everything the peer asked for. Client replies are gathered per connection and
    /// handed over once the peer has nothing more to say, so replies produced together leave
    /// in one write and wake each writer once; per connection their order is the peer's.
    fn execute(&mut self) {
        loop {
            self.execute_outputs();
            if self.outbox.is_empty() {
                return;
            }
            let mut full = Vec::new();
            for (conn, frames) in self.outbox.drain() {
                if let Some(h) = self.conns.get(&conn) {
                    if !h.send(frames, false) {
                        full.push(conn);
                    }
                }
            }
            for conn in full {
                tracing::warn!("connection {conn} is not reading its replies; closing it");
                if let Some(h) = self.conns.remove(&conn) {
                    h.abort();
                }
                self.handle(Input::Client(server::Input::Closed { conn }));
            }
        }
    }

    fn execute_outputs(&mut self) {
        while let Some(o) = self.peer.poll_output() {
            match o {
                Output::ClientSend { conn, bytes } => {
                    if self.conns.contains_key(&conn) {
                        self.outbox.entry(conn).or_default().push(bytes);
                    }
                }
                Output::ClientClose { conn } => {
                    let frames = self.outbox.remove(&conn).unwrap_or_default();
                    if let Some(h) = self.conns.remove(&conn) {
                        if !h.send(frames, true) {
                            tracing::warn!("connection {conn} is not reading its replies; closing it");
                            h.abort();
                        }
                    }
                }
                Output::Vote { to, msg } => self.votes.send(to, msg),
                Output::ConnectLeader { leader } => self.connect_leader(leader),
                Output::ToLeader(p) => {
                    let full = self.leader_tx.as_ref().is_some_and(|tx| tx.try_send(LinkOut::Packet(p)).is_err());
                    if full {
                        tracing::warn!("the leader is not reading our packets; dropping the connection");
                        self.drop_leader();
                        self.handle(Input::LeaderClosed);
                    }
                }
                Output::CloseLeader => self.drop_leader(),
                Output::ToLearner { link, packet } => {
                    let full = self.links.get(&link).is_some_and(|tx| tx.try_send(LinkOut::Packet(packet)).is_err());
                    if full {
                        tracing::warn!("learner {link} is not reading its packets; dropping it");
                        if let Some(tx) = self.links.remove(&link) {
                            let _ = tx.try_send(LinkOut::Close);
                        }
                        self.handle(Input::LearnerClosed { link });
                    }
                }
                Output::CloseLearner { link } => {
                    if let Some(tx) = self.links.remove(&link) {
                        let _ = tx.try_send(LinkOut::Close);
                    }
                }
                Output::Append { zxid, entry } => self.disk.append(zxid, entry),
                Output::Truncate { zxid } => self.disk.truncate(zxid),
                Output::Reload => self.disk.reload(),
                Output::ReadLog { link, from, upto } => self.disk.read_log(link, from, upto),
                Output::Snapshot { zxid, image, notify } => self.disk.snapshot(zxid, image, notify),
                Output::WriteEpoch { kind, epoch } => {
                    use crate::storage::epoch;
                    // Synchronous on purpose: the next output (an ACKEPOCH, a NEWLEADER ACK,
                    // LEADERINFO, an append of the new epoch) may only go once this is on disk.
                    let (name, written) = match kind {
                        EpochKind::Accepted => {
                            (epoch::ACCEPTED_EPOCH, epoch::write_epoch(&self.dirs.snap, epoch::ACCEPTED_EPOCH, epoch))
                        }
                        EpochKind::Current => {
                            (epoch::CURRENT_EPOCH, epoch::write_epoch(&self.dirs.snap, epoch::CURRENT_EPOCH, epoch))
                        }
                        EpochKind::CurrentTmp => ("currentEpoch.tmp", epoch::write_current_tmp(&self.dirs.snap, epoch)),
                    };
                    if let Err(e) = written {
                        tracing::error!("Failed to write new epoch file {name}: {e}");
                        std::process::exit(14);
                    }
                }
            }
        }
    }

    fn drop_leader(&mut self) {
        self.leader_gen += 1;
        if let Some(tx) = self.leader_tx.take() {
            let _ = tx.try_send(LinkOut::Close);
        }
    }

    fn connect_leader(&mut self, leader: ServerId) {
        self.drop_leader();
        let Some(qs) = self.config.servers.get(&leader.0) else {
            tracing::error!("leader {leader} is not in the configuration");
            self.handle(Input::LeaderClosed);
            return;
        };
        let addrs: Vec<(String, u16)> = qs.addrs.iter().map(|a| (a.host.clone(), a.quorum_port)).collect();
        quorum_net::connect_leader(addrs, self.cnx_timeout, self.leader_gen, self.core_tx.clone(), self.max_packet);
    }

    /// One message from a connection task, the disk thread or the election layer. Client
    /// messages are only handed to the peer: their outputs are executed by the caller once the
    /// messages already waiting have been taken too (one write per connection per round);
    /// anything else first executes what is pending and then its own outputs, exactly as if
    /// it had come alone.
    pub(crate) fn on_msg(&mut self, msg: CoreMsg) {
        // A close goes after the replies already produced for that connection are handed over.
        let client = match &msg {
            CoreMsg::Register { .. } | CoreMsg::Frames { .. } => true,
            CoreMsg::Client(i) => !matches!(i, server::Input::Closed { .. }),
            _ => false,
        };
        if !client {
            self.execute();
        }
        match msg {
            CoreMsg::Register { conn, addr, handle } => {
                self.conns.insert(conn, handle);
                self.handle(Input::Client(server::Input::Accepted { conn, addr }));
            }
            CoreMsg::Frames { conn, frames } => {
                let now = self.clock.now();
                for frame in frames {
                    self.peer.handle(now, Input::Client(server::Input::Frame { conn, frame }));
                }
            }
            CoreMsg::Client(mut i) => {
                match &mut i {
                    server::Input::Closed { conn } => {
                        self.conns.remove(conn);
                    }
                    server::Input::FourLetter { io, .. } => *io = io_facts(&self.dirs),
                    _ => {}
                }
                self.handle(Input::Client(i));
            }
            CoreMsg::Input(i) => {
                if let Input::LearnerClosed { link } = &i {
                    if self.links.remove(link).is_none() {
                        return;
                    }
                }
                self.handle(i);
            }
            CoreMsg::LearnerLink { link, tx } => {
                self.links.insert(link, tx);
                self.handle(Input::LearnerConnected { link });
            }
            CoreMsg::LeaderLink { gen, tx } => {
                if gen == self.leader_gen {
                    self.leader_tx = Some(tx);
                } else {
                    let _ = tx.try_send(LinkOut::Close);
                }
            }
            CoreMsg::FromLeader { gen, input } => {
                if gen == self.leader_gen {
                    if matches!(input, Input::LeaderClosed) {
                        self.leader_tx = None;
                    }
                    self.handle(input);
                }
            }
        }
        if !client {
            self.execute();
        }
    }

    pub(crate) fn on_timeout(&mut self) {
        let now = self.clock.now();
        self.peer.handle_timeout(now);
        self.execute();
    }

    pub(crate) fn deadline(&self) -> Option<tokio::time::Instant> {
        self.peer.poll_timeout().map(|ms| (self.clock.start + Duration::from_millis(ms)).into())
    }

    /// Runs until shutdown or until every sender is gone.
    pub(crate) async fn run(
        mut self,
        mut rx: mpsc::Receiver<CoreMsg>,
        mut votes_in: mpsc::Receiver<(ServerId, Notification)>,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Disk {
        tokio::pin!(shutdown);
        self.execute();
        loop {
            let deadline = self.deadline();
            let timer = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                msg = rx.recv() => match msg {
                    Some(m) => {
                        self.on_msg(m);
                        // What else is already waiting joins this round: one wake-up, and
                        // one batch per connection, for all of it.
                        for _ in 0..ROUND_MSGS {
                            match rx.try_recv() {
                                Ok(m) => self.on_msg(m),
                                Err(_) => break,
                            }
                        }
                        self.execute();
                    }
                    None => break,
                },
                Some((from, msg)) = votes_in.recv() => {
                    self.handle(Input::Vote { from, msg });
                    self.execute();
                }
                _ = timer => self.on_timeout(),
            }
        }
        drop(rx);
        self.disk
    }
}

/// The process and disk facts the four-letter words report.
pub(crate) fn io_facts(dirs: &DataDirs) -> IoFacts {
    let size = |d: &std::path::Path| -> i64 {
        std::fs::read_dir(d)
            .map(|rd| rd.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len() as i64).sum())
            .unwrap_or(0)
    };
    let open_fds = std::fs::read_dir("/proc/self/fd").map(|rd| rd.count() as i64).unwrap_or(-1);
    let max_fds = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(-1);
    IoFacts { data_dir_size: size(&dirs.snap), log_dir_size: size(&dirs.log), open_fds, max_fds }
}
