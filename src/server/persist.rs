//! The bridge between the tree and Java's on-disk images: a snapshot image from the tree,
//! a tree from an image plus the logged transactions after it (`FileTxnSnapLog.restore`),
//! with Java's digest cross-check during replay. Pure: files are read and written by
//! `storage` and the runtime.

use crate::jute::records::StatPersisted;
use crate::storage::restore::{restore_using, RestoreOptions, Restored};
use crate::storage::snapshot::{read_snapshot_into, SnapNode, SnapshotImage, SnapshotSink, ZxidDigest, DIGEST_VERSION};
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
        digest: Some(ZxidDigest { zxid: tree.last_zxid.0, version: DIGEST_VERSION, digest: tree.digest() as i64 }),
    }
}

/// What replay found.
#[derive(Debug, Default, Clone)]
pub struct ReplayReport {
    pub replayed: usize,
    pub digest_checked: usize,
    pub digest_mismatches: usize,
}

/// A snapshot loaded straight into a tree, with its digest section.
pub struct LoadedTree {
    pub tree: DataTree,
    pub digest: Option<ZxidDigest>,
}

struct TreeSink<'a> {
    tree: &'a mut DataTree,
}

impl SnapshotSink for TreeSink<'_> {
    fn session(&mut self, id: i64, timeout: i32) {
        self.tree.sessions.insert(id, timeout);
    }
    fn acl(&mut self, id: i64, list: Vec<crate::jute::records::Acl>) {
        self.tree.acls.insert_loaded(id, list);
    }
    fn node(&mut self, path: &str, data: Option<&[u8]>, acl: i64, stat: StatPersisted) -> Result<(), String> {
        self.tree.load_node(path, data.map(bytes::Bytes::copy_from_slice), acl, stat)
    }
}

/// Loads one snapshot file into a fresh tree (`FileSnap.deserialize`).
pub fn load_tree(path: &std::path::Path, extended_types: bool) -> crate::storage::Result<LoadedTree> {
    let mut tree = DataTree::empty(extended_types);
    let digest = read_snapshot_into(path, &mut TreeSink { tree: &mut tree })?;
    tree.acls.purge_unused();
    Ok(LoadedTree { tree, digest })
}

/// Restores the data dir: the newest loadable snapshot straight into a tree, then the logged
/// transactions after it, replayed leniently as Java does (a fuzzy snapshot may already hold
/// some of their effects), with Java's digest cross-check once replay passes the snapshot's
/// digest zxid.
pub fn restore_tree(
    snap_dir: &std::path::Path,
    log_dir: &std::path::Path,
    opts: &RestoreOptions,
    extended_types: bool,
) -> crate::storage::Result<(DataTree, ReplayReport, bool)> {
    let r = restore_using(snap_dir, log_dir, opts, |p| load_tree(p, extended_types), |l| l.digest)?;
    let fresh = r.image.is_none();
    let (tree, rep) = replay(r, extended_types);
    Ok((tree, rep, fresh))
}

/// [`restore_tree`], also returning the raw entries of the last `keep` replayed txns
/// (oldest first), which seed the quorum's committed log as `ZKDatabase` does on load.
#[allow(clippy::type_complexity)]
pub fn restore_tree_with_tail(
    snap_dir: &std::path::Path,
    log_dir: &std::path::Path,
    opts: &RestoreOptions,
    extended_types: bool,
    keep: usize,
) -> crate::storage::Result<(DataTree, ReplayReport, bool, Vec<(crate::types::Zxid, bytes::Bytes)>)> {
    let r = restore_using(snap_dir, log_dir, opts, |p| load_tree(p, extended_types), |l| l.digest)?;
    let fresh = r.image.is_none();
    let skip = r.txns.len().saturating_sub(keep);
    let tail =
        r.txns.iter().skip(skip).map(|e| (crate::types::Zxid(e.header.zxid), bytes::Bytes::from(e.encode()))).collect();
    let (tree, rep) = replay(r, extended_types);
    Ok((tree, rep, fresh, tail))
}

fn replay(r: Restored<LoadedTree>, extended_types: bool) -> (DataTree, ReplayReport) {
    let mut check_from = i64::MAX;
    let mut tree = match r.image {
        None => DataTree::new(extended_types),
        Some(LoadedTree { mut tree, digest }) => {
            tree.last_zxid = crate::types::Zxid(r.snap_zxid);
            check_from = digest.map_or(i64::MAX, |d| d.zxid);
            if let Some(d) = digest {
                if d.zxid == r.snap_zxid && d.zxid != 0 && d.digest as u64 != tree.digest() {
                    tracing::warn!(
                        "snapshot digest at zxid 0x{:x} is {:x}, the loaded tree's is {:x}",
                        d.zxid,
                        d.digest,
                        tree.digest()
                    );
                }
            }
            tree
        }
    };
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
    (tree, rep)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Java 3.8.0's own data dir (captured by compat-tests/storage): every logged digest must
    /// match the tree ruzk builds, which pins cversion/pzxid/time/owner semantics to Java's.
    #[test]
    fn java_data_dir_replays_with_matching_digests() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/storage/java-3.8.0");
        let (tree, rep, _) = restore_tree(&dir, &dir, &RestoreOptions::default(), true).expect("restore");
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
        let (_, rep, _) = restore_tree(tmp.path(), tmp.path(), &RestoreOptions::default(), true).expect("restore");
        assert!(rep.replayed > 50, "{rep:?}");
        assert!(rep.digest_checked > 50, "{rep:?}");
        assert_eq!(rep.digest_mismatches, 0, "{rep:?}");
    }
}
