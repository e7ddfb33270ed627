//! Multi request and response framing (`MultiOperationRecord`, `MultiResponse`): a loop of
//! `MultiHeader` plus a body, ended by `MultiHeader{-1, true, -1}`. Hand-written because it
//! is not a plain Jute record.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::opcode::op;
use super::records::*;
use super::{DecodeError, Jute, Result};
use bytes::{Buf, BufMut};

/// One operation inside a multi or multiRead request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MultiOp {
    /// op is 1, 15 or 19.
    Create(i32, CreateRequest),
    CreateTtl(CreateTtlRequest),
    Delete(DeleteRequest),
    SetData(SetDataRequest),
    Check(CheckVersionRequest),
    GetChildren(GetChildrenRequest),
    GetData(GetDataRequest),
}

impl MultiOp {
    pub fn op_code(&self) -> i32 {
        match self {
            MultiOp::Create(t, _) => *t,
            MultiOp::CreateTtl(_) => op::CREATE_TTL,
            MultiOp::Delete(_) => op::DELETE,
            MultiOp::SetData(_) => op::SET_DATA,
            MultiOp::Check(_) => op::CHECK,
            MultiOp::GetChildren(_) => op::GET_CHILDREN,
            MultiOp::GetData(_) => op::GET_DATA,
        }
    }
    pub fn is_read(&self) -> bool {
        matches!(self, MultiOp::GetChildren(_) | MultiOp::GetData(_))
    }
    pub fn path(&self) -> &str {
        match self {
            MultiOp::Create(_, r) => &r.path,
            MultiOp::CreateTtl(r) => &r.path,
            MultiOp::Delete(r) => &r.path,
            MultiOp::SetData(r) => &r.path,
            MultiOp::Check(r) => &r.path,
            MultiOp::GetChildren(r) => &r.path,
            MultiOp::GetData(r) => &r.path,
        }
    }
}

/// `MultiOperationRecord`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MultiRequest {
    pub ops: Vec<MultiOp>,
}

impl Jute for MultiRequest {
    fn encode<B: BufMut>(&self, out: &mut B) {
        for o in &self.ops {
            MultiHeader { type_: o.op_code(), done: false, err: -1 }.encode(out);
            match o {
                MultiOp::Create(_, r) => r.encode(out),
                MultiOp::CreateTtl(r) => r.encode(out),
                MultiOp::Delete(r) => r.encode(out),
                MultiOp::SetData(r) => r.encode(out),
                MultiOp::Check(r) => r.encode(out),
                MultiOp::GetChildren(r) => r.encode(out),
                MultiOp::GetData(r) => r.encode(out),
            }
        }
        MultiHeader { type_: -1, done: true, err: -1 }.encode(out);
    }
    fn decode<B: Buf>(src: &mut B) -> Result<Self> {
        let mut ops = Vec::new();
        loop {
            let h = MultiHeader::decode(src)?;
            if h.done {
                break;
            }
            ops.push(match h.type_ {
                op::CREATE | op::CREATE2 | op::CREATE_CONTAINER => {
                    MultiOp::Create(h.type_, CreateRequest::decode(src)?)
                }
                op::CREATE_TTL => MultiOp::CreateTtl(CreateTtlRequest::decode(src)?),
                op::DELETE => MultiOp::Delete(DeleteRequest::decode(src)?),
                op::SET_DATA => MultiOp::SetData(SetDataRequest::decode(src)?),
                op::CHECK => MultiOp::Check(CheckVersionRequest::decode(src)?),
                op::GET_CHILDREN => MultiOp::GetChildren(GetChildrenRequest::decode(src)?),
                op::GET_DATA => MultiOp::GetData(GetDataRequest::decode(src)?),
                other => return Err(DecodeError::UnknownType(other)),
            });
        }
        Ok(MultiRequest { ops })
    }
}

/// One entry of a `MultiResponse` (`OpResult`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpResult {
    Create(String),
    Create2(String, Stat),
    Delete,
    SetData(Stat),
    Check,
    GetChildren(Vec<String>),
    GetData(GetDataResponse),
    Error(i32),
}

/// `MultiResponse`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MultiResponse {
    pub results: Vec<OpResult>,
}

impl Jute for MultiResponse {
    fn encode<B: BufMut>(&self, out: &mut B) {
        for r in &self.results {
            let (type_, err) = match r {
                OpResult::Create(_) => (op::CREATE, 0),
                OpResult::Create2(..) => (op::CREATE2, 0),
                OpResult::Delete => (op::DELETE, 0),
                OpResult::SetData(_) => (op::SET_DATA, 0),
                OpResult::Check => (op::CHECK, 0),
                OpResult::GetChildren(_) => (op::GET_CHILDREN, 0),
                OpResult::GetData(_) => (op::GET_DATA, 0),
                OpResult::Error(e) => (-1, *e),
            };
            MultiHeader { type_, done: false, err }.encode(out);
            match r {
                OpResult::Create(p) => p.encode(out),
                OpResult::Create2(p, s) => {
                    p.encode(out);
                    s.encode(out);
                }
                OpResult::SetData(s) => s.encode(out),
                OpResult::GetChildren(c) => c.encode(out),
                OpResult::GetData(d) => d.encode(out),
                OpResult::Error(e) => e.encode(out),
                OpResult::Delete | OpResult::Check => {}
            }
        }
        MultiHeader { type_: -1, done: true, err: -1 }.encode(out);
    }
    fn decode<B: Buf>(src: &mut B) -> Result<Self> {
        let mut results = Vec::new();
        loop {
            let h = MultiHeader::decode(src)?;
            if h.done {
                break;
            }
            results.push(match h.type_ {
                op::CREATE => OpResult::Create(String::decode(src)?),
                op::CREATE2 => OpResult::Create2(String::decode(src)?, Stat::decode(src)?),
                op::DELETE => OpResult::Delete,
                op::SET_DATA => OpResult::SetData(Stat::decode(src)?),
                op::CHECK => OpResult::Check,
                op::GET_CHILDREN => OpResult::GetChildren(Vec::<String>::decode(src)?),
                op::GET_DATA => OpResult::GetData(GetDataResponse::decode(src)?),
                -1 => OpResult::Error(i32::decode(src)?),
                other => return Err(DecodeError::UnknownType(other)),
            });
        }
        Ok(MultiResponse { results })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn captured_failed_multi_response_bytes() {
        // [create ok, check bad version, setData] from Java 3.8.0 (protocol.md §2.7).
        let r = MultiResponse { results: vec![OpResult::Error(0), OpResult::Error(-103), OpResult::Error(-2)] };
        let expect: Vec<u8> = [
            "ffffffff00",
            "00000000",
            "00000000",
            "ffffffff00",
            "ffffff99",
            "ffffff99",
            "ffffffff00",
            "fffffffe",
            "fffffffe",
            "ffffffff01",
            "ffffffff",
        ]
        .concat()
        .as_bytes()
        .chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect();
        assert_eq!(r.to_bytes(), expect);
        assert_eq!(MultiResponse::from_slice(&expect).unwrap(), r);
    }
}
