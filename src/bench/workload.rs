//! What the load generator sends: op kinds, `--mix` parsing, the named workloads
//! (`--workload`), and request generators. A generator only encodes request bodies; the
//! client driver frames, sends and times them.

use crate::jute::multi::{MultiOp, MultiRequest};
use crate::jute::opcode::op;
use crate::jute::records::{
    Acl, CreateRequest, DeleteRequest, ExistsRequest, GetChildrenRequest, GetDataRequest, Id, SetDataRequest,
};
use crate::jute::Jute;
use anyhow::{bail, Context};
use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;
use std::sync::Arc;

/// Create flags (`CreateMode`).
pub const PERSISTENT: i32 = 0;
pub const EPHEMERAL: i32 = 1;

/// The kinds of request the bench measures separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Get,
    Exists,
    Children,
    Set,
    Create,
    Delete,
    Multi,
}

impl Kind {
    pub const ALL: [Kind; 7] =
        [Kind::Get, Kind::Exists, Kind::Children, Kind::Set, Kind::Create, Kind::Delete, Kind::Multi];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Get => "get",
            Kind::Exists => "exists",
            Kind::Children => "children",
            Kind::Set => "set",
            Kind::Create => "create",
            Kind::Delete => "delete",
            Kind::Multi => "multi",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "get" | "getData" => Kind::Get,
            "exists" => Kind::Exists,
            "children" | "list" | "getChildren" => Kind::Children,
            "set" | "setData" => Kind::Set,
            "create" => Kind::Create,
            "delete" => Kind::Delete,
            "multi" => Kind::Multi,
            _ => return None,
        })
    }
}

/// Produces request bodies: `Some((kind, op code))` with the body appended to `body`, or
/// `None` when this connection has nothing more to send.
pub trait Generator: Send {
    fn next(&mut self, body: &mut Vec<u8>) -> Option<(Kind, i32)>;
}

impl<F: FnMut(&mut Vec<u8>) -> Option<(Kind, i32)> + Send> Generator for F {
    fn next(&mut self, body: &mut Vec<u8>) -> Option<(Kind, i32)> {
        self(body)
    }
}

/// A weighted op mix such as `get=80,set=20`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mix {
    pub weights: Vec<(Kind, u32)>,
}

impl Mix {
    pub fn parse(s: &str) -> anyhow::Result<Mix> {
        let mut weights = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, w) = part.split_once('=').unwrap_or((part, "1"));
            let kind = Kind::parse(name.trim()).with_context(|| {
                format!("unknown op {name:?} in --mix (get, exists, children, set, create, delete, multi)")
            })?;
            let w: u32 = w.trim().parse().with_context(|| format!("bad weight in {part:?}"))?;
            if w > 0 {
                weights.push((kind, w));
            }
        }
        if weights.is_empty() {
            bail!("--mix {s:?} has no op with a positive weight");
        }
        Ok(Mix { weights })
    }

    pub fn total(&self) -> u32 {
        self.weights.iter().map(|(_, w)| w).sum()
    }

    /// The share of writes (set, create, delete, multi), in percent.
    pub fn write_pct(&self) -> f64 {
        let w: u32 = self
            .weights
            .iter()
            .filter(|(k, _)| matches!(k, Kind::Set | Kind::Create | Kind::Delete | Kind::Multi))
            .map(|(_, w)| w)
            .sum();
        100.0 * f64::from(w) / f64::from(self.total().max(1))
    }

    fn pick(&self, r: u32) -> Kind {
        let mut acc = 0;
        for (k, w) in &self.weights {
            acc += w;
            if r < acc {
                return *k;
            }
        }
        self.weights.last().map_or(Kind::Get, |(k, _)| *k)
    }
}

impl std::fmt::Display for Mix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.weights.iter().map(|(k, w)| format!("{}={w}", k.name())).collect();
        f.write_str(&parts.join(","))
    }
}

/// What `--workload` names.
#[derive(Clone, Debug, PartialEq)]
pub enum Workload {
    /// A steady op mix against pre-created keys; `value_size` overrides `--value-size`.
    Mix { mix: Mix, value_size: Option<usize> },
    /// phunt's zk-latencies: create, set, get, delete, ephemerals, watches — per-phase rates.
    ZkLatencies,
    /// Create this many 100-byte znodes (the memory test).
    Load(u64),
}

impl Workload {
    pub fn parse(name: &str) -> anyhow::Result<Workload> {
        let mix = |s: &str, v: Option<usize>| -> anyhow::Result<Workload> {
            Ok(Workload::Mix { mix: Mix::parse(s)?, value_size: v })
        };
        // The ZooKeeper paper (Hunt et al. 2010, Fig. 5): 1 KB reads and writes.
        match name {
            "paper-read" => return mix("get=100", Some(1024)),
            "paper-write" => return mix("set=100", Some(1024)),
            // ~1/3 writes, a tenth of all requests multi (ClickHouse Keeper traffic).
            "clickhouse" => return mix("get=40,children=15,exists=12,set=13,create=5,delete=5,multi=10", None),
            "zk-latencies" => return Ok(Workload::ZkLatencies),
            _ => {}
        }
        if let Some(pct) = name.strip_prefix("paper-mixed-") {
            let p: u32 = pct.parse().ok().filter(|p| *p <= 100).context("paper-mixed-<0..100>")?;
            return mix(&format!("get={p},set={}", 100 - p), Some(1024));
        }
        if let Some(n) = name.strip_prefix("load:").or_else(|| name.strip_prefix("load-")) {
            return Ok(Workload::Load(n.parse().context("load:<count>")?));
        }
        bail!(
            "unknown workload {name:?}: paper-read, paper-write, paper-mixed-<pct>, clickhouse, \
             zk-latencies, load:<N>"
        )
    }
}

/// `world:anyone` with all permissions (`Ids.OPEN_ACL_UNSAFE`).
pub fn open_acl() -> Vec<Acl> {
    vec![Acl { perms: 31, id: Id { scheme: "world".into(), id: "anyone".into() } }]
}

pub fn create_body(body: &mut Vec<u8>, path: String, data: &Bytes, flags: i32) {
    CreateRequest { path, data: Some(data.clone()), acl: Some(open_acl()), flags }.encode(body);
}

/// The path of key `i` under `root`.
pub fn key_path(root: &str, i: usize) -> String {
    format!("{root}/k{i:08}")
}

/// The steady-state generator for a mix. Creates use unique names (run nonce, connection,
/// sequence) and deletes remove this connection's oldest create, so a balanced
/// create/delete mix keeps the tree size constant.
pub struct MixGen {
    mix: Mix,
    total: u32,
    keys: Arc<Vec<String>>,
    value: Bytes,
    rng: StdRng,
    prefix: String,
    seq: u64,
    created: VecDeque<String>,
}

impl MixGen {
    pub fn new(mix: Mix, keys: Arc<Vec<String>>, value: Bytes, prefix: String, seed: u64) -> MixGen {
        let total = mix.total();
        MixGen { mix, total, keys, value, rng: StdRng::seed_from_u64(seed), prefix, seq: 0, created: VecDeque::new() }
    }

    fn key(&mut self) -> String {
        if self.keys.is_empty() {
            return "/".to_string();
        }
        let i = self.rng.gen_range(0..self.keys.len());
        self.keys.get(i).cloned().unwrap_or_else(|| "/".to_string())
    }

    fn fresh(&mut self) -> String {
        self.seq += 1;
        format!("{}{}", self.prefix, self.seq)
    }
}

impl Generator for MixGen {
    fn next(&mut self, body: &mut Vec<u8>) -> Option<(Kind, i32)> {
        let mut kind = self.mix.pick(self.rng.gen_range(0..self.total));
        if kind == Kind::Delete && self.created.is_empty() {
            kind = Kind::Create;
        }
        let code = match kind {
            Kind::Get => {
                GetDataRequest { path: self.key(), watch: false }.encode(body);
                op::GET_DATA
            }
            Kind::Exists => {
                ExistsRequest { path: self.key(), watch: false }.encode(body);
                op::EXISTS
            }
            Kind::Children => {
                GetChildrenRequest { path: self.key(), watch: false }.encode(body);
                op::GET_CHILDREN
            }
            Kind::Set => {
                SetDataRequest { path: self.key(), data: Some(self.value.clone()), version: -1 }.encode(body);
                op::SET_DATA
            }
            Kind::Create => {
                let p = self.fresh();
                self.created.push_back(p.clone());
                create_body(body, p, &self.value, PERSISTENT);
                op::CREATE
            }
            Kind::Delete => {
                let path = self.created.pop_front()?;
                DeleteRequest { path, version: -1 }.encode(body);
                op::DELETE
            }
            Kind::Multi => {
                // A net-zero three-op transaction: create a scratch node, update a key,
                // delete the scratch node (the shape of ClickHouse's log-entry multis).
                let tmp = self.fresh();
                let key = self.key();
                MultiRequest {
                    ops: vec![
                        MultiOp::Create(
                            op::CREATE,
                            CreateRequest {
                                path: tmp.clone(),
                                data: Some(self.value.clone()),
                                acl: Some(open_acl()),
                                flags: PERSISTENT,
                            },
                        ),
                        MultiOp::SetData(SetDataRequest { path: key, data: Some(self.value.clone()), version: -1 }),
                        MultiOp::Delete(DeleteRequest { path: tmp, version: -1 }),
                    ],
                }
                .encode(body);
                op::MULTI
            }
        };
        Some((kind, code))
    }
}

/// A generator that walks indices `start, start+step, …` below `end`, encoding one request
/// per index (setup, load and the zk-latencies phases).
pub fn strided<F>(start: u64, step: u64, end: u64, mut f: F) -> Box<dyn Generator>
where
    F: FnMut(u64, &mut Vec<u8>) -> (Kind, i32) + Send + 'static,
{
    let mut i = start;
    let step = step.max(1);
    Box::new(move |body: &mut Vec<u8>| {
        if i >= end {
            return None;
        }
        let r = f(i, body);
        i += step;
        Some(r)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::jute::multi::MultiRequest;

    #[test]
    fn mix_parses_weights_and_write_share() {
        let m = Mix::parse("get=80, set=20").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.weights, vec![(Kind::Get, 80), (Kind::Set, 20)]);
        assert!((m.write_pct() - 20.0).abs() < 1e-9);
        assert_eq!(m.to_string(), "get=80,set=20");
        assert!(Mix::parse("get=0").is_err());
        assert!(Mix::parse("frobnicate=3").is_err());
        assert_eq!(m.pick(79), Kind::Get);
        assert_eq!(m.pick(80), Kind::Set);
    }

    #[test]
    fn named_workloads_resolve() {
        let Ok(Workload::Mix { mix, value_size }) = Workload::parse("paper-mixed-70") else {
            panic!("paper-mixed-70 did not parse as a mix")
        };
        assert_eq!(mix.to_string(), "get=70,set=30");
        assert_eq!(value_size, Some(1024));
        let Ok(Workload::Mix { mix, .. }) = Workload::parse("clickhouse") else { panic!("clickhouse") };
        assert!((mix.write_pct() - 33.0).abs() < 1e-9);
        assert_eq!(Workload::parse("load:1000").ok(), Some(Workload::Load(1000)));
        assert!(Workload::parse("paper-mixed-101").is_err());
        assert!(Workload::parse("nope").is_err());
    }

    #[test]
    fn deletes_follow_creates_and_multi_is_net_zero() {
        let mix = Mix::parse("create=1,delete=1,multi=1").unwrap_or_else(|e| panic!("{e}"));
        let keys = Arc::new(vec!["/b/k0".to_string()]);
        let mut g = MixGen::new(mix, keys, Bytes::from_static(b"x"), "/b/c-".into(), 1);
        let mut outstanding = 0i64;
        for _ in 0..300 {
            let mut body = Vec::new();
            let Some((kind, code)) = g.next(&mut body) else { panic!("mix generator ended") };
            match kind {
                Kind::Create => {
                    outstanding += 1;
                    assert_eq!(code, op::CREATE);
                }
                Kind::Delete => {
                    outstanding -= 1;
                    let d = DeleteRequest::from_slice(&body).unwrap_or_else(|e| panic!("{e}"));
                    assert!(d.path.starts_with("/b/c-"));
                }
                Kind::Multi => {
                    let m = MultiRequest::from_slice(&body).unwrap_or_else(|e| panic!("{e}"));
                    assert_eq!(m.ops.len(), 3);
                    assert_eq!(m.ops[0].path(), m.ops[2].path());
                }
                other => panic!("unexpected {other:?}"),
            }
            assert!(outstanding >= 0);
        }
    }

    #[test]
    fn strided_generator_covers_its_share() {
        let mut seen = Vec::new();
        let mut g = strided(1, 3, 10, |i, _| (Kind::Get, i as i32));
        while let Some((_, i)) = g.next(&mut Vec::new()) {
            seen.push(i);
        }
        assert_eq!(seen, vec![1, 4, 7]);
    }
}
