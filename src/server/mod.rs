//! The server core: a sans-I/O state machine that owns the tree, sessions, watches and the
//! request pipeline (Java's Prep → Sync → Final processors without the threads).
//!
//! The runtime feeds it [`Input`]s with the current time and executes the [`Output`]s it
//! polls: bytes for connections, txn-log appends. A write is prepared at once (so pipelined
//! requests see each other), logged, and applied and answered only once the log reports it
//! durable. Every request waits behind earlier writes, as in Java's standalone pipeline, so
//! replies leave in request order and a watch event always precedes the reply that follows
//! the change.

pub mod fourlw;
pub mod persist;
pub mod prep;
pub mod session;
pub mod watch;

use crate::jute::error_code::*;
use crate::jute::multi::{MultiOp, MultiRequest, MultiResponse, OpResult};
use crate::jute::opcode::{self, op};
use crate::jute::records::*;
use crate::jute::txn::{Txn, TxnEntry};
use crate::jute::Jute;
use crate::tree::acl::{self, perms};
use crate::tree::{DataTree, EventType, TxnResult};
use bytes::{BufMut, Bytes, BytesMut};
use prep::{Ctx, Pending, PrepOptions};
use session::Sessions;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use watch::{ConnId, Mode, Watches};

/// Time as the runtime reads it: a monotonic clock for timeouts and the wall clock that
/// stamps transactions.
#[derive(Clone, Copy, Debug, Default)]
pub struct Now {
    pub mono_ms: u64,
    pub wall_ms: i64,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub server_id: i64,
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
            server_id: 1,
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
        zxid: i64,
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
    Append { zxid: i64, entry: Bytes },
    /// Write this image as `snapshot.<zxid>`.
    Snapshot { zxid: i64, image: Box<crate::storage::snapshot::SnapshotImage> },
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
    session: i64,
    auth: Vec<Id>,
    /// Whether the ConnectRequest carried the readOnly byte (the response mirrors it).
    read_only_byte: bool,
    backlog: VecDeque<Bytes>,
    pub stats: ConnStats,
}

#[derive(Clone, Debug, Default)]
pub struct ConnStats {
    pub received: u64,
    pub sent: u64,
    pub established_ms: i64,
    pub last_op: &'static str,
    pub last_cxid: i32,
    pub last_zxid: i64,
    pub last_response_ms: i64,
    pub last_latency: u64,
    pub min_latency: u64,
    pub max_latency: u64,
    pub total_latency: u64,
    pub count: u64,
}

/// A read's error code, and the body Java sends with it in the rare cases it sends one.
struct ReadError {
    err: i32,
    body: Option<Vec<u8>>,
}

impl From<i32> for ReadError {
    fn from(err: i32) -> ReadError {
        ReadError { err, body: None }
    }
}

enum Work {
    Write { entry: TxnEntry, conn: Option<ConnId>, xid: i32, op: i32, arrived: u64 },
    Read { conn: ConnId, xid: i32, op: i32, body: Bytes, arrived: u64 },
}

/// Server-wide counters for the four-letter words.
#[derive(Clone, Debug, Default)]
pub struct ServerStats {
    pub packets_received: u64,
    pub packets_sent: u64,
    pub min_latency: u64,
    pub max_latency: u64,
    pub total_latency: u64,
    pub count: u64,
}

impl ServerStats {
    fn record(&mut self, ms: u64) {
        if self.count == 0 || ms < self.min_latency {
            self.min_latency = ms;
        }
        self.max_latency = self.max_latency.max(ms);
        self.total_latency += ms;
        self.count += 1;
    }
}

pub struct Server {
    pub opts: Options,
    pub tree: DataTree,
    pending: Pending,
    sessions: Sessions,
    watches: Watches,
    conns: HashMap<ConnId, Conn>,
    queue: VecDeque<Work>,
    last_zxid: i64,
    durable_zxid: i64,
    outputs: VecDeque<Output>,
    now: Now,
    next_container_check: u64,
    pub stats: ServerStats,
}

const BACKLOG_MAX: usize = 10_000;

fn frame(f: impl FnOnce(&mut BytesMut)) -> Bytes {
    let mut b = BytesMut::with_capacity(64);
    b.put_i32(0);
    f(&mut b);
    let len = (b.len() - 4) as i32;
    b[0..4].copy_from_slice(&len.to_be_bytes());
    b.freeze()
}

impl Server {
    /// A server over a tree restored from disk (or fresh), whose log is durable up to
    /// `tree.last_zxid`.
    pub fn new(opts: Options, tree: DataTree, now: Now) -> Server {
        let first = session::first_session_id(now.wall_ms, opts.server_id);
        let mut sessions = Sessions::new(opts.tick_ms, first);
        // Restored sessions get a full fresh timeout from now, as Java does on restart.
        for (&id, &to) in &tree.sessions {
            sessions.add(id, to, now.mono_ms, None);
        }
        let last = tree.last_zxid;
        Server {
            next_container_check: now.mono_ms + opts.container_check_interval_ms,
            opts,
            tree,
            pending: Pending::default(),
            sessions,
            watches: Watches::default(),
            conns: HashMap::new(),
            queue: VecDeque::new(),
            last_zxid: last,
            durable_zxid: last,
            outputs: VecDeque::new(),
            now,
            stats: ServerStats::default(),
        }
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When `handle_timeout` should next be called (monotonic ms).
    pub fn poll_timeout(&self) -> Option<u64> {
        let s = self.sessions.next_expiry();
        let c = Some(self.next_container_check);
        match (s, c) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
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
                self.durable_zxid = self.durable_zxid.max(zxid);
                self.drain();
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
        for id in self.sessions.expired(now.mono_ms) {
            tracing::info!("Expiring session 0x{:x}, timeout of {}ms exceeded", id, self.timeout_of(id));
            self.submit_write(None, id, 0, op::CLOSE_SESSION, &[], Ok(()));
        }
        if now.mono_ms >= self.next_container_check {
            self.next_container_check = now.mono_ms + self.opts.container_check_interval_ms.max(1);
            self.check_containers();
        }
    }

    fn timeout_of(&self, id: i64) -> i32 {
        self.sessions.map.get(&id).map_or(0, |s| s.timeout_ms)
    }

    pub fn last_zxid(&self) -> i64 {
        self.tree.last_zxid
    }

    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    pub fn outstanding(&self) -> usize {
        self.queue.len()
    }

    fn accepted(&mut self, conn: ConnId, addr: SocketAddr) {
        let ip = addr.ip().to_string();
        if self.opts.max_client_cnxns > 0 {
            let same = self.conns.values().filter(|c| c.addr.ip() == addr.ip()).count();
            if same >= self.opts.max_client_cnxns {
                tracing::warn!("Too many connections from {} - max is {}", ip, self.opts.max_client_cnxns);
                self.outputs.push_back(Output::Close { conn });
                return;
            }
        }
        let c = Conn {
            addr,
            state: ConnState::New,
            session: 0,
            auth: vec![Id { scheme: "ip".into(), id: ip }],
            read_only_byte: false,
            backlog: VecDeque::new(),
            stats: ConnStats { established_ms: self.now.wall_ms, ..Default::default() },
        };
        self.conns.insert(conn, c);
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

    fn reply(&mut self, conn: ConnId, xid: i32, err: i32, body: Option<&dyn Fn(&mut BytesMut)>) {
        let zxid = self.tree.last_zxid;
        let f = frame(|b| {
            ReplyHeader { xid, zxid, err }.encode(b);
            if err == 0 {
                if let Some(body) = body {
                    body(b);
                }
            }
        });
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

    fn on_connect(&mut self, conn: ConnId, frame: Bytes) {
        let Ok(req) = ConnectRequest::from_slice(&frame) else {
            tracing::warn!("closing connection {conn}: malformed ConnectRequest");
            self.close(conn);
            return;
        };
        if req.last_zxid_seen > self.tree.last_zxid {
            tracing::info!(
                "Refusing session request for client as it has seen zxid 0x{:x} our last zxid is 0x{:x}",
                req.last_zxid_seen,
                self.tree.last_zxid
            );
            self.close(conn);
            return;
        }
        let timeout = req.time_out.clamp(
            self.opts.min_session_timeout_ms,
            self.opts.max_session_timeout_ms.max(self.opts.min_session_timeout_ms),
        );
        let now = self.now;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.read_only_byte = req.read_only.is_some();
        c.stats.received += 1;
        self.stats.packets_received += 1;
        if req.session_id == 0 {
            let id = self.sessions.next_id;
            self.sessions.next_id = self.sessions.next_id.wrapping_add(1);
            c.session = id;
            c.state = ConnState::Handshaking;
            self.sessions.add(id, timeout, now.mono_ms, Some(conn));
            let body = timeout.to_be_bytes();
            self.submit_write(Some(conn), id, 0, op::CREATE_SESSION, &body, Ok(()));
            return;
        }
        let id = req.session_id;
        // A session lives on one connection: a reconnect closes the old one (CLIENT_RECONNECT).
        let old: Vec<ConnId> =
            self.conns.iter().filter(|(k, c)| **k != conn && c.session == id).map(|(k, _)| *k).collect();
        for o in old {
            self.close(o);
        }
        let good_pw = req.passwd.as_deref() == Some(&session::password(id)[..]);
        let valid = good_pw && self.sessions.touch(id, Some(timeout), now.mono_ms);
        if valid {
            if let Some(s) = self.sessions.map.get_mut(&id) {
                s.conn = Some(conn);
            }
            if let Some(c) = self.conns.get_mut(&conn) {
                c.session = id;
                c.state = ConnState::Ready;
            }
            tracing::info!("Established session 0x{:x} with negotiated timeout {} for client {}", id, timeout, conn);
        }
        self.finish_session_init(conn, valid, id, timeout);
    }

    fn finish_session_init(&mut self, conn: ConnId, valid: bool, id: i64, timeout: i32) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let resp = ConnectResponse {
            protocol_version: 0,
            time_out: if valid { timeout } else { 0 },
            session_id: if valid { id } else { 0 },
            passwd: Bytes::copy_from_slice(&if valid { session::password(id) } else { [0u8; 16] }),
            read_only: if c.read_only_byte { Some(false) } else { None },
        };
        let f = frame(|b| resp.encode(b));
        self.send(conn, f);
        if !valid {
            tracing::info!("Invalid session 0x{:x} for client {}, probably expired", id, conn);
            self.close(conn);
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
        self.sessions.touch(session, None, now.mono_ms);
        match h.type_ {
            op::AUTH => self.on_auth(conn, body),
            op::SASL => {
                self.reply(conn, h.xid, AUTH_FAILED, None);
                self.close(conn);
            }
            t if opcode::is_client_write(t) => {
                let ok = self.sessions.check(session);
                self.submit_write(Some(conn), session, h.xid, t, &body, ok);
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
                self.reply(conn, h.xid, UNIMPLEMENTED, None);
                self.close(conn);
            }
        }
    }

    fn on_auth(&mut self, conn: ConnId, mut body: Bytes) {
        let Ok(a) = AuthPacket::decode(&mut body) else {
            self.close(conn);
            return;
        };
        let super_digest = self.opts.super_digest.clone();
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let add = |id: Id, c: &mut Conn| {
            if !c.auth.contains(&id) {
                c.auth.push(id);
                acl::java_set_order(&mut c.auth);
            }
        };
        let ok = match a.scheme.as_str() {
            "digest" => {
                let d = acl::digest_id(&String::from_utf8_lossy(&a.auth));
                if super_digest.as_deref() == Some(d.as_str()) {
                    add(Id { scheme: "super".into(), id: String::new() }, c);
                }
                add(Id { scheme: "digest".into(), id: d }, c);
                true
            }
            "ip" => {
                let ip = c.addr.ip().to_string();
                add(Id { scheme: "ip".into(), id: ip }, c);
                true
            }
            _ => false,
        };
        let f = frame(|b| ReplyHeader { xid: -4, zxid: 0, err: if ok { 0 } else { AUTH_FAILED } }.encode(b));
        self.send(conn, f);
        if !ok {
            tracing::warn!("Authentication failed for scheme: {}", a.scheme);
            self.close(conn);
        }
    }

    /// Prep, log, queue. The reply goes out when the entry is durable.
    fn submit_write(
        &mut self,
        conn: Option<ConnId>,
        session: i64,
        xid: i32,
        op_code: i32,
        body: &[u8],
        ok: Result<(), i32>,
    ) {
        self.last_zxid += 1;
        let auth = conn.and_then(|c| self.conns.get(&c)).map(|c| c.auth.clone()).unwrap_or_default();
        let ctx = Ctx {
            session,
            cxid: xid,
            zxid: self.last_zxid,
            time: self.now.wall_ms,
            auth: &auth,
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
        self.outputs.push_back(Output::Append { zxid: entry.header.zxid, entry: bytes });
        self.queue.push_back(Work::Write { entry, conn, xid, op: op_code, arrived: self.now.mono_ms });
    }

    fn drain(&mut self) {
        loop {
            match self.queue.front() {
                Some(Work::Write { entry, .. }) if entry.header.zxid <= self.durable_zxid => {}
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
        self.stats.record(ms);
        let (zxid, wall) = (self.tree.last_zxid, self.now.wall_ms);
        if let Some(c) = self.conns.get_mut(&conn) {
            let s = &mut c.stats;
            s.last_op = opcode::short_name(op_code);
            s.last_cxid = xid;
            s.last_zxid = zxid;
            s.last_response_ms = wall;
            s.last_latency = ms;
            if s.count == 0 || ms < s.min_latency {
                s.min_latency = ms;
            }
            s.max_latency = s.max_latency.max(ms);
            s.total_latency += ms;
            s.count += 1;
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
            Work::Write { entry, conn, xid, op, arrived } => {
                let applied = self.tree.apply(&entry.header, &entry.txn);
                self.pending.applied(entry.header.zxid);
                for ev in &applied.events {
                    self.notify(ev);
                }
                self.after_write(&entry, conn, xid, op, applied.result);
                if let Some(c) = conn {
                    self.latency(c, arrived, xid, op);
                }
            }
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
        let f = frame(|b| {
            ReplyHeader { xid: -1, zxid: -1, err: 0 }.encode(b);
            WatcherEvent { type_: ev.kind as i32, state: 3, path: ev.path.clone() }.encode(b);
        });
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
        let session = entry.header.client_id;
        match op_code {
            op::CREATE_SESSION => {
                let Some(c) = conn else { return };
                let timeout = self.timeout_of(session);
                let live = self.conns.get(&c).is_some_and(|cn| cn.state == ConnState::Handshaking);
                if !live {
                    return;
                }
                if let Some(cn) = self.conns.get_mut(&c) {
                    cn.state = ConnState::Ready;
                }
                tracing::info!(
                    "Established session 0x{:x} with negotiated timeout {} for client {}",
                    session,
                    timeout,
                    c
                );
                self.finish_session_init(c, true, session, timeout);
                let backlog: Vec<Bytes> =
                    self.conns.get_mut(&c).map(|cn| cn.backlog.drain(..).collect()).unwrap_or_default();
                for f in backlog {
                    self.on_request(c, f);
                }
            }
            op::CLOSE_SESSION => {
                self.sessions.remove(session);
                if let Some(c) = conn {
                    self.reply(c, xid, 0, None);
                }
                let holders: Vec<ConnId> =
                    self.conns.iter().filter(|(_, c)| c.session == session).map(|(k, _)| *k).collect();
                for h in holders {
                    self.close(h);
                }
            }
            _ => {
                let Some(c) = conn else { return };
                let err = result.err();
                match (&entry.txn, result) {
                    (Txn::Multi(subs), TxnResult::Multi(results)) => {
                        let rs: Vec<OpResult> = subs
                            .iter()
                            .zip(results)
                            .map(|(s, r)| match r {
                                TxnResult::Created { path, stat } => match s.type_code() {
                                    op::CREATE => OpResult::Create(path),
                                    _ => OpResult::Create2(path, stat),
                                },
                                TxnResult::Deleted => OpResult::Delete,
                                TxnResult::SetData(st) => OpResult::SetData(st),
                                TxnResult::Check => OpResult::Check,
                                TxnResult::Error(e) => OpResult::Error(e),
                                _ => OpResult::Error(RUNTIME_INCONSISTENCY),
                            })
                            .collect();
                        let m = MultiResponse { results: rs };
                        self.reply(c, xid, 0, Some(&|b| m.encode(b)));
                    }
                    (_, TxnResult::Created { path, stat }) => {
                        if op_code == op::CREATE {
                            self.reply(c, xid, 0, Some(&|b| path.encode(b)));
                        } else {
                            self.reply(
                                c,
                                xid,
                                0,
                                Some(&|b| Create2Response { path: path.clone(), stat: stat.clone() }.encode(b)),
                            );
                        }
                    }
                    (_, TxnResult::SetData(st)) | (_, TxnResult::SetAcl(st)) => {
                        self.reply(c, xid, 0, Some(&|b| st.encode(b)));
                    }
                    _ => self.reply(c, xid, err, None),
                }
            }
        }
    }

    /// Reads and other transaction-free requests (`FinalRequestProcessor`).
    fn read(&mut self, conn: ConnId, xid: i32, op_code: i32, body: Bytes) {
        let session = self.conns.get(&conn).map_or(0, |c| c.session);
        if op_code == op::PING {
            let f = frame(|b| ReplyHeader { xid: -2, zxid: self.tree.last_zxid, err: 0 }.encode(b));
            self.send(conn, f);
            return;
        }
        if let Err(e) = self.sessions.check(session) {
            self.reply(conn, xid, e, None);
            return;
        }
        let r = self.read_op(conn, op_code, &body);
        match r {
            Ok(b) => {
                let zxid = self.tree.last_zxid;
                let f = frame(|out| {
                    ReplyHeader { xid, zxid, err: 0 }.encode(out);
                    out.put_slice(&b);
                });
                self.send(conn, f);
            }
            Err(ReadError { err, body: None }) => self.reply(conn, xid, err, None),
            Err(ReadError { err, body: Some(b) }) => {
                let zxid = self.tree.last_zxid;
                let f = frame(|out| {
                    ReplyHeader { xid, zxid, err }.encode(out);
                    out.put_slice(&b);
                });
                self.send(conn, f);
            }
        }
    }

    fn auth_of(&self, conn: ConnId) -> Vec<Id> {
        self.conns.get(&conn).map(|c| c.auth.clone()).unwrap_or_default()
    }

    fn lookup(&self, p: &str) -> Option<&crate::tree::Znode> {
        // Java's tree also holds the root under "".
        self.tree.get(if p.is_empty() { "/" } else { p })
    }

    fn check_read(&self, conn: ConnId, node: &crate::tree::Znode, perm: i32) -> Result<(), i32> {
        if self.opts.prep.skip_acl || acl::check(&self.tree.acl_of(node), perm, &self.auth_of(conn)) {
            Ok(())
        } else {
            Err(NO_AUTH)
        }
    }

    fn read_op(&mut self, conn: ConnId, op_code: i32, body: &[u8]) -> Result<Vec<u8>, ReadError> {
        fn dec<T: Jute>(b: &[u8]) -> Result<T, i32> {
            T::from_slice(b).map_err(|_| MARSHALLING_ERROR)
        }
        let mut out = Vec::new();
        match op_code {
            op::EXISTS => {
                let r: ExistsRequest = dec(body)?;
                if r.path.contains('\0') {
                    return Err(BAD_ARGUMENTS.into());
                }
                if r.watch {
                    self.watches.data.add(&r.path, conn, Mode::Standard);
                }
                let n = self.lookup(&r.path).ok_or(NO_NODE)?;
                self.tree.stat_of(n).encode(&mut out);
            }
            op::GET_DATA => {
                let r: GetDataRequest = dec(body)?;
                let n = self.lookup(&r.path).ok_or(NO_NODE)?;
                self.check_read(conn, n, perms::READ)?;
                GetDataResponse { data: n.data.clone(), stat: self.tree.stat_of(n) }.encode(&mut out);
                if r.watch {
                    self.watches.data.add(&r.path, conn, Mode::Standard);
                }
            }
            op::GET_ACL => {
                let r: GetAclRequest = dec(body)?;
                let n = self.lookup(&r.path).ok_or(NO_NODE)?;
                self.check_read(conn, n, perms::READ | perms::ADMIN)?;
                let mut list = self.tree.acl_of(n);
                // CVE-2019-0201: without ADMIN, digest hashes are masked.
                if self.check_read(conn, n, perms::ADMIN).is_err() {
                    for a in &mut list {
                        if a.id.scheme == "digest" {
                            let user = a.id.id.split(':').next().unwrap_or("").to_string();
                            a.id.id = format!("{user}:x");
                        }
                    }
                }
                GetAclResponse { acl: list, stat: self.tree.stat_of(n) }.encode(&mut out);
            }
            op::GET_CHILDREN | op::GET_CHILDREN2 => {
                let r: GetChildrenRequest = dec(body)?;
                let n = self.lookup(&r.path).ok_or(NO_NODE)?;
                self.check_read(conn, n, perms::READ)?;
                let children: Vec<String> = self.tree.child_names(n);
                children.encode(&mut out);
                if op_code == op::GET_CHILDREN2 {
                    self.tree.stat_of(n).encode(&mut out);
                }
                if r.watch {
                    self.watches.child.add(&r.path, conn, Mode::Standard);
                }
            }
            op::GET_ALL_CHILDREN_NUMBER => {
                let r: GetAllChildrenNumberRequest = dec(body)?;
                let n = self.lookup(&r.path).ok_or(NO_NODE)?;
                self.check_read(conn, n, perms::READ)?;
                // Java counts keys starting with `path + "/"`: for "" that is every node.
                let n = if r.path.is_empty() {
                    self.tree.node_count() as i32
                } else {
                    self.tree.all_children_number(&r.path)
                };
                n.encode(&mut out);
            }
            op::SYNC => {
                let r: SyncRequest = dec(body)?;
                r.encode(&mut out);
            }
            op::GET_EPHEMERALS => {
                let r: GetEphemeralsRequest = dec(body)?;
                let session = self.conns.get(&conn).map_or(0, |c| c.session);
                let prefix = r.prefix_path.unwrap_or_default();
                let prefix = prefix.trim();
                let all: Vec<String> = self
                    .tree
                    .ephemerals_of(session)
                    .map(|s| {
                        s.iter()
                            .filter(|p| prefix.is_empty() || prefix == "/" || p.starts_with(prefix))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                all.encode(&mut out);
            }
            op::SET_WATCHES | op::SET_WATCHES2 => {
                let w = if op_code == op::SET_WATCHES {
                    let s: SetWatches = dec(body)?;
                    SetWatches2 {
                        relative_zxid: s.relative_zxid,
                        data_watches: s.data_watches,
                        exist_watches: s.exist_watches,
                        child_watches: s.child_watches,
                        ..Default::default()
                    }
                } else {
                    dec(body)?
                };
                self.set_watches(conn, w);
            }
            op::ADD_WATCH => {
                let r: AddWatchRequest = dec(body)?;
                match r.mode {
                    // Java 3.8.0 puts both persistent modes into both tables.
                    0 => {
                        self.watches.data.add(&r.path, conn, Mode::Persistent);
                        self.watches.child.add(&r.path, conn, Mode::Persistent);
                    }
                    1 => {
                        self.watches.data.add(&r.path, conn, Mode::PersistentRecursive);
                        self.watches.child.add(&r.path, conn, Mode::PersistentRecursive);
                    }
                    _ => return Err(BAD_ARGUMENTS.into()),
                }
                ErrorResponse { err: 0 }.encode(&mut out);
            }
            op::CHECK_WATCHES | op::REMOVE_WATCHES => {
                let r: CheckWatchesRequest = dec(body)?;
                let (data, child) = match r.type_ {
                    1 => (false, true),
                    2 => (true, false),
                    3 => (true, true),
                    _ => return Err(BAD_ARGUMENTS.into()),
                };
                if op_code == op::CHECK_WATCHES {
                    // Java 3.8.0's containsWatcher ignores the caller: any watch on the path counts.
                    let has =
                        (data && self.watches.data.any_on(&r.path)) || (child && self.watches.child.any_on(&r.path));
                    if !has {
                        return Err(NO_WATCHER.into());
                    }
                } else {
                    let c = child && self.watches.child.remove(&r.path, conn).is_some();
                    let d = data && self.watches.data.remove(&r.path, conn).is_some();
                    if !c && !d {
                        return Err(NO_WATCHER.into());
                    }
                }
            }
            op::MULTI_READ => {
                let m: MultiRequest = dec(body)?;
                if m.ops.iter().any(|o| o.is_read()) && m.ops.iter().any(|o| !o.is_read()) {
                    // "Mixing different kind of ops" while deserialising: no body.
                    return Err(MARSHALLING_ERROR.into());
                }
                let mut results = Vec::with_capacity(m.ops.len());
                for o in &m.ops {
                    let r = match o {
                        MultiOp::GetChildren(g) => match self.lookup(&g.path) {
                            None => OpResult::Error(NO_NODE),
                            Some(n) => match self.check_read(conn, n, perms::READ) {
                                Err(e) => OpResult::Error(e),
                                Ok(()) => OpResult::GetChildren(self.tree.child_names(n)),
                            },
                        },
                        MultiOp::GetData(g) => match self.lookup(&g.path) {
                            None => OpResult::Error(NO_NODE),
                            Some(n) => match self.check_read(conn, n, perms::READ) {
                                Err(e) => OpResult::Error(e),
                                Ok(()) => OpResult::GetData(GetDataResponse {
                                    data: n.data.clone(),
                                    stat: self.tree.stat_of(n),
                                }),
                            },
                        },
                        _ => {
                            // Java throws on a write op here after building the results so far,
                            // and sends them with MARSHALLINGERROR.
                            let body = MultiResponse { results }.to_bytes();
                            return Err(ReadError { err: MARSHALLING_ERROR, body: Some(body) });
                        }
                    };
                    results.push(r);
                }
                MultiResponse { results }.encode(&mut out);
            }
            op::WHO_AM_I => {
                let infos: Vec<ClientInfo> = self
                    .auth_of(conn)
                    .into_iter()
                    .map(|id| {
                        let user = match id.scheme.as_str() {
                            "digest" => id.id.split(':').next().unwrap_or("").to_string(),
                            _ => id.id.clone(),
                        };
                        ClientInfo { auth_scheme: id.scheme, user }
                    })
                    .collect();
                WhoAmIResponse { client_info: infos }.encode(&mut out);
            }
            _ => return Err(UNIMPLEMENTED.into()),
        }
        Ok(out)
    }

    /// `DataTree.setWatches`: re-register a reconnecting client's watches, firing at once
    /// what it missed since `relative_zxid`.
    fn set_watches(&mut self, conn: ConnId, w: SetWatches2) {
        let rel = w.relative_zxid;
        let mut fire: Vec<(EventType, String)> = Vec::new();
        for p in w.data_watches {
            match self.lookup(&p) {
                None => fire.push((EventType::NodeDeleted, p)),
                Some(n) if n.stat.mzxid > rel => fire.push((EventType::NodeDataChanged, p)),
                Some(_) => self.watches.data.add(&p, conn, Mode::Standard),
            }
        }
        for p in w.exist_watches {
            if self.lookup(&p).is_some() {
                fire.push((EventType::NodeCreated, p));
            } else {
                self.watches.data.add(&p, conn, Mode::Standard);
            }
        }
        for p in w.child_watches {
            match self.lookup(&p) {
                None => fire.push((EventType::NodeDeleted, p)),
                Some(n) if n.stat.pzxid > rel => fire.push((EventType::NodeChildrenChanged, p)),
                Some(_) => self.watches.child.add(&p, conn, Mode::Standard),
            }
        }
        for p in w.persistent_watches {
            self.watches.data.add(&p, conn, Mode::Persistent);
            self.watches.child.add(&p, conn, Mode::Persistent);
        }
        for p in w.persistent_recursive_watches {
            self.watches.data.add(&p, conn, Mode::PersistentRecursive);
            self.watches.child.add(&p, conn, Mode::PersistentRecursive);
        }
        for (kind, p) in fire {
            let f = frame(|b| {
                ReplyHeader { xid: -1, zxid: -1, err: 0 }.encode(b);
                WatcherEvent { type_: kind as i32, state: 3, path: p.clone() }.encode(b);
            });
            self.send(conn, f);
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
            self.submit_write(None, 0, 0, op::DELETE_CONTAINER, p.as_bytes(), Ok(()));
        }
    }

    /// Four-letter words (`FourLetterCommands`): the core fills a snapshot of its state,
    /// `fourlw` formats it as Java does.
    fn four_letter(&mut self, conn: ConnId, word: [u8; 4], io: &IoFacts) -> String {
        use fourlw::{FourLw, SideEffect};
        let Some(cmd) = fourlw::command_from_int(i32::from_be_bytes(word)) else {
            return String::new();
        };
        let config = self.opts.config.clone();
        let info = self.fourlw_info(conn, io);
        match fourlw::side_effect(cmd, &info, &config) {
            Some(SideEffect::ResetConnectionStats) => {
                for c in self.conns.values_mut() {
                    c.stats = ConnStats { established_ms: c.stats.established_ms, ..Default::default() };
                }
            }
            Some(SideEffect::ResetServerStats) => self.stats = ServerStats::default(),
            _ => {}
        }
        if cmd == FourLw::TelnetClose {
            return String::new();
        }
        fourlw::render(cmd, &info, &config)
    }

    fn fourlw_info(&self, this_conn: ConnId, io: &IoFacts) -> fourlw::FourLwInfo {
        use fourlw::{ConnectionInfo, ExpiryBucket, SessionDump, Summary};
        let cwd = std::path::PathBuf::from(".");
        let mut info = fourlw::FourLwInfo::from_config(&self.opts.config, &cwd);
        let summary = |count: u64, total: u64, min: u64, max: u64| Summary {
            count: count as i64,
            total: total as i64,
            min: if count == 0 { i64::MAX } else { min as i64 },
            max: max as i64,
        };
        info.serving = true;
        info.last_zxid = self.tree.last_zxid;
        // Java's DataTree counts the root under both "" and "/".
        info.node_count = self.tree.node_count() as i64 + 1;
        info.latency =
            summary(self.stats.count, self.stats.total_latency, self.stats.min_latency, self.stats.max_latency);
        info.packets_received = self.stats.packets_received as i64;
        info.packets_sent = self.stats.packets_sent as i64;
        // The 4lw connection itself counts, as in Java.
        info.num_alive_connections = self.conns.len() as i64 + i64::from(!self.conns.contains_key(&this_conn));
        info.outstanding_requests = self.queue.len() as i64;
        let mut ids: Vec<&ConnId> = self.conns.keys().collect();
        ids.sort();
        for id in ids {
            let Some(c) = self.conns.get(id) else { continue };
            let st = &c.stats;
            info.connections.push(ConnectionInfo {
                remote: c.addr,
                interest_ops: 1,
                outstanding: 0,
                packets_received: st.received as i64,
                packets_sent: st.sent as i64,
                session_id: c.session,
                last_op: if st.last_op.is_empty() { "NA".into() } else { st.last_op.into() },
                established_ms: st.established_ms,
                session_timeout_ms: self.sessions.map.get(&c.session).map_or(0, |s| s.timeout_ms),
                last_cxid: if st.count == 0 { -1 } else { i64::from(st.last_cxid) },
                last_zxid: if st.count == 0 { -1 } else { st.last_zxid },
                last_response_time_ms: st.last_response_ms,
                last_latency_ms: st.last_latency as i64,
                latency: summary(st.count, st.total_latency, st.min_latency, st.max_latency),
            });
        }
        let mut by_session: std::collections::BTreeMap<i64, Vec<String>> = std::collections::BTreeMap::new();
        for conn in self.watches.data.conns() {
            if let Some(c) = self.conns.get(&conn) {
                by_session.entry(c.session).or_default().extend(self.watches.data.paths_of(conn));
            }
        }
        info.data_watches = by_session.into_iter().collect();
        info.watch_count = (self.watches.data.count() + self.watches.child.count()) as i64;
        let mut eph: Vec<(i64, Vec<String>)> =
            self.tree.all_ephemerals().iter().map(|(s, p)| (*s, p.iter().cloned().collect())).collect();
        eph.sort();
        info.ephemerals = eph;
        let mut buckets: std::collections::BTreeMap<u64, Vec<i64>> = std::collections::BTreeMap::new();
        for (id, s) in &self.sessions.map {
            buckets.entry(s.expire_at).or_default().push(*id);
        }
        // Expiry times are on the monotonic clock; `dump` prints wall-clock times.
        let offset = self.now.wall_ms - self.now.mono_ms as i64;
        info.sessions = SessionDump::Expiry {
            local: None,
            global: buckets
                .into_iter()
                .map(|(at, mut ids)| {
                    ids.sort();
                    ExpiryBucket { expire_at_ms: at as i64 + offset, entries: ids }
                })
                .collect(),
        };
        info.ephemerals_count = self.tree.ephemeral_count() as i64;
        info.approximate_data_size = self.tree.approximate_data_size() as i64;
        info.global_sessions = self.sessions.map.len() as i64;
        info.open_file_descriptor_count = io.open_fds;
        info.max_file_descriptor_count = io.max_fds;
        info.uptime_ms = self.now.mono_ms as i64;
        info.data_dir_size = io.data_dir_size;
        info.log_dir_size = io.log_dir_size;
        info.digest_log = self.tree.digest_log.iter().map(|(z, d)| (*z, *d as i64)).collect();
        info
    }
}

#[cfg(test)]
mod tests;
