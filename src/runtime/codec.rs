//! The client wire framing as a tokio-util codec, so one code path frames plain TCP and any
//! other `AsyncRead + AsyncWrite` stream (TLS): 4-byte big-endian lengths checked against
//! `jute.maxbuffer` before anything is allocated, and a four-letter word recognised in the
//! first 4 bytes of a connection, exactly where Java's `NIOServerCnxn.readLength` looks.

use bytes::{Buf, Bytes, BytesMut};
use std::io;
use tokio_util::codec::{Decoder, Encoder};

/// The words a connection may open with instead of a length.
pub(crate) const FOUR_LETTER_WORDS: [&[u8; 4]; 18] = [
    b"ruok", b"srvr", b"stat", b"mntr", b"conf", b"cons", b"envi", b"wchs", b"wchc", b"wchp", b"dump", b"isro",
    b"dirs", b"crst", b"srst", b"hash", b"gtmk", b"stmk",
];

/// Above this, a frame's buffer grows as its bytes arrive instead of being reserved from its
/// length alone, so a peer that announces 1 MiB and sends nothing costs little.
const RESERVE_AHEAD: usize = 64 * 1024;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// One request frame without its length prefix, in an allocation of its own.
    Request(Bytes),
    /// The connection opened with a four-letter word.
    FourLetter([u8; 4]),
}

/// `Len error`: Java logs it and closes the connection without a reply.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CodecError {
    #[error("Len error {0}")]
    Len(i64),
    #[error(transparent)]
    Io(#[from] io::Error),
}

pub(crate) struct ZkCodec {
    max_frame: usize,
    first: bool,
}

impl ZkCodec {
    pub(crate) fn new(max_frame: usize) -> ZkCodec {
        ZkCodec { max_frame, first: true }
    }
}

impl Decoder for ZkCodec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        let Some(head) = src.get(..4) else {
            return Ok(None);
        };
        let mut len_buf = [0u8; 4];
        len_buf.copy_from_slice(head);
        if std::mem::take(&mut self.first) && FOUR_LETTER_WORDS.iter().any(|w| **w == len_buf) {
            src.advance(4);
            return Ok(Some(Frame::FourLetter(len_buf)));
        }
        let len = i32::from_be_bytes(len_buf);
        if len < 0 || len as usize > self.max_frame {
            return Err(CodecError::Len(len.into()));
        }
        let len = len as usize;
        let Some(body) = src.get(4..4 + len) else {
            src.reserve((4 + len - src.len()).min(RESERVE_AHEAD));
            return Ok(None);
        };
        // A copy, not `split_to().freeze()`: the server keeps slices of frames (znode data),
        // and a slice of the shared read buffer would pin the whole buffer per znode.
        let frame = Bytes::copy_from_slice(body);
        src.advance(4 + len);
        Ok(Some(Frame::Request(frame)))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        // A frame cut short by the peer's close is dropped quietly, as Java drops it.
        self.decode(src)
    }
}

/// Replies leave the server already framed (the server writes their length prefix), so
/// encoding is appending them to the write buffer; one flush then writes a whole batch.
impl Encoder<Bytes> for ZkCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), CodecError> {
        dst.extend_from_slice(&item);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn decode_all(codec: &mut ZkCodec, buf: &mut BytesMut) -> Vec<Frame> {
        let mut out = Vec::new();
        while let Some(f) = codec.decode(buf).unwrap() {
            out.push(f);
        }
        out
    }

    #[test]
    fn several_frames_from_one_buffer_then_a_partial_one() {
        let mut c = ZkCodec::new(100);
        let mut b = BytesMut::from(&b"\0\0\0\x02ab\0\0\0\0\0\0\0\x03xyz\0\0\0\x05par"[..]);
        let got = decode_all(&mut c, &mut b);
        assert_eq!(
            got,
            vec![
                Frame::Request(Bytes::from_static(b"ab")),
                Frame::Request(Bytes::new()),
                Frame::Request(Bytes::from_static(b"xyz"))
            ]
        );
        assert_eq!(&b[..], b"\0\0\0\x05par");
        b.extend_from_slice(b"ts");
        assert_eq!(c.decode(&mut b).unwrap(), Some(Frame::Request(Bytes::from_static(b"parts"))));
        assert!(b.is_empty());
    }

    #[test]
    fn four_letter_word_only_in_the_first_four_bytes() {
        let mut c = ZkCodec::new(1 << 20);
        let mut b = BytesMut::from(&b"ru"[..]);
        assert_eq!(c.decode(&mut b).unwrap(), None);
        b.extend_from_slice(b"ok");
        assert_eq!(c.decode(&mut b).unwrap(), Some(Frame::FourLetter(*b"ruok")));
        // later, the same bytes are a length (0x72756f6b, far over the limit)
        let mut c = ZkCodec::new(1 << 20);
        let mut b = BytesMut::from(&b"\0\0\0\x01Xruok"[..]);
        assert_eq!(c.decode(&mut b).unwrap(), Some(Frame::Request(Bytes::from_static(b"X"))));
        assert!(matches!(c.decode(&mut b), Err(CodecError::Len(0x7275_6f6b))));
    }

    #[test]
    fn a_word_that_is_not_a_command_is_a_length() {
        let mut c = ZkCodec::new(1 << 30);
        let mut b = BytesMut::from(&b"\0\0\0\x01Z"[..]);
        assert_eq!(c.decode(&mut b).unwrap(), Some(Frame::Request(Bytes::from_static(b"Z"))));
        let mut c = ZkCodec::new(100);
        let mut b = BytesMut::from(&b"abcd"[..]);
        assert!(matches!(c.decode(&mut b), Err(CodecError::Len(0x6162_6364))));
    }

    #[test]
    fn oversized_and_negative_lengths_fail_before_allocating() {
        for (head, want) in
            [([0xff, 0xff, 0xff, 0xff], -1i64), ([0, 0x10, 0, 1], 0x10_0001), ([0x7f, 0xff, 0xff, 0xff], 0x7fff_ffff)]
        {
            let mut c = ZkCodec::new(0x10_0000);
            let mut b = BytesMut::from(&head[..]);
            let cap = b.capacity();
            match c.decode(&mut b) {
                Err(CodecError::Len(n)) => assert_eq!(n, want),
                other => panic!("{head:?}: {other:?}"),
            }
            assert_eq!(b.capacity(), cap);
        }
        // exactly the limit is accepted, and only RESERVE_AHEAD is reserved up front
        let mut c = ZkCodec::new(0x10_0000);
        let mut b = BytesMut::from(&[0u8, 0x10, 0, 0][..]);
        assert_eq!(c.decode(&mut b).unwrap(), None);
        assert!(b.capacity() >= RESERVE_AHEAD && b.capacity() < 0x10_0000);
    }

    #[test]
    fn frames_do_not_share_the_read_buffer() {
        let mut c = ZkCodec::new(100);
        let mut b = BytesMut::with_capacity(4096);
        b.extend_from_slice(b"\0\0\0\x03abc");
        let Some(Frame::Request(f)) = c.decode(&mut b).unwrap() else { panic!() };
        // its own allocation: the read buffer's address range does not contain it
        let range = b.as_ptr() as usize - 7..b.as_ptr() as usize + 4096;
        assert!(!range.contains(&(f.as_ptr() as usize)));
    }

    #[test]
    fn encode_appends_framed_replies() {
        let mut c = ZkCodec::new(100);
        let mut dst = BytesMut::new();
        c.encode(Bytes::from_static(b"\0\0\0\x01a"), &mut dst).unwrap();
        c.encode(Bytes::from_static(b"\0\0\0\x01b"), &mut dst).unwrap();
        assert_eq!(&dst[..], b"\0\0\0\x01a\0\0\0\x01b");
    }
}
