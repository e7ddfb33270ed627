//! Reads and the other transaction-free requests (`FinalRequestProcessor`), one function per
//! op, as `prep` has one per write. Each decodes its request from the body, checks ACLs,
//! registers watches and returns the encoded response body or the error Java answers.
//! Pure: a [`Reader`] lends it the tree and the watch tables.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::reply;
use super::watch::{ConnId, Mode, Watches};
use crate::jute::error_code::*;
use crate::jute::multi::{MultiOp, MultiRequest, MultiResponse, OpResult};
use crate::jute::opcode::op;
use crate::jute::records::*;
use crate::jute::Jute;
use crate::tree::acl::{self, perms};
use crate::tree::{DataTree, EventType, Znode};
use crate::types::SessionId;
use bytes::Bytes;

/// A read's error code, and the body Java sends with it in the rare cases it sends one.
#[derive(Debug, PartialEq, Eq)]
pub struct ReadError {
    pub err: i32,
    pub body: Option<Vec<u8>>,
}

impl From<i32> for ReadError {
    fn from(err: i32) -> ReadError {
        ReadError { err, body: None }
    }
}

type ReadResult = Result<Vec<u8>, ReadError>;

/// What a read may look at and change, on behalf of one connection.
pub struct Reader<'a> {
    pub tree: &'a DataTree,
    pub watches: &'a mut Watches,
    pub conn: ConnId,
    pub session: SessionId,
    pub auth: &'a [Id],
    pub skip_acl: bool,
    /// Watch events `setWatches` fires at once; they go out before the reply.
    pub events: Vec<Bytes>,
}

impl<'a> Reader<'a> {
    fn lookup(&self, p: &str) -> Option<&'a Znode> {
        // Java's tree also holds the root under "".
        self.tree.get(if p.is_empty() { "/" } else { p })
    }

    fn check(&self, node: &Znode, perm: i32) -> Result<(), i32> {
        if self.skip_acl || acl::check(&self.tree.acl_of(node), perm, self.auth) {
            Ok(())
        } else {
            Err(NO_AUTH)
        }
    }
}

fn dec<T: Jute>(b: &[u8]) -> Result<T, i32> {
    T::from_slice(b).map_err(|_| MARSHALLING_ERROR)
}

/// Runs one read; `op_code` is one the op table calls a read (ping is answered before this).
pub fn read_op(r: &mut Reader, op_code: i32, body: &[u8]) -> ReadResult {
    match op_code {
        op::EXISTS => exists(r, body),
        op::GET_DATA => get_data(r, body),
        op::GET_ACL => get_acl(r, body),
        op::GET_CHILDREN | op::GET_CHILDREN2 => get_children(r, body, op_code == op::GET_CHILDREN2),
        op::GET_ALL_CHILDREN_NUMBER => get_all_children_number(r, body),
        op::SYNC => sync(body),
        op::GET_EPHEMERALS => get_ephemerals(r, body),
        op::SET_WATCHES => {
            let s: SetWatches = dec(body)?;
            set_watches(
                r,
                SetWatches2 {
                    relative_zxid: s.relative_zxid,
                    data_watches: s.data_watches,
                    exist_watches: s.exist_watches,
                    child_watches: s.child_watches,
                    ..Default::default()
                },
            );
            Ok(Vec::new())
        }
        op::SET_WATCHES2 => {
            set_watches(r, dec(body)?);
            Ok(Vec::new())
        }
        op::ADD_WATCH => add_watch(r, body),
        op::CHECK_WATCHES | op::REMOVE_WATCHES => check_or_remove_watches(r, body, op_code == op::REMOVE_WATCHES),
        op::MULTI_READ => multi_read(r, body),
        op::WHO_AM_I => who_am_i(r),
        _ => Err(UNIMPLEMENTED.into()),
    }
}

fn exists(r: &mut Reader, body: &[u8]) -> ReadResult {
    let q: ExistsRequest = dec(body)?;
    if q.path.contains('\0') {
        return Err(BAD_ARGUMENTS.into());
    }
    if q.watch {
        r.watches.data.add(&q.path, r.conn, Mode::Standard);
    }
    let n = r.lookup(&q.path).ok_or(NO_NODE)?;
    Ok(r.tree.stat_of(n).to_bytes())
}

fn get_data(r: &mut Reader, body: &[u8]) -> ReadResult {
    let q: GetDataRequest = dec(body)?;
    let n = r.lookup(&q.path).ok_or(NO_NODE)?;
    r.check(n, perms::READ)?;
    let out = GetDataResponse { data: n.data.clone(), stat: r.tree.stat_of(n) }.to_bytes();
    if q.watch {
        r.watches.data.add(&q.path, r.conn, Mode::Standard);
    }
    Ok(out)
}

fn get_acl(r: &mut Reader, body: &[u8]) -> ReadResult {
    let q: GetAclRequest = dec(body)?;
    let n = r.lookup(&q.path).ok_or(NO_NODE)?;
    r.check(n, perms::READ | perms::ADMIN)?;
    let mut list = r.tree.acl_of(n);
    // CVE-2019-0201: without ADMIN, digest hashes are masked.
    if r.check(n, perms::ADMIN).is_err() {
        for a in &mut list {
            if a.id.scheme == "digest" {
                let user = a.id.id.split(':').next().unwrap_or("").to_string();
                a.id.id = format!("{user}:x");
            }
        }
    }
    Ok(GetAclResponse { acl: list, stat: r.tree.stat_of(n) }.to_bytes())
}

fn get_children(r: &mut Reader, body: &[u8], with_stat: bool) -> ReadResult {
    let q: GetChildrenRequest = dec(body)?;
    let n = r.lookup(&q.path).ok_or(NO_NODE)?;
    r.check(n, perms::READ)?;
    let mut out = r.tree.child_names(n).to_bytes();
    if with_stat {
        r.tree.stat_of(n).encode(&mut out);
    }
    if q.watch {
        r.watches.child.add(&q.path, r.conn, Mode::Standard);
    }
    Ok(out)
}

fn get_all_children_number(r: &mut Reader, body: &[u8]) -> ReadResult {
    let q: GetAllChildrenNumberRequest = dec(body)?;
    let n = r.lookup(&q.path).ok_or(NO_NODE)?;
    r.check(n, perms::READ)?;
    // Java counts keys starting with `path + "/"`: for "" that is every node.
    let count = if q.path.is_empty() { r.tree.node_count() as i32 } else { r.tree.all_children_number(&q.path) };
    Ok(count.to_bytes())
}

/// Standalone, sync only has to wait behind earlier writes, which the queue already does.
fn sync(body: &[u8]) -> ReadResult {
    let q: SyncRequest = dec(body)?;
    Ok(q.to_bytes())
}

fn get_ephemerals(r: &mut Reader, body: &[u8]) -> ReadResult {
    let q: GetEphemeralsRequest = dec(body)?;
    let prefix = q.prefix_path.unwrap_or_default();
    let prefix = prefix.trim();
    let all: Vec<String> = r
        .tree
        .ephemerals_of(r.session.0)
        .map(|s| s.iter().filter(|p| prefix.is_empty() || prefix == "/" || p.starts_with(prefix)).cloned().collect())
        .unwrap_or_default();
    Ok(all.to_bytes())
}

/// `DataTree.setWatches`: re-register a reconnecting client's watches, firing at once what
/// it missed since `relative_zxid`.
fn set_watches(r: &mut Reader, w: SetWatches2) {
    let rel = w.relative_zxid;
    let mut fire: Vec<(EventType, String)> = Vec::new();
    for p in w.data_watches {
        match r.lookup(&p) {
            None => fire.push((EventType::NodeDeleted, p)),
            Some(n) if n.stat.mzxid > rel => fire.push((EventType::NodeDataChanged, p)),
            Some(_) => r.watches.data.add(&p, r.conn, Mode::Standard),
        }
    }
    for p in w.exist_watches {
        if r.lookup(&p).is_some() {
            fire.push((EventType::NodeCreated, p));
        } else {
            r.watches.data.add(&p, r.conn, Mode::Standard);
        }
    }
    for p in w.child_watches {
        match r.lookup(&p) {
            None => fire.push((EventType::NodeDeleted, p)),
            Some(n) if n.stat.pzxid > rel => fire.push((EventType::NodeChildrenChanged, p)),
            Some(_) => r.watches.child.add(&p, r.conn, Mode::Standard),
        }
    }
    for p in w.persistent_watches {
        r.watches.data.add(&p, r.conn, Mode::Persistent);
        r.watches.child.add(&p, r.conn, Mode::Persistent);
    }
    for p in w.persistent_recursive_watches {
        r.watches.data.add(&p, r.conn, Mode::PersistentRecursive);
        r.watches.child.add(&p, r.conn, Mode::PersistentRecursive);
    }
    for (kind, p) in fire {
        r.events.push(reply::event(kind, &p));
    }
}

fn add_watch(r: &mut Reader, body: &[u8]) -> ReadResult {
    let q: AddWatchRequest = dec(body)?;
    let mode = match q.mode {
        0 => Mode::Persistent,
        1 => Mode::PersistentRecursive,
        _ => return Err(BAD_ARGUMENTS.into()),
    };
    // Java 3.8.0 puts both persistent modes into both tables.
    r.watches.data.add(&q.path, r.conn, mode);
    r.watches.child.add(&q.path, r.conn, mode);
    Ok(ErrorResponse { err: 0 }.to_bytes())
}

fn check_or_remove_watches(r: &mut Reader, body: &[u8], remove: bool) -> ReadResult {
    let q: CheckWatchesRequest = dec(body)?;
    let (data, child) = match q.type_ {
        1 => (false, true),
        2 => (true, false),
        3 => (true, true),
        _ => return Err(BAD_ARGUMENTS.into()),
    };
    if !remove {
        // Java 3.8.0's containsWatcher ignores the caller: any watch on the path counts.
        let has = (data && r.watches.data.any_on(&q.path)) || (child && r.watches.child.any_on(&q.path));
        if !has {
            return Err(NO_WATCHER.into());
        }
    } else {
        let c = child && r.watches.child.remove(&q.path, r.conn).is_some();
        let d = data && r.watches.data.remove(&q.path, r.conn).is_some();
        if !c && !d {
            return Err(NO_WATCHER.into());
        }
    }
    Ok(Vec::new())
}

fn multi_read(r: &mut Reader, body: &[u8]) -> ReadResult {
    let m: MultiRequest = dec(body)?;
    if m.ops.iter().any(|o| o.is_read()) && m.ops.iter().any(|o| !o.is_read()) {
        // "Mixing different kind of ops" while deserialising: no body.
        return Err(MARSHALLING_ERROR.into());
    }
    let mut results = Vec::with_capacity(m.ops.len());
    for o in &m.ops {
        let res = match o {
            MultiOp::GetChildren(g) => match r.lookup(&g.path) {
                None => OpResult::Error(NO_NODE),
                Some(n) => match r.check(n, perms::READ) {
                    Err(e) => OpResult::Error(e),
                    Ok(()) => OpResult::GetChildren(r.tree.child_names(n)),
                },
            },
            MultiOp::GetData(g) => match r.lookup(&g.path) {
                None => OpResult::Error(NO_NODE),
                Some(n) => match r.check(n, perms::READ) {
                    Err(e) => OpResult::Error(e),
                    Ok(()) => OpResult::GetData(GetDataResponse { data: n.data.clone(), stat: r.tree.stat_of(n) }),
                },
            },
            _ => {
                // Java throws on a write op here after building the results so far, and
                // sends them with MARSHALLINGERROR.
                let body = MultiResponse { results }.to_bytes();
                return Err(ReadError { err: MARSHALLING_ERROR, body: Some(body) });
            }
        };
        results.push(res);
    }
    Ok(MultiResponse { results }.to_bytes())
}

fn who_am_i(r: &Reader) -> ReadResult {
    let infos: Vec<ClientInfo> = r
        .auth
        .iter()
        .map(|id| {
            let user = match id.scheme.as_str() {
                "digest" => id.id.split(':').next().unwrap_or("").to_string(),
                _ => id.id.clone(),
            };
            ClientInfo { auth_scheme: id.scheme.clone(), user }
        })
        .collect();
    Ok(WhoAmIResponse { client_info: infos }.to_bytes())
}
