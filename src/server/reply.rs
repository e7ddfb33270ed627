//! Reply framing: every frame the core sends a client (replies, watch events, ping and auth
//! answers) is built here, and so is the body that answers an applied write. Pure: the core
//! decides who gets what, this file decides the bytes.

use crate::jute::error_code::RUNTIME_INCONSISTENCY;
use crate::jute::multi::{MultiResponse, OpResult};
use crate::jute::opcode::op;
use crate::jute::records::{Create2Response, ReplyHeader, WatcherEvent};
use crate::jute::txn::Txn;
use crate::jute::Jute;
use crate::tree::{EventType, TxnResult};
use bytes::{BufMut, Bytes, BytesMut};

/// The reserved xids Java answers with (`ClientCnxn`): watch events, pings, auth.
pub const XID_NOTIFICATION: i32 = -1;
pub const XID_PING: i32 = -2;
pub const XID_AUTH: i32 = -4;

/// `KeeperState.SyncConnected`, the only state a server-sent event carries.
const SYNC_CONNECTED: i32 = 3;

/// A length-prefixed frame around whatever `f` writes.
pub fn frame(f: impl FnOnce(&mut BytesMut)) -> Bytes {
    let mut b = BytesMut::with_capacity(64);
    b.put_i32(0);
    f(&mut b);
    let len = (b.len() - 4) as i32;
    if let Some(prefix) = b.get_mut(0..4) {
        prefix.copy_from_slice(&len.to_be_bytes());
    }
    b.freeze()
}

/// `ReplyHeader` followed by an already encoded body (empty for most errors).
pub fn reply(xid: i32, zxid: i64, err: i32, body: &[u8]) -> Bytes {
    frame(|b| {
        ReplyHeader { xid, zxid, err }.encode(b);
        b.put_slice(body);
    })
}

/// A watch event as Java sends it: xid -1, zxid -1, state SyncConnected.
pub fn event(kind: EventType, path: &str) -> Bytes {
    frame(|b| {
        ReplyHeader { xid: XID_NOTIFICATION, zxid: -1, err: 0 }.encode(b);
        WatcherEvent { type_: kind as i32, state: SYNC_CONNECTED, path: path.to_string() }.encode(b);
    })
}

/// The error code and body that answer a client's applied write (`FinalRequestProcessor`).
/// A multi always answers OK: its sub-results carry the errors.
pub fn write_reply(op_code: i32, txn: &Txn, result: TxnResult) -> (i32, Vec<u8>) {
    let err = result.err();
    let mut body = Vec::new();
    match (txn, result) {
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
            MultiResponse { results: rs }.encode(&mut body);
            (0, body)
        }
        (_, TxnResult::Created { path, stat }) => {
            if op_code == op::CREATE {
                path.encode(&mut body);
            } else {
                Create2Response { path, stat }.encode(&mut body);
            }
            (0, body)
        }
        (_, TxnResult::SetData(st)) | (_, TxnResult::SetAcl(st)) => {
            st.encode(&mut body);
            (0, body)
        }
        _ => (err, body),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::jute::records::Stat;
    use crate::jute::txn::DeleteTxn;

    #[test]
    fn reply_and_event_frames() {
        let r = reply(7, 0x1_0000_0002, -101, &[]);
        assert_eq!(&r[..], &[0, 0, 0, 16, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0x9b]);
        let e = event(EventType::NodeDeleted, "/a");
        let mut want = vec![0, 0, 0, 30];
        want.extend_from_slice(&[0xff; 4]);
        want.extend_from_slice(&[0xff; 8]);
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 2, b'/', b'a']);
        assert_eq!(&e[..], &want[..]);
    }

    #[test]
    fn write_reply_bodies() {
        let del = Txn::Delete(op::DELETE, DeleteTxn { path: "/a".into() });
        assert_eq!(write_reply(op::DELETE, &del, TxnResult::Deleted), (0, vec![]));
        assert_eq!(write_reply(op::DELETE, &del, TxnResult::Error(-111)), (-111, vec![]));
        let created = || TxnResult::Created { path: "/a".into(), stat: Stat::default() };
        assert_eq!(write_reply(op::CREATE, &del, created()), (0, vec![0, 0, 0, 2, b'/', b'a']));
        let (err, body) = write_reply(op::CREATE2, &del, created());
        assert_eq!((err, body.len()), (0, 6 + 68), "path then an 68-byte Stat");
    }
}
