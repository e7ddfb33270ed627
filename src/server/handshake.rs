//! A connection's way to a session and back: accepting it, the `ConnectRequest` handshake
//! (a new session goes through the log as a createSession txn; a reattach is checked against
//! the session's password), auth packets, and what a committed createSession/closeSession
//! does to the connections (`NIOServerCnxn`/`ZooKeeperServer.processConnectRequest`).
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::reply::{self, XID_AUTH};
use super::session;
use super::stats::ConnStats;
use super::watch::ConnId;
use super::{Conn, ConnState, Output, Server};
use crate::jute::error_code::AUTH_FAILED;
use crate::jute::opcode::op;
use crate::jute::records::{AuthPacket, ConnectRequest, ConnectResponse, Id};
use crate::jute::Jute;
use crate::tree::acl;
use crate::types::SessionId;
use bytes::Bytes;
use std::collections::VecDeque;
use std::net::SocketAddr;

impl Server {
    pub(super) fn accepted(&mut self, conn: ConnId, addr: SocketAddr) {
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
            session: SessionId(0),
            auth: vec![Id { scheme: "ip".into(), id: ip }],
            read_only_byte: false,
            backlog: VecDeque::new(),
            stats: ConnStats { established_ms: self.now.wall_ms, ..Default::default() },
            sasl: Default::default(),
        };
        self.conns.insert(conn, c);
    }

    pub(super) fn on_connect(&mut self, conn: ConnId, frame: Bytes) {
        let Ok(req) = ConnectRequest::from_slice(&frame) else {
            tracing::warn!("closing connection {conn}: malformed ConnectRequest");
            self.close(conn);
            return;
        };
        if !self.is_serving() {
            tracing::info!("Closing connection {conn}: ZooKeeperServer not running");
            self.close(conn);
            return;
        }
        let read_only = self.pipeline == super::Pipeline::ReadOnly;
        if read_only && req.read_only != Some(true) {
            tracing::info!("Refusing session request for not-read-only client {conn}");
            self.close(conn);
            return;
        }
        if req.last_zxid_seen > self.tree.last_zxid.0 {
            tracing::info!(
                "Refusing session request for client as it has seen zxid 0x{:x} our last zxid is 0x{:x}",
                req.last_zxid_seen,
                self.tree.last_zxid.0
            );
            self.close(conn);
            return;
        }
        let timeout = req.time_out.clamp(
            self.opts.min_session_timeout_ms,
            self.opts.max_session_timeout_ms.max(self.opts.min_session_timeout_ms),
        );
        let now = self.now;
        let local = self.makes_local_sessions();
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.read_only_byte = req.read_only.is_some();
        c.stats.received += 1;
        self.stats.packets_received += 1;
        if req.session_id == 0 && local {
            let id = self.sessions.next_id;
            self.sessions.next_id = SessionId(self.sessions.next_id.0.wrapping_add(1));
            self.create_local_session(conn, id, timeout);
            return;
        }
        if req.session_id == 0 && read_only {
            // ReadOnlyRequestProcessor answers a global createSession with NOTREADONLY: a bare
            // ReplyHeader where the client expects its ConnectResponse.
            let f = reply::reply(0, self.tree.last_zxid.0, crate::jute::error_code::NOT_READ_ONLY, &[]);
            self.send(conn, f);
            return;
        }
        if req.session_id == 0 {
            let id = self.sessions.next_id;
            self.sessions.next_id = SessionId(id.0.wrapping_add(1));
            c.session = id;
            c.state = ConnState::Handshaking;
            self.sessions.add(id, timeout, now.mono_ms, Some(conn));
            let body = timeout.to_be_bytes();
            self.submit_write(Some(conn), id, 0, op::CREATE_SESSION, &body, Ok(()));
            return;
        }
        let id = SessionId(req.session_id);
        // A session lives on one connection: a reconnect closes the old one (CLIENT_RECONNECT).
        let mut old: Vec<ConnId> =
            self.conns.iter().filter(|(k, c)| **k != conn && c.session == id).map(|(k, _)| *k).collect();
        old.sort_unstable();
        for o in old {
            self.close(o);
        }
        let good_pw = req.passwd.as_deref() == Some(&session::password(id)[..]);
        if read_only {
            // ReadOnlyZooKeeperServer.validateSession: a global session may not come back in
            // read-only mode (the connection closes); a local one of this server may.
            if self.tree.sessions.contains_key(&id.0) {
                tracing::info!("Refusing global session reconnection in RO mode {conn}");
                self.close(conn);
                return;
            }
            let valid = good_pw && self.local_sessions.touch(id, Some(timeout), now.mono_ms);
            if valid {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.session = id;
                    c.state = ConnState::Ready;
                }
            }
            self.finish_session_init(conn, valid, id, timeout);
            return;
        }
        if good_pw && matches!(self.pipeline, super::Pipeline::Learner { .. }) {
            // LearnerZooKeeperServer.revalidateSession: the leader owns session liveness.
            self.revalidate(conn, id, timeout);
            return;
        }
        let valid = good_pw && self.sessions.touch(id, Some(timeout), now.mono_ms);
        if valid {
            if let Some(s) = self.sessions.map.get_mut(&id) {
                s.conn = Some(conn);
            }
            if let Some(c) = self.conns.get_mut(&conn) {
                c.session = id;
                c.state = ConnState::Ready;
            }
            tracing::info!("Established session {} with negotiated timeout {} for client {}", id, timeout, conn);
        }
        self.finish_session_init(conn, valid, id, timeout);
    }

    pub(super) fn finish_session_init(&mut self, conn: ConnId, valid: bool, id: SessionId, timeout: i32) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let resp = ConnectResponse {
            protocol_version: 0,
            time_out: if valid { timeout } else { 0 },
            session_id: if valid { id.0 } else { 0 },
            passwd: Bytes::copy_from_slice(&if valid { session::password(id) } else { [0u8; 16] }),
            read_only: c.read_only_byte.then_some(self.pipeline == super::Pipeline::ReadOnly),
        };
        let f = reply::frame(|b| resp.encode(b));
        self.send(conn, f);
        if !valid {
            tracing::info!("Invalid session {} for client {}, probably expired", id, conn);
            self.close(conn);
        }
    }

    pub(super) fn on_auth(&mut self, conn: ConnId, mut body: Bytes) {
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
        let f = reply::reply(XID_AUTH, 0, if ok { 0 } else { AUTH_FAILED }, &[]);
        self.send(conn, f);
        if !ok {
            tracing::warn!("Authentication failed for scheme: {}", a.scheme);
            self.close(conn);
        }
    }

    /// The createSession txn of `session` is applied: the handshake that asked for it can
    /// answer, and the requests that arrived meanwhile run.
    pub(super) fn session_created(&mut self, c: ConnId, session: SessionId) {
        let timeout = self.timeout_of(session);
        let live = self.conns.get(&c).is_some_and(|cn| cn.state == ConnState::Handshaking);
        if !live {
            return;
        }
        if let Some(cn) = self.conns.get_mut(&c) {
            cn.state = ConnState::Ready;
        }
        tracing::info!("Established session {} with negotiated timeout {} for client {}", session, timeout, c);
        self.finish_session_init(c, true, session, timeout);
        let backlog: Vec<Bytes> = self.conns.get_mut(&c).map(|cn| cn.backlog.drain(..).collect()).unwrap_or_default();
        for f in backlog {
            self.on_request(c, f);
        }
    }

    /// The closeSession txn of `session` is applied: answer the closer, close every
    /// connection still on the session.
    pub(super) fn session_closed(&mut self, session: SessionId, conn: Option<ConnId>, xid: i32) {
        self.sessions.remove(session);
        if let Some(c) = conn {
            self.reply(c, xid, 0, &[]);
        }
        let mut holders: Vec<ConnId> =
            self.conns.iter().filter(|(_, c)| c.session == session).map(|(k, _)| *k).collect();
        holders.sort_unstable();
        for h in holders {
            self.close(h);
        }
    }
}
