//! What simulated clients ask for: random requests over a small, contended namespace, built
//! with the real `jute` records so the bytes are exactly what a Java client sends.
//!
//! The namespace is small on purpose (a few top-level keys, their children, one sequential
//! parent, per-client ephemerals, containers and TTL nodes): collisions between clients make
//! version checks fail, deletes race creates, and watches fire, which is where ordering bugs
//! show. Every written value is unique (`c<client>.<n>`) so a value seen in a read or in the
//! final tree names the write that produced it.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::rng::Rng;
use crate::jute::multi::{MultiOp, MultiRequest};
use crate::jute::opcode::op;
use crate::jute::records::*;
use crate::jute::Jute;
use bytes::Bytes;

/// `CreateMode` flags (`CreateMode.java`).
pub mod mode {
    pub const PERSISTENT: i32 = 0;
    pub const EPHEMERAL: i32 = 1;
    pub const PERSISTENT_SEQUENTIAL: i32 = 2;
    pub const EPHEMERAL_SEQUENTIAL: i32 = 3;
    pub const CONTAINER: i32 = 4;
    pub const PERSISTENT_WITH_TTL: i32 = 5;
    pub const PERSISTENT_SEQUENTIAL_WITH_TTL: i32 = 6;
}

/// Which watch a read leaves behind (`WatchManager` keeps data/exist and child watches apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum WatchFamily {
    /// getData or exists: fires on NodeCreated, NodeDataChanged, NodeDeleted.
    Data,
    /// getChildren: fires on NodeChildrenChanged, NodeDeleted.
    Child,
}

/// One request ready for the wire (without the RequestHeader, which carries the xid).
#[derive(Clone, Debug)]
pub struct Request {
    pub op: i32,
    pub path: String,
    pub body: Vec<u8>,
    /// The watch this read asks for.
    pub watch: Option<WatchFamily>,
    /// A short human description for traces: `create /k1 eph-seq "c3.7"`.
    pub desc: String,
}

impl Request {
    pub fn is_write(&self) -> bool {
        matches!(
            self.op,
            op::CREATE
                | op::CREATE2
                | op::CREATE_CONTAINER
                | op::CREATE_TTL
                | op::DELETE
                | op::SET_DATA
                | op::MULTI
                | op::CLOSE_SESSION
        )
    }
}

/// Which operations a workload may use.
#[derive(Clone, Copy, Debug)]
pub struct Mix {
    /// TTL nodes need `zookeeper.extendedTypesEnabled`.
    pub ttl: bool,
    /// Per-mille of requests that are writes (the rest are reads and syncs).
    pub write_per_mille: u32,
}

impl Default for Mix {
    fn default() -> Self {
        Mix { ttl: true, write_per_mille: 600 }
    }
}

const KEYS: u64 = 6;
const CHILDREN: u64 = 4;

fn key(rng: &mut Rng) -> String {
    format!("/k{}", rng.below(KEYS))
}

fn child(rng: &mut Rng) -> String {
    format!("/k{}/c{}", rng.below(KEYS), rng.below(CHILDREN))
}

/// A path anywhere in the namespace, for reads and deletes.
fn any_path(rng: &mut Rng, client: usize) -> String {
    match rng.below(6) {
        0 | 1 => key(rng),
        2 => child(rng),
        3 => format!("/e{client}.{}", rng.below(3)),
        4 => format!("/ctr{}", rng.below(2)),
        _ => format!("/ttl{}", rng.below(2)),
    }
}

fn version(rng: &mut Rng) -> i32 {
    // Mostly unconditional; otherwise a small version that sometimes matches.
    if rng.chance(600) {
        -1
    } else {
        rng.below(4) as i32
    }
}

/// Draws client-side randomness and numbers the values written.
#[derive(Debug)]
pub struct Workload {
    pub client: usize,
    pub mix: Mix,
    written: u64,
}

impl Workload {
    pub fn new(client: usize, mix: Mix) -> Workload {
        Workload { client, mix, written: 0 }
    }

    fn value(&mut self) -> Bytes {
        self.written += 1;
        Bytes::from(format!("c{}.{}", self.client, self.written))
    }

    pub fn next(&mut self, rng: &mut Rng) -> Request {
        if rng.chance(self.mix.write_per_mille) {
            self.write(rng)
        } else {
            self.read(rng)
        }
    }

    fn write(&mut self, rng: &mut Rng) -> Request {
        match rng.weighted(&[30, 25, 15, 12, 3, 0]).unwrap_or(0) {
            0 => self.create(rng),
            1 => {
                let path = if rng.chance(700) { key(rng) } else { child(rng) };
                let data = self.value();
                let version = version(rng);
                let desc = format!("setData {path} {:?} v{version}", String::from_utf8_lossy(&data));
                let body = SetDataRequest { path: path.clone(), data: Some(data), version }.to_bytes();
                Request { op: op::SET_DATA, path, body, watch: None, desc }
            }
            2 => {
                let path = any_path(rng, self.client);
                let version = version(rng);
                let desc = format!("delete {path} v{version}");
                Request {
                    op: op::DELETE,
                    body: DeleteRequest { path: path.clone(), version }.to_bytes(),
                    path,
                    watch: None,
                    desc,
                }
            }
            3 => self.multi(rng),
            _ => sync(rng),
        }
    }

    fn create(&mut self, rng: &mut Rng) -> Request {
        let client = self.client;
        let data = Some(self.value());
        let acl = Some(crate::tree::acl::open_acl_unsafe());
        let pick = rng.weighted(&[30, 20, 12, 12, 10, 8, if self.mix.ttl { 8 } else { 0 }]).unwrap_or(0);
        let (opcode, path, flags, ttl) = match pick {
            0 => (op::CREATE, key(rng), mode::PERSISTENT, 0),
            1 => (op::CREATE2, child(rng), mode::PERSISTENT, 0),
            2 => (op::CREATE2, "/q/s-".to_string(), mode::PERSISTENT_SEQUENTIAL, 0),
            3 => (op::CREATE, format!("/e{client}.{}", rng.below(3)), mode::EPHEMERAL, 0),
            4 => (op::CREATE2, format!("/k{}/e{client}-", rng.below(KEYS)), mode::EPHEMERAL_SEQUENTIAL, 0),
            5 => (op::CREATE_CONTAINER, format!("/ctr{}", rng.below(2)), mode::CONTAINER, 0),
            _ => {
                let seq = rng.chance(300);
                let flags = if seq { mode::PERSISTENT_SEQUENTIAL_WITH_TTL } else { mode::PERSISTENT_WITH_TTL };
                (op::CREATE_TTL, format!("/ttl{}", rng.below(2)), flags, rng.range(50, 5000) as i64)
            }
        };
        let desc = format!(
            "create {path} flags={flags}{} {:?}",
            if ttl > 0 { format!(" ttl={ttl}") } else { String::new() },
            data.as_ref().map(|d| String::from_utf8_lossy(d).into_owned()).unwrap_or_default()
        );
        let body = if opcode == op::CREATE_TTL {
            CreateTtlRequest { path: path.clone(), data, acl, flags, ttl }.to_bytes()
        } else {
            CreateRequest { path: path.clone(), data, acl, flags }.to_bytes()
        };
        Request { op: opcode, path, body, watch: None, desc }
    }

    fn multi(&mut self, rng: &mut Rng) -> Request {
        let n = rng.range(1, 4);
        let mut ops = Vec::new();
        let mut descs = Vec::new();
        for _ in 0..n {
            let o = match rng.below(5) {
                0 => MultiOp::Create(
                    op::CREATE,
                    CreateRequest {
                        path: child(rng),
                        data: Some(self.value()),
                        acl: Some(crate::tree::acl::open_acl_unsafe()),
                        flags: mode::PERSISTENT,
                    },
                ),
                1 => {
                    MultiOp::SetData(SetDataRequest { path: key(rng), data: Some(self.value()), version: version(rng) })
                }
                2 => MultiOp::Delete(DeleteRequest { path: child(rng), version: -1 }),
                3 => MultiOp::Check(CheckVersionRequest { path: key(rng), version: version(rng) }),
                _ => MultiOp::Create(
                    op::CREATE,
                    CreateRequest {
                        path: key(rng),
                        data: Some(self.value()),
                        acl: Some(crate::tree::acl::open_acl_unsafe()),
                        flags: mode::PERSISTENT,
                    },
                ),
            };
            descs.push(format!("{}:{}", o.op_code(), o.path()));
            ops.push(o);
        }
        let path = ops.first().map(|o| o.path().to_string()).unwrap_or_default();
        let desc = format!("multi [{}]", descs.join(" "));
        Request { op: op::MULTI, path, body: MultiRequest { ops }.to_bytes(), watch: None, desc }
    }

    fn read(&mut self, rng: &mut Rng) -> Request {
        let path = any_path(rng, self.client);
        let watch = rng.chance(500);
        match rng.weighted(&[40, 25, 20, 5]).unwrap_or(0) {
            0 => Request {
                op: op::GET_DATA,
                body: GetDataRequest { path: path.clone(), watch }.to_bytes(),
                desc: format!("getData {path}{}", if watch { " watch" } else { "" }),
                path,
                watch: watch.then_some(WatchFamily::Data),
            },
            1 => Request {
                op: op::EXISTS,
                body: ExistsRequest { path: path.clone(), watch }.to_bytes(),
                desc: format!("exists {path}{}", if watch { " watch" } else { "" }),
                path,
                watch: watch.then_some(WatchFamily::Data),
            },
            2 => {
                let path = if rng.chance(800) { key(rng) } else { "/q".to_string() };
                Request {
                    op: op::GET_CHILDREN2,
                    body: GetChildren2Request { path: path.clone(), watch }.to_bytes(),
                    desc: format!("getChildren2 {path}{}", if watch { " watch" } else { "" }),
                    path,
                    watch: watch.then_some(WatchFamily::Child),
                }
            }
            _ => sync(rng),
        }
    }
}

fn sync(rng: &mut Rng) -> Request {
    let path = key(rng);
    Request {
        op: op::SYNC,
        body: SyncRequest { path: path.clone() }.to_bytes(),
        desc: format!("sync {path}"),
        path,
        watch: None,
    }
}

/// The request that creates the fixed parents (`/q`), sent once by client 0.
pub fn setup_requests() -> Vec<Request> {
    ["/q"]
        .iter()
        .map(|p| Request {
            op: op::CREATE,
            path: p.to_string(),
            body: CreateRequest {
                path: p.to_string(),
                data: Some(Bytes::new()),
                acl: Some(crate::tree::acl::open_acl_unsafe()),
                flags: mode::PERSISTENT,
            }
            .to_bytes(),
            watch: None,
            desc: format!("create {p}"),
        })
        .collect()
}

/// A persistent create of `path` holding `data` (scripted scenarios).
pub fn create_request(path: &str, data: &str) -> Request {
    Request {
        op: op::CREATE,
        body: CreateRequest {
            path: path.to_string(),
            data: Some(Bytes::from(data.to_string())),
            acl: Some(crate::tree::acl::open_acl_unsafe()),
            flags: mode::PERSISTENT,
        }
        .to_bytes(),
        desc: format!("create {path} {data:?}"),
        path: path.to_string(),
        watch: None,
    }
}

/// A write the liveness probe sends after the faults stop: a fresh persistent node.
pub fn probe_request(n: u64) -> Request {
    let path = format!("/probe{n}");
    Request {
        op: op::CREATE,
        body: CreateRequest {
            path: path.clone(),
            data: Some(Bytes::from(format!("probe.{n}"))),
            acl: Some(crate::tree::acl::open_acl_unsafe()),
            flags: mode::PERSISTENT,
        }
        .to_bytes(),
        desc: format!("create {path} (liveness probe)"),
        path,
        watch: None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn requests_decode_as_the_records_they_claim_to_be() {
        let mut w = Workload::new(3, Mix::default());
        let mut rng = Rng::new(9);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let r = w.next(&mut rng);
            seen.insert(r.op);
            match r.op {
                op::CREATE | op::CREATE2 | op::CREATE_CONTAINER => {
                    assert_eq!(CreateRequest::from_slice(&r.body).unwrap().path, r.path)
                }
                op::CREATE_TTL => assert!(CreateTtlRequest::from_slice(&r.body).unwrap().ttl > 0),
                op::SET_DATA => assert_eq!(SetDataRequest::from_slice(&r.body).unwrap().path, r.path),
                op::DELETE => assert_eq!(DeleteRequest::from_slice(&r.body).unwrap().path, r.path),
                op::MULTI => assert!(!MultiRequest::from_slice(&r.body).unwrap().ops.is_empty()),
                op::GET_DATA => assert_eq!(GetDataRequest::from_slice(&r.body).unwrap().path, r.path),
                op::EXISTS => assert_eq!(ExistsRequest::from_slice(&r.body).unwrap().path, r.path),
                op::GET_CHILDREN2 => assert_eq!(GetChildren2Request::from_slice(&r.body).unwrap().path, r.path),
                op::SYNC => assert_eq!(SyncRequest::from_slice(&r.body).unwrap().path, r.path),
                other => panic!("unexpected op {other}"),
            }
        }
        let all = [
            op::CREATE,
            op::CREATE2,
            op::CREATE_CONTAINER,
            op::CREATE_TTL,
            op::SET_DATA,
            op::DELETE,
            op::MULTI,
            op::GET_DATA,
            op::EXISTS,
            op::GET_CHILDREN2,
            op::SYNC,
        ];
        assert_eq!(seen, all.into_iter().collect(), "every op is drawn");
    }

    #[test]
    fn written_values_are_unique_per_client() {
        let mut w = Workload::new(1, Mix::default());
        assert_eq!(w.value(), Bytes::from_static(b"c1.1"));
        assert_eq!(w.value(), Bytes::from_static(b"c1.2"));
    }
}
