//! The server core's place in an ensemble: where its writes go ([`Pipeline`]) and what the
//! quorum peer asks of it. The same prep, apply, replies and watches serve every role:
//! - standalone: prep → log → apply once durable;
//! - leader: prep (its own clients' writes and those learners forward) → proposal → apply
//!   once the quorum commits (`commit_upto`); session expiry and container reaping run here;
//! - learner (follower or observer): writes and syncs go to the leader (`Output::Forward`),
//!   committed txns arrive from the leader (`apply_committed`) and answer the local client
//!   that asked for them; a reconnecting session is revalidated with the leader; the sessions
//!   active here are reported in every PING reply (`take_touched`);
//! - down: looking or syncing; new clients are refused, as Java's "ZooKeeperServer not running".

use super::session::{self, Sessions};
use super::watch::ConnId;
use super::{ConnState, Output, Server, Work};
use crate::jute::records::Id;
use crate::jute::txn::TxnEntry;
use crate::server::fourlw::LeaderInfo;
use crate::server::Now;
use crate::tree::DataTree;
use crate::types::{SessionId, Zxid};
use bytes::Bytes;

/// Which write pipeline the server runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pipeline {
    Standalone,
    /// `serve_clients` is false with `leaderServes=no`: the leader leads but takes no clients.
    Leader {
        serve_clients: bool,
    },
    Learner {
        observer: bool,
    },
    /// `ReadOnlyZooKeeperServer`: cut off from the quorum with `readonlymode.enabled`, only
    /// clients that asked for read-only mode, reads only.
    ReadOnly,
    /// Not serving: looking or syncing.
    Down,
}

/// The member's role as `srvr`, `stat` and `mntr` print it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleInfo {
    /// `standalone`, `leader`, `follower`, `observer`; empty until set (standalone).
    pub server_state: String,
    /// `QuorumPeer.getDetailedPeerState`, e.g. `following - broadcast`.
    pub peer_state: Option<String>,
    pub leader: Option<LeaderInfo>,
    pub synced_observers: Option<i64>,
}

impl Server {
    /// Whether clients may connect.
    pub fn is_serving(&self) -> bool {
        !matches!(self.pipeline, Pipeline::Down | Pipeline::Leader { serve_clients: false })
    }

    /// Whether this server prepares txns (and so expires sessions and reaps containers).
    pub(super) fn prepares(&self) -> bool {
        matches!(self.pipeline, Pipeline::Standalone | Pipeline::Leader { .. })
    }

    pub fn pipeline(&self) -> Pipeline {
        self.pipeline
    }

    pub fn start_standalone(&mut self) {
        self.pipeline = Pipeline::Standalone;
    }

    /// Leader, before it serves: the next prepared txn gets the zxid after `zxid`.
    pub fn set_next_zxid(&mut self, zxid: Zxid) {
        self.last_zxid = zxid;
    }

    /// `Leader.startZkServer`: the tree's last processed zxid becomes the epoch's first,
    /// every global session is tracked afresh (`LeaderSessionTracker`), and clients are
    /// served unless `leaderServes=no`.
    pub fn start_leading(&mut self, now: Now, start: Zxid, serve_clients: bool) {
        self.now = now;
        self.tree.last_zxid = start;
        self.last_zxid = start;
        self.committed_zxid = start;
        self.sessions = Sessions::new(self.opts.tick_ms, session::first_session_id(now.wall_ms, self.opts.server_id));
        for (&id, &to) in &self.tree.sessions {
            self.sessions.add(SessionId(id), to, now.mono_ms, None);
        }
        self.local_sessions = Sessions::new(self.opts.tick_ms, SessionId(0));
        self.pipeline = Pipeline::Leader { serve_clients };
        self.next_container_check = now.mono_ms + self.opts.container_check_interval_ms;
    }

    /// `Learner.syncWithLeader` → `startServing`: sessions here are the ones clients open here.
    pub fn start_following(&mut self, now: Now, observer: bool) {
        self.now = now;
        self.sessions = Sessions::new(self.opts.tick_ms, session::first_session_id(now.wall_ms, self.opts.server_id));
        self.touched.clear();
        self.last_zxid = self.tree.last_zxid;
        self.committed_zxid = self.tree.last_zxid;
        self.local_sessions = Sessions::new(self.opts.tick_ms, SessionId(0));
        self.pipeline = Pipeline::Learner { observer };
    }

    /// `ReadOnlyZooKeeperServer.startup`: serve read-only clients from the tree as it is. As in
    /// Java 3.8, only local sessions can be served (`localSessionsEnabled`): a global session's
    /// reconnection is refused and a new session without local sessions gets NOTREADONLY.
    pub fn start_read_only(&mut self, now: Now) {
        self.now = now;
        tracing::info!("Read-only server started");
        self.sessions = Sessions::new(self.opts.tick_ms, session::first_session_id(now.wall_ms, self.opts.server_id));
        self.last_zxid = self.tree.last_zxid;
        self.committed_zxid = self.tree.last_zxid;
        self.local_sessions = Sessions::new(self.opts.tick_ms, SessionId(0));
        self.pipeline = Pipeline::ReadOnly;
    }

    /// Leaving a role: every client is disconnected and nothing in flight survives. A txn
    /// prepared in this very step and not yet handed to the log is dropped with its request
    /// (logged but never proposed, it would come back on restart as a txn nobody else has).
    pub fn stop_serving(&mut self) {
        self.outputs
            .retain(|o| !matches!(o, Output::Append { .. } | Output::Forward { .. } | Output::Revalidate { .. }));
        let mut conns: Vec<ConnId> = self.conns.keys().copied().collect();
        // `conns` is a HashMap: sorted, the close order (and so the output order) is the same every run.
        conns.sort_unstable();
        for c in conns {
            self.close(c);
        }
        self.queue.clear();
        self.pending = Default::default();
        self.revalidating.clear();
        self.touched.clear();
        self.last_zxid = self.tree.last_zxid;
        self.committed_zxid = self.tree.last_zxid;
        self.pipeline = Pipeline::Down;
    }

    /// A new database (SNAP, or a reload after TRUNC).
    pub fn replace_tree(&mut self, tree: DataTree, now: Now) {
        self.now = now;
        self.tree = tree;
        self.pending = Default::default();
        self.last_zxid = self.tree.last_zxid;
        self.committed_zxid = self.tree.last_zxid;
    }

    /// Leader: the quorum committed every proposal up to `zxid`.
    pub fn commit_upto(&mut self, zxid: Zxid) {
        self.committed_zxid = self.committed_zxid.max(zxid);
        self.drain();
    }

    /// Leader: a request a learner forwarded (`LearnerHandler` REQUEST). The txn it becomes
    /// carries the learner client's session and cxid, so that learner can answer it.
    pub fn submit_forwarded(&mut self, session: SessionId, cxid: i32, op: i32, body: &[u8], auth: Vec<Id>) {
        use crate::jute::opcode::op as ops;
        if !matches!(self.pipeline, Pipeline::Leader { .. }) {
            return;
        }
        let ok = if op == ops::CREATE_SESSION {
            // PrepRequestProcessor: the leader starts tracking the session it is asked to create.
            let timeout = body.get(..4).and_then(|b| b.try_into().ok()).map_or(0, i32::from_be_bytes);
            self.sessions.add(session, timeout, self.now.mono_ms, None);
            Ok(())
        } else {
            match self.sessions.check(session) {
                // LeaderSessionTracker.checkSession: with local sessions on, a session another
                // member made and we never heard of is that member's local session.
                Err(_) if self.opts.local_sessions && (session.0 >> 56) != self.opts.server_id.0 => Ok(()),
                r => r,
            }
        };
        self.prepare_write(None, session, cxid, op, body, ok, &auth);
    }

    /// Leader: a learner's PING reported `id` active.
    pub fn touch_session(&mut self, id: SessionId, timeout: i32) {
        self.sessions.touch(id, Some(timeout), self.now.mono_ms);
    }

    /// Leader: `checkIfValidGlobalSession` for a learner's REVALIDATE.
    pub fn revalidate_session(&mut self, id: SessionId, timeout: i32) -> bool {
        self.sessions.touch(id, Some(timeout), self.now.mono_ms)
    }

    /// Learner (and any role leaving): a committed txn from the leader. The local client
    /// that forwarded it, if any, gets its reply.
    pub fn apply_committed(&mut self, entry: TxnEntry) {
        let h = &entry.header;
        let mine = matches!(self.queue.front(),
            Some(Work::Forwarded { session, xid, .. }) if session.0 == h.client_id && *xid == h.cxid);
        if mine {
            if let Some(Work::Forwarded { conn, xid, op, arrived, .. }) = self.queue.pop_front() {
                self.apply_entry(&entry, conn, xid, op, arrived);
            }
        } else {
            if self.queue.iter().any(
                |w| matches!(w, Work::Forwarded { session, xid, .. } if session.0 == h.client_id && *xid == h.cxid),
            ) {
                tracing::warn!("committed txn 0x{:x} answers a request that is not next in line", h.zxid);
            }
            let (xid, op, now) = (h.cxid, h.type_, self.now.mono_ms);
            self.apply_entry(&entry, None, xid, op, now);
        }
        self.last_zxid = self.tree.last_zxid;
        self.committed_zxid = self.tree.last_zxid;
        self.drain();
    }

    /// Learner: the leader's SYNC answers the oldest sync waiting here.
    pub fn sync_arrived(&mut self) {
        let Some(i) = self.queue.iter().position(|w| matches!(w, Work::Sync { .. })) else {
            tracing::warn!("Not expecting a sync.");
            return;
        };
        if let Some(Work::Sync { conn, xid, body, arrived }) = self.queue.remove(i) {
            // Once synced it is an ordinary read, answered in its turn.
            self.queue.insert(i, Work::Read { conn, xid, op: crate::jute::opcode::op::SYNC, body, arrived });
        }
        self.drain();
    }

    /// Learner: a reconnect with a known session waits for the leader's word on it.
    pub(super) fn revalidate(&mut self, conn: ConnId, id: SessionId, timeout: i32) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.session = id;
            c.state = ConnState::Handshaking;
        }
        let waiting = self.revalidating.entry(id).or_default();
        waiting.push((conn, timeout));
        if waiting.len() == 1 {
            self.outputs.push_back(Output::Revalidate { session: id, timeout });
        }
    }

    /// Learner: the leader's REVALIDATE answer.
    pub fn revalidated(&mut self, id: SessionId, valid: bool) {
        for (conn, timeout) in self.revalidating.remove(&id).unwrap_or_default() {
            if !self.conns.contains_key(&conn) {
                continue;
            }
            if valid {
                self.sessions.add(id, timeout, self.now.mono_ms, Some(conn));
                self.touched.insert(id, timeout);
                self.session_created(conn, id);
            } else {
                self.finish_session_init(conn, false, id, timeout);
            }
        }
    }

    /// Learner: the touch table for a PING reply, emptied.
    pub fn take_touched(&mut self) -> Vec<(SessionId, i32)> {
        std::mem::take(&mut self.touched).into_iter().collect()
    }

    /// The raw bytes of a txn entry, as the log and proposals carry them.
    pub fn entry_bytes(entry: &TxnEntry) -> Bytes {
        Bytes::from(entry.encode())
    }
}
