//! Golden tests: every Jute record in `src/jute/` against bytes written by Java ZooKeeper 3.8.0.
//!
//! The data is produced by `compat-tests/golden/gen.sh` (GenGolden.java serialises the real Java
//! classes; a recording proxy captures real client/server frames) and lives in
//! `tests/data/golden/`. For each manifest entry the Rust value is built from the listed field
//! values, encoded and compared with Java's bytes, and Java's bytes are decoded and compared with
//! that value, with nothing left over. A record type or enum variant of `src/jute/` without a
//! golden case fails the test, so new records cannot slip through unchecked.

use bytes::Bytes;
use ruzk::jute::multi::*;
use ruzk::jute::opcode::op;
use ruzk::jute::records::*;
use ruzk::jute::txn::*;
use ruzk::jute::Jute;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::PathBuf;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden")
}

/// Every record type and every enum variant of `src/jute/` that must have a golden case. The
/// `pub struct` names are also cross-checked against the source files.
const ALL_RUST_TYPES: &[&str] = &[
    // records.rs
    "Id",
    "Acl",
    "Stat",
    "StatPersisted",
    "ClientInfo",
    "RequestHeader",
    "ReplyHeader",
    "MultiHeader",
    "SetWatches",
    "SetWatches2",
    "AuthPacket",
    "GetDataRequest",
    "SetDataRequest",
    "ReconfigRequest",
    "SetDataResponse",
    "GetSaslRequest",
    "SetSaslResponse",
    "CreateRequest",
    "CreateTtlRequest",
    "DeleteRequest",
    "GetChildrenRequest",
    "GetAllChildrenNumberRequest",
    "GetChildren2Request",
    "CheckVersionRequest",
    "SyncRequest",
    "SyncResponse",
    "GetAclRequest",
    "SetAclRequest",
    "SetAclResponse",
    "AddWatchRequest",
    "WatcherEvent",
    "ErrorResponse",
    "CreateResponse",
    "Create2Response",
    "ExistsRequest",
    "ExistsResponse",
    "GetDataResponse",
    "GetChildrenResponse",
    "GetAllChildrenNumberResponse",
    "GetChildren2Response",
    "GetAclResponse",
    "CheckWatchesRequest",
    "RemoveWatchesRequest",
    "GetEphemeralsRequest",
    "GetEphemeralsResponse",
    "WhoAmIResponse",
    "ConnectRequest",
    "ConnectResponse",
    // txn.rs
    "TxnHeader",
    "CreateTxn",
    "CreateContainerTxn",
    "CreateTtlTxn",
    "DeleteTxn",
    "SetDataTxn",
    "CheckVersionTxn",
    "SetAclTxn",
    "CreateSessionTxn",
    "ErrorTxn",
    "SubTxn",
    "TxnDigest",
    "TxnEntry",
    "Txn::CreateSession",
    "Txn::CloseSession",
    "Txn::Create",
    "Txn::CreateContainer",
    "Txn::CreateTtl",
    "Txn::Delete",
    "Txn::SetData",
    "Txn::SetAcl",
    "Txn::Check",
    "Txn::Error",
    "Txn::Multi",
    "Txn::CreateV0",
    // multi.rs
    "MultiRequest",
    "MultiResponse",
    "MultiOp::Create",
    "MultiOp::CreateTtl",
    "MultiOp::Delete",
    "MultiOp::SetData",
    "MultiOp::Check",
    "MultiOp::GetChildren",
    "MultiOp::GetData",
    "OpResult::Create",
    "OpResult::Create2",
    "OpResult::Delete",
    "OpResult::SetData",
    "OpResult::Check",
    "OpResult::GetChildren",
    "OpResult::GetData",
    "OpResult::Error",
];

/// Java classes with no Rust counterpart: legacy records no 3.8 server or client sends
/// (max-children) and `SetSASLRequest`, which is only a client-side type.
const NO_RUST_TYPE: &[&str] = &[
    "GetMaxChildrenRequest",
    "GetMaxChildrenResponse",
    "SetMaxChildrenRequest",
    "SetMaxChildrenTxn",
    "SetSASLRequest",
];

/// Cases where Java wrote a null (-1 length) into a field that Rust types without a null
/// (`String`, `Bytes`, `Vec`): Rust decodes it as empty and writes length 0 there. Pinned here so
/// a change in either direction is noticed.
const NULL_AS_EMPTY: &[&str] = &[
    "AuthPacket.null.bin",
    "GetSASLRequest.null.bin",
    "Id.null.bin",
    "SetSASLResponse.null.bin",
    "SetWatches.null.bin",
];

// ---------------------------------------------------------------------------------------------
// manifest

struct Case {
    file: String,
    fields: BTreeMap<String, String>,
    used: RefCell<BTreeSet<String>>,
    /// Keys where a Java null became an empty Rust value.
    nulls_dropped: RefCell<Vec<String>>,
}

impl Case {
    fn raw(&self, key: &str) -> &str {
        self.used.borrow_mut().insert(key.to_string());
        match self.fields.get(key) {
            Some(v) => v,
            None => panic!("{}: manifest has no key {key:?}", self.file),
        }
    }
    fn has(&self, key: &str) -> bool {
        self.fields.contains_key(key)
    }
    fn is_null(&self, key: &str) -> bool {
        self.has(key) && self.raw(key) == "null"
    }
    fn num<T: std::str::FromStr>(&self, key: &str) -> T
    where
        T::Err: Debug,
    {
        let v = self.raw(key);
        v.parse().unwrap_or_else(|e| panic!("{}: {key}={v}: {e:?}", self.file))
    }
    fn string(&self, key: &str) -> Option<String> {
        let v = self.raw(key);
        if v == "null" {
            return None;
        }
        Some(unquote(v).unwrap_or_else(|| panic!("{}: {key}: bad string {v}", self.file)))
    }
    fn drop_null(&self, key: &str) {
        self.nulls_dropped.borrow_mut().push(key.to_string());
    }
    fn unused(&self) -> Vec<String> {
        let used = self.used.borrow();
        self.fields.keys().filter(|k| !used.contains(*k)).cloned().collect()
    }
}

fn unquote(v: &str) -> Option<String> {
    let inner = v.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut it = inner.chars();
    while let Some(ch) = it.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match it.next()? {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let h: String = it.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&h, 16).ok()?)?);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

fn unhex(v: &str) -> Option<Vec<u8>> {
    let h = v.strip_prefix("hex:")?;
    if h.len() % 2 != 0 {
        return None;
    }
    (0..h.len()).step_by(2).map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok()).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Blocks of `[file]` followed by `key=value` lines; the block's `class` key is returned apart.
fn parse_manifest(text: &str) -> Vec<(String, Case)> {
    let mut out: Vec<(String, Case)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push((
                String::new(),
                Case {
                    file: name.to_string(),
                    fields: BTreeMap::new(),
                    used: RefCell::default(),
                    nulls_dropped: RefCell::default(),
                },
            ));
            continue;
        }
        let (k, v) = line.split_once('=').unwrap_or_else(|| panic!("bad manifest line {line:?}"));
        let (class, case) = out.last_mut().unwrap_or_else(|| panic!("line before a [file]: {line}"));
        if k == "class" {
            *class = v.to_string();
        } else {
            assert!(case.fields.insert(k.to_string(), v.to_string()).is_none(), "dup key {k}");
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// building Rust values from manifest fields

trait FromM: Sized {
    fn from_m(c: &Case, key: &str) -> Self;
}

fn sub(key: &str, field: &str) -> String {
    if key.is_empty() {
        field.to_string()
    } else {
        format!("{key}.{field}")
    }
}

/// Rust field name to the Java (jute) one: `parent_c_version` → `parentCVersion`, `type_` → `type`.
fn camel(snake: &str) -> String {
    let mut out = String::new();
    for (i, part) in snake.trim_end_matches('_').split('_').enumerate() {
        let mut cs = part.chars();
        if i > 0 {
            if let Some(first) = cs.next() {
                out.extend(first.to_uppercase());
            }
        }
        out.extend(cs);
    }
    out
}

impl FromM for i32 {
    fn from_m(c: &Case, key: &str) -> Self {
        c.num(key)
    }
}
impl FromM for i64 {
    fn from_m(c: &Case, key: &str) -> Self {
        c.num(key)
    }
}
impl FromM for bool {
    fn from_m(c: &Case, key: &str) -> Self {
        c.num(key)
    }
}
/// The optional trailing readOnly byte: absent from the manifest when Java did not write it.
impl FromM for Option<bool> {
    fn from_m(c: &Case, key: &str) -> Self {
        c.has(key).then(|| c.num(key))
    }
}
impl FromM for Option<String> {
    fn from_m(c: &Case, key: &str) -> Self {
        c.string(key)
    }
}
impl FromM for String {
    fn from_m(c: &Case, key: &str) -> Self {
        c.string(key).unwrap_or_else(|| {
            c.drop_null(key);
            String::new()
        })
    }
}
impl FromM for Option<Bytes> {
    fn from_m(c: &Case, key: &str) -> Self {
        if c.is_null(key) {
            return None;
        }
        let v = c.raw(key);
        Some(Bytes::from(unhex(v).unwrap_or_else(|| panic!("{}: {key}: bad hex", c.file))))
    }
}
impl FromM for Bytes {
    fn from_m(c: &Case, key: &str) -> Self {
        Option::<Bytes>::from_m(c, key).unwrap_or_else(|| {
            c.drop_null(key);
            Bytes::new()
        })
    }
}
impl<T: FromM> FromM for Option<Vec<T>> {
    fn from_m(c: &Case, key: &str) -> Self {
        if c.is_null(key) {
            return None;
        }
        let n: usize = c.num(&format!("{key}.len"));
        Some((0..n).map(|i| T::from_m(c, &format!("{key}.{i}"))).collect())
    }
}
impl<T: FromM> FromM for Vec<T> {
    fn from_m(c: &Case, key: &str) -> Self {
        Option::<Vec<T>>::from_m(c, key).unwrap_or_else(|| {
            c.drop_null(key);
            Vec::new()
        })
    }
}

/// Builds a record field by field; the struct literal makes a forgotten field a compile error,
/// and the unused-key check catches a Java field that Rust lacks.
macro_rules! from_m {
    ($($t:ident { $($f:ident),* $(,)? })*) => {$(
        impl FromM for $t {
            fn from_m(c: &Case, key: &str) -> Self {
                $t { $($f: FromM::from_m(c, &sub(key, &camel(stringify!($f)))),)* }
            }
        }
    )*};
}

from_m! {
    Id { scheme, id }
    Acl { perms, id }
    Stat { czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeral_owner, data_length,
           num_children, pzxid }
    StatPersisted { czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeral_owner, pzxid }
    ClientInfo { auth_scheme, user }
    RequestHeader { xid, type_ }
    ReplyHeader { xid, zxid, err }
    MultiHeader { type_, done, err }
    SetWatches { relative_zxid, data_watches, exist_watches, child_watches }
    SetWatches2 { relative_zxid, data_watches, exist_watches, child_watches, persistent_watches,
                  persistent_recursive_watches }
    AuthPacket { type_, scheme, auth }
    GetDataRequest { path, watch }
    SetDataRequest { path, data, version }
    ReconfigRequest { joining_servers, leaving_servers, new_members, cur_config_id }
    SetDataResponse { stat }
    GetSaslRequest { token }
    SetSaslResponse { token }
    CreateRequest { path, data, acl, flags }
    CreateTtlRequest { path, data, acl, flags, ttl }
    DeleteRequest { path, version }
    GetChildrenRequest { path, watch }
    GetAllChildrenNumberRequest { path }
    GetChildren2Request { path, watch }
    CheckVersionRequest { path, version }
    SyncRequest { path }
    SyncResponse { path }
    GetAclRequest { path }
    SetAclRequest { path, acl, version }
    SetAclResponse { stat }
    AddWatchRequest { path, mode }
    WatcherEvent { type_, state, path }
    ErrorResponse { err }
    CreateResponse { path }
    Create2Response { path, stat }
    ExistsRequest { path, watch }
    ExistsResponse { stat }
    GetDataResponse { data, stat }
    GetChildrenResponse { children }
    GetAllChildrenNumberResponse { total_number }
    GetChildren2Response { children, stat }
    GetAclResponse { acl, stat }
    CheckWatchesRequest { path, type_ }
    RemoveWatchesRequest { path, type_ }
    GetEphemeralsRequest { prefix_path }
    GetEphemeralsResponse { ephemerals }
    WhoAmIResponse { client_info }
    ConnectRequest { protocol_version, last_zxid_seen, time_out, session_id, passwd, read_only }
    ConnectResponse { protocol_version, time_out, session_id, passwd, read_only }
    TxnHeader { client_id, cxid, zxid, time, type_ }
    CreateTxn { path, data, acl, ephemeral, parent_c_version }
    CreateContainerTxn { path, data, acl, parent_c_version }
    CreateTtlTxn { path, data, acl, parent_c_version, ttl }
    DeleteTxn { path }
    SetDataTxn { path, data, version }
    CheckVersionTxn { path, version }
    SetAclTxn { path, acl, version }
    CreateSessionTxn { time_out }
    ErrorTxn { err }
    SubTxn { type_, data }
    TxnDigest { version, tree_digest }
}

type Cov = BTreeSet<String>;

fn cover(cov: &mut Cov, name: &str) {
    cov.insert(name.to_string());
}

/// A txn body of the given type whose fields sit under `p`.
fn build_txn(t: i32, c: &Case, p: &str, cov: &mut Cov) -> Txn {
    let (name, txn) = match t {
        op::CREATE_SESSION => ("CreateSession", Txn::CreateSession(FromM::from_m(c, p))),
        op::CLOSE_SESSION => ("CloseSession", Txn::CloseSession(Some(FromM::from_m(c, &sub(p, "paths2Delete"))))),
        op::CREATE | op::CREATE2 => ("Create", Txn::Create(t, FromM::from_m(c, p))),
        op::CREATE_CONTAINER => ("CreateContainer", Txn::CreateContainer(FromM::from_m(c, p))),
        op::CREATE_TTL => ("CreateTtl", Txn::CreateTtl(FromM::from_m(c, p))),
        op::DELETE | op::DELETE_CONTAINER => ("Delete", Txn::Delete(t, FromM::from_m(c, p))),
        op::SET_DATA | op::RECONFIG => ("SetData", Txn::SetData(t, FromM::from_m(c, p))),
        op::SET_ACL => ("SetAcl", Txn::SetAcl(FromM::from_m(c, p))),
        op::CHECK => ("Check", Txn::Check(FromM::from_m(c, p))),
        op::ERROR => ("Error", Txn::Error(FromM::from_m(c, p))),
        op::MULTI => {
            let key = sub(p, "txns");
            let n: usize = c.num(&format!("{key}.len"));
            let subs = (0..n)
                .map(|i| {
                    let sp = format!("{key}.{i}");
                    let st: i32 = c.num(&sub(&sp, "type"));
                    build_txn(st, c, &sp, cov)
                })
                .collect();
            ("Multi", Txn::Multi(subs))
        }
        other => panic!("{}: no txn type {other}", c.file),
    };
    cover(cov, &format!("Txn::{name}"));
    txn
}

fn build_multi_request(c: &Case, cov: &mut Cov) -> MultiRequest {
    let n: usize = c.num("ops.len");
    let ops = (0..n)
        .map(|i| {
            let p = format!("ops.{i}");
            let t: i32 = c.num(&sub(&p, "type"));
            let (name, o) = match t {
                op::CREATE | op::CREATE2 | op::CREATE_CONTAINER => ("Create", MultiOp::Create(t, FromM::from_m(c, &p))),
                op::CREATE_TTL => ("CreateTtl", MultiOp::CreateTtl(FromM::from_m(c, &p))),
                op::DELETE => ("Delete", MultiOp::Delete(FromM::from_m(c, &p))),
                op::SET_DATA => ("SetData", MultiOp::SetData(FromM::from_m(c, &p))),
                op::CHECK => ("Check", MultiOp::Check(FromM::from_m(c, &p))),
                op::GET_CHILDREN => ("GetChildren", MultiOp::GetChildren(FromM::from_m(c, &p))),
                op::GET_DATA => ("GetData", MultiOp::GetData(FromM::from_m(c, &p))),
                other => panic!("{}: no multi op {other}", c.file),
            };
            cover(cov, &format!("MultiOp::{name}"));
            o
        })
        .collect();
    MultiRequest { ops }
}

fn build_multi_response(c: &Case, cov: &mut Cov) -> MultiResponse {
    let n: usize = c.num("results.len");
    let results = (0..n)
        .map(|i| {
            let p = format!("results.{i}");
            let t: i32 = c.num(&sub(&p, "type"));
            let (name, r) = match t {
                op::CREATE => ("Create", OpResult::Create(FromM::from_m(c, &sub(&p, "path")))),
                op::CREATE2 => (
                    "Create2",
                    OpResult::Create2(FromM::from_m(c, &sub(&p, "path")), FromM::from_m(c, &sub(&p, "stat"))),
                ),
                op::DELETE => ("Delete", OpResult::Delete),
                op::SET_DATA => ("SetData", OpResult::SetData(FromM::from_m(c, &sub(&p, "stat")))),
                op::CHECK => ("Check", OpResult::Check),
                op::GET_CHILDREN => ("GetChildren", OpResult::GetChildren(FromM::from_m(c, &sub(&p, "children")))),
                op::GET_DATA => ("GetData", OpResult::GetData(FromM::from_m(c, &p))),
                -1 => ("Error", OpResult::Error(FromM::from_m(c, &sub(&p, "err")))),
                other => panic!("{}: no result type {other}", c.file),
            };
            cover(cov, &format!("OpResult::{name}"));
            r
        })
        .collect();
    MultiResponse { results }
}

// ---------------------------------------------------------------------------------------------
// checks

/// Java → Rust → Java: each character beyond U+FFFF is written as two encoded surrogates, each
/// read back as one U+FFFD (Java cannot round-trip them either).
fn java_round_trip(s: &str) -> String {
    s.chars().flat_map(|ch| if ch.len_utf16() == 2 { vec!['\u{FFFD}'; 2] } else { vec![ch] }).collect()
}

/// Encodes `built` and decodes `java`, asserting both directions; `expect_decoded` is what Java's
/// bytes must decode to (the built value unless Java itself loses information).
fn check_bytes<T: PartialEq + Debug>(c: &Case, java: &[u8], built: &T, encoded: Vec<u8>, decoded: T, left: usize) {
    assert_eq!(left, 0, "{}: {left} bytes left after decoding", c.file);
    assert_eq!(&decoded, built, "{}: Java's bytes decode to a different value", c.file);
    let dropped = c.nulls_dropped.borrow();
    if dropped.is_empty() {
        assert_eq!(hex(&encoded), hex(java), "{}: Rust encoding differs from Java's", c.file);
        return;
    }
    // Java wrote null (-1) where the Rust type has none: the only allowed difference is a length
    // of 0 instead of -1 at exactly that many places.
    assert_eq!(encoded.len(), java.len(), "{}: length differs (nulls at {dropped:?})", c.file);
    let mut diffs = 0;
    let mut i = 0;
    while i < java.len() {
        if encoded.get(i) == java.get(i) {
            i += 1;
            continue;
        }
        assert_eq!(java.get(i..i + 4), Some(&[0xff; 4][..]), "{}: differs at {i}", c.file);
        assert_eq!(encoded.get(i..i + 4), Some(&[0; 4][..]), "{}: differs at {i}", c.file);
        diffs += 1;
        i += 4;
    }
    assert_eq!(diffs, dropped.len(), "{}: nulls at {dropped:?}", c.file);
}

fn check_record<T: Jute + FromM + PartialEq + Debug>(c: &Case, java: &[u8]) {
    let built = T::from_m(c, "");
    let mut src = java;
    let decoded = T::decode(&mut src).unwrap_or_else(|e| panic!("{}: decode: {e}", c.file));
    check_bytes(c, java, &built, built.to_bytes(), decoded, src.len());
}

/// `Id` is where the CESU-8 case lives: decoding gives what Java itself would read back.
fn check_id(c: &Case, java: &[u8]) {
    let built = Id::from_m(c, "");
    let encoded = built.to_bytes();
    let mut src = java;
    let decoded = Id::decode(&mut src).unwrap_or_else(|e| panic!("{}: decode: {e}", c.file));
    let expect = Id { scheme: java_round_trip(&built.scheme), id: java_round_trip(&built.id) };
    // Compares the decoded value with `expect` and the encoding with Java's bytes.
    check_bytes(c, java, &expect, encoded, decoded, src.len());
}

fn check_txn_body(c: &Case, java: &[u8], t: i32, cov: &mut Cov) {
    let built = build_txn(t, c, "", cov);
    let mut enc = Vec::new();
    built.encode_body(&mut enc);
    let mut src = java;
    let decoded = Txn::decode_body(t, &mut src).unwrap_or_else(|e| panic!("{}: decode: {e}", c.file));
    check_bytes(c, java, &built, enc, decoded, src.len());
}

/// Java's pre-3.5 `CreateTxnV0` has no parentCVersion: readers fall back to -1.
fn check_create_v0(c: &Case, java: &[u8], cov: &mut Cov) {
    let expect = Txn::Create(
        op::CREATE,
        CreateTxn {
            path: FromM::from_m(c, "path"),
            data: FromM::from_m(c, "data"),
            acl: FromM::from_m(c, "acl"),
            ephemeral: FromM::from_m(c, "ephemeral"),
            parent_c_version: -1,
        },
    );
    let mut src = java;
    let decoded = Txn::decode_body(op::CREATE, &mut src).unwrap_or_else(|e| panic!("{}: decode: {e}", c.file));
    assert!(src.is_empty(), "{}: bytes left", c.file);
    assert_eq!(decoded, expect, "{}", c.file);
    cover(cov, "Txn::CreateV0");
}

fn check_txn_entry(c: &Case, java: &[u8], cov: &mut Cov) {
    let header = TxnHeader::from_m(c, "hdr");
    let txn = build_txn(header.type_, c, "txn", cov);
    let digest = c.has("digest.version").then(|| TxnDigest::from_m(c, "digest"));
    let built = TxnEntry { header, txn, digest };
    let decoded = TxnEntry::decode(java).unwrap_or_else(|e| panic!("{}: decode: {e}", c.file));
    check_bytes(c, java, &built, built.encode(), decoded, 0);
}

macro_rules! plain {
    ($name:expr, $c:expr, $java:expr, $cov:expr; $($jn:literal => $t:ident),* $(,)?) => {
        match $name {
            $($jn => {
                check_record::<$t>($c, $java);
                cover($cov, stringify!($t));
                true
            })*
            _ => false,
        }
    };
}

/// Checks one record case; false if the Java class has no Rust counterpart.
fn check_case(class: &str, c: &Case, java: &[u8], cov: &mut Cov) -> bool {
    let name = class.rsplit('.').next().unwrap_or(class);
    match name {
        "Id" => {
            check_id(c, java);
            cover(cov, "Id");
            return true;
        }
        "CloseSessionTxn" => {
            check_txn_body(c, java, op::CLOSE_SESSION, cov);
            return true;
        }
        "MultiTxn" => {
            check_txn_body(c, java, op::MULTI, cov);
            return true;
        }
        "CreateTxnV0" => {
            check_create_v0(c, java, cov);
            return true;
        }
        "TxnEntry" => {
            check_txn_entry(c, java, cov);
            cover(cov, "TxnEntry");
            return true;
        }
        "MultiOperationRecord" => {
            let built = build_multi_request(c, cov);
            let mut src = java;
            let dec = MultiRequest::decode(&mut src).unwrap_or_else(|e| panic!("{e}"));
            check_bytes(c, java, &built, built.to_bytes(), dec, src.len());
            cover(cov, "MultiRequest");
            return true;
        }
        "MultiResponse" => {
            let built = build_multi_response(c, cov);
            let mut src = java;
            let dec = MultiResponse::decode(&mut src).unwrap_or_else(|e| panic!("{e}"));
            check_bytes(c, java, &built, built.to_bytes(), dec, src.len());
            cover(cov, "MultiResponse");
            return true;
        }
        _ => {}
    }
    plain!(name, c, java, cov;
        "ACL" => Acl, "Stat" => Stat, "StatPersisted" => StatPersisted,
        "ClientInfo" => ClientInfo, "RequestHeader" => RequestHeader, "ReplyHeader" => ReplyHeader,
        "MultiHeader" => MultiHeader, "SetWatches" => SetWatches, "SetWatches2" => SetWatches2,
        "AuthPacket" => AuthPacket, "GetDataRequest" => GetDataRequest,
        "SetDataRequest" => SetDataRequest, "ReconfigRequest" => ReconfigRequest,
        "SetDataResponse" => SetDataResponse, "GetSASLRequest" => GetSaslRequest,
        "SetSASLResponse" => SetSaslResponse, "CreateRequest" => CreateRequest,
        "CreateTTLRequest" => CreateTtlRequest, "DeleteRequest" => DeleteRequest,
        "GetChildrenRequest" => GetChildrenRequest,
        "GetAllChildrenNumberRequest" => GetAllChildrenNumberRequest,
        "GetChildren2Request" => GetChildren2Request, "CheckVersionRequest" => CheckVersionRequest,
        "SyncRequest" => SyncRequest, "SyncResponse" => SyncResponse,
        "GetACLRequest" => GetAclRequest, "SetACLRequest" => SetAclRequest,
        "SetACLResponse" => SetAclResponse, "AddWatchRequest" => AddWatchRequest,
        "WatcherEvent" => WatcherEvent, "ErrorResponse" => ErrorResponse,
        "CreateResponse" => CreateResponse, "Create2Response" => Create2Response,
        "ExistsRequest" => ExistsRequest, "ExistsResponse" => ExistsResponse,
        "GetDataResponse" => GetDataResponse, "GetChildrenResponse" => GetChildrenResponse,
        "GetAllChildrenNumberResponse" => GetAllChildrenNumberResponse,
        "GetChildren2Response" => GetChildren2Response, "GetACLResponse" => GetAclResponse,
        "CheckWatchesRequest" => CheckWatchesRequest,
        "RemoveWatchesRequest" => RemoveWatchesRequest,
        "GetEphemeralsRequest" => GetEphemeralsRequest,
        "GetEphemeralsResponse" => GetEphemeralsResponse, "WhoAmIResponse" => WhoAmIResponse,
        "ConnectRequest" => ConnectRequest, "ConnectResponse" => ConnectResponse,
        "TxnHeader" => TxnHeader, "CreateTxn" => CreateTxn,
        "CreateContainerTxn" => CreateContainerTxn, "CreateTTLTxn" => CreateTtlTxn,
        "DeleteTxn" => DeleteTxn, "SetDataTxn" => SetDataTxn, "CheckVersionTxn" => CheckVersionTxn,
        "SetACLTxn" => SetAclTxn, "CreateSessionTxn" => CreateSessionTxn, "ErrorTxn" => ErrorTxn,
        "Txn" => SubTxn, "TxnDigest" => TxnDigest,
    )
}

fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn record_structs_in_source() -> BTreeSet<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/jute");
    let mut out = BTreeSet::new();
    for f in ["records.rs", "txn.rs", "multi.rs"] {
        let text = String::from_utf8(read(&dir.join(f))).unwrap_or_default();
        for line in text.lines() {
            if let Some(rest) = line.trim_start().strip_prefix("pub struct ") {
                let name: String = rest.chars().take_while(|ch| ch.is_alphanumeric() || *ch == '_').collect();
                out.insert(name);
            }
        }
    }
    out
}

#[test]
fn every_record_matches_java_bytes() {
    let dir = golden_dir();
    let text = String::from_utf8(read(&dir.join("manifest.txt"))).unwrap_or_default();
    let cases = parse_manifest(&text);
    assert!(cases.len() > 100, "only {} golden cases", cases.len());
    let mut cov = Cov::new();
    let mut unmapped = BTreeSet::new();
    let mut dropped = BTreeSet::new();
    for (class, c) in &cases {
        let java = read(&dir.join(&c.file));
        if !check_case(class, c, &java, &mut cov) {
            let name = class.rsplit('.').next().unwrap_or(class);
            assert!(NO_RUST_TYPE.contains(&name), "{}: no Rust type for {class}", c.file);
            unmapped.insert(name.to_string());
            continue;
        }
        assert!(c.unused().is_empty(), "{}: Java fields not in Rust: {:?}", c.file, c.unused());
        if !c.nulls_dropped.borrow().is_empty() {
            dropped.insert(c.file.clone());
        }
    }
    let want: BTreeSet<String> = ALL_RUST_TYPES.iter().map(|s| s.to_string()).collect();
    let missing: Vec<_> = want.difference(&cov).collect();
    assert!(missing.is_empty(), "record types without a golden case: {missing:?}");
    let extra: Vec<_> = cov.difference(&want).collect();
    assert!(extra.is_empty(), "covered but not listed in ALL_RUST_TYPES: {extra:?}");
    let in_source = record_structs_in_source();
    assert!(in_source.contains("Stat") && in_source.len() > 50, "source scan found {in_source:?}");
    let unlisted: Vec<_> = in_source.into_iter().filter(|s| !want.contains(s)).collect();
    assert!(unlisted.is_empty(), "structs in src/jute not in ALL_RUST_TYPES: {unlisted:?}");
    let no_rust: BTreeSet<String> = NO_RUST_TYPE.iter().map(|s| s.to_string()).collect();
    assert_eq!(unmapped, no_rust, "NO_RUST_TYPE out of date");
    let pinned: BTreeSet<String> = NULL_AS_EMPTY.iter().map(|s| s.to_string()).collect();
    assert_eq!(dropped, pinned, "cases where a Java null became empty");
}

// ---------------------------------------------------------------------------------------------
// wire frames

fn rt<T: Jute>(c: &Case, src: &mut &[u8], out: &mut Vec<u8>) -> T {
    let v = T::decode(src).unwrap_or_else(|e| panic!("{}: decode: {e}", c.file));
    v.encode(out);
    v
}

fn check_path(c: &Case, path: &str) {
    if c.has("path") {
        assert_eq!(c.string("path").as_deref(), Some(path), "{}: path", c.file);
    }
}

/// Decodes the body with the Rust type for `body` and re-encodes it into `out`.
fn wire_body(c: &Case, body: &str, src: &mut &[u8], out: &mut Vec<u8>) {
    match body {
        "ConnectRequest" => {
            let r: ConnectRequest = rt(c, src, out);
            assert_eq!(r.protocol_version, c.num::<i32>("protocolVersion"), "{}", c.file);
            assert_eq!(r.last_zxid_seen, c.num::<i64>("lastZxidSeen"), "{}", c.file);
            assert_eq!(r.time_out, c.num::<i32>("timeOut"), "{}", c.file);
            assert_eq!(r.session_id, c.num::<i64>("sessionId"), "{}", c.file);
            assert_eq!(r.read_only, Option::<bool>::from_m(c, "readOnly"), "{}", c.file);
        }
        "ConnectResponse" => {
            let r: ConnectResponse = rt(c, src, out);
            assert_eq!(r.protocol_version, c.num::<i32>("protocolVersion"), "{}", c.file);
            assert_eq!(r.time_out, c.num::<i32>("timeOut"), "{}", c.file);
            assert_eq!(r.session_id, c.num::<i64>("sessionId"), "{}", c.file);
            assert_eq!(r.read_only, Option::<bool>::from_m(c, "readOnly"), "{}", c.file);
        }
        "WatcherEvent" => {
            let r: WatcherEvent = rt(c, src, out);
            assert_eq!(r.type_, c.num::<i32>("event.type"), "{}", c.file);
            assert_eq!(r.state, c.num::<i32>("event.state"), "{}", c.file);
            assert_eq!(c.string("event.path").as_deref(), Some(&r.path[..]), "{}", c.file);
        }
        "CreateRequest" => check_path(c, &rt::<CreateRequest>(c, src, out).path),
        "DeleteRequest" => check_path(c, &rt::<DeleteRequest>(c, src, out).path),
        "ExistsRequest" => check_path(c, &rt::<ExistsRequest>(c, src, out).path),
        "GetDataRequest" => check_path(c, &rt::<GetDataRequest>(c, src, out).path),
        "SetDataRequest" => check_path(c, &rt::<SetDataRequest>(c, src, out).path),
        "GetACLRequest" => check_path(c, &rt::<GetAclRequest>(c, src, out).path),
        "SetACLRequest" => check_path(c, &rt::<SetAclRequest>(c, src, out).path),
        "GetChildrenRequest" => check_path(c, &rt::<GetChildrenRequest>(c, src, out).path),
        "GetChildren2Request" => check_path(c, &rt::<GetChildren2Request>(c, src, out).path),
        "SyncRequest" => check_path(c, &rt::<SyncRequest>(c, src, out).path),
        "CreateTTLRequest" => check_path(c, &rt::<CreateTtlRequest>(c, src, out).path),
        "CheckWatchesRequest" => check_path(c, &rt::<CheckWatchesRequest>(c, src, out).path),
        "RemoveWatchesRequest" => check_path(c, &rt::<RemoveWatchesRequest>(c, src, out).path),
        "AddWatchRequest" => check_path(c, &rt::<AddWatchRequest>(c, src, out).path),
        "GetAllChildrenNumberRequest" => check_path(c, &rt::<GetAllChildrenNumberRequest>(c, src, out).path),
        "GetEphemeralsRequest" => {
            let r: GetEphemeralsRequest = rt(c, src, out);
            assert_eq!(c.string("path"), r.prefix_path, "{}: prefixPath", c.file);
        }
        "ReconfigRequest" => drop(rt::<ReconfigRequest>(c, src, out)),
        "AuthPacket" => drop(rt::<AuthPacket>(c, src, out)),
        "SetWatches" => drop(rt::<SetWatches>(c, src, out)),
        "SetWatches2" => drop(rt::<SetWatches2>(c, src, out)),
        "MultiOperationRecord" => drop(rt::<MultiRequest>(c, src, out)),
        "MultiResponse" => drop(rt::<MultiResponse>(c, src, out)),
        "CreateResponse" => drop(rt::<CreateResponse>(c, src, out)),
        "Create2Response" => drop(rt::<Create2Response>(c, src, out)),
        "ExistsResponse" => drop(rt::<ExistsResponse>(c, src, out)),
        "GetDataResponse" => drop(rt::<GetDataResponse>(c, src, out)),
        "SetDataResponse" => drop(rt::<SetDataResponse>(c, src, out)),
        "GetACLResponse" => drop(rt::<GetAclResponse>(c, src, out)),
        "SetACLResponse" => drop(rt::<SetAclResponse>(c, src, out)),
        "GetChildrenResponse" => drop(rt::<GetChildrenResponse>(c, src, out)),
        "GetChildren2Response" => drop(rt::<GetChildren2Response>(c, src, out)),
        "SyncResponse" => drop(rt::<SyncResponse>(c, src, out)),
        "ErrorResponse" => drop(rt::<ErrorResponse>(c, src, out)),
        "GetEphemeralsResponse" => drop(rt::<GetEphemeralsResponse>(c, src, out)),
        "GetAllChildrenNumberResponse" => drop(rt::<GetAllChildrenNumberResponse>(c, src, out)),
        "WhoAmIResponse" => drop(rt::<WhoAmIResponse>(c, src, out)),
        other => panic!("{}: no Rust type for wire body {other}", c.file),
    }
}

#[test]
fn captured_wire_frames_round_trip() {
    let dir = golden_dir().join("wire");
    let text = String::from_utf8(read(&dir.join("manifest.txt"))).unwrap_or_default();
    let cases = parse_manifest(&text);
    let mut bodies = BTreeSet::new();
    for (class, c) in &cases {
        assert_eq!(class, "wire", "{}", c.file);
        let java = read(&dir.join(&c.file));
        let mut src = &java[..];
        let mut out = Vec::new();
        match c.raw("header") {
            "RequestHeader" => {
                let h: RequestHeader = rt(c, &mut src, &mut out);
                assert_eq!(h.xid, c.num::<i32>("xid"), "{}", c.file);
                assert_eq!(h.type_, c.num::<i32>("type"), "{}", c.file);
            }
            "ReplyHeader" => {
                let h: ReplyHeader = rt(c, &mut src, &mut out);
                assert_eq!(h.xid, c.num::<i32>("xid"), "{}", c.file);
                assert_eq!(h.zxid, c.num::<i64>("zxid"), "{}", c.file);
                assert_eq!(h.err, c.num::<i32>("err"), "{}", c.file);
            }
            "none" => {}
            other => panic!("{}: header {other}", c.file),
        }
        let body = c.raw("body").to_string();
        if body != "none" {
            wire_body(c, &body, &mut src, &mut out);
            bodies.insert(body);
        }
        assert!(src.is_empty(), "{}: {} bytes left", c.file, src.len());
        assert_eq!(hex(&out), hex(&java), "{}: re-encoding differs", c.file);
        assert!(c.unused().is_empty(), "{}: unchecked manifest keys {:?}", c.file, c.unused());
    }
    // The capture scenario (gen.sh) must keep producing these kinds of frames.
    for want in [
        "ConnectRequest",
        "ConnectResponse",
        "CreateRequest",
        "GetDataRequest",
        "GetDataResponse",
        "ExistsRequest",
        "SetWatches",
        "WatcherEvent",
        "MultiOperationRecord",
        "MultiResponse",
        "SetWatches2",
        "AuthPacket",
        "AddWatchRequest",
        "CreateTTLRequest",
        "WhoAmIResponse",
    ] {
        assert!(bodies.contains(want), "no captured {want} frame");
    }
}

#[test]
fn manifest_parser_reads_escapes_and_nulls() {
    let m = "[x.bin]\nclass=C\ns=\"a\\\"b\\\\c\\n\\u0001ü\"\nn=null\nb=hex:00ff\nl.len=0\n";
    let cases = parse_manifest(m);
    let (class, c) = &cases[0];
    assert_eq!(class, "C");
    assert_eq!(c.string("s").as_deref(), Some("a\"b\\c\n\u{1}ü"));
    assert_eq!(Option::<String>::from_m(c, "n"), None);
    assert_eq!(Option::<Bytes>::from_m(c, "b"), Some(Bytes::from_static(&[0, 0xff])));
    assert_eq!(Option::<Vec<String>>::from_m(c, "l"), Some(vec![]));
    assert_eq!(camel("parent_c_version"), "parentCVersion");
    assert_eq!(camel("type_"), "type");
}
