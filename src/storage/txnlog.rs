//! The transaction log, `version-2/log.<hex zxid of first entry>` (Java `FileTxnLog`,
//! `FilePadding`, `Util.readTxnBytes`).
//!
//! Layout: `FileHeader{magic "ZKLG", version 2, dbid 0}` then entries
//! `crc:i64 · len:i32 · entry[len] · 0x42`, then zero padding to the preallocated size.
//! `crc` is Adler32 over `entry` only (the Javadoc claims it covers len and 0x42 too; the code
//! and the files Java 3.8.0 writes say otherwise, see the golden tests). The reader's rules
//! come from `FileTxnIterator.next`: a zero length, a short read or a missing 0x42 end the
//! file (a torn tail is the normal state after a crash), a CRC mismatch is an error.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::{list_by_zxid, log_name, Result, StorageError, LOG_PREFIX};
use crate::jute::txn::TxnEntry;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const TXNLOG_MAGIC: u32 = 0x5A4B_4C47; // "ZKLG"
pub const TXNLOG_VERSION: i32 = 2;
pub const HEADER_LEN: u64 = 16;
/// End-of-record byte ('B') after each entry.
pub const EOR: u8 = 0x42;
/// Java refuses a record longer than `jute.maxbuffer + extrasize` (both 0xfffff by default).
pub const MAX_ENTRY_LEN: usize = 2 * 0xfffff;

/// Writer settings, Java's system properties in bytes.
#[derive(Clone, Debug)]
pub struct TxnLogOptions {
    /// `zookeeper.preAllocSize` × 1024; 0 disables preallocation.
    pub prealloc_size: u64,
    /// `zookeeper.forceSync` (default yes).
    pub force_sync: bool,
    /// `zookeeper.txnLogSizeLimitInKb` × 1024; `None` = off (-1).
    pub size_limit: Option<u64>,
    /// The `dbid` written into new file headers (always 0 in Java).
    pub dbid: i64,
}

impl Default for TxnLogOptions {
    fn default() -> Self {
        TxnLogOptions { prealloc_size: 64 * 1024 * 1024, force_sync: true, size_limit: None, dbid: 0 }
    }
}

/// `FilePadding.calculateFileSizeWithPadding`: grow by one block once we are within 4 KiB
/// of the known end; if we are already past it, round up to a block boundary.
pub fn padded_size(position: u64, file_size: u64, prealloc: u64) -> u64 {
    if prealloc == 0 || position + 4096 < file_size {
        return file_size;
    }
    if position > file_size {
        let s = position + prealloc;
        s - s % prealloc
    } else {
        file_size + prealloc
    }
}

/// Java's `Adler32.getValue()` stored in a long: the high 32 bits are zero.
pub fn entry_crc(entry: &[u8]) -> i64 {
    i64::from(adler32::RollingAdler32::from_buffer(entry).hash())
}

/// Appends `crc · len · entry · 0x42` to `out` (one log record).
pub fn encode_record(entry: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&entry_crc(entry).to_be_bytes());
    out.extend_from_slice(&(entry.len() as i32).to_be_bytes());
    out.extend_from_slice(entry);
    out.push(EOR);
}

pub fn file_header(dbid: i64) -> [u8; 16] {
    let mut h = [0u8; 16];
    let (m, rest) = h.split_at_mut(4);
    m.copy_from_slice(&TXNLOG_MAGIC.to_be_bytes());
    let (v, d) = rest.split_at_mut(4);
    v.copy_from_slice(&TXNLOG_VERSION.to_be_bytes());
    d.copy_from_slice(&dbid.to_be_bytes());
    h
}

struct OpenLog {
    file: File,
    path: PathBuf,
    /// Bytes of this file already written out (header included).
    flushed: u64,
    /// Appended records not yet written; `commit` writes them with one pwrite.
    pending: Vec<u8>,
    /// `FilePadding.currentSize`: how far the file has been preallocated.
    padded: u64,
}

/// Appends to the log directory like `FileTxnLog`: a new file starts at the first append
/// after construction or `roll()`, named after that entry's zxid.
pub struct TxnLogWriter {
    dir: PathBuf,
    opts: TxnLogOptions,
    cur: Option<OpenLog>,
    /// Files rolled away from but not yet fsynced; the next commit syncs them (Java's
    /// `streamsToFlush`), so a roll never loses durability.
    rolled: Vec<(File, PathBuf)>,
    last_zxid: i64,
}

impl TxnLogWriter {
    /// `dir` is the `version-2` directory; it is created if missing.
    pub fn new(dir: &Path, opts: TxnLogOptions) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
        Ok(TxnLogWriter { dir: dir.to_path_buf(), opts, cur: None, rolled: Vec::new(), last_zxid: 0 })
    }

    /// Buffers one entry (the `TxnEntry::encode` bytes). Nothing is durable before `commit`.
    pub fn append(&mut self, entry: &[u8], zxid: i64) -> Result<()> {
        if entry.is_empty() {
            // Java: "Faulty serialization for header and txn"; an empty entry would read as EOF.
            return Err(StorageError::corrupt(&self.dir, 0, "refusing to log an empty entry"));
        }
        if zxid > self.last_zxid {
            self.last_zxid = zxid;
        } else {
            tracing::warn!("Current zxid {zxid:#x} is <= {:#x}", self.last_zxid);
        }
        if self.cur.is_none() {
            self.cur = Some(self.create(zxid)?);
        }
        let prealloc = self.opts.prealloc_size;
        let Some(log) = self.cur.as_mut() else {
            return Ok(());
        };
        let position = log.flushed + log.pending.len() as u64;
        let new_size = padded_size(position, log.padded, prealloc);
        if new_size != log.padded {
            // Preallocate by writing one zero byte at the new end, as FilePadding does.
            log.file.write_all_at(&[0], new_size - 1).map_err(|e| StorageError::io(&log.path, e))?;
            log.padded = new_size;
        }
        encode_record(entry, &mut log.pending);
        Ok(())
    }

    fn create(&self, zxid: i64) -> Result<OpenLog> {
        let path = self.dir.join(log_name(zxid));
        tracing::info!("Creating new log file: {}", log_name(zxid));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| StorageError::io(&path, e))?;
        file.write_all_at(&file_header(self.opts.dbid), 0).map_err(|e| StorageError::io(&path, e))?;
        super::sync_dir(&self.dir)?;
        Ok(OpenLog { file, path, flushed: HEADER_LEN, pending: Vec::new(), padded: HEADER_LEN })
    }

    /// Writes the buffered entries and, unless forceSync is off, `fdatasync`s every file
    /// touched since the last commit. Returns how long the sync took (`None` if none ran) so
    /// the caller can warn above `fsync.warningthresholdms`. Rolls when the size limit is hit.
    pub fn commit(&mut self) -> Result<Option<Duration>> {
        if let Some(log) = self.cur.as_mut() {
            flush(log)?;
        }
        let mut took = None;
        if self.opts.force_sync {
            let start = Instant::now();
            for (f, p) in &self.rolled {
                f.sync_data().map_err(|e| StorageError::io(p, e))?;
            }
            if let Some(log) = &self.cur {
                log.file.sync_data().map_err(|e| StorageError::io(&log.path, e))?;
            }
            took = Some(start.elapsed());
        }
        self.rolled.clear();
        if let (Some(limit), Some(log)) = (self.opts.size_limit, &self.cur) {
            // Java 3.8.0 compares `logFileWrite.length()`, i.e. the preallocated length.
            if log.padded.max(log.flushed) > limit {
                tracing::debug!("Log size limit reached: {}", log.padded.max(log.flushed));
                self.roll()?;
            }
        }
        Ok(took)
    }

    /// `rollLog`: the next append starts a new file. Buffered entries are written now and
    /// synced by the next `commit`.
    pub fn roll(&mut self) -> Result<()> {
        if let Some(mut log) = self.cur.take() {
            flush(&mut log)?;
            self.rolled.push((log.file, log.path));
        }
        Ok(())
    }

    /// The file currently appended to, if any.
    pub fn current_file(&self) -> Option<&Path> {
        self.cur.as_ref().map(|l| l.path.as_path())
    }

    /// Bytes used in the current file (header and entries, without padding).
    pub fn current_len(&self) -> u64 {
        self.cur.as_ref().map_or(0, |l| l.flushed + l.pending.len() as u64)
    }

    pub fn last_zxid(&self) -> i64 {
        self.last_zxid
    }

    /// Continue zxid checks after a restore.
    pub fn set_last_zxid(&mut self, zxid: i64) {
        self.last_zxid = zxid;
    }
}

fn flush(log: &mut OpenLog) -> Result<()> {
    if log.pending.is_empty() {
        return Ok(());
    }
    log.file.write_all_at(&log.pending, log.flushed).map_err(|e| StorageError::io(&log.path, e))?;
    log.flushed += log.pending.len() as u64;
    log.padded = log.padded.max(log.flushed);
    log.pending.clear();
    Ok(())
}

/// One record as read from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawEntry {
    pub zxid: i64,
    /// The entry bytes (`TxnHeader ‖ record ‖ [digest]`), CRC already verified.
    pub bytes: Vec<u8>,
    /// Where its crc field starts and where the record (0x42 included) ends.
    pub offset: u64,
    pub end: u64,
}

impl RawEntry {
    pub fn decode(&self, path: &Path) -> Result<TxnEntry> {
        TxnEntry::decode(&self.bytes)
            .map_err(|e| StorageError::corrupt(path, self.offset, format!("undecodable txn: {e}")))
    }
}

/// How a file's entries ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileEnd {
    /// Zero padding, or EOF exactly at a record boundary.
    Clean,
    /// A partial record starts at this offset (crash during a write): Java stops there.
    Torn(u64),
}

/// Sequential reader over one log file.
pub struct LogFileReader {
    path: PathBuf,
    input: BufReader<File>,
    pos: u64,
    end: Option<FileEnd>,
    pub dbid: i64,
    pub version: i32,
}

impl LogFileReader {
    /// Opens a log and checks its magic (Java checks only the magic, not version or dbid).
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| StorageError::io(path, e))?;
        let mut input = BufReader::with_capacity(64 * 1024, file);
        let mut hdr = [0u8; 16];
        let n = read_full(&mut input, &mut hdr).map_err(|e| StorageError::io(path, e))?;
        let word = |i: usize| hdr.get(i..i + 4).and_then(|s| <[u8; 4]>::try_from(s).ok()).unwrap_or([0; 4]);
        if n < 16 {
            return Err(StorageError::corrupt(path, n as u64, "file shorter than the 16-byte log header"));
        }
        let magic = u32::from_be_bytes(word(0));
        if magic != TXNLOG_MAGIC {
            return Err(StorageError::BadMagic { path: path.to_path_buf(), kind: "txn log", magic });
        }
        let version = i32::from_be_bytes(word(4));
        let dbid = i64::from_be_bytes(hdr.get(8..16).and_then(|s| <[u8; 8]>::try_from(s).ok()).unwrap_or([0; 8]));
        Ok(LogFileReader { path: path.to_path_buf(), input, pos: HEADER_LEN, end: None, dbid, version })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How the file ended; `None` until `next_entry` has returned `Ok(None)`.
    pub fn end(&self) -> Option<FileEnd> {
        self.end
    }

    /// The next record, `Ok(None)` at the end of the file's entries (see [`FileEnd`]).
    /// A CRC mismatch is an error, as in Java's reader.
    pub fn next_entry(&mut self) -> Result<Option<RawEntry>> {
        match self.next_record()? {
            Some((e, true)) => Ok(Some(e)),
            Some((e, false)) => Err(StorageError::ChecksumMismatch { path: self.path.clone(), offset: e.offset }),
            None => Ok(None),
        }
    }

    /// Like `next_entry`, but a CRC mismatch is returned as `(entry, false)` and reading goes
    /// on (the toolkit's dump and recover modes).
    pub fn next_record(&mut self) -> Result<Option<(RawEntry, bool)>> {
        if self.end.is_some() {
            return Ok(None);
        }
        let start = self.pos;
        let mut head = [0u8; 12];
        let n = read_full(&mut self.input, &mut head).map_err(|e| StorageError::io(&self.path, e))?;
        let head_bytes = head.get(..n).unwrap_or(&[]);
        if n < 12 {
            return Ok(self.finish(if head_bytes.iter().all(|b| *b == 0) {
                FileEnd::Clean
            } else {
                FileEnd::Torn(start)
            }));
        }
        let (crc_b, len_b) = head.split_at(8);
        let crc = i64::from_be_bytes(<[u8; 8]>::try_from(crc_b).unwrap_or([0; 8]));
        let len = i32::from_be_bytes(<[u8; 4]>::try_from(len_b).unwrap_or([0; 4]));
        if len == 0 {
            // Preallocated zeros. A non-zero crc with a zero length is a torn header.
            return Ok(self.finish(if crc == 0 { FileEnd::Clean } else { FileEnd::Torn(start) }));
        }
        if len == -1 {
            // readBuffer gives null, which readTxnBytes reports as EOF.
            return Ok(self.finish(FileEnd::Torn(start)));
        }
        if len < 0 || len as usize > MAX_ENTRY_LEN {
            return Err(StorageError::corrupt(&self.path, start, format!("unreasonable entry length {len}")));
        }
        let len = len as usize;
        let mut bytes = vec![0u8; len + 1];
        let got = read_full(&mut self.input, &mut bytes).map_err(|e| StorageError::io(&self.path, e))?;
        if got < len + 1 || bytes.pop() != Some(EOR) {
            tracing::warn!("{}: last transaction was partial (offset {start})", self.path.display());
            return Ok(self.finish(FileEnd::Torn(start)));
        }
        let crc_ok = entry_crc(&bytes) == crc;
        let zxid = match bytes.get(12..20).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
            Some(z) => i64::from_be_bytes(z),
            None if !crc_ok => -1,
            None => return Err(StorageError::corrupt(&self.path, start, "entry shorter than a TxnHeader")),
        };
        self.pos = start + 12 + len as u64 + 1;
        Ok(Some((RawEntry { zxid, bytes, offset: start, end: self.pos }, crc_ok)))
    }

    fn finish(&mut self, end: FileEnd) -> Option<(RawEntry, bool)> {
        self.end = Some(end);
        None
    }
}

/// Reads until `buf` is full or EOF; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let Some(rest) = buf.get_mut(n..) else { break };
        match r.read(rest) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// `FileTxnLog.getLogFiles`: the newest log starting at or before `zxid`, and every later
/// one, oldest first.
pub fn log_files_from(dir: &Path, zxid: i64) -> Result<Vec<(i64, PathBuf)>> {
    let files = list_by_zxid(dir, LOG_PREFIX)?;
    let mut start = 0;
    for (z, _) in &files {
        if *z > zxid {
            break;
        }
        start = start.max(*z);
    }
    Ok(files.into_iter().filter(|(z, _)| *z >= start).collect())
}

/// A file's end, as seen while iterating a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSummary {
    pub path: PathBuf,
    pub end: FileEnd,
    /// End of the last complete record (where a torn tail would be cut).
    pub good_len: u64,
}

/// Iterates the records of a log directory with zxid ≥ `from` (Java's `FileTxnIterator`
/// with fastForward). Like Java, a file's torn tail moves on to the next file; the ends are
/// recorded in `files` so callers can decide what a torn middle file means.
pub struct TxnLogIterator {
    pending: std::vec::IntoIter<(i64, PathBuf)>,
    cur: Option<LogFileReader>,
    cur_good: u64,
    from: i64,
    pub files: Vec<FileSummary>,
}

impl TxnLogIterator {
    pub fn open(dir: &Path, from: i64) -> Result<Self> {
        let files = log_files_from(dir, from)?;
        Ok(TxnLogIterator { pending: files.into_iter(), cur: None, cur_good: 0, from, files: Vec::new() })
    }

    /// The file the last returned entry came from.
    pub fn current_path(&self) -> Option<&Path> {
        self.cur.as_ref().map(|r| r.path())
    }

    pub fn next_entry(&mut self) -> Result<Option<(RawEntry, PathBuf)>> {
        loop {
            if self.cur.is_none() {
                let Some((_, path)) = self.pending.next() else {
                    return Ok(None);
                };
                // Java deletes an empty *last* log file (crash before the header was written).
                let empty = std::fs::metadata(&path).map(|m| m.len() == 0).unwrap_or(false);
                if empty && self.pending.len() == 0 {
                    tracing::warn!("Delete empty tail log file to recover from corruption file: {}", path.display());
                    std::fs::remove_file(&path).map_err(|e| StorageError::io(&path, e))?;
                    return Ok(None);
                }
                self.cur = Some(LogFileReader::open(&path)?);
                self.cur_good = HEADER_LEN;
            }
            let Some(reader) = self.cur.as_mut() else {
                continue;
            };
            match reader.next_entry()? {
                Some(e) => {
                    self.cur_good = e.end;
                    if e.zxid >= self.from {
                        return Ok(Some((e, reader.path().to_path_buf())));
                    }
                }
                None => {
                    let end = reader.end().unwrap_or(FileEnd::Clean);
                    self.files.push(FileSummary { path: reader.path().to_path_buf(), end, good_len: self.cur_good });
                    self.cur = None;
                }
            }
        }
    }
}

/// A zxid and its entry bytes, as read back from the log.
pub type LoggedEntry = (i64, Vec<u8>);

/// `ZKDatabase.getProposalsFromTxnLog` for a learner's DIFF: the logged entries with zxid
/// ≥ `from`, up to and including `upto`, raw. `None` (send a SNAP instead) when the logs do
/// not reach back to `from`, or when the log files after the first one involved are bigger
/// than `size_limit` bytes (Java compares file lengths, preallocation included, with
/// `snapshotSizeFactor` × the newest snapshot's size).
pub fn read_for_sync(dir: &Path, from: i64, upto: i64, size_limit: u64) -> Result<Option<Vec<LoggedEntry>>> {
    let files = log_files_from(dir, from)?;
    // Java's FileTxnIterator.getStorageSize counts the files *after* the one it opened first,
    // so a single (64 MiB preallocated) log file never exceeds the limit: match it.
    let size: u64 = files.iter().skip(1).filter_map(|(_, p)| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
    if size_limit > 0 && size > size_limit {
        tracing::info!("Txnlog size: {size} exceeds sizeLimit: {size_limit}");
        return Ok(None);
    }
    let Some((first, _)) = files.first() else { return Ok(None) };
    if *first > from {
        tracing::warn!("Unable to find proposals from txnlog for zxid: 0x{from:x}");
        return Ok(None);
    }
    let mut it = TxnLogIterator::open(dir, from)?;
    let mut out = Vec::new();
    while let Some((e, _)) = it.next_entry()? {
        if out.is_empty() && e.zxid != from {
            // getProposalsFromTxnLog: unless the log holds `from` itself, nothing it has can be
            // shown to follow the learner's history.
            tracing::warn!("Unable to find proposals from txnlog for zxid: 0x{from:x}");
            return Ok(None);
        }
        if e.zxid > upto {
            break;
        }
        out.push((e.zxid, e.bytes));
    }
    Ok(Some(out))
}

/// Reads every entry of one file (tools and tests). Stops at the file's end like Java.
pub fn read_file(path: &Path) -> Result<(Vec<RawEntry>, FileEnd)> {
    let mut r = LogFileReader::open(path)?;
    let mut out = Vec::new();
    while let Some(e) = r.next_entry()? {
        out.push(e);
    }
    Ok((out, r.end().unwrap_or(FileEnd::Clean)))
}

/// `FileTxnLog.truncate(zxid)`: keep every entry up to and including `zxid`, cut the file
/// holding it right after that entry and delete every later log. Java keeps the first entry
/// ≥ zxid even when zxid itself is missing; we cut before any entry > zxid instead, which is
/// the same whenever zxid is present (the TRUNC case). No log files at all is an error, as
/// in Java.
pub fn truncate(dir: &Path, zxid: i64) -> Result<()> {
    let files = log_files_from(dir, zxid)?;
    let Some((_, first)) = files.first() else {
        return Err(StorageError::corrupt(
            dir,
            0,
            "No log files found to truncate! This could happen if you still have snapshots from an old setup or log files were deleted accidentally or dataLogDir was changed in zoo.cfg.",
        ));
    };
    // Find the file and offset: walk files oldest first until an entry > zxid appears.
    let mut cut: Option<(PathBuf, u64)> = None;
    let mut idx_of_cut = 0;
    'files: for (i, (_, path)) in files.iter().enumerate() {
        let mut r = LogFileReader::open(path)?;
        let mut good = HEADER_LEN;
        while let Some(e) = r.next_entry()? {
            if e.zxid > zxid {
                if e.offset == HEADER_LEN && cut.is_some() {
                    // Nothing of this file survives: keep the previous cut, delete this one.
                    break 'files;
                }
                cut = Some((path.clone(), e.offset));
                idx_of_cut = i;
                break 'files;
            }
            good = e.end;
        }
        cut = Some((path.clone(), good));
        idx_of_cut = i;
        if r.end() != Some(FileEnd::Clean) {
            // A torn file: nothing after it is trustworthy.
            break;
        }
    }
    let (path, len) = cut.unwrap_or((first.clone(), HEADER_LEN));
    let f = OpenOptions::new().write(true).open(&path).map_err(|e| StorageError::io(&path, e))?;
    f.set_len(len).map_err(|e| StorageError::io(&path, e))?;
    f.sync_all().map_err(|e| StorageError::io(&path, e))?;
    for (_, later) in files.iter().skip(idx_of_cut + 1) {
        std::fs::remove_file(later).map_err(|e| StorageError::io(later, e))?;
    }
    // Logs newer than every chosen file cannot exist (log_files_from returns all later ones).
    super::sync_dir(dir)
}

/// The last zxid in the directory's logs (`FileTxnLog.getLastLoggedZxid`), -1 if none.
pub fn last_logged_zxid(dir: &Path) -> Result<i64> {
    let files = list_by_zxid(dir, LOG_PREFIX)?;
    let Some((start, _)) = files.last() else {
        return Ok(-1);
    };
    let mut it = TxnLogIterator::open(dir, *start)?;
    let mut last = *start;
    while let Some((e, _)) = it.next_entry()? {
        last = e.zxid;
    }
    Ok(last)
}

#[cfg(test)]
#[path = "txnlog_tests.rs"]
mod tests;
