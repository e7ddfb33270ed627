//! xerial snappy-java's *stream* format (`SnappyOutputStream`/`SnappyInputStream`), which
//! Java ZooKeeper uses for `snapshot.<zxid>.snappy`. It is not the standard snappy framing
//! format: an 8-byte magic `82 'SNAPPY' 00`, two big-endian ints (version 1, compatible
//! version 1), then blocks of `int compressedLen · raw snappy block`. Each block holds at
//! most 32 KiB of input (snappy-java 1.1.8's default). Checked against a snapshot Java
//! 3.8.0 wrote with snappy-java 1.1.8.3 (tests/data/storage/java-3.8.0-compressed).
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use std::io::{self, Read, Write};

pub const MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
pub const HEADER_LEN: usize = 16;
pub const BLOCK_SIZE: usize = 32 * 1024;
/// A block (compressed or not) larger than this is garbage, not data (bounds allocations);
/// snappy-java writes 32 KiB blocks.
const MAX_COMPRESSED_BLOCK: usize = 64 * 1024 * 1024;

fn header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    for (d, s) in h.iter_mut().zip(MAGIC.iter().chain(1i32.to_be_bytes().iter()).chain(1i32.to_be_bytes().iter())) {
        *d = *s;
    }
    h
}

/// Compressing writer; call `finish` to write the last block and get the inner writer back.
pub struct SnappyWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
    enc: snap::raw::Encoder,
    wrote_header: bool,
}

impl<W: Write> SnappyWriter<W> {
    pub fn new(inner: W) -> Self {
        SnappyWriter { inner, buf: Vec::with_capacity(BLOCK_SIZE), enc: snap::raw::Encoder::new(), wrote_header: false }
    }

    fn dump(&mut self) -> io::Result<()> {
        if !self.wrote_header {
            self.inner.write_all(&header())?;
            self.wrote_header = true;
        }
        if self.buf.is_empty() {
            return Ok(());
        }
        let block = self.enc.compress_vec(&self.buf).map_err(io::Error::other)?;
        self.inner.write_all(&(block.len() as i32).to_be_bytes())?;
        self.inner.write_all(&block)?;
        self.buf.clear();
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.dump()?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for SnappyWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = BLOCK_SIZE - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(data.get(..n).unwrap_or(&[]));
        if self.buf.len() >= BLOCK_SIZE {
            self.dump()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.dump()?;
        self.inner.flush()
    }
}

/// Decompressing reader. A stream may be a concatenation of streams (snappy-java allows a
/// header where a block length is expected).
pub struct SnappyReader<R: Read> {
    inner: R,
    block: Vec<u8>,
    pos: usize,
    dec: snap::raw::Decoder,
    eof: bool,
}

impl<R: Read> SnappyReader<R> {
    /// Reads and checks the stream header.
    pub fn new(mut inner: R) -> io::Result<Self> {
        let mut h = [0u8; HEADER_LEN];
        inner.read_exact(&mut h)?;
        if h.get(..8) != Some(&MAGIC[..]) {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "not a snappy-java stream (bad magic)"));
        }
        Ok(SnappyReader { inner, block: Vec::new(), pos: 0, dec: snap::raw::Decoder::new(), eof: false })
    }

    fn fill(&mut self) -> io::Result<()> {
        loop {
            let mut lenb = [0u8; 4];
            let mut got = 0;
            while got < 4 {
                let Some(rest) = lenb.get_mut(got..) else {
                    break;
                };
                match self.inner.read(rest)? {
                    0 if got == 0 => {
                        self.eof = true;
                        return Ok(());
                    }
                    0 => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "truncated snappy block length")),
                    k => got += k,
                }
            }
            if lenb == [MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3]] {
                // A concatenated stream: skip the rest of its header.
                let mut rest = [0u8; HEADER_LEN - 4];
                self.inner.read_exact(&mut rest)?;
                continue;
            }
            let len = i32::from_be_bytes(lenb);
            if len < 0 || len as usize > MAX_COMPRESSED_BLOCK {
                return Err(io::Error::new(io::ErrorKind::InvalidData, format!("bad snappy block length {len}")));
            }
            let mut comp = Vec::new();
            (&mut self.inner).take(len as u64).read_to_end(&mut comp)?;
            if comp.len() != len as usize {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "truncated snappy block"));
            }
            // The block header states its decompressed size; refuse absurd ones before
            // snap allocates them.
            let raw_len =
                snap::raw::decompress_len(&comp).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            if raw_len > MAX_COMPRESSED_BLOCK {
                return Err(io::Error::new(io::ErrorKind::InvalidData, format!("snappy block of {raw_len} bytes")));
            }
            self.block = self.dec.decompress_vec(&comp).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            self.pos = 0;
            if !self.block.is_empty() {
                return Ok(());
            }
        }
    }
}

impl<R: Read> Read for SnappyReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.block.len() && !self.eof {
            self.fill()?;
        }
        if self.eof && self.pos >= self.block.len() {
            return Ok(0);
        }
        let avail = self.block.get(self.pos..).unwrap_or(&[]);
        let n = avail.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), avail.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_across_blocks() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8 ^ (i / 7) as u8).collect();
        let mut w = SnappyWriter::new(Vec::new());
        w.write_all(&data).unwrap();
        let out = w.finish().unwrap();
        assert_eq!(&out[..8], &MAGIC);
        assert_eq!(&out[8..16], &[0, 0, 0, 1, 0, 0, 0, 1]);
        let mut back = Vec::new();
        SnappyReader::new(&out[..]).unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn concatenated_streams_read_as_one() {
        let mut all = Vec::new();
        for part in [&b"hello "[..], &b"world"[..]] {
            let mut w = SnappyWriter::new(Vec::new());
            w.write_all(part).unwrap();
            all.extend(w.finish().unwrap());
        }
        let mut back = String::new();
        SnappyReader::new(&all[..]).unwrap().read_to_string(&mut back).unwrap();
        assert_eq!(back, "hello world");
    }

    #[test]
    fn truncated_and_garbage_streams_are_errors() {
        let mut w = SnappyWriter::new(Vec::new());
        w.write_all(&[7u8; 5000]).unwrap();
        let out = w.finish().unwrap();
        let mut sink = Vec::new();
        assert!(SnappyReader::new(&out[..out.len() - 3]).unwrap().read_to_end(&mut sink).is_err());
        assert!(SnappyReader::new(&b"not snappy at all"[..]).is_err());
    }
}
