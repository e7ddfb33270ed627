//! The replicated data tree (`DataTree` + `ZKDatabase`'s session table). `apply` turns one
//! committed transaction into tree changes, a result and the watch events it fires. It reads
//! no clock and does no I/O: two servers applying the same transactions hold equal trees
//! (and equal digests, which [`DataTree::digest`] computes exactly as Java's `DigestCalculator`).
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

pub mod acl;
pub mod path;
mod store;

use crate::jute::error_code;
use crate::jute::opcode::op;
use crate::jute::records::{Acl, Stat, StatPersisted};
use crate::jute::txn::{Txn, TxnHeader};
use crate::types::Zxid;
use acl::{AclCache, OPEN_UNSAFE_ACL_ID};
use bytes::Bytes;
use rustc_hash::FxHashSet;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use store::Store;

/// ephemeralOwner of a container node.
pub const CONTAINER_OWNER: i64 = i64::MIN;
const TTL_MASK: i64 = 0xFF00_0000_0000_0000u64 as i64;
/// Largest TTL `EphemeralType.TTL` can encode.
pub const MAX_TTL: i64 = 0x00FF_FFFF_FFFF;

/// What an `ephemeralOwner` value means (`EphemeralType.get`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerKind {
    Void,
    Normal(i64),
    Container,
    Ttl(i64),
}

pub fn owner_kind(owner: i64, extended_types: bool) -> OwnerKind {
    if owner == 0 {
        OwnerKind::Void
    } else if owner == CONTAINER_OWNER {
        OwnerKind::Container
    } else if extended_types && (owner & TTL_MASK) == TTL_MASK {
        OwnerKind::Ttl(owner & MAX_TTL)
    } else {
        OwnerKind::Normal(owner)
    }
}

pub fn ttl_owner(ttl: i64) -> i64 {
    TTL_MASK | (ttl & MAX_TTL)
}

#[derive(Clone, Debug)]
pub struct Znode {
    pub data: Option<Bytes>,
    pub acl: i64,
    pub stat: StatPersisted,
    /// Children by slot number (see `store`); `None` for the many leaves.
    children: Option<Box<FxHashSet<u32>>>,
}

impl Znode {
    fn new(data: Option<Bytes>, acl: i64, stat: StatPersisted) -> Znode {
        Znode { data, acl, stat, children: None }
    }

    pub fn child_count(&self) -> usize {
        self.children.as_ref().map_or(0, |c| c.len())
    }

    fn add_child(&mut self, i: u32) {
        self.children.get_or_insert_with(Default::default).insert(i);
    }

    fn remove_child(&mut self, i: u32) {
        if let Some(c) = &mut self.children {
            c.remove(&i);
            if c.is_empty() {
                self.children = None;
            }
        }
    }

    fn child_slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.children.iter().flat_map(|c| c.iter().copied())
    }
}

/// Watch events a transaction fires (`Watcher.Event.EventType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventType {
    NodeCreated = 1,
    NodeDeleted = 2,
    NodeDataChanged = 3,
    NodeChildrenChanged = 4,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchEvent {
    pub kind: EventType,
    pub path: String,
    /// For NodeDeleted: the ACL the node had, used to filter deliveries by READ permission.
    pub acl: Option<Vec<Acl>>,
}

/// `ProcessTxnResult`: what one (sub-)transaction did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnResult {
    Created {
        path: String,
        stat: Stat,
    },
    Deleted,
    SetData(Stat),
    SetAcl(Stat),
    Check,
    SessionCreated,
    SessionClosed,
    /// An error txn, or a write that failed on apply (replay leniency).
    Error(i32),
    Multi(Vec<TxnResult>),
}

impl TxnResult {
    pub fn err(&self) -> i32 {
        match self {
            TxnResult::Error(e) => *e,
            TxnResult::Multi(rs) => rs.iter().map(|r| r.err()).find(|e| *e != 0).unwrap_or(0),
            _ => 0,
        }
    }
}

pub struct Applied {
    pub result: TxnResult,
    pub events: Vec<WatchEvent>,
}

/// The tree plus the session table, as `ZKDatabase` holds them.
#[derive(Clone)]
pub struct DataTree {
    /// FxHash: deterministic and several times faster than SipHash on paths; the map is never
    /// iterated into anything serialised (snapshots walk the children sets).
    nodes: Store,
    pub acls: AclCache,
    ephemerals: HashMap<i64, BTreeSet<String>>,
    containers: BTreeSet<String>,
    ttls: BTreeSet<String>,
    /// sessionId → timeout (ms): the replicated session table.
    pub sessions: BTreeMap<i64, i32>,
    pub last_zxid: Zxid,
    digest: u64,
    data_size: u64,
    pub extended_types: bool,
    /// `DataTree.digestLog`: (zxid, digest) for zxids divisible by 128, newest last.
    pub digest_log: VecDeque<(i64, u64)>,
}

const ZK: &str = "/zookeeper";
const QUOTA: &str = "/zookeeper/quota";
const CONFIG: &str = "/zookeeper/config";

/// `DigestCalculator.calculateDigest` (version 2).
pub fn node_digest(path: &str, node: &Znode) -> u64 {
    if path.starts_with("/zookeeper/") {
        return 0;
    }
    let p = if path == "/" { "" } else { path };
    let mut h = crc32fast::Hasher::new();
    h.update(p.as_bytes());
    if let Some(d) = &node.data {
        h.update(d);
    }
    let s = &node.stat;
    let mut b = [0u8; 60];
    b[0..8].copy_from_slice(&s.czxid.to_be_bytes());
    b[8..16].copy_from_slice(&s.mzxid.to_be_bytes());
    b[16..24].copy_from_slice(&s.pzxid.to_be_bytes());
    b[24..32].copy_from_slice(&s.ctime.to_be_bytes());
    b[32..40].copy_from_slice(&s.mtime.to_be_bytes());
    b[40..44].copy_from_slice(&s.version.to_be_bytes());
    b[44..48].copy_from_slice(&s.cversion.to_be_bytes());
    b[48..52].copy_from_slice(&s.aversion.to_be_bytes());
    b[52..60].copy_from_slice(&s.ephemeral_owner.to_be_bytes());
    h.update(&b);
    u64::from(h.finalize())
}

impl std::fmt::Debug for DataTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataTree")
            .field("nodes", &self.node_count())
            .field("last_zxid", &self.last_zxid)
            .field("digest", &format_args!("{:x}", self.digest))
            .finish()
    }
}

impl Default for DataTree {
    fn default() -> Self {
        Self::new(false)
    }
}

impl DataTree {
    /// A fresh tree: `/`, `/zookeeper`, `/zookeeper/quota`, `/zookeeper/config`.
    pub fn new(extended_types: bool) -> DataTree {
        let mut t = DataTree {
            nodes: Store::default(),
            acls: AclCache::default(),
            ephemerals: HashMap::new(),
            containers: BTreeSet::new(),
            ttls: BTreeSet::new(),
            sessions: BTreeMap::new(),
            last_zxid: Zxid::ZERO,
            digest: 0,
            data_size: 0,
            extended_types,
            digest_log: VecDeque::new(),
        };
        t.insert_raw("/", Znode::new(Some(Bytes::new()), OPEN_UNSAFE_ACL_ID, StatPersisted::default()));
        let zk = t.insert_raw(ZK, Znode::new(Some(Bytes::new()), OPEN_UNSAFE_ACL_ID, StatPersisted::default()));
        let quota = t.insert_raw(QUOTA, Znode::new(Some(Bytes::new()), OPEN_UNSAFE_ACL_ID, StatPersisted::default()));
        let cfg_acl = t.acls.intern(&acl::read_acl_unsafe());
        let cfg_stat = StatPersisted { aversion: -1, ..Default::default() };
        let config = t.insert_raw(CONFIG, Znode::new(Some(Bytes::new()), cfg_acl, cfg_stat));
        t.link_child("/", zk);
        t.link_child(ZK, quota);
        t.link_child(ZK, config);
        t
    }

    /// An empty tree to be filled from a snapshot with [`DataTree::load_node`].
    pub fn empty(extended_types: bool) -> DataTree {
        let mut t = DataTree::new(extended_types);
        t.nodes.clear();
        t.acls = AclCache::default();
        t.digest = 0;
        t.data_size = 0;
        t
    }

    /// Adds a node that is not in the tree yet; returns its slot.
    fn insert_raw(&mut self, path: &str, node: Znode) -> u32 {
        self.digest = self.digest.wrapping_add(node_digest(path, &node));
        self.data_size += (path.len() + node.data.as_ref().map_or(0, |d| d.len())) as u64;
        self.nodes.insert(path, node).0
    }

    fn link_child(&mut self, parent: &str, child: u32) {
        if let Some(p) = self.nodes.get_mut(parent) {
            p.add_child(child);
        }
    }

    /// A node's child names, sorted (Java's order is unspecified; sorted is stable and tidy).
    pub fn child_names(&self, node: &Znode) -> Vec<String> {
        let mut v: Vec<String> =
            node.child_slots().filter_map(|i| self.nodes.at(i)).map(|(p, _)| path::child_name(p).to_string()).collect();
        v.sort_unstable();
        v
    }

    /// Adds a node read from a snapshot (parents come first; the root arrives as "").
    pub fn load_node(&mut self, path: &str, data: Option<Bytes>, acl: i64, stat: StatPersisted) -> Result<(), String> {
        let path = if path.is_empty() { "/" } else { path };
        let parent = path::parent_or_root(path);
        if path != "/" && !self.nodes.contains(parent) {
            return Err(format!("snapshot node {path} has no parent {parent}"));
        }
        self.acls.add_ref(acl);
        match owner_kind(stat.ephemeral_owner, self.extended_types) {
            OwnerKind::Container => {
                self.containers.insert(path.to_string());
            }
            OwnerKind::Ttl(_) => {
                self.ttls.insert(path.to_string());
            }
            OwnerKind::Normal(s) => {
                self.ephemerals.entry(s).or_default().insert(path.to_string());
            }
            OwnerKind::Void => {}
        }
        let node = Znode::new(data, acl, stat);
        self.digest = self.digest.wrapping_add(node_digest(path, &node));
        self.data_size += (path.len() + node.data.as_ref().map_or(0, |d| d.len())) as u64;
        let (slot, old) = self.nodes.insert(path, node);
        if let Some(old) = old {
            // Only a duplicate path in a damaged snapshot gets here.
            self.digest = self.digest.wrapping_sub(node_digest(path, &old));
            self.data_size -= (path.len() + old.data.as_ref().map_or(0, |d| d.len())) as u64;
            if let Some(n) = self.nodes.get_mut(path) {
                n.children = old.children;
            }
        } else if path != "/" {
            self.link_child(parent, slot);
        }
        Ok(())
    }

    pub fn get(&self, path: &str) -> Option<&Znode> {
        self.nodes.get(path)
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn digest(&self) -> u64 {
        self.digest
    }

    pub fn approximate_data_size(&self) -> u64 {
        self.data_size
    }

    pub fn ephemerals_of(&self, session: i64) -> Option<&BTreeSet<String>> {
        self.ephemerals.get(&session)
    }

    pub fn all_ephemerals(&self) -> &HashMap<i64, BTreeSet<String>> {
        &self.ephemerals
    }

    pub fn ephemeral_count(&self) -> usize {
        self.ephemerals.values().map(|s| s.len()).sum()
    }

    pub fn containers(&self) -> &BTreeSet<String> {
        &self.containers
    }

    pub fn ttls(&self) -> &BTreeSet<String> {
        &self.ttls
    }

    pub fn acl_of(&self, node: &Znode) -> Vec<Acl> {
        self.acls.get(node.acl)
    }

    /// `DataNode.copyStat`: the client view of a stored stat.
    pub fn stat_of(&self, node: &Znode) -> Stat {
        let s = &node.stat;
        let num_children = node.child_count() as i32;
        let owner = match owner_kind(s.ephemeral_owner, self.extended_types) {
            OwnerKind::Normal(o) => o,
            _ => 0,
        };
        Stat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion.wrapping_mul(2).wrapping_sub(num_children),
            aversion: s.aversion,
            ephemeral_owner: owner,
            data_length: node.data.as_ref().map_or(0, |d| d.len() as i32),
            num_children,
            pzxid: s.pzxid,
        }
    }

    pub fn stat(&self, path: &str) -> Option<Stat> {
        self.nodes.get(path).map(|n| self.stat_of(n))
    }

    /// Count of all descendants (`getAllChildrenNumber`).
    pub fn all_children_number(&self, path: &str) -> i32 {
        if path == "/" {
            return self.nodes.len() as i32 - 1;
        }
        let Some(n) = self.nodes.get(path) else { return 0 };
        let mut count = 0i32;
        let mut stack: Vec<u32> = n.child_slots().collect();
        while let Some(i) = stack.pop() {
            count += 1;
            if let Some((_, c)) = self.nodes.at(i) {
                stack.extend(c.child_slots());
            }
        }
        count
    }

    /// Pre-order walk from the root, parents before children, for snapshots.
    pub fn walk(&self, mut f: impl FnMut(&str, &Znode)) {
        let Some(root) = self.nodes.find("/") else { return };
        let mut stack = vec![root];
        while let Some(i) = stack.pop() {
            if let Some((p, n)) = self.nodes.at(i) {
                f(p, n);
                stack.extend(n.child_slots());
            }
        }
    }

    fn change(&mut self, path: &str, f: impl FnOnce(&mut Znode)) -> bool {
        let Some(n) = self.nodes.get_mut(path) else {
            return false;
        };
        let before = node_digest(path, n);
        let old_len = n.data.as_ref().map_or(0, |d| d.len()) as u64;
        f(n);
        let after = node_digest(path, n);
        let new_len = n.data.as_ref().map_or(0, |d| d.len()) as u64;
        self.digest = self.digest.wrapping_sub(before).wrapping_add(after);
        self.data_size = self.data_size.wrapping_sub(old_len).wrapping_add(new_len);
        true
    }

    /// `ZKDatabase.initConfigInZKDatabase`: an ensemble member's `/zookeeper/config` holds
    /// its QV string, with version -1, mzxid the config version and mtime the local clock.
    pub fn set_config_node(&mut self, qv: &str, config_version: i64, now_ms: i64) {
        self.change(CONFIG, |n| {
            n.data = Some(Bytes::copy_from_slice(qv.as_bytes()));
            n.stat.version = -1;
            n.stat.mzxid = config_version;
            n.stat.mtime = now_ms;
        });
    }

    /// `DataTree.processTxn`. Lenient like Java's: a create on an existing path or a delete
    /// of a missing one is a result, not a failure, so fuzzy snapshots replay.
    pub fn apply(&mut self, hdr: &TxnHeader, txn: &Txn) -> Applied {
        let mut events = Vec::new();
        let result = self.apply_one(hdr, txn, &mut events);
        if hdr.zxid > self.last_zxid.0 {
            self.last_zxid = Zxid(hdr.zxid);
        }
        if hdr.zxid % 128 == 0 && hdr.zxid != 0 {
            self.digest_log.push_back((hdr.zxid, self.digest));
            if self.digest_log.len() > 1024 {
                self.digest_log.pop_front();
            }
        }
        Applied { result, events }
    }

    fn apply_one(&mut self, hdr: &TxnHeader, txn: &Txn, ev: &mut Vec<WatchEvent>) -> TxnResult {
        match txn {
            Txn::CreateSession(t) => {
                self.sessions.insert(hdr.client_id, t.time_out);
                TxnResult::SessionCreated
            }
            Txn::CloseSession(paths) => {
                let mut doomed: BTreeSet<String> = paths.iter().flatten().cloned().collect();
                if let Some(own) = self.ephemerals.remove(&hdr.client_id) {
                    doomed.extend(own);
                }
                // Deepest first, so an ephemeral's sequential siblings never block a parent.
                for p in doomed.iter().rev() {
                    let _ = self.delete_node(p, hdr.zxid, ev);
                }
                self.sessions.remove(&hdr.client_id);
                TxnResult::SessionClosed
            }
            Txn::Create(t, c) => {
                let owner = if c.ephemeral { hdr.client_id } else { 0 };
                let r = self.create_node(&c.path, c.data.clone(), &c.acl, owner, c.parent_c_version, hdr, ev);
                if matches!(r, TxnResult::Error(e) if e == error_code::NODE_EXISTS) && *t == op::CREATE {
                    self.set_cversion_pzxid(path::parent_or_root(&c.path), c.parent_c_version, hdr.zxid);
                }
                r
            }
            Txn::CreateContainer(c) => {
                self.create_node(&c.path, c.data.clone(), &c.acl, CONTAINER_OWNER, c.parent_c_version, hdr, ev)
            }
            Txn::CreateTtl(c) => {
                self.create_node(&c.path, c.data.clone(), &c.acl, ttl_owner(c.ttl), c.parent_c_version, hdr, ev)
            }
            Txn::Delete(_, d) => match self.delete_node(&d.path, hdr.zxid, ev) {
                Ok(()) => TxnResult::Deleted,
                Err(e) => TxnResult::Error(e),
            },
            Txn::SetData(_, s) => {
                let ok = self.change(&s.path, |n| {
                    n.data = s.data.clone();
                    n.stat.version = s.version;
                    n.stat.mzxid = hdr.zxid;
                    n.stat.mtime = hdr.time;
                });
                if !ok {
                    return TxnResult::Error(error_code::NO_NODE);
                }
                ev.push(WatchEvent { kind: EventType::NodeDataChanged, path: s.path.clone(), acl: None });
                TxnResult::SetData(self.stat(&s.path).unwrap_or_default())
            }
            Txn::SetAcl(s) => {
                let Some(old) = self.nodes.get(&s.path).map(|n| n.acl) else {
                    return TxnResult::Error(error_code::NO_NODE);
                };
                let new = self.acls.intern(&s.acl);
                self.acls.release(old);
                self.change(&s.path, |n| {
                    n.acl = new;
                    n.stat.aversion = s.version;
                });
                TxnResult::SetAcl(self.stat(&s.path).unwrap_or_default())
            }
            Txn::Check(_) => TxnResult::Check,
            Txn::Error(e) => TxnResult::Error(e.err),
            Txn::Multi(subs) => {
                let failed = subs.iter().any(|s| matches!(s, Txn::Error(_)));
                let mut post_failed = false;
                let mut results = Vec::with_capacity(subs.len());
                for s in subs {
                    if let Txn::Error(e) = s {
                        post_failed = true;
                        results.push(TxnResult::Error(e.err));
                        continue;
                    }
                    if failed {
                        let ec = if post_failed { error_code::RUNTIME_INCONSISTENCY } else { 0 };
                        results.push(TxnResult::Error(ec));
                        continue;
                    }
                    results.push(self.apply_one(hdr, s, ev));
                }
                TxnResult::Multi(results)
            }
        }
    }

    fn set_cversion_pzxid(&mut self, parent: &str, cversion: i32, zxid: i64) {
        let Some(cur) = self.nodes.get(parent).map(|n| n.stat.cversion) else {
            return;
        };
        let newc = if cversion == -1 { cur + 1 } else { cversion };
        if newc > cur {
            self.change(parent, |n| {
                n.stat.cversion = newc;
                n.stat.pzxid = zxid;
            });
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn create_node(
        &mut self,
        path: &str,
        data: Option<Bytes>,
        acl: &[Acl],
        owner: i64,
        parent_cversion: i32,
        hdr: &TxnHeader,
        ev: &mut Vec<WatchEvent>,
    ) -> TxnResult {
        let Some(parent_raw) = path::parent(path) else {
            return TxnResult::Error(error_code::NO_NODE);
        };
        let parent = if parent_raw.is_empty() { "/" } else { parent_raw };
        let Some(pnode) = self.nodes.get(parent) else {
            return TxnResult::Error(error_code::NO_NODE);
        };
        if self.nodes.contains(path) {
            return TxnResult::Error(error_code::NODE_EXISTS);
        }
        let pcur = pnode.stat.cversion;
        let newc = if parent_cversion == -1 { pcur + 1 } else { parent_cversion };
        let zxid = hdr.zxid;
        self.change(parent, |p| {
            if newc > p.stat.cversion {
                p.stat.cversion = newc;
                p.stat.pzxid = zxid;
            }
        });
        let stat = StatPersisted {
            czxid: zxid,
            mzxid: zxid,
            ctime: hdr.time,
            mtime: hdr.time,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: owner,
            pzxid: zxid,
        };
        let acl_id = self.acls.intern(acl);
        let slot = self.insert_raw(path, Znode::new(data, acl_id, stat));
        self.link_child(parent, slot);
        match owner_kind(owner, self.extended_types) {
            OwnerKind::Container => {
                self.containers.insert(path.to_string());
            }
            OwnerKind::Ttl(_) => {
                self.ttls.insert(path.to_string());
            }
            OwnerKind::Normal(s) => {
                self.ephemerals.entry(s).or_default().insert(path.to_string());
            }
            OwnerKind::Void => {}
        }
        ev.push(WatchEvent { kind: EventType::NodeCreated, path: path.to_string(), acl: None });
        ev.push(WatchEvent { kind: EventType::NodeChildrenChanged, path: parent.to_string(), acl: None });
        TxnResult::Created { path: path.to_string(), stat: self.stat(path).unwrap_or_default() }
    }

    fn delete_node(&mut self, path: &str, zxid: i64, ev: &mut Vec<WatchEvent>) -> Result<(), i32> {
        let parent = path::parent_or_root(path).to_string();
        let Some((slot, node)) = self.nodes.remove(path) else {
            // Replay leniency: the parent's pzxid still moves forward.
            if self.nodes.get(&parent).is_some_and(|p| zxid > p.stat.pzxid) {
                self.change(&parent, |p| p.stat.pzxid = zxid);
            }
            return Err(error_code::NO_NODE);
        };
        self.digest = self.digest.wrapping_sub(node_digest(path, &node));
        self.data_size = self.data_size.wrapping_sub((path.len() + node.data.as_ref().map_or(0, |d| d.len())) as u64);
        let acl = self.acls.get(node.acl);
        self.acls.release(node.acl);
        self.change(&parent, |p| {
            p.remove_child(slot);
            if zxid > p.stat.pzxid {
                p.stat.pzxid = zxid;
            }
        });
        match owner_kind(node.stat.ephemeral_owner, self.extended_types) {
            OwnerKind::Container => {
                self.containers.remove(path);
            }
            OwnerKind::Ttl(_) => {
                self.ttls.remove(path);
            }
            OwnerKind::Normal(s) => {
                if let Some(set) = self.ephemerals.get_mut(&s) {
                    set.remove(path);
                    if set.is_empty() {
                        self.ephemerals.remove(&s);
                    }
                }
            }
            OwnerKind::Void => {}
        }
        ev.push(WatchEvent { kind: EventType::NodeDeleted, path: path.to_string(), acl: Some(acl) });
        ev.push(WatchEvent { kind: EventType::NodeChildrenChanged, path: parent, acl: None });
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::jute::txn::CreateTxn;

    fn hdr(zxid: i64, time: i64) -> TxnHeader {
        TxnHeader { client_id: 1, cxid: 1, zxid, time, type_: op::CREATE }
    }

    #[test]
    fn fresh_tree_digest_matches_java() {
        let t = DataTree::new(false);
        assert_eq!(t.digest(), 0x51c6d660);
        assert_eq!(t.stat("/").unwrap().cversion, -1);
    }

    #[test]
    fn create_digest_matches_java_log() {
        let mut t = DataTree::new(false);
        let c = CreateTxn {
            path: "/a".into(),
            data: Some(Bytes::from_static(b"hello")),
            acl: acl::open_acl_unsafe(),
            ephemeral: false,
            parent_c_version: 1,
        };
        let a = t.apply(&hdr(2, 1795594008923), &Txn::Create(1, c));
        assert!(matches!(a.result, TxnResult::Created { .. }));
        assert_eq!(t.digest(), 0x8e9a63e6);
    }

    #[test]
    fn delete_keeps_persisted_cversion_and_client_view_counts_both() {
        let mut t = DataTree::new(false);
        for (i, p) in ["/a", "/b", "/c"].iter().enumerate() {
            let c = CreateTxn {
                path: p.to_string(),
                data: None,
                acl: acl::open_acl_unsafe(),
                ephemeral: false,
                parent_c_version: i as i32 + 1,
            };
            t.apply(&hdr(i as i64 + 1, 0), &Txn::Create(1, c));
        }
        // root: 3 creates, 4 children ⇒ client cversion 2 (Java verified).
        assert_eq!(t.stat("/").unwrap().cversion, 2);
        let d = crate::jute::txn::DeleteTxn { path: "/a".into() };
        t.apply(&hdr(9, 0), &Txn::Delete(2, d));
        let s = t.stat("/").unwrap();
        assert_eq!((s.cversion, s.pzxid, s.num_children), (3, 9, 3));
    }
}
