//! Request → transaction (`PrepRequestProcessor`). Checks paths, sessions, ACLs and versions
//! against the tree *plus* the changes of transactions already prepared but not yet applied
//! (Java's `outstandingChanges`), assigns the zxid and stamps the time. A failing write becomes
//! an error transaction that still consumes its zxid, as in Java. Pure: time comes in `Ctx`.

use crate::jute::error_code::*;
use crate::jute::multi::{MultiOp, MultiRequest};
use crate::jute::opcode::op;
use crate::jute::records::*;
use crate::jute::txn::*;
use crate::jute::Jute;
use crate::tree::acl::{self, perms};
use crate::tree::{owner_kind, path, DataTree, OwnerKind, MAX_TTL};
use std::collections::HashMap;

/// `ChangeRecord`: what prep believes a node looks like once earlier txns apply.
#[derive(Clone, Debug)]
pub struct Record {
    pub stat: StatPersisted,
    pub children: i32,
    pub acl: Vec<Acl>,
}

/// Outstanding changes by path; `None` marks a pending delete.
#[derive(Default)]
pub struct Pending {
    map: HashMap<String, (i64, Option<Record>)>,
}

impl Pending {
    /// Forgets changes made by txns up to `zxid`, now visible in the tree.
    pub fn applied(&mut self, zxid: i64) {
        if !self.map.is_empty() {
            self.map.retain(|_, (z, _)| *z > zxid);
        }
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Server-wide settings prep needs.
#[derive(Clone, Debug, Default)]
pub struct PrepOptions {
    pub extended_types: bool,
    pub skip_acl: bool,
    pub close_session_txn: bool,
    pub reconfig_enabled: bool,
}

pub struct Ctx<'a> {
    pub session: i64,
    pub cxid: i32,
    pub zxid: i64,
    pub time: i64,
    pub auth: &'a [Id],
    /// Err(SESSION_EXPIRED) when the session is closing or gone.
    pub session_ok: Result<(), i32>,
    pub opts: &'a PrepOptions,
}

/// A pending entry as it was before prep touched it, for rolling back a failed multi.
type Undo = (String, Option<(i64, Option<Record>)>);

struct View<'a> {
    tree: &'a DataTree,
    pending: &'a mut Pending,
    undo: Vec<Undo>,
}

impl View<'_> {
    fn record(&self, p: &str) -> Result<Record, i32> {
        let p = if p.is_empty() { "/" } else { p };
        if let Some((_, r)) = self.pending.map.get(p) {
            return r.clone().ok_or(NO_NODE);
        }
        let n = self.tree.get(p).ok_or(NO_NODE)?;
        Ok(Record { stat: n.stat.clone(), children: n.child_count() as i32, acl: self.tree.acl_of(n) })
    }
    fn put(&mut self, p: &str, zxid: i64, r: Option<Record>) {
        let p = if p.is_empty() { "/" } else { p };
        let old = self.pending.map.insert(p.to_string(), (zxid, r));
        self.undo.push((p.to_string(), old));
    }
    fn rollback(&mut self) {
        while let Some((p, old)) = self.undo.pop() {
            match old {
                Some(v) => self.pending.map.insert(p, v),
                None => self.pending.map.remove(&p),
            };
        }
    }
}

fn check_acl(ctx: &Ctx, acl: &[Acl], perm: i32) -> Result<(), i32> {
    if ctx.opts.skip_acl || acl::check(acl, perm, ctx.auth) {
        Ok(())
    } else {
        Err(NO_AUTH)
    }
}

fn check_version(current: i32, expected: i32) -> Result<i32, i32> {
    if expected != -1 && expected != current {
        return Err(BAD_VERSION);
    }
    Ok(current.wrapping_add(1))
}

/// `getParentPathAndValidate`: special paths may not be deleted.
fn parent_for_delete(p: &str) -> Result<String, i32> {
    let special = matches!(p, "/" | "/zookeeper" | "/zookeeper/quota" | "/zookeeper/config");
    match p.rfind('/') {
        Some(i) if !p.contains('\0') && !special => Ok(p[..i].to_string()),
        _ => Err(BAD_ARGUMENTS),
    }
}

fn validate(p: &str) -> Result<(), i32> {
    if path::validate(p) {
        Ok(())
    } else {
        Err(BAD_ARGUMENTS)
    }
}

/// `CreateMode.fromFlag`: (ephemeral, sequential, container, ttl).
fn mode(flags: i32) -> Result<(bool, bool, bool, bool), i32> {
    Ok(match flags {
        0 => (false, false, false, false),
        1 => (true, false, false, false),
        2 => (false, true, false, false),
        3 => (true, true, false, false),
        4 => (false, false, true, false),
        5 => (false, false, false, true),
        6 => (false, true, false, true),
        _ => return Err(BAD_ARGUMENTS),
    })
}

struct CreateArgs<'r> {
    op: i32,
    path: &'r str,
    data: &'r Option<bytes::Bytes>,
    acl: &'r Option<Vec<Acl>>,
    flags: i32,
    ttl: i64,
}

fn create(v: &mut View, ctx: &Ctx, a: CreateArgs) -> Result<Txn, i32> {
    let (ephemeral, sequential, _container, is_ttl) = mode(a.flags)?;
    if is_ttl && !ctx.opts.extended_types {
        return Err(UNIMPLEMENTED);
    }
    if is_ttl {
        if a.ttl <= 0 || a.ttl > MAX_TTL {
            return Err(BAD_ARGUMENTS);
        }
    } else if a.op == op::CREATE_TTL {
        // Java 3.8.0 logs such a txn and then fails applying it on every restart; refuse it.
        return Err(BAD_ARGUMENTS);
    }
    ctx.session_ok?;
    let last_slash = match a.path.rfind('/') {
        Some(i) if !a.path.contains('\0') => i,
        _ => return Err(BAD_ARGUMENTS),
    };
    let parent_path = &a.path[..last_slash];
    let acl_list = acl::fixup(a.acl.as_deref().unwrap_or(&[]), ctx.auth).ok_or(INVALID_ACL)?;
    let mut parent = v.record(parent_path)?;
    check_acl(ctx, &parent.acl, perms::CREATE)?;
    let parent_cversion = parent.stat.cversion;
    let mut p = a.path.to_string();
    if sequential {
        p.push_str(&format!("{parent_cversion:010}"));
    }
    validate(&p)?;
    if v.record(&p).is_ok() {
        return Err(NODE_EXISTS);
    }
    if matches!(owner_kind(parent.stat.ephemeral_owner, ctx.opts.extended_types), OwnerKind::Normal(_)) {
        return Err(NO_CHILDREN_FOR_EPHEMERALS);
    }
    let new_cversion = parent_cversion.wrapping_add(1);
    let data = a.data.clone();
    let (txn, owner) = match a.op {
        op::CREATE_CONTAINER => (
            Txn::CreateContainer(CreateContainerTxn {
                path: p.clone(),
                data,
                acl: acl_list.clone(),
                parent_c_version: new_cversion,
            }),
            crate::tree::CONTAINER_OWNER,
        ),
        op::CREATE_TTL => (
            Txn::CreateTtl(CreateTtlTxn {
                path: p.clone(),
                data,
                acl: acl_list.clone(),
                parent_c_version: new_cversion,
                ttl: a.ttl,
            }),
            crate::tree::ttl_owner(a.ttl),
        ),
        t => (
            Txn::Create(
                t,
                CreateTxn { path: p.clone(), data, acl: acl_list.clone(), ephemeral, parent_c_version: new_cversion },
            ),
            if ephemeral { ctx.session } else { 0 },
        ),
    };
    parent.stat.cversion = new_cversion;
    parent.stat.pzxid = ctx.zxid;
    parent.children += 1;
    v.put(parent_path, ctx.zxid, Some(parent));
    let stat = StatPersisted {
        czxid: ctx.zxid,
        mzxid: ctx.zxid,
        ctime: ctx.time,
        mtime: ctx.time,
        ephemeral_owner: owner,
        pzxid: ctx.zxid,
        ..Default::default()
    };
    v.put(&p, ctx.zxid, Some(Record { stat, children: 0, acl: acl_list }));
    Ok(txn)
}

fn delete(v: &mut View, ctx: &Ctx, r: &DeleteRequest, container: bool) -> Result<Txn, i32> {
    if !container {
        ctx.session_ok?;
    }
    let parent_path = parent_for_delete(&r.path)?;
    let mut parent = v.record(&parent_path)?;
    if !container {
        check_acl(ctx, &parent.acl, perms::DELETE)?;
    }
    let node = v.record(&r.path)?;
    if container {
        if node.children > 0 {
            return Err(NOT_EMPTY);
        }
        if matches!(owner_kind(node.stat.ephemeral_owner, ctx.opts.extended_types), OwnerKind::Normal(_)) {
            return Err(BAD_VERSION);
        }
    } else {
        check_version(node.stat.version, r.version)?;
        if node.children > 0 {
            return Err(NOT_EMPTY);
        }
    }
    parent.children -= 1;
    parent.stat.pzxid = ctx.zxid;
    v.put(&parent_path, ctx.zxid, Some(parent));
    v.put(&r.path, ctx.zxid, None);
    let t = if container { op::DELETE_CONTAINER } else { op::DELETE };
    Ok(Txn::Delete(t, DeleteTxn { path: r.path.clone() }))
}

fn set_data(v: &mut View, ctx: &Ctx, r: &SetDataRequest) -> Result<Txn, i32> {
    ctx.session_ok?;
    validate(&r.path)?;
    let mut node = v.record(&r.path)?;
    check_acl(ctx, &node.acl, perms::WRITE)?;
    let version = check_version(node.stat.version, r.version)?;
    node.stat.version = version;
    node.stat.mzxid = ctx.zxid;
    node.stat.mtime = ctx.time;
    v.put(&r.path, ctx.zxid, Some(node));
    Ok(Txn::SetData(op::SET_DATA, SetDataTxn { path: r.path.clone(), data: r.data.clone(), version }))
}

fn set_acl(v: &mut View, ctx: &Ctx, r: &SetAclRequest) -> Result<Txn, i32> {
    ctx.session_ok?;
    validate(&r.path)?;
    let list = acl::fixup(r.acl.as_deref().unwrap_or(&[]), ctx.auth).ok_or(INVALID_ACL)?;
    let mut node = v.record(&r.path)?;
    check_acl(ctx, &node.acl, perms::ADMIN)?;
    let version = check_version(node.stat.aversion, r.version)?;
    node.stat.aversion = version;
    node.acl = list.clone();
    v.put(&r.path, ctx.zxid, Some(node));
    Ok(Txn::SetAcl(SetAclTxn { path: r.path.clone(), acl: list, version }))
}

fn check(v: &mut View, ctx: &Ctx, r: &CheckVersionRequest) -> Result<Txn, i32> {
    ctx.session_ok?;
    validate(&r.path)?;
    let node = v.record(&r.path)?;
    check_acl(ctx, &node.acl, perms::READ)?;
    if r.version != -1 && r.version != node.stat.version {
        return Err(BAD_VERSION);
    }
    Ok(Txn::Check(CheckVersionTxn { path: r.path.clone(), version: r.version }))
}

/// The session's ephemerals as prep sees them: the tree's plus pending creates, minus
/// pending deletes (Java's closeSession prep).
fn close_session(v: &mut View, ctx: &Ctx) -> Txn {
    let mut es: std::collections::BTreeSet<String> = v.tree.ephemerals_of(ctx.session).cloned().unwrap_or_default();
    for (p, (_, r)) in &v.pending.map {
        match r {
            None => {
                es.remove(p);
            }
            Some(r) if r.stat.ephemeral_owner == ctx.session => {
                es.insert(p.clone());
            }
            Some(_) => {}
        }
    }
    for p in &es {
        v.put(p, ctx.zxid, None);
    }
    if ctx.opts.close_session_txn {
        Txn::CloseSession(Some(es.into_iter().collect()))
    } else {
        Txn::CloseSession(None)
    }
}

fn decode<T: Jute>(body: &[u8]) -> Result<T, i32> {
    T::from_slice(body).map_err(|_| MARSHALLING_ERROR)
}

/// Whether an op code is a write that goes through the log.
pub fn is_write(op_code: i32) -> bool {
    matches!(
        op_code,
        op::CREATE
            | op::CREATE2
            | op::CREATE_CONTAINER
            | op::CREATE_TTL
            | op::DELETE
            | op::DELETE_CONTAINER
            | op::SET_DATA
            | op::SET_ACL
            | op::MULTI
            | op::RECONFIG
            | op::CLOSE_SESSION
            | op::CREATE_SESSION
    )
}

fn prepare_one(v: &mut View, ctx: &Ctx, op_code: i32, body: &[u8]) -> Result<Txn, i32> {
    match op_code {
        op::CREATE | op::CREATE2 | op::CREATE_CONTAINER => {
            let r: CreateRequest = decode(body)?;
            create(
                v,
                ctx,
                CreateArgs { op: op_code, path: &r.path, data: &r.data, acl: &r.acl, flags: r.flags, ttl: -1 },
            )
        }
        op::CREATE_TTL => {
            let r: CreateTtlRequest = decode(body)?;
            create(
                v,
                ctx,
                CreateArgs { op: op_code, path: &r.path, data: &r.data, acl: &r.acl, flags: r.flags, ttl: r.ttl },
            )
        }
        op::DELETE => delete(v, ctx, &decode(body)?, false),
        op::DELETE_CONTAINER => {
            // 3.8 sends the raw path bytes; 3.9 a jute buffer. Accept both.
            let raw = String::from_utf8_lossy(body).into_owned();
            let p = match Option::<String>::from_slice(body) {
                Ok(Some(s)) if s.starts_with('/') && body.len() == s.len() + 4 => s,
                _ => raw,
            };
            delete(v, ctx, &DeleteRequest { path: p, version: -1 }, true)
        }
        op::SET_DATA => set_data(v, ctx, &decode(body)?),
        op::SET_ACL => set_acl(v, ctx, &decode(body)?),
        op::RECONFIG => {
            let _: ReconfigRequest = decode(body)?;
            if ctx.opts.reconfig_enabled {
                Err(UNIMPLEMENTED)
            } else {
                Err(RECONFIG_DISABLED)
            }
        }
        op::CLOSE_SESSION => Ok(close_session(v, ctx)),
        op::CREATE_SESSION => {
            let t: i32 = decode(body)?;
            Ok(Txn::CreateSession(CreateSessionTxn { time_out: t }))
        }
        _ => Err(UNIMPLEMENTED),
    }
}

/// The op Java's `MultiOperationRecord` turns a create into: `Op.create` picks the op code
/// from the flags, so create2 becomes create, flag 4 a createContainer, and a createTTL
/// without TTL flags a plain create (its ttl dropped). A create (1/15/19) *with* TTL flags
/// becomes a createTTL carrying a CreateRequest, which Java's prep fails on with a
/// ClassCastException: the whole multi then answers MARSHALLINGERROR, if prep gets there.
enum MultiCreate<'r> {
    Create(CreateArgs<'r>),
    Poison,
}

fn multi_create(o: &MultiOp) -> Option<MultiCreate<'_>> {
    let plain = |path, data, acl, flags| {
        let op = if flags == 4 { op::CREATE_CONTAINER } else { op::CREATE };
        MultiCreate::Create(CreateArgs { op, path, data, acl, flags, ttl: -1 })
    };
    match o {
        MultiOp::Create(_, r) if matches!(r.flags, 5 | 6) => Some(MultiCreate::Poison),
        MultiOp::Create(_, r) => Some(plain(&r.path, &r.data, &r.acl, r.flags)),
        MultiOp::CreateTtl(r) if matches!(r.flags, 5 | 6) => Some(MultiCreate::Create(CreateArgs {
            op: op::CREATE_TTL,
            path: &r.path,
            data: &r.data,
            acl: &r.acl,
            flags: r.flags,
            ttl: r.ttl,
        })),
        MultiOp::CreateTtl(r) => Some(plain(&r.path, &r.data, &r.acl, r.flags)),
        _ => None,
    }
}

/// `Err` when the whole multi fails (see [`MultiCreate::Poison`]).
fn multi(v: &mut View, ctx: &Ctx, req: &MultiRequest) -> Result<Txn, i32> {
    // `MultiOperationRecord` refuses to mix reads and writes while deserialising, and a read
    // op in a write multi fails Java's prep outside any KeeperException: both MARSHALLINGERROR.
    if req.ops.iter().any(|o| o.is_read()) {
        return Err(MARSHALLING_ERROR);
    }
    let mut failed = false;
    let mut subs = Vec::with_capacity(req.ops.len());
    for o in &req.ops {
        if failed {
            subs.push(Txn::Error(ErrorTxn { err: RUNTIME_INCONSISTENCY }));
            continue;
        }
        let r = match (multi_create(o), o) {
            (Some(MultiCreate::Poison), _) => {
                v.rollback();
                return Err(MARSHALLING_ERROR);
            }
            (Some(MultiCreate::Create(args)), _) => create(v, ctx, args),
            (None, MultiOp::Delete(r)) => delete(v, ctx, r, false),
            (None, MultiOp::SetData(r)) => set_data(v, ctx, r),
            (None, MultiOp::Check(r)) => check(v, ctx, r),
            (None, _) => Err(BAD_ARGUMENTS),
        };
        match r {
            Ok(t) => subs.push(t),
            Err(e) => {
                failed = true;
                v.rollback();
                subs.push(Txn::Error(ErrorTxn { err: e }));
            }
        }
    }
    Ok(Txn::Multi(subs))
}

/// Prepares one write. Never fails: a rejected request becomes `Txn::Error`.
pub fn prepare(tree: &DataTree, pending: &mut Pending, ctx: &Ctx, op_code: i32, body: &[u8]) -> TxnEntry {
    let mut v = View { tree, pending, undo: Vec::new() };
    let txn = if op_code == op::MULTI {
        match MultiRequest::from_slice(body).map_err(|_| MARSHALLING_ERROR).and_then(|m| {
            ctx.session_ok?;
            multi(&mut v, ctx, &m)
        }) {
            Ok(t) => t,
            Err(e) => Txn::Error(ErrorTxn { err: e }),
        }
    } else {
        match prepare_one(&mut v, ctx, op_code, body) {
            Ok(t) => t,
            Err(e) => {
                v.rollback();
                Txn::Error(ErrorTxn { err: e })
            }
        }
    };
    let type_ = txn.type_code();
    TxnEntry {
        header: TxnHeader { client_id: ctx.session, cxid: ctx.cxid, zxid: ctx.zxid, time: ctx.time, type_ },
        txn,
        digest: None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn ctx<'a>(zxid: i64, opts: &'a PrepOptions) -> Ctx<'a> {
        Ctx { session: 7, cxid: 1, zxid, time: 100, auth: &[], session_ok: Ok(()), opts }
    }

    fn create_req(path: &str, flags: i32) -> Vec<u8> {
        CreateRequest { path: path.into(), data: None, acl: Some(acl::open_acl_unsafe()), flags }.to_bytes()
    }

    #[test]
    fn pipelined_sequentials_see_each_other() {
        let tree = DataTree::new(false);
        let mut p = Pending::default();
        let o = PrepOptions::default();
        let a = prepare(&tree, &mut p, &ctx(1, &o), op::CREATE, &create_req("/s-", 2));
        let b = prepare(&tree, &mut p, &ctx(2, &o), op::CREATE, &create_req("/s-", 2));
        let (Txn::Create(_, a), Txn::Create(_, b)) = (a.txn, b.txn) else { panic!() };
        assert_eq!(a.path, "/s-0000000000");
        assert_eq!(b.path, "/s-0000000001");
    }

    #[test]
    fn failed_multi_rolls_back_and_marks_later_ops() {
        let tree = DataTree::new(false);
        let mut p = Pending::default();
        let o = PrepOptions::default();
        let m = MultiRequest {
            ops: vec![
                MultiOp::Create(
                    1,
                    CreateRequest { path: "/m".into(), data: None, acl: Some(acl::open_acl_unsafe()), flags: 0 },
                ),
                MultiOp::Check(CheckVersionRequest { path: "/m".into(), version: 5 }),
                MultiOp::SetData(SetDataRequest { path: "/m".into(), data: None, version: -1 }),
            ],
        };
        let e = prepare(&tree, &mut p, &ctx(1, &o), op::MULTI, &m.to_bytes());
        let Txn::Multi(subs) = e.txn else { panic!() };
        assert!(matches!(subs[0], Txn::Create(1, _)));
        assert_eq!(subs[1], Txn::Error(ErrorTxn { err: BAD_VERSION }));
        assert_eq!(subs[2], Txn::Error(ErrorTxn { err: RUNTIME_INCONSISTENCY }));
        assert!(p.is_empty());
    }

    #[test]
    fn create_error_order_matches_java() {
        let tree = DataTree::new(false);
        let mut p = Pending::default();
        let o = PrepOptions::default();
        let err = |e: TxnEntry| match e.txn {
            Txn::Error(x) => x.err,
            _ => 0,
        };
        assert_eq!(err(prepare(&tree, &mut p, &ctx(1, &o), op::CREATE, &create_req("", 0))), BAD_ARGUMENTS);
        assert_eq!(err(prepare(&tree, &mut p, &ctx(2, &o), op::CREATE, &create_req("/x/y", 0))), NO_NODE);
        assert_eq!(err(prepare(&tree, &mut p, &ctx(3, &o), op::CREATE, &create_req("/zookeeper/", 0))), BAD_ARGUMENTS);
        assert_eq!(err(prepare(&tree, &mut p, &ctx(4, &o), op::CREATE, &create_req("/zookeeper", 0))), NODE_EXISTS);
        assert_eq!(err(prepare(&tree, &mut p, &ctx(5, &o), op::CREATE, &create_req("/t", 5))), UNIMPLEMENTED);
    }
}
