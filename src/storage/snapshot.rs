//! Snapshots, `version-2/snapshot.<hex zxid>[.gz|.snappy]` (Java `FileSnap`, `SnapStream`,
//! `SerializeUtils.serializeSnapshot`, `DataTree.serialize`, `ReferenceCountedACLCache`).
//!
//! Stream (before any compression):
//! `FileHeader{"ZKSN", 2, dbid -1}` · sessions `int n, n × (long id, int timeout)` ·
//! ACL map `int n, n × (long id, vector<ACL>)` · nodes `(ustring path, buffer data, long acl,
//! StatPersisted)` parents first, root path "" · `ustring "/"` · seal · [ZxidDigest · seal].
//! A seal is `long adler32(all bytes so far) · ustring "/"`, cumulative from byte 0. The
//! seals are over the uncompressed bytes. The tree is exchanged as [`SnapshotImage`] so this
//! module does not depend on the data tree; writing an image read from a Java file, in the
//! same order, reproduces that file byte for byte.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::snappy_stream::{SnappyReader, SnappyWriter, MAGIC as SNAPPY_MAGIC};
use super::{list_by_zxid, Result, StorageError, SNAPSHOT_PREFIX};
use crate::jute::records::{Acl, Id, StatPersisted};
use crate::jute::Jute;
use bytes::Bytes;
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

pub const SNAP_MAGIC: u32 = 0x5A4B_534E; // "ZKSN"
pub const SNAP_VERSION: i32 = 2;
pub const SNAP_DBID: i64 = -1;
/// `ZxidDigest.digestVersion` written by 3.6+ (`DigestCalculator.DIGEST_VERSION`).
pub const DIGEST_VERSION: i32 = 2;
/// Bounds one string/buffer read from a snapshot (`jute.maxbuffer` + extrasize, generously).
const MAX_FIELD: usize = 64 * 1024 * 1024;
const STAT_PERSISTED_LEN: usize = 60;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapNode {
    /// Root is "" as in Java; children are "/a", "/a/b".
    pub path: String,
    pub data: Option<Bytes>,
    /// Id into [`SnapshotImage::acls`]; -1 = OPEN_ACL_UNSAFE (never in the map).
    pub acl: i64,
    pub stat: StatPersisted,
}

/// `DataTree.ZxidDigest`: the tree digest as of `zxid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZxidDigest {
    pub zxid: i64,
    pub version: i32,
    pub digest: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotImage {
    pub sessions: Vec<(i64, i32)>,
    pub acls: Vec<(i64, Vec<Acl>)>,
    /// Pre-order: every parent before its children.
    pub nodes: Vec<SnapNode>,
    /// `None` writes no digest section (Java loads that fine); Java itself writes
    /// `{0, 2, 0}` when it has recorded no digest yet.
    pub digest: Option<ZxidDigest>,
}

/// `zookeeper.snapshot.compression.method`; the file suffix decides how a file is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Snappy,
}

impl Compression {
    /// `SnapStream.getStreamMode(fileName)`: the last dot-suffix, case-insensitive.
    pub fn from_file_name(name: &str) -> Compression {
        match name.rsplit('.').next() {
            Some(s) if name.contains('.') && s.eq_ignore_ascii_case("gz") => Compression::Gzip,
            Some(s) if name.contains('.') && s.eq_ignore_ascii_case("snappy") => Compression::Snappy,
            _ => Compression::None,
        }
    }
    /// The property value (`""`, `gz`, `snappy`); unknown values mean none, as in Java.
    pub fn from_property(v: &str) -> Compression {
        Compression::from_file_name(&format!("x.{v}"))
    }
    pub fn extension(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Snappy => ".snappy",
        }
    }
}

/// `Util.makeSnapshotName`.
pub fn snapshot_name(zxid: i64, c: Compression) -> String {
    format!("{SNAPSHOT_PREFIX}.{:x}{}", zxid as u64, c.extension())
}

// ---------------------------------------------------------------- encoding

/// A writer that keeps the running Adler32 of everything written (Java's
/// `CheckedOutputStream`).
struct Checked<W: Write> {
    inner: W,
    sum: adler32::RollingAdler32,
    /// Reused encode buffer, so a big tree costs one small write per node, not allocations.
    scratch: Vec<u8>,
}

impl<W: Write> Write for Checked<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(b)?;
        self.sum.update_buffer(b.get(..n).unwrap_or(&[]));
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn put<W: Write, T: Jute>(w: &mut Checked<W>, v: &T) -> std::io::Result<()> {
    let mut b = std::mem::take(&mut w.scratch);
    b.clear();
    v.encode(&mut b);
    let r = w.write_all(&b);
    w.scratch = b;
    r
}

fn seal<W: Write>(w: &mut Checked<W>) -> std::io::Result<()> {
    let v = i64::from(w.sum.hash());
    put(w, &v)?;
    put(w, &"/".to_string())
}

/// Serialises the uncompressed snapshot stream into `w` (Java `FileSnap.serialize`).
pub fn encode_image<W: Write>(img: &SnapshotImage, w: W) -> std::io::Result<W> {
    let mut w = Checked { inner: w, sum: adler32::RollingAdler32::new(), scratch: Vec::with_capacity(256) };
    put(&mut w, &(SNAP_MAGIC as i32))?;
    put(&mut w, &SNAP_VERSION)?;
    put(&mut w, &SNAP_DBID)?;
    put(&mut w, &(img.sessions.len() as i32))?;
    for (id, to) in &img.sessions {
        put(&mut w, id)?;
        put(&mut w, to)?;
    }
    put(&mut w, &(img.acls.len() as i32))?;
    for (id, list) in &img.acls {
        put(&mut w, id)?;
        put(&mut w, list)?;
    }
    for n in &img.nodes {
        let mut b = std::mem::take(&mut w.scratch);
        b.clear();
        n.path.encode(&mut b);
        n.data.encode(&mut b);
        n.acl.encode(&mut b);
        n.stat.encode(&mut b);
        let r = w.write_all(&b);
        w.scratch = b;
        r?;
    }
    put(&mut w, &"/".to_string())?;
    seal(&mut w)?;
    if let Some(d) = &img.digest {
        put(&mut w, &d.zxid)?;
        put(&mut w, &d.version)?;
        if d.version < 2 {
            // Pre-3.6.? digests were a hex string (DataTree.ZxidDigest.deserialize).
            put(&mut w, &format!("{:x}", d.digest as u64))?;
        } else {
            put(&mut w, &d.digest)?;
        }
        seal(&mut w)?;
    }
    Ok(w.inner)
}

/// The uncompressed stream as bytes.
pub fn image_to_bytes(img: &SnapshotImage) -> Vec<u8> {
    encode_image(img, Vec::new()).unwrap_or_default()
}

/// Writes `path` atomically (tmp file, fsync, rename, directory fsync), compressing as asked.
/// The caller picks the name (see [`snapshot_name`]); the compression is not inferred from it.
pub fn write_snapshot(path: &Path, img: &SnapshotImage, compression: Compression) -> Result<()> {
    let tmp = tmp_path(path);
    let io = |e| StorageError::io(&tmp, e);
    let file = File::create(&tmp).map_err(io)?;
    let buffered = BufWriter::with_capacity(64 * 1024, file);
    let result = (|| -> std::io::Result<File> {
        let buffered = match compression {
            Compression::None => encode_image(img, buffered)?,
            Compression::Gzip => {
                encode_image(img, flate2::write::GzEncoder::new(buffered, flate2::Compression::default()))?.finish()?
            }
            Compression::Snappy => encode_image(img, SnappyWriter::new(buffered))?.finish()?,
        };
        let file = buffered.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(file)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    std::fs::rename(&tmp, path).map_err(|e| StorageError::io(path, e))?;
    if let Some(dir) = path.parent() {
        super::sync_dir(if dir.as_os_str().is_empty() { Path::new(".") } else { dir })?;
    }
    Ok(())
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".tmp");
    PathBuf::from(s)
}

// ---------------------------------------------------------------- decoding

/// Reads primitives while keeping the Adler32 of everything consumed and the offset (in the
/// uncompressed stream) for error messages.
/// Receives a snapshot's contents as they are decoded, so a caller (the server's tree) can
/// build its own structures without an intermediate copy of every node.
pub trait SnapshotSink {
    fn session(&mut self, id: i64, timeout: i32);
    fn acl(&mut self, id: i64, list: Vec<Acl>);
    /// One node; `path` is "" for the root. An `Err` (e.g. a missing parent) aborts the load.
    fn node(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: i64,
        stat: StatPersisted,
    ) -> std::result::Result<(), String>;
}

/// A cursor over a whole (decompressed) snapshot in memory. The Adler-32 seals are computed
/// lazily over everything read so far, in one pass.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    path: &'a Path,
    sum: simd_adler32::Adler32,
    summed: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        let Some(end) = end else {
            return Err(StorageError::corrupt(self.path, self.buf.len() as u64, format!("truncated in {what}")));
        };
        let s = self.buf.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(s)
    }
    fn i32(&mut self, what: &str) -> Result<i32> {
        let b = self.take(4, what)?;
        Ok(i32::from_be_bytes(b.try_into().unwrap_or([0; 4])))
    }
    fn i64(&mut self, what: &str) -> Result<i64> {
        let b = self.take(8, what)?;
        Ok(i64::from_be_bytes(b.try_into().unwrap_or([0; 8])))
    }
    /// A length-prefixed buffer; -1 is null.
    fn buffer(&mut self, what: &str) -> Result<Option<&'a [u8]>> {
        let at = self.pos;
        let len = self.i32(what)?;
        if len == -1 {
            return Ok(None);
        }
        if len < 0 || len as usize > MAX_FIELD {
            return Err(StorageError::corrupt(self.path, at as u64, format!("bad length {len} for {what}")));
        }
        self.take(len as usize, what).map(Some)
    }
    fn string(&mut self, what: &str) -> Result<std::borrow::Cow<'a, str>> {
        Ok(self.buffer(what)?.map(String::from_utf8_lossy).unwrap_or_default())
    }
    fn count(&mut self, what: &str) -> Result<usize> {
        let at = self.pos;
        let n = self.i32(what)?;
        // A vector of -1 is null (read as empty); other negatives are corruption.
        if n == -1 {
            return Ok(0);
        }
        usize::try_from(n).map_err(|_| StorageError::corrupt(self.path, at as u64, format!("bad count {n} for {what}")))
    }
    fn acl_list(&mut self) -> Result<Vec<Acl>> {
        let n = self.count("acl vector")?;
        let mut v = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            let perms = self.i32("acl perms")?;
            let scheme = self.string("acl scheme")?.into_owned();
            let id = self.string("acl id")?.into_owned();
            v.push(Acl { perms, id: Id { scheme, id } });
        }
        Ok(v)
    }
    /// `checkSealIntegrity`: the stored value must equal the Adler-32 of everything before it.
    fn check_seal(&mut self) -> Result<()> {
        self.sum.write(self.buf.get(self.summed..self.pos).unwrap_or_default());
        self.summed = self.pos;
        let expect = i64::from(self.sum.finish());
        let at = self.pos;
        let got = self.i64("seal")?;
        self.string("seal marker")?;
        if got != expect {
            return Err(StorageError::ChecksumMismatch { path: self.path.to_path_buf(), offset: at as u64 });
        }
        self.sum.write(self.buf.get(self.summed..self.pos).unwrap_or_default());
        self.summed = self.pos;
        Ok(())
    }
}

/// Decodes a whole snapshot (`FileSnap.deserialize` + `DataTree.deserialize`) held in memory,
/// handing its sessions, ACLs and nodes to `sink`, and returns the digest section if present.
pub fn decode_into(buf: &[u8], path: &Path, sink: &mut impl SnapshotSink) -> Result<Option<ZxidDigest>> {
    let mut r = Cursor { buf, pos: 0, path, sum: simd_adler32::Adler32::new(), summed: 0 };
    let magic = r.i32("file header")? as u32;
    if magic != SNAP_MAGIC {
        return Err(StorageError::BadMagic { path: path.to_path_buf(), kind: "snapshot", magic });
    }
    let _version = r.i32("file header")?;
    let _dbid = r.i64("file header")?;
    let n = r.count("session count")?;
    for _ in 0..n {
        let id = r.i64("session id")?;
        let to = r.i32("session timeout")?;
        sink.session(id, to);
    }
    let n = r.count("acl map size")?;
    for _ in 0..n {
        let id = r.i64("acl id")?;
        let list = r.acl_list()?;
        sink.acl(id, list);
    }
    loop {
        let at = r.pos;
        let p = r.string("node path")?;
        if p == "/" {
            break;
        }
        let data = r.buffer("node data")?;
        let acl = r.i64("node acl")?;
        let stat_b = r.take(STAT_PERSISTED_LEN, "node stat")?;
        let stat = StatPersisted::from_slice(stat_b)
            .map_err(|e| StorageError::corrupt(path, at as u64, format!("stat: {e}")))?;
        sink.node(&p, data, acl, stat).map_err(|e| StorageError::corrupt(path, at as u64, e))?;
    }
    r.check_seal()?;
    if r.pos >= buf.len() {
        return Ok(None);
    }
    let zxid = r.i64("digest zxid")?;
    let version = r.i32("digest version")?;
    let digest = if version < 2 {
        let at = r.pos;
        let s = r.string("digest")?;
        u64::from_str_radix(&s, 16)
            .map_err(|_| StorageError::corrupt(path, at as u64, format!("bad legacy digest {s:?}")))? as i64
    } else {
        r.i64("digest")?
    };
    r.check_seal()?;
    Ok(Some(ZxidDigest { zxid, version, digest }))
}

/// Collects a snapshot into a [`SnapshotImage`], checking that every parent comes first.
#[derive(Default)]
struct ImageSink {
    img: SnapshotImage,
    seen: HashSet<String>,
}

impl SnapshotSink for ImageSink {
    fn session(&mut self, id: i64, timeout: i32) {
        self.img.sessions.push((id, timeout));
    }
    fn acl(&mut self, id: i64, list: Vec<Acl>) {
        self.img.acls.push((id, list));
    }
    fn node(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: i64,
        stat: StatPersisted,
    ) -> std::result::Result<(), String> {
        // DataTree.deserialize: every node but the root needs its parent already loaded.
        if let Some(slash) = path.rfind('/') {
            let parent = path.get(..slash).unwrap_or("");
            if !self.seen.contains(parent) {
                return Err(format!("Invalid Datatree, unable to find parent {parent} of path {path}"));
            }
        }
        self.seen.insert(path.to_string());
        self.img.nodes.push(SnapNode { path: path.to_string(), data: data.map(Bytes::copy_from_slice), acl, stat });
        Ok(())
    }
}

/// Decodes a snapshot stream into an image (tools and tests; the server uses [`decode_into`]).
pub fn decode_image<R: BufRead>(mut input: R, path: &Path) -> Result<SnapshotImage> {
    let mut buf = Vec::new();
    input.read_to_end(&mut buf).map_err(|e| StorageError::corrupt(path, buf.len() as u64, format!("reading: {e}")))?;
    let mut sink = ImageSink::default();
    let digest = decode_into(&buf, path, &mut sink)?;
    sink.img.digest = digest;
    Ok(sink.img)
}

fn open_stream(path: &Path) -> Result<Box<dyn BufRead>> {
    let file = File::open(path).map_err(|e| StorageError::io(path, e))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let input = BufReader::with_capacity(64 * 1024, file);
    Ok(match Compression::from_file_name(name) {
        Compression::None => Box::new(input),
        Compression::Gzip => Box::new(BufReader::new(flate2::bufread::GzDecoder::new(input))),
        Compression::Snappy => {
            let r = SnappyReader::new(input).map_err(|e| StorageError::corrupt(path, 0, e.to_string()))?;
            Box::new(BufReader::new(r))
        }
    })
}

/// The decompressed bytes of a snapshot file.
pub fn read_snapshot_bytes(path: &Path) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if Compression::from_file_name(name) == Compression::None {
        return std::fs::read(path).map_err(|e| StorageError::io(path, e));
    }
    open_stream(path)?
        .read_to_end(&mut buf)
        .map_err(|e| StorageError::corrupt(path, buf.len() as u64, e.to_string()))?;
    Ok(buf)
}

/// Reads a snapshot file straight into `sink`.
pub fn read_snapshot_into(path: &Path, sink: &mut impl SnapshotSink) -> Result<Option<ZxidDigest>> {
    let buf = read_snapshot_bytes(path)?;
    decode_into(&buf, path, sink)
}

pub fn read_snapshot(path: &Path) -> Result<SnapshotImage> {
    decode_image(open_stream(path)?, path)
}

/// `SnapStream.isValidSnapshot`: a cheap check used to pick candidates. Plain files must be at
/// least 10 bytes and end with `00 00 00 01 2f` ("/"); compressed ones need their magic.
pub fn is_valid_snapshot(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if super::zxid_from_name(name, SNAPSHOT_PREFIX).is_none() {
        return false;
    }
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    match Compression::from_file_name(name) {
        Compression::Gzip => {
            let mut m = [0u8; 2];
            f.read_exact(&mut m).is_ok() && m == [0x1f, 0x8b]
        }
        Compression::Snappy => {
            let mut m = [0u8; 8];
            f.read_exact(&mut m).is_ok() && m == SNAPPY_MAGIC
        }
        Compression::None => {
            use std::io::{Seek, SeekFrom};
            let Ok(len) = f.metadata().map(|m| m.len()) else {
                return false;
            };
            if len < 10 || f.seek(SeekFrom::End(-5)).is_err() {
                return false;
            }
            let mut tail = [0u8; 5];
            f.read_exact(&mut tail).is_ok() && tail == [0, 0, 0, 1, b'/']
        }
    }
}

/// Valid-looking snapshots in `dir` (the `version-2` directory), newest first
/// (`FileSnap.findNValidSnapshots` without the limit).
pub fn find_valid_snapshots(dir: &Path) -> Result<Vec<(i64, PathBuf)>> {
    let mut all = list_by_zxid(dir, SNAPSHOT_PREFIX)?;
    all.reverse();
    Ok(all.into_iter().filter(|(_, p)| is_valid_snapshot(p)).collect())
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
