//! A simulated ZooKeeper client: the real client protocol (ConnectRequest, RequestHeader,
//! ReplyHeader, pings, watch notifications) as a small state machine the simulator feeds
//! bytes to, with the habits of Java's `ClientCnxn` that matter to a server:
//! - it pipelines a few requests and expects replies in request order;
//! - it pings when idle for a third of its session timeout, and declares the connection
//!   lost after two thirds of it without a byte (`readTimeout`);
//! - after a lost connection it reconnects to another member with its session id,
//!   password and the last zxid it has seen, and starts a new session if told the old one
//!   expired.
//!
//! It does not restore watches with SetWatches after a reconnect (a simplification: the
//! watches simply end with the connection), so every watch event must belong to a watch
//! registered on the same connection — which makes "fires once" checkable.
//!
//! While replies arrive it checks what only a client can see: replies in xid order, zxids
//! that never go backwards within a session, a watch event for every registered watch that
//! fires and none twice, and the event before any read that shows the change.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::history::{inv, AckedWrite, History};
use super::rng::Rng;
use super::trace::Trace;
use super::workload::{probe_request, setup_requests, Mix, Request, WatchFamily, Workload};
use crate::jute::opcode::op;
use crate::jute::records::*;
use crate::jute::Jute;
use crate::sim_trace;
use crate::types::Zxid;
use bytes::{Buf, Bytes, BytesMut};
use std::collections::{BTreeMap, VecDeque};

pub type ConnId = u64;

const XID_NOTIFICATION: i32 = -1;
const XID_PING: i32 = -2;
/// Error codes the client reacts to (`KeeperException.Code`).
const NONODE: i32 = -101;

/// What a client asks the simulator to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientOut {
    /// Open a connection to this member; answer with `on_open` or `on_closed`.
    Connect { member: usize },
    /// One frame for the server, without its length prefix.
    Send { conn: ConnId, frame: Bytes },
    /// Close the connection.
    Close { conn: ConnId },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConnState {
    Opening,
    Handshake,
    Ready,
}

#[derive(Debug)]
struct Conn {
    id: Option<ConnId>,
    member: usize,
    state: ConnState,
    rx: BytesMut,
    opened_ms: u64,
    last_recv_ms: u64,
    last_send_ms: u64,
}

#[derive(Debug)]
struct Outstanding {
    xid: i32,
    req: Request,
    sent_ms: u64,
}

/// What a watched read showed, to compare with later reads of the same node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seen {
    exists: bool,
    /// mzxid for data watches, pzxid for child watches.
    zxid: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub id: i64,
    pub passwd: Bytes,
    pub timeout_ms: i32,
}

/// What kind of client this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Random workload.
    Worker,
    /// Only creates `/probe<n>`, one at a time: the liveness check after heal.
    Probe,
    /// Sends exactly the requests a scenario queues, one at a time, to its pinned member.
    Scripted,
}

#[derive(Debug)]
pub struct Client {
    pub id: usize,
    pub role: Role,
    rng: Rng,
    workload: Workload,
    pub session: Option<Session>,
    conn: Option<Conn>,
    next_xid: i32,
    outstanding: VecDeque<Outstanding>,
    /// The highest zxid seen in a reply in this session (`lastZxidSeen`).
    last_zxid: i64,
    watches: BTreeMap<(String, WatchFamily), Seen>,
    /// Whether new requests may be sent (false while quiescing).
    pub issuing: bool,
    members: usize,
    requested_timeout_ms: i32,
    max_inflight: usize,
    next_op_ms: u64,
    retry_at_ms: u64,
    setup: VecDeque<Request>,
    probes_sent: u64,
    out: Vec<ClientOut>,
    /// Always connect to this member (scripted clients).
    pub pinned: Option<usize>,
    /// The requests a scripted client still has to send.
    pub script: VecDeque<Request>,
    /// A worker sometimes stops dead (a paused client process) past its session timeout,
    /// so the server expires its session and it has to start a new one.
    silent_until: u64,
}

impl Client {
    pub fn new(id: usize, role: Role, members: usize, mix: Mix, rng: Rng) -> Client {
        let mut rng = rng;
        let requested_timeout_ms = rng.range(4000, 12000) as i32;
        let max_inflight = rng.range(1, 3) as usize;
        Client {
            id,
            role,
            workload: Workload::new(id, mix),
            rng,
            session: None,
            conn: None,
            next_xid: 1,
            outstanding: VecDeque::new(),
            last_zxid: 0,
            watches: BTreeMap::new(),
            issuing: role != Role::Probe,
            members,
            requested_timeout_ms,
            max_inflight,
            next_op_ms: 0,
            retry_at_ms: 0,
            setup: if id == 0 && role == Role::Worker { setup_requests().into() } else { VecDeque::new() },
            probes_sent: 0,
            out: Vec::new(),
            pinned: None,
            script: VecDeque::new(),
            silent_until: 0,
        }
    }

    pub fn take_outputs(&mut self) -> Vec<ClientOut> {
        std::mem::take(&mut self.out)
    }

    pub fn member(&self) -> Option<usize> {
        self.conn.as_ref().map(|c| c.member)
    }

    pub fn conn_id(&self) -> Option<ConnId> {
        self.conn.as_ref().and_then(|c| c.id)
    }

    pub fn outstanding(&self) -> usize {
        self.outstanding.len()
    }

    fn timeout_ms(&self) -> u64 {
        self.session.as_ref().map_or(self.requested_timeout_ms, |s| s.timeout_ms).max(1) as u64
    }

    fn read_timeout_ms(&self) -> u64 {
        self.timeout_ms() * 2 / 3
    }

    /// Java's `connectTimeout`: the session timeout shared among the servers.
    fn connect_timeout_ms(&self) -> u64 {
        (self.timeout_ms() / self.members.max(1) as u64).max(200)
    }

    /// When `tick` should next run.
    pub fn next_wake(&self, now: u64) -> u64 {
        if now < self.silent_until {
            return self.silent_until;
        }
        let Some(c) = &self.conn else { return self.retry_at_ms.max(now + 1) };
        match c.state {
            ConnState::Opening | ConnState::Handshake => c.opened_ms + self.connect_timeout_ms(),
            ConnState::Ready => {
                let read = self.read_timeout_ms();
                let mut t = (c.last_recv_ms + read).min(c.last_send_ms + read / 2);
                if self.issuing && self.outstanding.len() < self.max_inflight {
                    t = t.min(self.next_op_ms);
                }
                t.max(now + 1)
            }
        }
    }

    /// Timers: connect, handshake and read timeouts, pings, and the next request.
    pub fn tick(&mut self, now: u64, trace: &mut Trace, history: &mut History) {
        if now < self.silent_until {
            return;
        }
        let read = self.read_timeout_ms();
        let connect = self.connect_timeout_ms();
        let Some(c) = &self.conn else {
            if now >= self.retry_at_ms {
                self.open(now, trace);
            }
            return;
        };
        match c.state {
            ConnState::Opening | ConnState::Handshake if now >= c.opened_ms + connect => {
                let member = c.member;
                sim_trace!(trace, now, "client {} connect to m{member} timed out", self.id);
                self.drop_conn(now, trace, history, true);
            }
            ConnState::Ready if now >= c.last_recv_ms + read => {
                let member = c.member;
                sim_trace!(trace, now, "client {} read timeout on m{member}", self.id);
                self.drop_conn(now, trace, history, true);
            }
            ConnState::Ready => {
                if self.issuing && self.outstanding.len() < self.max_inflight && now >= self.next_op_ms {
                    self.send_next(now, trace, history);
                }
                if let Some(c) = &self.conn {
                    if now >= c.last_send_ms + read / 2 {
                        self.ping(now);
                    }
                }
            }
            _ => {}
        }
    }

    fn open(&mut self, now: u64, trace: &mut Trace) {
        let previous = self.conn.as_ref().map(|c| c.member);
        let mut member = self.rng.below(self.members as u64) as usize;
        if Some(member) == previous && self.members > 1 {
            member = (member + 1) % self.members;
        }
        if let Some(p) = self.pinned {
            member = p;
        }
        sim_trace!(trace, now, "client {} connects to m{member}", self.id);
        self.conn = Some(Conn {
            id: None,
            member,
            state: ConnState::Opening,
            rx: BytesMut::new(),
            opened_ms: now,
            last_recv_ms: now,
            last_send_ms: now,
        });
        self.out.push(ClientOut::Connect { member });
    }

    /// The connection asked for is up: send the ConnectRequest.
    pub fn on_open(&mut self, now: u64, conn: ConnId, history: &mut History) {
        let Some(c) = &mut self.conn else { return };
        if c.state != ConnState::Opening {
            return;
        }
        c.id = Some(conn);
        c.state = ConnState::Handshake;
        c.last_send_ms = now;
        let (session_id, passwd) = match &self.session {
            Some(s) => (s.id, s.passwd.clone()),
            None => (0, Bytes::from_static(&[0; 16])),
        };
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: self.last_zxid,
            time_out: self.requested_timeout_ms,
            session_id,
            passwd: Some(passwd),
            read_only: Some(false),
        };
        history.stats.connects += 1;
        self.out.push(ClientOut::Send { conn, frame: Bytes::from(req.to_bytes()) });
    }

    /// The connection closed (by the server, a crash, or a failed connect).
    pub fn on_closed(&mut self, now: u64, conn: Option<ConnId>, trace: &mut Trace, history: &mut History) {
        let Some(c) = &self.conn else { return };
        if c.id != conn {
            return;
        }
        if c.state != ConnState::Ready {
            history.stats.refused_connects += 1;
        }
        sim_trace!(trace, now, "client {} lost its connection to m{}", self.id, c.member);
        self.drop_conn(now, trace, history, false);
    }

    fn drop_conn(&mut self, now: u64, trace: &mut Trace, history: &mut History, we_close: bool) {
        if let Some(c) = self.conn.take() {
            if let (true, Some(id)) = (we_close, c.id) {
                self.out.push(ClientOut::Close { conn: id });
            }
        }
        for o in self.outstanding.drain(..) {
            history.stats.lost += 1;
            sim_trace!(
                trace,
                now,
                "client {} xid {} {}: connection loss (outcome unknown)",
                self.id,
                o.xid,
                o.req.desc
            );
        }
        self.watches.clear();
        // Java's client waits a random moment before trying the next server.
        self.retry_at_ms = now + self.rng.range(1, 200);
    }

    fn send(&mut self, now: u64, xid: i32, opcode: i32, body: &[u8]) {
        let Some(c) = &mut self.conn else { return };
        let Some(id) = c.id else { return };
        let mut f = Vec::with_capacity(8 + body.len());
        RequestHeader { xid, type_: opcode }.encode(&mut f);
        f.extend_from_slice(body);
        c.last_send_ms = now;
        self.out.push(ClientOut::Send { conn: id, frame: Bytes::from(f) });
    }

    fn ping(&mut self, now: u64) {
        self.send(now, XID_PING, op::PING, &[]);
    }

    fn send_next(&mut self, now: u64, trace: &mut Trace, history: &mut History) {
        let req = match self.role {
            Role::Probe => {
                if !self.outstanding.is_empty() || history.probe_acked_at.is_some() {
                    return;
                }
                self.probes_sent += 1;
                probe_request(self.id as u64 * 1000 + self.probes_sent)
            }
            Role::Scripted => {
                if !self.outstanding.is_empty() {
                    return;
                }
                let Some(r) = self.script.pop_front() else { return };
                r
            }
            Role::Worker if self.setup.is_empty() && self.rng.chance(2) => {
                let ms = self.timeout_ms() * self.rng.range(15, 25) / 10;
                self.silent_until = now + ms;
                sim_trace!(trace, now, "client {} goes silent for {ms} ms (its session should expire)", self.id);
                return;
            }
            Role::Worker => match self.setup.pop_front() {
                Some(r) => r,
                None if self.rng.chance(4) => Request {
                    op: op::CLOSE_SESSION,
                    path: String::new(),
                    body: Vec::new(),
                    watch: None,
                    desc: "closeSession".into(),
                },
                None => self.workload.next(&mut self.rng),
            },
        };
        let xid = self.next_xid;
        self.next_xid = self.next_xid.wrapping_add(1).max(1);
        self.send(now, xid, req.op, &req.body);
        history.stats.sent += 1;
        let session = self.session.as_ref().map_or(0, |s| s.id);
        sim_trace!(trace, now, "client {} s=0x{session:x} xid {xid} -> {}", self.id, req.desc);
        self.outstanding.push_back(Outstanding { xid, req, sent_ms: now });
        self.next_op_ms = now + self.rng.latency(0, 40);
    }

    /// Bytes from the server, in order.
    pub fn on_bytes(&mut self, now: u64, conn: ConnId, bytes: &[u8], trace: &mut Trace, history: &mut History) {
        let Some(c) = &mut self.conn else { return };
        if c.id != Some(conn) {
            return;
        }
        c.rx.extend_from_slice(bytes);
        c.last_recv_ms = now;
        loop {
            let Some(c) = &mut self.conn else { return };
            let Some(&[a, b, x, y]) = c.rx.get(..4) else { return };
            let len = u32::from_be_bytes([a, b, x, y]) as usize;
            if c.rx.len() < 4 + len {
                return;
            }
            c.rx.advance(4);
            let frame = c.rx.split_to(len).freeze();
            let state = c.state;
            match state {
                ConnState::Handshake => self.on_connect_response(now, &frame, trace, history),
                ConnState::Ready => self.on_reply(now, frame, trace, history),
                ConnState::Opening => return,
            }
        }
    }

    fn on_connect_response(&mut self, now: u64, frame: &[u8], trace: &mut Trace, history: &mut History) {
        let member = self.conn.as_ref().map_or(0, |c| c.member);
        let resp = match ConnectResponse::from_slice(frame) {
            Ok(r) => r,
            Err(e) => {
                sim_trace!(trace, now, "client {} bad ConnectResponse from m{member}: {e}", self.id);
                self.drop_conn(now, trace, history, true);
                return;
            }
        };
        if resp.session_id == 0 || resp.time_out <= 0 {
            let old = self.session.take().map_or(0, |s| s.id);
            history.stats.sessions_expired += 1;
            sim_trace!(trace, now, "client {} session 0x{old:x} expired (m{member})", self.id);
            self.last_zxid = 0;
            self.drop_conn(now, trace, history, true);
            return;
        }
        if let Some(s) = &self.session {
            if s.id != resp.session_id {
                sim_trace!(trace, now, "client {} asked for 0x{:x}, got 0x{:x}", self.id, s.id, resp.session_id);
            }
        } else {
            history.stats.sessions_created += 1;
        }
        sim_trace!(
            trace,
            now,
            "client {} session 0x{:x} on m{member} (timeout {} ms)",
            self.id,
            resp.session_id,
            resp.time_out
        );
        self.session = Some(Session { id: resp.session_id, passwd: resp.passwd, timeout_ms: resp.time_out });
        if let Some(c) = &mut self.conn {
            c.state = ConnState::Ready;
        }
    }

    fn on_reply(&mut self, now: u64, frame: Bytes, trace: &mut Trace, history: &mut History) {
        let mut body = frame;
        let Ok(h) = ReplyHeader::decode(&mut body) else {
            sim_trace!(trace, now, "client {} undecodable reply header", self.id);
            self.drop_conn(now, trace, history, true);
            return;
        };
        match h.xid {
            XID_NOTIFICATION => self.on_event(now, &body, trace, history),
            XID_PING => {}
            x if x < 0 => {}
            _ => self.on_response(now, h, body, trace, history),
        }
    }

    fn on_response(&mut self, now: u64, h: ReplyHeader, body: Bytes, trace: &mut Trace, history: &mut History) {
        let session = self.session.as_ref().map_or(0, |s| s.id);
        let member = self.conn.as_ref().map_or(0, |c| c.member);
        history.stats.replies += 1;
        let o = match self.outstanding.front() {
            Some(o) if o.xid == h.xid => self.outstanding.pop_front(),
            Some(o) => {
                let expected = o.xid;
                history.violate(
                    inv::SESSION_FIFO,
                    now,
                    format!(
                        "client {} session 0x{session:x}: reply for xid {} while xid {expected} is older",
                        self.id, h.xid
                    ),
                );
                self.outstanding.iter().position(|o| o.xid == h.xid).and_then(|i| self.outstanding.remove(i))
            }
            None => {
                history.violate(
                    inv::SESSION_FIFO,
                    now,
                    format!("client {} session 0x{session:x}: reply for xid {} that was never sent", self.id, h.xid),
                );
                None
            }
        };
        if h.zxid < self.last_zxid {
            history.violate(
                inv::SESSION_FIFO,
                now,
                format!(
                    "client {} session 0x{session:x}: reply zxid 0x{:x} after 0x{:x} (m{member})",
                    self.id, h.zxid, self.last_zxid
                ),
            );
        }
        self.last_zxid = self.last_zxid.max(h.zxid);
        history.saw(Zxid(h.zxid), self.id, member, now);
        let Some(o) = o else { return };
        if h.err != 0 {
            *history.stats.errors.entry(h.err).or_default() += 1;
        }
        let shown = describe(o.req.op, h.err, &body);
        sim_trace!(
            trace,
            now,
            "client {} s=0x{session:x} xid {} <- err={} zxid=0x{:x} {} ({} ms, m{member})",
            self.id,
            o.xid,
            h.err,
            h.zxid,
            shown,
            now.saturating_sub(o.sent_ms)
        );
        if o.req.is_write() && h.err == 0 {
            history.ack(AckedWrite {
                zxid: Zxid(h.zxid),
                session,
                xid: o.xid,
                op: o.req.op,
                path: o.req.path.clone(),
                client: self.id,
                member,
                at_ms: now,
            });
            if self.role == Role::Probe {
                history.probe_acked_at.get_or_insert(now);
            }
        }
        if o.req.op == op::CLOSE_SESSION && h.err == 0 {
            self.session = None;
            self.last_zxid = 0;
            self.drop_conn(now, trace, history, true);
            return;
        }
        self.check_watched_read(now, &o.req, h.err, &body, history);
    }

    /// A read's result against the watches this connection holds: a watched node that
    /// changed must have fired its event before this reply (ZooKeeper's ordering promise).
    fn check_watched_read(&mut self, now: u64, req: &Request, err: i32, body: &[u8], history: &mut History) {
        let seen = match (req.op, err) {
            (op::GET_DATA, 0) => {
                GetDataResponse::from_slice(body).ok().map(|r| Seen { exists: true, zxid: r.stat.mzxid })
            }
            (op::EXISTS, 0) => ExistsResponse::from_slice(body).ok().map(|r| Seen { exists: true, zxid: r.stat.mzxid }),
            (op::GET_DATA | op::EXISTS, NONODE) => Some(Seen { exists: false, zxid: 0 }),
            (op::GET_CHILDREN2, 0) => {
                GetChildren2Response::from_slice(body).ok().map(|r| Seen { exists: true, zxid: r.stat.pzxid })
            }
            (op::GET_CHILDREN2, NONODE) => Some(Seen { exists: false, zxid: 0 }),
            _ => None,
        };
        let Some(seen) = seen else { return };
        let family = if req.op == op::GET_CHILDREN2 { WatchFamily::Child } else { WatchFamily::Data };
        let key = (req.path.clone(), family);
        if let Some(before) = self.watches.get(&key) {
            if *before != seen {
                history.violate(
                    inv::WATCH_BEFORE_DATA,
                    now,
                    format!(
                        "client {}: {:?} watch on {} saw {:?}, a later read shows {:?} with no event in between",
                        self.id, family, req.path, before, seen
                    ),
                );
            }
        }
        // getData and getChildren set no watch on a missing node; exists does.
        let registers = req.watch.is_some() && (seen.exists || req.op == op::EXISTS);
        if registers || self.watches.contains_key(&key) {
            self.watches.insert(key, seen);
        }
    }

    fn on_event(&mut self, now: u64, body: &[u8], trace: &mut Trace, history: &mut History) {
        history.stats.watch_events += 1;
        let Ok(ev) = WatcherEvent::from_slice(body) else {
            history.violate(inv::WATCH_ONCE, now, format!("client {}: undecodable watch event", self.id));
            return;
        };
        sim_trace!(trace, now, "client {} event type={} path={}", self.id, ev.type_, ev.path);
        let families: &[WatchFamily] = match ev.type_ {
            1 | 3 => &[WatchFamily::Data],
            2 => &[WatchFamily::Data, WatchFamily::Child],
            4 => &[WatchFamily::Child],
            _ => &[],
        };
        let mut fired = false;
        for f in families {
            fired |= self.watches.remove(&(ev.path.clone(), *f)).is_some();
        }
        if !fired {
            history.violate(
                inv::WATCH_ONCE,
                now,
                format!(
                    "client {}: event type {} on {} with no watch registered (duplicate or spurious)",
                    self.id, ev.type_, ev.path
                ),
            );
        }
    }

    /// Starts the liveness probe (after the faults stop).
    pub fn start_probe(&mut self) {
        self.issuing = true;
    }
}

/// A reply body in a few words, for the trace.
fn describe(opcode: i32, err: i32, body: &[u8]) -> String {
    if err != 0 {
        return String::new();
    }
    match opcode {
        op::CREATE => String::from_slice(body).unwrap_or_default(),
        op::CREATE2 | op::CREATE_CONTAINER | op::CREATE_TTL => Create2Response::from_slice(body)
            .map(|r| format!("{} czxid=0x{:x}", r.path, r.stat.czxid))
            .unwrap_or_default(),
        op::SET_DATA => {
            Stat::from_slice(body).map(|s| format!("mzxid=0x{:x} v{}", s.mzxid, s.version)).unwrap_or_default()
        }
        op::GET_DATA => GetDataResponse::from_slice(body)
            .map(|r| {
                format!(
                    "{:?} mzxid=0x{:x} v{}",
                    String::from_utf8_lossy(r.data.as_deref().unwrap_or_default()),
                    r.stat.mzxid,
                    r.stat.version
                )
            })
            .unwrap_or_default(),
        op::EXISTS => Stat::from_slice(body).map(|s| format!("mzxid=0x{:x}", s.mzxid)).unwrap_or_default(),
        op::GET_CHILDREN2 => GetChildren2Response::from_slice(body)
            .map(|r| format!("{} children pzxid=0x{:x}", r.children.len(), r.stat.pzxid))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
