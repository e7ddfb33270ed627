//! The bridge between the tree and Java's on-disk images: a snapshot image from the tree,
//! a tree from an image plus the logged transactions after it (`FileTxnSnapLog.restore`),
//! with Java's digest cross-check during replay. Pure: files are read and written by
//! `storage` and the runtime.

use crate::storage::restore::Restored;
use crate::storage::snapshot::{SnapNode, SnapshotImage, ZxidDigest, DIGEST_VERSION};
use crate::tree::DataTree;

/// A consistent image of the tree as of `tree.last_zxid`.
pub fn image_from_tree(tree: &DataTree) -> SnapshotImage {
    let mut nodes = Vec::with_capacity(tree.node_count());
    tree.walk(|path, n| {
        nodes.push(SnapNode {
            path: if path == "/" { String::new() } else { path.to_string() },
            data: n.data.clone(),
            acl: n.acl,
            stat: n.stat.clone(),
        });
    });
    SnapshotImage {
        sessions: tree.sessions.iter().map(|(k, v)| (*k, *v)).collect(),
        acls: tree.acls.entries().map(|(id, l)| (id, l.clone())).collect(),
        nodes,
        digest: Some(ZxidDigest { zxid: tree.last_zxid, version: DIGEST_VERSION, digest: tree.digest() as i64 }),
    }
}

/// What replay found.
#[derive(Debug, Default, Clone)]
pub struct ReplayReport {
    pub replayed: usize,
    pub digest_checked: usize,
    pub digest_mismatches: usize,
}

/// Builds the tree from a restored snapshot and replays the logged transactions after it,
/// leniently as Java does (a fuzzy snapshot may already contain some of their effects).
pub fn tree_from_restored(r: &Restored, extended_types: bool) -> Result<(DataTree, ReplayReport), String> {
    let mut tree;
    let mut check_from = i64::MAX;
    match &r.image {
        None => tree = DataTree::new(extended_types),
        Some(img) => {
            tree = DataTree::empty(extended_types);
            for (id, list) in &img.acls {
                tree.acls.insert_loaded(*id, list.clone());
            }
            for n in &img.nodes {
                tree.load_node(&n.path, n.data.clone(), n.acl, n.stat.clone())?;
            }
            tree.acls.purge_unused();
            for (id, to) in &img.sessions {
                tree.sessions.insert(*id, *to);
            }
            tree.last_zxid = r.snap_zxid;
            // Java compares digests only once replay has passed the fuzzy part.
            check_from = img.digest.map_or(i64::MAX, |d| d.zxid);
            if let Some(d) = img.digest {
                if d.zxid == r.snap_zxid && d.digest as u64 != tree.digest() && d.zxid != 0 {
                    tracing::warn!(
                        "snapshot digest at zxid 0x{:x} is {:x}, the loaded tree's is {:x}",
                        d.zxid,
                        d.digest,
                        tree.digest()
                    );
                }
            }
        }
    }
    let mut rep = ReplayReport::default();
    for e in &r.txns {
        tree.apply(&e.header, &e.txn);
        rep.replayed += 1;
        if let Some(d) = &e.digest {
            if d.version == DIGEST_VERSION && e.header.zxid >= check_from {
                rep.digest_checked += 1;
                if d.tree_digest as u64 != tree.digest() {
                    rep.digest_mismatches += 1;
                    if rep.digest_mismatches <= 10 {
                        tracing::error!(
                            "Digests are not matching. Value got from log: {:x}, computed: {:x} at zxid 0x{:x}",
                            d.tree_digest,
                            tree.digest(),
                            e.header.zxid
                        );
                    }
                }
            }
        }
    }
    Ok((tree, rep))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::restore::restore;
    use std::path::Path;

    /// Java 3.8.0's own data dir (captured by compat-tests/storage): every logged digest must
    /// match the tree ruzk builds, which pins cversion/pzxid/time/owner semantics to Java's.
    #[test]
    fn java_data_dir_replays_with_matching_digests() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/storage/java-3.8.0");
        let r = restore(&dir, &dir).expect("restore");
        let (tree, rep) = tree_from_restored(&r, true).expect("tree");
        assert!(rep.replayed > 0);
        assert!(rep.digest_checked > 0, "{rep:?}");
        assert_eq!(rep.digest_mismatches, 0, "{rep:?}");
        let img = image_from_tree(&tree);
        assert_eq!(img.nodes.first().map(|n| n.path.as_str()), Some(""));
    }

    /// The same data dir replayed from Java's first snapshot: every transaction Java logged
    /// (all node types, ACLs, multis, sessions) goes through ruzk's apply and must land on
    /// Java's digest.
    #[test]
    fn whole_java_history_replays_with_matching_digests() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/storage/java-3.8.0");
        let tmp = tempfile::tempdir().unwrap();
        for e in std::fs::read_dir(&src).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            if name.starts_with("log.") || name == "snapshot.0" {
                std::fs::copy(e.path(), tmp.path().join(&name)).unwrap();
            }
        }
        let r = restore(tmp.path(), tmp.path()).expect("restore");
        let (_, rep) = tree_from_restored(&r, true).expect("tree");
        assert!(rep.replayed > 50, "{rep:?}");
        assert!(rep.digest_checked > 50, "{rep:?}");
        assert_eq!(rep.digest_mismatches, 0, "{rep:?}");
    }
}
