//! The SNAP sync body: the database as `ZKDatabase.serializeSnapshot` writes it onto the
//! learner stream (sessions, ACL cache, nodes, the "/" end marker) followed by the string
//! "BenWasHere" — a snapshot file's body without its header, seals or digest section.
//!
//! A Java leader serialises its live tree while it keeps changing, so the body is fuzzy
//! with respect to the SNAP zxid; the learner replays the proposals that follow leniently,
//! which the tree's `apply` already does for fuzzy snapshots read from disk.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::packet::SNAP_SIGNATURE;
use crate::jute::records::{Acl, StatPersisted};
use crate::jute::Jute;
use crate::tree::DataTree;
use bytes::Bytes;

/// Serialises `tree` as a SNAP body, signature included.
pub fn encode_body(tree: &DataTree) -> Bytes {
    let img = crate::server::persist::image_from_tree(tree);
    let mut out = Vec::with_capacity(64 + img.nodes.len() * 96);
    (img.sessions.len() as i32).encode(&mut out);
    for (id, to) in &img.sessions {
        id.encode(&mut out);
        to.encode(&mut out);
    }
    (img.acls.len() as i32).encode(&mut out);
    for (id, list) in &img.acls {
        id.encode(&mut out);
        list.encode(&mut out);
    }
    for n in &img.nodes {
        n.path.encode(&mut out);
        n.data.encode(&mut out);
        n.acl.encode(&mut out);
        n.stat.encode(&mut out);
    }
    "/".to_string().encode(&mut out);
    SNAP_SIGNATURE.to_string().encode(&mut out);
    Bytes::from(out)
}

/// Why a SNAP body could not be loaded (the learner then drops the leader and re-syncs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad SNAP body: {0}")]
pub struct SnapError(pub String);

/// Loads a SNAP body into a fresh tree whose `last_zxid` is `zxid` (`Learner.syncWithLeader`:
/// `deserializeSnapshot`, the signature check, `setlastProcessedZxid`).
pub fn decode_body(mut body: &[u8], zxid: crate::types::Zxid, extended_types: bool) -> Result<DataTree, SnapError> {
    let err = |what: &str, e: crate::jute::DecodeError| SnapError(format!("{what}: {e}"));
    let mut tree = DataTree::empty(extended_types);
    let n = i32::decode(&mut body).map_err(|e| err("session count", e))?;
    for _ in 0..n.max(0) {
        let id = i64::decode(&mut body).map_err(|e| err("session", e))?;
        let to = i32::decode(&mut body).map_err(|e| err("session", e))?;
        tree.sessions.insert(id, to);
    }
    let n = i32::decode(&mut body).map_err(|e| err("acl count", e))?;
    for _ in 0..n.max(0) {
        let id = i64::decode(&mut body).map_err(|e| err("acl id", e))?;
        let list = Vec::<Acl>::decode(&mut body).map_err(|e| err("acl list", e))?;
        tree.acls.insert_loaded(id, list);
    }
    loop {
        let path = String::decode(&mut body).map_err(|e| err("node path", e))?;
        if path == "/" {
            break;
        }
        let data = Option::<Bytes>::decode(&mut body).map_err(|e| err("node data", e))?;
        let acl = i64::decode(&mut body).map_err(|e| err("node acl", e))?;
        let stat = StatPersisted::decode(&mut body).map_err(|e| err("node stat", e))?;
        tree.load_node(&path, data, acl, stat).map_err(SnapError)?;
    }
    let sig = String::decode(&mut body).map_err(|e| err("signature", e))?;
    if sig != SNAP_SIGNATURE {
        return Err(SnapError(format!("Missing signature. Got {sig}")));
    }
    tree.acls.purge_unused();
    tree.last_zxid = zxid;
    Ok(tree)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::quorum::packet::SnapScanner;

    #[test]
    fn a_tree_survives_the_snap_body_and_the_scanner_finds_its_end() {
        let mut tree = DataTree::new(false);
        tree.sessions.insert(0x0100_0000_0000_0001, 30000);
        let body = encode_body(&tree);
        let mut scan = SnapScanner::default();
        assert_eq!(scan.scan(&body, 1 << 20).unwrap(), Some(body.len()));
        let back = decode_body(&body, crate::types::Zxid(7), false).unwrap();
        assert_eq!(back.last_zxid, crate::types::Zxid(7));
        assert_eq!(back.digest(), tree.digest());
        assert_eq!(back.node_count(), tree.node_count());
        assert_eq!(back.sessions, tree.sessions);
    }

    #[test]
    fn a_body_without_the_signature_is_refused() {
        let tree = DataTree::new(false);
        let body = encode_body(&tree);
        let cut = &body[..body.len() - 14];
        assert!(decode_body(cut, crate::types::Zxid(1), false).is_err());
        let mut wrong = cut.to_vec();
        "BenWasThere".to_string().encode(&mut wrong);
        assert_eq!(
            decode_body(&wrong, crate::types::Zxid(1), false).unwrap_err(),
            SnapError("Missing signature. Got BenWasThere".into())
        );
    }
}
