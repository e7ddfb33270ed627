//! Local sessions (`localSessionsEnabled`, `localSessionsUpgradingEnabled`;
//! `UpgradeableSessionTracker`, `LocalSessionTracker`): in an ensemble, a new session lives on
//! the member the client connected to, with no quorum write to create or close it, and expires
//! there. Its writes go through the leader like any other (the leader accepts a session it does
//! not know when another member made it). Before it may own an ephemeral node it is upgraded:
//! a global createSession goes first (or, with upgrading off, the create is refused with
//! EPHEMERALONLOCALSESSION).
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::watch::ConnId;
use super::{Pipeline, Server};
use crate::jute::error_code::EPHEMERAL_ON_LOCAL_SESSION;
use crate::jute::multi::{MultiOp, MultiRequest};
use crate::jute::opcode::op;
use crate::jute::records::CreateRequest;
use crate::jute::Jute;
use crate::types::SessionId;

/// `CreateMode.isEphemeral` on a create's flags (ephemeral, ephemeral sequential).
fn ephemeral_flags(flags: i32) -> bool {
    matches!(flags, 1 | 3)
}

impl Server {
    /// Whether new sessions here are local (quorum members only, as in Java).
    pub(super) fn makes_local_sessions(&self) -> bool {
        self.opts.local_sessions
            && matches!(self.pipeline, Pipeline::Leader { .. } | Pipeline::Learner { .. } | Pipeline::ReadOnly)
    }

    pub(super) fn is_local_session(&self, id: SessionId) -> bool {
        self.local_sessions.map.contains_key(&id)
    }

    /// A new local session for `conn`: answered at once, nothing logged.
    pub(super) fn create_local_session(&mut self, conn: ConnId, id: SessionId, timeout: i32) {
        let now = self.now.mono_ms;
        self.local_sessions.add(id, timeout, now, Some(conn));
        if let Some(c) = self.conns.get_mut(&conn) {
            c.session = id;
            c.state = super::ConnState::Ready;
        }
        tracing::info!("Established session {} with negotiated timeout {} for client {} (local)", id, timeout, conn);
        self.finish_session_init(conn, true, id, timeout);
    }

    /// A local session ends (closed by its client or expired): no txn, its connections close.
    pub(super) fn end_local_session(&mut self, id: SessionId, conn: Option<ConnId>, xid: i32) {
        self.local_sessions.remove(id);
        if let Some(c) = conn {
            self.reply(c, xid, 0, &[]);
        }
        let mut holders: Vec<ConnId> = self.conns.iter().filter(|(_, c)| c.session == id).map(|(k, _)| *k).collect();
        holders.sort_unstable();
        for h in holders {
            self.close(h);
        }
    }

    /// Local sessions whose time has come expire here, on every member.
    pub(super) fn expire_local_sessions(&mut self, now_ms: u64) {
        for id in self.local_sessions.expired(now_ms) {
            tracing::info!("Expiring local session {}", id);
            self.end_local_session(id, None, 0);
        }
    }

    /// `checkUpgradeSession`: a local session about to create an ephemeral node first becomes
    /// global. Returns the error to answer with when upgrading is off; `Ok(true)` when the
    /// request should proceed after an upgrade was submitted, `Ok(false)` when nothing was
    /// needed.
    pub(super) fn upgrade_if_needed(&mut self, session: SessionId, op_code: i32, body: &[u8]) -> Result<bool, i32> {
        if !self.is_local_session(session) || !creates_ephemeral(op_code, body) {
            return Ok(false);
        }
        if !self.opts.local_sessions_upgrading {
            return Err(EPHEMERAL_ON_LOCAL_SESSION);
        }
        let Some(s) = self.local_sessions.remove(session) else { return Ok(false) };
        tracing::info!("Upgrading session {session} to a global session");
        let now = self.now.mono_ms;
        self.sessions.add(session, s.timeout_ms, now, s.conn);
        let timeout = s.timeout_ms.to_be_bytes();
        self.submit_write(None, session, 0, op::CREATE_SESSION, &timeout, Ok(()));
        Ok(true)
    }
}

/// Whether a create (or a multi) makes an ephemeral node.
fn creates_ephemeral(op_code: i32, body: &[u8]) -> bool {
    match op_code {
        op::CREATE | op::CREATE2 => CreateRequest::from_slice(body).is_ok_and(|c| ephemeral_flags(c.flags)),
        op::MULTI => MultiRequest::from_slice(body)
            .is_ok_and(|m| m.ops.iter().any(|o| matches!(o, MultiOp::Create(_, c) if ephemeral_flags(c.flags)))),
        _ => false,
    }
}
