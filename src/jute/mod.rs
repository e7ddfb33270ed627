//! The Jute wire format: ZooKeeper's record serialisation (`org.apache.jute`).
//!
//! Owns the primitive encodings, the `Jute` trait every record implements, and the
//! `record!` macro that declares a record once, in wire order. Decoding always works on a
//! complete frame: "need more bytes" is the framing layer's business, so here a short
//! buffer is an error. Lengths are checked against the bytes actually present before any
//! allocation, so a peer cannot make us allocate what it did not send.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

pub mod multi;
pub mod records;
pub mod txn;

use bytes::{Buf, BufMut, Bytes};

/// Why a record could not be decoded. Any of these closes a client connection, or becomes
/// MARSHALLINGERROR for a well-framed request body, as Java does.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unexpected end of record: needed {needed} bytes, {left} left")]
    UnexpectedEof { needed: usize, left: usize },
    #[error("unreasonable length {len}")]
    BadLength { len: i32 },
    #[error("unknown type {0}")]
    UnknownType(i32),
}

pub type Result<T> = std::result::Result<T, DecodeError>;

/// A value with a Jute encoding. `decode` reads from a complete buffer.
pub trait Jute: Sized {
    fn encode<B: BufMut>(&self, out: &mut B);
    fn decode<B: Buf>(src: &mut B) -> Result<Self>;

    /// Encodes into a fresh buffer.
    fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }
    /// Decodes from a byte slice, ignoring trailing bytes (Java ignores them too).
    fn from_slice(mut s: &[u8]) -> Result<Self> {
        Self::decode(&mut s)
    }
}

fn need<B: Buf>(src: &B, n: usize) -> Result<()> {
    if src.remaining() < n {
        Err(DecodeError::UnexpectedEof { needed: n, left: src.remaining() })
    } else {
        Ok(())
    }
}

impl Jute for i32 {
    fn encode<B: BufMut>(&self, out: &mut B) {
        out.put_i32(*self)
    }
    fn decode<B: Buf>(src: &mut B) -> Result<Self> {
        need(src, 4)?;
        Ok(src.get_i32())
    }
}

impl Jute for i64 {
    fn encode<B: BufMut>(&self, out: &mut B) {
        out.put_i64(*self)
    }
    fn decode<B: Buf>(src: &mut B) -> Result<Self> {
        need(src, 8)?;
        Ok(src.get_i64())
    }
}

impl Jute for u8 {
    fn encode<B: BufMut>(&self, out: &mut B) {
        out.put_u8(*self)
    }
    fn decode<B: Buf>(src: &mut B) -> Result<Self> {
        need(src, 1)?;
        Ok(src.get_u8())
    }
}

/// Java's `readBoolean`: any non-zero byte is true.
impl Jute for bool {
    fn encode<B: BufMut>(&self, out: &mut B) {
        out.put_u8(u8::from(*self))
    }
    fn decode<B: Buf>(src: &mut B) -> Result<Self> {
        need(src, 1)?;
        Ok(src.get_u8() != 0)
    }
}

/// Reads a length prefix; -1 (null) becomes `None`. A length beyond the bytes present is an
/// error before anything is allocated.
fn read_len<B: Buf>(src: &mut B, elem_min: usize) -> Result<Option<usize>> {
    let len = i32::decode(src)?;
    if len == -1 {
        return Ok(None);
    }
    if len < 0 {
        return Err(DecodeError::BadLength { len });
    }
    let n = len as usize;
    if n.saturating_mul(elem_min) > src.remaining() {
        return Err(DecodeError::BadLength { len });
    }
    Ok(Some(n))
}

/// `ustring`. Null decodes to `None`; invalid UTF-8 is replaced lossily, as Java's
/// `new String(bytes, UTF_8)` does.
impl Jute for Option<String> {
    fn encode<B: BufMut>(&self, out: &mut B) {
        match self {
            None => out.put_i32(-1),
            Some(s) => {
                out.put_i32(s.len() as i32);
                out.put_slice(s.as_bytes());
            }
        }
    }
    fn decode<B: Buf>(src: &mut B) -> Result<Self> {
        match read_len(src, 1)? {
            None => Ok(None),
            Some(n) => {
                let mut v = vec![0u8; n];
                src.copy_to_slice(&mut v);
                Ok(Some(match String::from_utf8(v) {
                    Ok(s) => s,
                    Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                }))
            }
        }
    }
}

/// `ustring` where null and empty are not told apart by the server (paths, schemes):
/// null decodes as empty, and encodes as empty.
impl Jute for String {
    fn encode<B: BufMut>(&self, out: &mut B) {
        out.put_i32(self.len() as i32);
        out.put_slice(self.as_bytes());
    }
    fn decode<B: Buf>(src: &mut B) -> Result<Self> {
        Ok(Option::<String>::decode(src)?.unwrap_or_default())
    }
}

/// `buffer` where null differs from empty (znode data).
impl Jute for Option<Bytes> {
    fn encode<B: BufMut>(&self, out: &mut B) {
        match self {
            None => out.put_i32(-1),
            Some(b) => {
                out.put_i32(b.len() as i32);
                out.put_slice(b);
            }
        }
    }
    fn decode<B: Buf>(src: &mut B) -> Result<Self> {
        match read_len(src, 1)? {
            None => Ok(None),
            Some(n) => Ok(Some(src.copy_to_bytes(n))),
        }
    }
}

/// `buffer` where null is read as empty.
impl Jute for Bytes {
    fn encode<B: BufMut>(&self, out: &mut B) {
        out.put_i32(self.len() as i32);
        out.put_slice(self);
    }
    fn decode<B: Buf>(src: &mut B) -> Result<Self> {
        Ok(Option::<Bytes>::decode(src)?.unwrap_or_default())
    }
}

/// `vector<T>`; null (-1) decodes as `None`.
impl<T: Jute> Jute for Option<Vec<T>> {
    fn encode<B: BufMut>(&self, out: &mut B) {
        match self {
            None => out.put_i32(-1),
            Some(v) => v.encode(out),
        }
    }
    fn decode<B: Buf>(src: &mut B) -> Result<Self> {
        match read_len(src, 1)? {
            None => Ok(None),
            Some(n) => {
                let mut v = Vec::with_capacity(n.min(4096));
                for _ in 0..n {
                    v.push(T::decode(src)?);
                }
                Ok(Some(v))
            }
        }
    }
}

/// `vector<T>` where null is read as empty.
impl<T: Jute> Jute for Vec<T> {
    fn encode<B: BufMut>(&self, out: &mut B) {
        out.put_i32(self.len() as i32);
        for x in self {
            x.encode(out);
        }
    }
    fn decode<B: Buf>(src: &mut B) -> Result<Self> {
        Ok(Option::<Vec<T>>::decode(src)?.unwrap_or_default())
    }
}

impl Jute for () {
    fn encode<B: BufMut>(&self, _out: &mut B) {}
    fn decode<B: Buf>(_src: &mut B) -> Result<Self> {
        Ok(())
    }
}

/// Declares a Jute record. Fields are encoded in the order written, which must be the order
/// of the class in `zookeeper.jute`; the golden tests check it against bytes Java wrote.
#[macro_export]
macro_rules! record {
    ($(
        $(#[$attr:meta])*
        pub struct $name:ident {
            $( $(#[$fattr:meta])* pub $field:ident : $ty:ty, )*
        }
    )*) => {$(
        $(#[$attr])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name { $( $(#[$fattr])* pub $field: $ty, )* }

        impl $crate::jute::Jute for $name {
            #[allow(unused_variables)]
            fn encode<BM: bytes::BufMut>(&self, out: &mut BM) {
                $( $crate::jute::Jute::encode(&self.$field, out); )*
            }
            #[allow(unused_variables)]
            fn decode<BB: bytes::Buf>(src: &mut BB) -> $crate::jute::Result<Self> {
                // Struct-literal fields are evaluated in the order written.
                Ok(Self { $( $field: $crate::jute::Jute::decode(src)?, )* })
            }
        }
    )*};
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn null_and_empty_buffers_stay_apart() {
        let null: Option<Bytes> = None;
        assert_eq!(null.to_bytes(), vec![0xff, 0xff, 0xff, 0xff]);
        let empty: Option<Bytes> = Some(Bytes::new());
        assert_eq!(empty.to_bytes(), vec![0, 0, 0, 0]);
        assert_eq!(Option::<Bytes>::from_slice(&[0xff, 0xff, 0xff, 0xff]), Ok(None));
    }

    #[test]
    fn huge_vector_count_is_rejected_before_allocating() {
        let bytes = [0x7f, 0xff, 0xff, 0xff];
        assert!(Vec::<i64>::from_slice(&bytes).is_err());
        assert!(Option::<String>::from_slice(&bytes).is_err());
    }

    #[test]
    fn booleans_read_any_nonzero_as_true() {
        assert_eq!(bool::from_slice(&[7]), Ok(true));
        assert_eq!(bool::from_slice(&[0]), Ok(false));
    }
}
