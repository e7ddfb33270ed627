//! The server core: a sans-I/O state machine that owns the tree, sessions, watches and the
//! request pipeline (Java's Prep → Sync → Final processors without the threads).
//!
//! The runtime feeds it [`Input`]s with the current time and executes the [`Output`]s it
//! polls: bytes for connections, txn-log appends. A write is prepared at once (so pipelined
//! requests see each other), logged, and applied and answered only once the log reports it
//! durable. Every request waits behind earlier writes, as in Java's standalone pipeline, so
//! replies leave in request order and a watch event always precedes the reply that follows
//! the change.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

mod ensemble;
pub mod fourlw;
mod handshake;
mod local_sessions;
pub mod persist;
pub mod prep;
pub mod read;
pub mod reply;
pub mod sasl;
mod sasl_digest;
pub mod session;
pub mod stats;
pub mod watch;

use crate::jute::error_code::*;
use crate::jute::opcode::{self, op};
use crate::jute::records::*;
use crate::jute::txn::TxnEntry;
use crate::jute::Jute;
use crate::tree::acl::{self, perms};
use crate::tree::{DataTree, TxnResult};
use crate::types::{ServerId, SessionId, Zxid};
use bytes::Bytes;
use prep::{Ctx, Pending, PrepOptions};
use read::ReadError;
use reply::XID_PING;
use session::Sessions;
use stats::{ConnStats, ServerStats};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use watch::{ConnId, Watches};

pub use ensemble::{Pipeline, RoleInfo};

/// Time as the runtime reads it: a monotonic clock for timeouts and the wall clock that
/// stamps transactions.
#[derive(Clone, Copy, Debug, Default)]
pub struct Now {
    pub mono_ms: u64,
    pub wall_ms: i64,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub server_id: ServerId,
    pub tick_ms: u64,
    pub min_session_timeout_ms: i32,
    pub max_session_timeout_ms: i32,
    pub max_client_cnxns: usize,
    pub super_digest: Option<String>,
    pub prep: PrepOptions,
    pub container_check_interval_ms: u64,
    pub container_max_per_minute: u32,
    pub container_max_never_used_ms: i64,
    /// The configuration, for the four-letter words that print it.
    pub config: std::sync::Arc<crate::config::Config>,
    /// `localSessionsEnabled` (ensemble members only).
    pub local_sessions: bool,
    /// `localSessionsUpgradingEnabled`.
    pub local_sessions_upgrading: bool,
    /// Client SASL and auth enforcement.
    pub sasl: sasl::SaslOptions,
}

/// Process and disk facts the runtime measures for the four-letter words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IoFacts {
    pub data_dir_size: i64,
    pub log_dir_size: i64,
    pub open_fds: i64,
    pub max_fds: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            server_id: ServerId(1),
            tick_ms: 2000,
            min_session_timeout_ms: 4000,
            max_session_timeout_ms: 40000,
            max_client_cnxns: 60,
            super_digest: None,
            prep: PrepOptions { close_session_txn: true, ..Default::default() },
            container_check_interval_ms: 60000,
            container_max_per_minute: 10000,
            container_max_never_used_ms: 0,
            config: std::sync::Arc::new(crate::config::Config::default_standalone(std::path::Path::new("/tmp"))),
            local_sessions: false,
            local_sessions_upgrading: false,
            sasl: sasl::SaslOptions::default(),
        }
    }
}

#[derive(Debug)]
pub enum Input {
    Accepted {
        conn: ConnId,
        addr: SocketAddr,
    },
    /// One complete client frame (without its length prefix).
    Frame {
        conn: ConnId,
        frame: Bytes,
    },
    /// A four-letter word read as the first 4 bytes of a connection.
    FourLetter {
        conn: ConnId,
        word: [u8; 4],
        io: IoFacts,
    },
    /// The socket is gone (peer closed, error, or after our Close).
    Closed {
        conn: ConnId,
    },
    /// The log is durable up to and including this zxid.
    Durable {
        zxid: Zxid,
    },
    /// The log was rolled: take a snapshot (Java's `snapCount` trigger).
    TakeSnapshot,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Output {
    /// Bytes to write as they are (frames carry their length prefix already).
    Send { conn: ConnId, bytes: Bytes },
    /// Close after everything queued before has been written.
    Close { conn: ConnId },
    /// Append one txn entry to the log; answer with `Input::Durable` once synced.
    Append { zxid: Zxid, entry: Bytes },
    /// Write this image as `snapshot.<zxid>`.
    Snapshot { zxid: Zxid, image: Box<crate::storage::snapshot::SnapshotImage> },
    /// A learner hands a client write (or sync) to the leader: the request body exactly as
    /// the client sent it, with the connection's auth ids (`Learner.request`).
    Forward { session: SessionId, cxid: i32, op: i32, body: Bytes, auth: Vec<Id> },
    /// A learner asks the leader whether a reconnecting client's session is alive.
    Revalidate { session: SessionId, timeout: i32 },
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ConnState {
    New,
    Handshaking,
    Ready,
}

struct Conn {
    addr: SocketAddr,
    state: ConnState,
    session: SessionId,
    auth: Vec<Id>,
    /// Whether the ConnectRequest carried the readOnly byte (the response mirrors it).
    read_only_byte: bool,
    backlog: VecDeque<Bytes>,
    pub stats: ConnStats,
    sasl: sasl::ConnSasl,
}

enum Work {
    Write {
        entry: TxnEntry,
        conn: Option<ConnId>,
        xid: i32,
        op: i32,
        arrived: u64,
    },
    Read {
        conn: ConnId,
        xid: i32,
        op: i32,
        body: Bytes,
        arrived: u64,
    },
    /// A learner's write handed to the leader, answered when its txn commits.
    Forwarded {
        conn: Option<ConnId>,
        session: SessionId,
        xid: i32,
        op: i32,
        arrived: u64,
    },
    /// A learner's sync, answered when the leader's SYNC comes back.
    Sync {
        conn: ConnId,
        xid: i32,
        body: Bytes,
        arrived: u64,
    },
}

pub struct Server {
    pub opts: Options,
    pub tree: DataTree,
    pending: Pending,
    sessions: Sessions,
    /// Local sessions (`localSessionsEnabled`): known only here, expired here.
    local_sessions: Sessions,
    watches: Watches,
    conns: HashMap<ConnId, Conn>,
    queue: VecDeque<Work>,
    last_zxid: Zxid,
    /// Writes up to here may be applied: durable (standalone) or committed (leader).
    committed_zxid: Zxid,
    outputs: VecDeque<Output>,
    now: Now,
    next_container_check: u64,
    pub stats: ServerStats,
    /// Where writes go: see [`Pipeline`].
    pipeline: Pipeline,
    /// Learner: sessions active here since the last PING (the touch table).
    touched: std::collections::BTreeMap<SessionId, i32>,
    /// Learner: reconnecting clients waiting for the leader's REVALIDATE answer.
    revalidating: std::collections::BTreeMap<SessionId, Vec<(ConnId, i32)>>,
    /// The member's role as the four-letter words report it.
    pub role: RoleInfo,
    /// DIGEST-MD5 nonces, seeded from `opts.sasl.nonce_seed`.
    sasl_rng: rand::rngs::StdRng,
}

const BACKLOG_MAX: usize = 10_000;

impl Server {
    /// A server over a tree restored from disk (or fresh), whose log is durable up to
    /// `tree.last_zxid`.
    pub fn new(opts: Options, tree: DataTree, now: Now) -> Server {
        let first = session::first_session_id(now.wall_ms, opts.server_id);
        let mut sessions = Sessions::new(opts.tick_ms, first);
        // Restored sessions get a full fresh timeout from now, as Java does on restart.
        for (&id, &to) in &tree.sessions {
            sessions.add(SessionId(id), to, now.mono_ms, None);
        }
        let last = tree.last_zxid;
        let local_sessions = Sessions::new(opts.tick_ms, SessionId(0));
        let sasl_rng = sasl::nonce_rng(opts.sasl.nonce_seed);
        Server {
            sasl_rng,
            local_sessions,
            next_container_check: now.mono_ms + opts.container_check_interval_ms,
            opts,
            tree,
            pending: Pending::default(),
            sessions,
            watches: Watches::default(),
            conns: HashMap::new(),
            queue: VecDeque::new(),
            last_zxid: last,
            committed_zxid: last,
            outputs: VecDeque::new(),
            now,
            stats: ServerStats::default(),
            pipeline: Pipeline::Standalone,
            touched: Default::default(),
            revalidating: Default::default(),
            role: RoleInfo::default(),
        }
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When `handle_timeout` should next be called (monotonic ms).
    pub fn poll_timeout(&self) -> Option<u64> {
        let local = self.local_sessions.next_expiry();
        if !self.prepares() {
            return local;
        }
        let s = self.sessions.next_expiry();
        let c = Some(self.next_container_check);
        [s, c, local].into_iter().flatten().min()
    }

    pub fn handle(&mut self, now: Now, input: Input) {
        self.now = now;
        match input {
            Input::Accepted { conn, addr } => self.accepted(conn, addr),
            Input::Frame { conn, frame } => self.on_frame(conn, frame),
            Input::FourLetter { conn, word, io } => {
                let text = self.four_letter(conn, word, &io);
                self.outputs.push_back(Output::Send { conn, bytes: Bytes::from(text) });
                self.outputs.push_back(Output::Close { conn });
                self.conns.remove(&conn);
            }
            Input::Closed { conn } => self.drop_conn(conn),
            Input::Durable { zxid } => {
                if self.pipeline == Pipeline::Standalone {
                    self.commit_upto(zxid);
                }
            }
            Input::TakeSnapshot => {
                // Consistent as of the last applied zxid; later txns are in the log.
                let image = persist::image_from_tree(&self.tree);
                self.outputs.push_back(Output::Snapshot { zxid: self.tree.last_zxid, image: Box::new(image) });
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Now) {
        self.now = now;
        self.expire_local_sessions(now.mono_ms);
        // Only the leader (or a standalone server) expires global sessions and reaps containers.
        if !self.prepares() {
            return;
        }
        for id in self.sessions.expired(now.mono_ms) {
            tracing::info!("Expiring session {}, timeout of {}ms exceeded", id, self.timeout_of(id));
            self.submit_write(None, id, 0, op::CLOSE_SESSION, &[], Ok(()));
        }
        if now.mono_ms >= self.next_container_check {
            self.next_container_check = now.mono_ms + self.opts.container_check_interval_ms.max(1);
            self.check_containers();
        }
    }

    fn timeout_of(&self, id: SessionId) -> i32 {
        self.sessions.map.get(&id).or_else(|| self.local_sessions.map.get(&id)).map_or(0, |s| s.timeout_ms)
    }

    /// A session this server may act for: local here, or global.
    fn check_session(&self, id: SessionId) -> Result<(), i32> {
        if self.is_local_session(id) {
            return self.local_sessions.check(id);
        }
        self.sessions.check(id)
    }

    pub fn last_zxid(&self) -> Zxid {
        self.tree.last_zxid
    }

    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    pub fn outstanding(&self) -> usize {
        self.queue.len()
    }

    fn drop_conn(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.remove(&conn) {
            if let Some(s) = self.sessions.map.get_mut(&c.session) {
                if s.conn == Some(conn) {
                    s.conn = None;
                }
            }
        }
        self.watches.drop_conn(conn);
    }

    fn close(&mut self, conn: ConnId) {
        self.drop_conn(conn);
        self.outputs.push_back(Output::Close { conn });
    }

    fn send(&mut self, conn: ConnId, bytes: Bytes) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.stats.sent += 1;
            self.stats.packets_sent += 1;
            self.outputs.push_back(Output::Send { conn, bytes });
        }
    }

    /// A reply to `xid` stamped with the last applied zxid, as Java stamps every reply.
    fn reply(&mut self, conn: ConnId, xid: i32, err: i32, body: &[u8]) {
        let f = reply::reply(xid, self.tree.last_zxid.0, err, body);
        self.send(conn, f);
    }

    fn on_frame(&mut self, conn: ConnId, frame: Bytes) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        match c.state {
            ConnState::New => self.on_connect(conn, frame),
            ConnState::Handshaking => {
                if c.backlog.len() >= BACKLOG_MAX {
                    self.close(conn);
                } else {
                    c.backlog.push_back(frame);
                }
            }
            ConnState::Ready => self.on_request(conn, frame),
        }
    }

    fn on_request(&mut self, conn: ConnId, frame: Bytes) {
        let mut body = frame;
        let Ok(h) = RequestHeader::decode(&mut body) else {
            self.close(conn);
            return;
        };
        let now = self.now;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.stats.received += 1;
        self.stats.packets_received += 1;
        let session = c.session;
        // AuthenticationHelper runs before the request reaches the session tracker.
        if !matches!(h.type_, op::AUTH | op::SASL) && !self.auth_enforced(conn, h.xid) {
            return;
        }
        if self.is_local_session(session) {
            self.local_sessions.touch(session, None, now.mono_ms);
        } else {
            self.sessions.touch(session, None, now.mono_ms);
        }
        if matches!(self.pipeline, Pipeline::Learner { .. }) && !self.is_local_session(session) {
            let timeout = self.timeout_of(session);
            self.touched.insert(session, timeout);
        }
        let read_only = self.pipeline == Pipeline::ReadOnly;
        if read_only && (opcode::is_client_write(h.type_) || matches!(h.type_, op::SYNC | op::CHECK)) {
            // ReadOnlyRequestProcessor: writes, syncs and (global) closeSession get NOTREADONLY.
            self.reply(conn, h.xid, NOT_READ_ONLY, &[]);
            return;
        }
        match h.type_ {
            op::AUTH => self.on_auth(conn, body),
            op::SASL => self.on_sasl(conn, h.xid, body),
            op::CLOSE_SESSION if self.is_local_session(session) => self.end_local_session(session, Some(conn), h.xid),
            t if opcode::is_client_write(t) => {
                if let Err(e) = self.upgrade_if_needed(session, t, &body) {
                    self.reply(conn, h.xid, e, &[]);
                    return;
                }
                let ok = self.check_session(session);
                self.submit_write(Some(conn), session, h.xid, t, &body, ok);
            }
            op::SYNC if matches!(self.pipeline, Pipeline::Learner { .. }) => {
                // FollowerRequestProcessor: a sync goes to the leader and waits for its SYNC.
                let auth = self.conns.get(&conn).map(|c| c.auth.clone()).unwrap_or_default();
                self.outputs.push_back(Output::Forward {
                    session,
                    cxid: h.xid,
                    op: op::SYNC,
                    body: body.clone(),
                    auth,
                });
                self.queue.push_back(Work::Sync { conn, xid: h.xid, body, arrived: now.mono_ms });
            }
            t if opcode::is_read(t) => {
                let w = Work::Read { conn, xid: h.xid, op: t, body, arrived: now.mono_ms };
                if self.queue.is_empty() {
                    self.execute(w);
                } else {
                    self.queue.push_back(w);
                }
            }
            t => {
                tracing::warn!("unknown op type {t} from connection {conn}; closing");
                self.reply(conn, h.xid, UNIMPLEMENTED, &[]);
                self.close(conn);
            }
        }
    }

    /// Prep, log, queue; the reply goes out when the entry is durable (standalone) or
    /// committed (leader). A learner hands the request to its leader instead.
    fn submit_write(
        &mut self,
        conn: Option<ConnId>,
        session: SessionId,
        xid: i32,
        op_code: i32,
        body: &[u8],
        ok: Result<(), i32>,
    ) {
        let auth = conn.and_then(|c| self.conns.get(&c)).map(|c| c.auth.clone()).unwrap_or_default();
        if let Pipeline::Learner { .. } = self.pipeline {
            let body = Bytes::copy_from_slice(body);
            self.outputs.push_back(Output::Forward { session, cxid: xid, op: op_code, body, auth });
            self.queue.push_back(Work::Forwarded { conn, session, xid, op: op_code, arrived: self.now.mono_ms });
            return;
        }
        self.prepare_write(conn, session, xid, op_code, body, ok, &auth);
    }

    /// `PrepRequestProcessor` → the log: the txn (or error txn) gets the next zxid.
    #[allow(clippy::too_many_arguments)]
    fn prepare_write(
        &mut self,
        conn: Option<ConnId>,
        session: SessionId,
        xid: i32,
        op_code: i32,
        body: &[u8],
        ok: Result<(), i32>,
        auth: &[Id],
    ) {
        self.last_zxid = self.last_zxid.next();
        let ctx = Ctx {
            session: session.0,
            cxid: xid,
            zxid: self.last_zxid.0,
            time: self.now.wall_ms,
            auth,
            session_ok: ok,
            opts: &self.opts.prep,
        };
        let entry = prep::prepare(&self.tree, &mut self.pending, &ctx, op_code, body);
        if op_code == op::CLOSE_SESSION {
            if let Some(s) = self.sessions.map.get_mut(&session) {
                s.closing = true;
            }
        }
        let bytes = Bytes::from(entry.encode());
        self.outputs.push_back(Output::Append { zxid: Zxid(entry.header.zxid), entry: bytes });
        self.queue.push_back(Work::Write { entry, conn, xid, op: op_code, arrived: self.now.mono_ms });
    }

    fn drain(&mut self) {
        loop {
            match self.queue.front() {
                Some(Work::Write { entry, .. }) if Zxid(entry.header.zxid) <= self.committed_zxid => {}
                Some(Work::Read { .. }) => {}
                _ => break,
            }
            if let Some(w) = self.queue.pop_front() {
                self.execute(w);
            }
        }
    }

    fn latency(&mut self, conn: ConnId, arrived: u64, xid: i32, op_code: i32) {
        let ms = self.now.mono_ms.saturating_sub(arrived);
        self.stats.latency.record(ms);
        let (zxid, wall) = (self.tree.last_zxid.0, self.now.wall_ms);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.stats.record(ms, op_code, xid, zxid, wall);
        }
    }

    fn execute(&mut self, w: Work) {
        match w {
            Work::Read { conn, xid, op, body, arrived } => {
                if self.conns.contains_key(&conn) {
                    self.read(conn, xid, op, body);
                    self.latency(conn, arrived, xid, op);
                }
            }
            Work::Write { entry, conn, xid, op, arrived } => self.apply_entry(&entry, conn, xid, op, arrived),
            // Answered by `apply_committed` and `sync_arrived`; `drain` never runs them.
            Work::Forwarded { .. } | Work::Sync { .. } => {}
        }
    }

    /// Applies a txn to the tree, fires its watches and answers `conn` if it asked for it.
    fn apply_entry(&mut self, entry: &TxnEntry, conn: Option<ConnId>, xid: i32, op: i32, arrived: u64) {
        let applied = self.tree.apply(&entry.header, &entry.txn);
        self.pending.applied(entry.header.zxid);
        for ev in &applied.events {
            self.notify(ev);
        }
        self.after_write(entry, conn, xid, op, applied.result);
        if let Some(c) = conn {
            self.latency(c, arrived, xid, op);
        }
    }

    fn notify(&mut self, ev: &crate::tree::WatchEvent) {
        let targets = self.watches.fire(ev);
        if targets.is_empty() {
            return;
        }
        let acl = match &ev.acl {
            Some(a) => a.clone(),
            None => self.tree.get(&ev.path).map(|n| self.tree.acl_of(n)).unwrap_or_default(),
        };
        let f = reply::event(ev.kind, &ev.path);
        for c in targets {
            // CVE-2024-23944: deliver only to connections that may read the node.
            let allowed =
                self.opts.prep.skip_acl || self.conns.get(&c).is_some_and(|cn| acl::check(&acl, perms::READ, &cn.auth));
            if allowed {
                self.send(c, f.clone());
            }
        }
    }

    fn after_write(&mut self, entry: &TxnEntry, conn: Option<ConnId>, xid: i32, op_code: i32, result: TxnResult) {
        let session = SessionId(entry.header.client_id);
        match op_code {
            op::CREATE_SESSION => {
                if let Some(c) = conn {
                    self.session_created(c, session);
                }
            }
            op::CLOSE_SESSION => self.session_closed(session, conn, xid),
            _ => {
                if let Some(c) = conn {
                    let (err, body) = reply::write_reply(op_code, &entry.txn, result);
                    self.reply(c, xid, err, &body);
                }
            }
        }
    }

    /// Reads and other transaction-free requests, answered in queue order.
    fn read(&mut self, conn: ConnId, xid: i32, op_code: i32, body: Bytes) {
        let Some(c) = self.conns.get(&conn) else { return };
        let session = c.session;
        if op_code == op::PING {
            let f = reply::reply(XID_PING, self.tree.last_zxid.0, 0, &[]);
            self.send(conn, f);
            return;
        }
        if let Err(e) = self.check_session(session) {
            self.reply(conn, xid, e, &[]);
            return;
        }
        let mut reader = read::Reader {
            tree: &self.tree,
            watches: &mut self.watches,
            conn,
            session,
            auth: &c.auth,
            skip_acl: self.opts.prep.skip_acl,
            events: Vec::new(),
        };
        let r = read::read_op(&mut reader, op_code, &body);
        for e in std::mem::take(&mut reader.events) {
            self.send(conn, e);
        }
        match r {
            Ok(b) => self.reply(conn, xid, 0, &b),
            Err(ReadError { err, body }) => self.reply(conn, xid, err, body.as_deref().unwrap_or_default()),
        }
    }

    /// `ContainerManager.getCandidates`: empty containers that once had children, and
    /// expired TTL nodes; each gets a deleteContainer transaction from session 0.
    fn check_containers(&mut self) {
        let wall = self.now.wall_ms;
        let mut doomed = Vec::new();
        for p in self.tree.containers() {
            if let Some(n) = self.tree.get(p) {
                if n.child_count() == 0 {
                    let never_used = self.opts.container_max_never_used_ms;
                    if n.stat.cversion > 0 || (never_used > 0 && wall - n.stat.mtime > never_used) {
                        doomed.push(p.clone());
                    }
                }
            }
        }
        for p in self.tree.ttls() {
            if let Some(n) = self.tree.get(p) {
                if let crate::tree::OwnerKind::Ttl(ttl) = crate::tree::owner_kind(n.stat.ephemeral_owner, true) {
                    if n.child_count() == 0 && ttl != 0 && wall - n.stat.mtime > ttl {
                        doomed.push(p.clone());
                    }
                }
            }
        }
        doomed.truncate(self.opts.container_max_per_minute as usize);
        for p in doomed {
            self.submit_write(None, SessionId(0), 0, op::DELETE_CONTAINER, p.as_bytes(), Ok(()));
        }
    }
}

#[cfg(test)]
mod tests;
