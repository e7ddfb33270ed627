//! Session liveness: timeouts, expiry buckets rounded up to the tick (`ExpiryQueue`), the
//! connection each session is bound to, and the password (`generatePasswd`). Local to each
//! server; the replicated part (which sessions exist) lives in the tree.

use super::watch::ConnId;
use crate::types::{ServerId, SessionId};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// `ZooKeeperServer.superSecret`.
const SUPER_SECRET: i64 = 0xB341_5C00;

/// `java.util.Random(sessionId ^ superSecret).nextBytes(16)`, bit-exact with Java so that a
/// client can move between Java and ruzk servers.
pub fn password(session_id: SessionId) -> [u8; 16] {
    const MULT: i64 = 0x5_DEEC_E66D;
    const MASK: i64 = (1 << 48) - 1;
    let mut seed = ((session_id.0 ^ SUPER_SECRET) ^ MULT) & MASK;
    let mut out = [0u8; 16];
    for chunk in out.chunks_mut(4) {
        seed = (seed.wrapping_mul(MULT).wrapping_add(0xB)) & MASK;
        let r = (seed >> 16) as i32;
        for (i, b) in chunk.iter_mut().enumerate() {
            *b = (r >> (8 * i)) as u8;
        }
    }
    out
}

/// `SessionTrackerImpl.initializeNextSessionId`.
pub fn first_session_id(now_ms: i64, server_id: ServerId) -> SessionId {
    let mut id = (((now_ms << 24) as u64) >> 8) as i64 | (server_id.0 << 56);
    if id == i64::MIN {
        id += 1;
    }
    SessionId(id)
}

#[derive(Clone, Debug)]
pub struct Session {
    pub timeout_ms: i32,
    pub expire_at: u64,
    pub conn: Option<ConnId>,
    pub closing: bool,
}

pub struct Sessions {
    tick_ms: u64,
    pub map: HashMap<SessionId, Session>,
    buckets: BTreeMap<u64, BTreeSet<SessionId>>,
    pub next_id: SessionId,
}

impl Sessions {
    pub fn new(tick_ms: u64, next_id: SessionId) -> Sessions {
        Sessions { tick_ms: tick_ms.max(1), map: HashMap::new(), buckets: BTreeMap::new(), next_id }
    }

    fn round_up(&self, t: u64) -> u64 {
        (t / self.tick_ms + 1) * self.tick_ms
    }

    pub fn add(&mut self, id: SessionId, timeout_ms: i32, now_ms: u64, conn: Option<ConnId>) {
        let expire_at = self.round_up(now_ms + timeout_ms.max(0) as u64);
        if let Some(old) = self.map.insert(id, Session { timeout_ms, expire_at, conn, closing: false }) {
            self.unbucket(id, old.expire_at);
        }
        self.buckets.entry(expire_at).or_default().insert(id);
    }

    fn unbucket(&mut self, id: SessionId, at: u64) {
        if let Some(b) = self.buckets.get_mut(&at) {
            b.remove(&id);
            if b.is_empty() {
                self.buckets.remove(&at);
            }
        }
    }

    /// `touchSession`: false if the session is unknown or closing.
    pub fn touch(&mut self, id: SessionId, timeout_ms: Option<i32>, now_ms: u64) -> bool {
        let tick = self.tick_ms;
        let Some(s) = self.map.get_mut(&id) else {
            return false;
        };
        if s.closing {
            return false;
        }
        if let Some(t) = timeout_ms {
            s.timeout_ms = t;
        }
        let new_at = (now_ms + s.timeout_ms.max(0) as u64) / tick * tick + tick;
        let old_at = s.expire_at;
        if new_at == old_at {
            return true;
        }
        s.expire_at = new_at;
        self.unbucket(id, old_at);
        self.buckets.entry(new_at).or_default().insert(id);
        true
    }

    pub fn remove(&mut self, id: SessionId) -> Option<Session> {
        let s = self.map.remove(&id)?;
        self.unbucket(id, s.expire_at);
        Some(s)
    }

    pub fn next_expiry(&self) -> Option<u64> {
        self.buckets.keys().next().copied()
    }

    /// Sessions whose bucket time has come; they are marked closing.
    pub fn expired(&mut self, now_ms: u64) -> Vec<SessionId> {
        let mut out = Vec::new();
        while let Some((&at, _)) = self.buckets.iter().next() {
            if at > now_ms {
                break;
            }
            if let Some(ids) = self.buckets.remove(&at) {
                for id in ids {
                    if let Some(s) = self.map.get_mut(&id) {
                        s.closing = true;
                        out.push(id);
                    }
                }
            }
        }
        out
    }

    pub fn check(&self, id: SessionId) -> Result<(), i32> {
        match self.map.get(&id) {
            Some(s) if !s.closing => Ok(()),
            _ => Err(crate::jute::error_code::SESSION_EXPIRED),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn password_matches_java_random() {
        assert_eq!(hex(&password(SessionId(0x0100000000000000))), "f22acd4a97e69d6d20a49bb638eadb38");
        assert_eq!(hex(&password(SessionId(0x1000001a2b3c0000))), "065cdb381bc43020548dd85f5ced3f15");
        assert_eq!(hex(&password(SessionId(0x72000cbe09a80000))), "6a1eba98af60df0058304e9b10ee7bd6");
    }

    #[test]
    fn expiry_rounds_up_to_tick() {
        let mut s = Sessions::new(2000, SessionId(1));
        s.add(SessionId(5), 4000, 1000, None);
        assert_eq!(s.next_expiry(), Some(6000));
        assert!(s.expired(5999).is_empty());
        assert_eq!(s.expired(6000), vec![SessionId(5)]);
        assert_eq!(s.check(SessionId(5)), Err(crate::jute::error_code::SESSION_EXPIRED));
    }
}
