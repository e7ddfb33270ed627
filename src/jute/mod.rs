//! The Jute wire format: ZooKeeper's record serialisation (`org.apache.jute`).
//!
//! Owns the primitive encodings, the `Jute` trait every record implements, and the
//! `record!` macro that declares a record once, in wire order. Decoding always works on a
//! complete frame: "need more bytes" is the framing layer's business, so here a short
//! buffer is an error. Lengths are checked against the bytes actually present before any
//! allocation, so a peer cannot make us allocate what it did not send.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

pub mod error_code;
pub mod multi;
pub mod opcode;
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

/// Writes a `ustring` as Java's `BinaryOutputArchive.writeString` does: it encodes each UTF-16
/// unit on its own, so a character beyond U+FFFF becomes two 3-byte surrogate sequences (CESU-8)
/// rather than 4-byte UTF-8 (golden case `Id.supplementary`). Only 4-byte UTF-8 sequences start
/// with a byte >= 0xF0, so everything else is written as is.
fn put_java_string<B: BufMut>(s: &str, out: &mut B) {
    if !s.bytes().any(|b| b >= 0xf0) {
        out.put_i32(s.len() as i32);
        out.put_slice(s.as_bytes());
        return;
    }
    let mut v = Vec::with_capacity(s.len() + 8);
    for c in s.chars() {
        let mut units = [0u16; 2];
        if c.len_utf16() == 1 {
            let mut buf = [0u8; 4];
            v.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        } else {
            for u in c.encode_utf16(&mut units) {
                v.push(0xe0 | (*u >> 12) as u8);
                v.push(0x80 | ((*u >> 6) & 0x3f) as u8);
                v.push(0x80 | (*u & 0x3f) as u8);
            }
        }
    }
    out.put_i32(v.len() as i32);
    out.put_slice(&v);
}

/// `new String(bytes, UTF_8)` for invalid input: like Rust's lossy decoding, except that Java
/// turns a 3-byte encoded surrogate (what its own writer emits for U+10000 and above) into one
/// U+FFFD where Rust would emit three. Matching it keeps re-encoded strings byte-identical.
fn java_lossy_utf8(mut b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    loop {
        match std::str::from_utf8(b) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, rest) = b.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                out.push('\u{FFFD}');
                let skip = match rest {
                    [0xed, 0xa0..=0xbf, 0x80..=0xbf, ..] => 3,
                    _ => e.error_len().unwrap_or(rest.len()),
                };
                b = rest.get(skip..).unwrap_or_default();
            }
        }
    }
}

/// `ustring`. Null decodes to `None`; invalid UTF-8 is replaced lossily, as Java's
/// `new String(bytes, UTF_8)` does.
impl Jute for Option<String> {
    fn encode<B: BufMut>(&self, out: &mut B) {
        match self {
            None => out.put_i32(-1),
            Some(s) => put_java_string(s, out),
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
                    Err(e) => java_lossy_utf8(e.as_bytes()),
                }))
            }
        }
    }
}

/// `ustring` where null and empty are not told apart by the server (paths, schemes):
/// null decodes as empty, and encodes as empty.
impl Jute for String {
    fn encode<B: BufMut>(&self, out: &mut B) {
        put_java_string(self, out)
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
    fn supplementary_characters_are_written_as_cesu8_like_java() {
        // Bytes from Java 3.8.0 `BinaryOutputArchive.writeString("x\uD83D\uDE00\u0000y")`.
        let java = [0, 0, 0, 9, 0x78, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80, 0x00, 0x79];
        assert_eq!("x\u{1F600}\u{0}y".to_string().to_bytes(), java);
        assert_eq!(Some("\u{1F600}".to_string()).to_bytes().len(), 4 + 6);
        assert_eq!("plain ü".to_string().to_bytes().len(), 4 + 8);
    }

    #[test]
    fn encoded_surrogates_decode_to_one_replacement_each_like_java() {
        // Java's `new String(.., UTF_8)` gives 0078 fffd fffd 0000 0079 for these bytes.
        let java = [0, 0, 0, 9, 0x78, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80, 0x00, 0x79];
        assert_eq!(String::from_slice(&java), Ok("x\u{FFFD}\u{FFFD}\u{0}y".to_string()));
        // Other malformed input keeps the usual one-replacement-per-maximal-subpart rule.
        assert_eq!(String::from_slice(&[0, 0, 0, 3, 0x61, 0xff, 0xc3]), Ok("a\u{FFFD}\u{FFFD}".to_string()));
    }

    #[test]
    fn booleans_read_any_nonzero_as_true() {
        assert_eq!(bool::from_slice(&[7]), Ok(true));
        assert_eq!(bool::from_slice(&[0]), Ok(false));
    }
}
