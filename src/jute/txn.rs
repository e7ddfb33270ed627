//! Transaction records (`org.apache.zookeeper.txn`) and the "txn entry" byte string
//! (`TxnHeader ‖ record ‖ [TxnDigest]`) that appears identically in the log, in proposals
//! and in DIFF syncs, so it is built in exactly one place: [`TxnEntry`].
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::opcode::op;
use super::records::Acl;
use super::{DecodeError, Jute, Result};
use bytes::{Buf, BufMut, Bytes};

crate::record! {
    /// `txn.TxnHeader`
    pub struct TxnHeader {
        pub client_id: i64,
        pub cxid: i32,
        pub zxid: i64,
        pub time: i64,
        pub type_: i32,
    }
    /// `txn.CreateTxn`
    pub struct CreateTxn {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub ephemeral: bool,
        pub parent_c_version: i32,
    }
    /// `txn.CreateContainerTxn`
    pub struct CreateContainerTxn {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub parent_c_version: i32,
    }
    /// `txn.CreateTTLTxn`
    pub struct CreateTtlTxn {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub parent_c_version: i32,
        pub ttl: i64,
    }
    /// `txn.DeleteTxn`
    pub struct DeleteTxn {
        pub path: String,
    }
    /// `txn.SetDataTxn`
    pub struct SetDataTxn {
        pub path: String,
        pub data: Option<Bytes>,
        pub version: i32,
    }
    /// `txn.CheckVersionTxn`
    pub struct CheckVersionTxn {
        pub path: String,
        pub version: i32,
    }
    /// `txn.SetACLTxn`
    pub struct SetAclTxn {
        pub path: String,
        pub acl: Vec<Acl>,
        pub version: i32,
    }
    /// `txn.CreateSessionTxn`
    pub struct CreateSessionTxn {
        pub time_out: i32,
    }
    /// `txn.ErrorTxn`
    pub struct ErrorTxn {
        pub err: i32,
    }
    /// `txn.Txn`: one sub-transaction of a multi, its record pre-serialised.
    pub struct SubTxn {
        pub type_: i32,
        pub data: Bytes,
    }
    /// `txn.TxnDigest`
    pub struct TxnDigest {
        pub version: i32,
        pub tree_digest: i64,
    }
}

/// A decoded transaction body, keyed by `TxnHeader.type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Txn {
    CreateSession(CreateSessionTxn),
    /// `None` when the close carried no `CloseSessionTxn` (pre-3.6 or closeSessionTxn disabled).
    CloseSession(Option<Vec<String>>),
    /// `type_` is 1 or 15 (3.8 writes create2 as 15 at top level, 1 inside multi).
    Create(i32, CreateTxn),
    CreateContainer(CreateContainerTxn),
    CreateTtl(CreateTtlTxn),
    /// `type_` is 2 (delete) or 20 (deleteContainer).
    Delete(i32, DeleteTxn),
    /// `type_` is 5 (setData) or 16 (reconfig).
    SetData(i32, SetDataTxn),
    SetAcl(SetAclTxn),
    Check(CheckVersionTxn),
    Error(ErrorTxn),
    Multi(Vec<Txn>),
}

impl Txn {
    pub fn type_code(&self) -> i32 {
        match self {
            Txn::CreateSession(_) => op::CREATE_SESSION,
            Txn::CloseSession(_) => op::CLOSE_SESSION,
            Txn::Create(t, _) => *t,
            Txn::CreateContainer(_) => op::CREATE_CONTAINER,
            Txn::CreateTtl(_) => op::CREATE_TTL,
            Txn::Delete(t, _) => *t,
            Txn::SetData(t, _) => *t,
            Txn::SetAcl(_) => op::SET_ACL,
            Txn::Check(_) => op::CHECK,
            Txn::Error(_) => op::ERROR,
            Txn::Multi(_) => op::MULTI,
        }
    }

    pub fn encode_body<B: BufMut>(&self, out: &mut B) {
        match self {
            Txn::CreateSession(t) => t.encode(out),
            Txn::CloseSession(Some(paths)) => paths.encode(out),
            Txn::CloseSession(None) => {}
            Txn::Create(_, t) => t.encode(out),
            Txn::CreateContainer(t) => t.encode(out),
            Txn::CreateTtl(t) => t.encode(out),
            Txn::Delete(_, t) => t.encode(out),
            Txn::SetData(_, t) => t.encode(out),
            Txn::SetAcl(t) => t.encode(out),
            Txn::Check(t) => t.encode(out),
            Txn::Error(t) => t.encode(out),
            Txn::Multi(subs) => {
                (subs.len() as i32).encode(out);
                for s in subs {
                    s.type_code().encode(out);
                    let mut body = Vec::new();
                    s.encode_body(&mut body);
                    Bytes::from(body).encode(out);
                }
            }
        }
    }

    /// As `SerializeUtils.deserializeTxn`, including its fallbacks: a create without
    /// `parentCVersion` (CreateTxnV0) reads -1, and a closeSession with no body is legal.
    pub fn decode_body<B: Buf>(type_: i32, src: &mut B) -> Result<Txn> {
        Ok(match type_ {
            op::CREATE_SESSION => Txn::CreateSession(CreateSessionTxn::decode(src)?),
            op::CLOSE_SESSION => {
                if src.remaining() >= 4 {
                    Txn::CloseSession(Some(Vec::<String>::decode(src)?))
                } else {
                    Txn::CloseSession(None)
                }
            }
            op::CREATE | op::CREATE2 => {
                let path = String::decode(src)?;
                let data = Option::<Bytes>::decode(src)?;
                let acl = Vec::<Acl>::decode(src)?;
                let ephemeral = bool::decode(src)?;
                let parent_c_version = if src.remaining() >= 4 { i32::decode(src)? } else { -1 };
                Txn::Create(type_, CreateTxn { path, data, acl, ephemeral, parent_c_version })
            }
            op::CREATE_CONTAINER => Txn::CreateContainer(CreateContainerTxn::decode(src)?),
            op::CREATE_TTL => Txn::CreateTtl(CreateTtlTxn::decode(src)?),
            op::DELETE | op::DELETE_CONTAINER => Txn::Delete(type_, DeleteTxn::decode(src)?),
            op::SET_DATA | op::RECONFIG => Txn::SetData(type_, SetDataTxn::decode(src)?),
            op::SET_ACL => Txn::SetAcl(SetAclTxn::decode(src)?),
            op::CHECK => Txn::Check(CheckVersionTxn::decode(src)?),
            op::ERROR => Txn::Error(ErrorTxn::decode(src)?),
            op::MULTI => {
                let subs = Vec::<SubTxn>::decode(src)?;
                let mut out = Vec::with_capacity(subs.len());
                for s in subs {
                    // Java reads sub-txns as opaque (type, bytes) and refuses a nested multi
                    // when applying it; decoding one here would recurse once per level.
                    if s.type_ == op::MULTI {
                        return Err(DecodeError::UnknownType(s.type_));
                    }
                    let mut b = s.data.clone();
                    out.push(Txn::decode_body(s.type_, &mut b)?);
                }
                Txn::Multi(out)
            }
            other => return Err(DecodeError::UnknownType(other)),
        })
    }
}

/// One logged transaction: header, body and the optional digest trailer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnEntry {
    pub header: TxnHeader,
    pub txn: Txn,
    pub digest: Option<TxnDigest>,
}

impl TxnEntry {
    /// `Util.marshallTxnEntry`: the bytes that go into the log, proposals and DIFFs.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        self.header.encode(&mut out);
        self.txn.encode_body(&mut out);
        if let Some(d) = &self.digest {
            d.encode(&mut out);
        }
        out
    }

    /// The trailer has no tag: 12 or more bytes left after the record is a digest.
    pub fn decode(mut src: &[u8]) -> Result<TxnEntry> {
        let header = TxnHeader::decode(&mut src)?;
        let txn = Txn::decode_body(header.type_, &mut src)?;
        let digest = if src.remaining() >= 12 { Some(TxnDigest::decode(&mut src)?) } else { None };
        Ok(TxnEntry { header, txn, digest })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn captured_create_txn_round_trips() {
        // `create /a "hello"` body from a Java 3.8.0 log.1 (protocol.md §4.3).
        let body = hex("00000002 2f61 00000005 68656c6c6f 00000001 0000001f 00000005 776f726c64
             00000006 616e796f6e65 00 00000001");
        let txn = Txn::decode_body(1, &mut &body[..]).unwrap();
        let Txn::Create(1, c) = &txn else { panic!("{txn:?}") };
        assert_eq!(c.path, "/a");
        assert_eq!(c.parent_c_version, 1);
        let mut again = Vec::new();
        txn.encode_body(&mut again);
        assert_eq!(again, body);
    }

    #[test]
    fn error_txn_entry_has_no_digest() {
        let e = TxnEntry {
            header: TxnHeader { client_id: 1, cxid: 2, zxid: 9, time: 5, type_: op::ERROR },
            txn: Txn::Error(ErrorTxn { err: -5 }),
            digest: None,
        };
        let b = e.encode();
        assert_eq!(b.len(), 36);
        assert_eq!(TxnEntry::decode(&b).unwrap(), e);
    }
}
