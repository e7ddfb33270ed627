//! `ruzk txnlog|snapshot|purge`: operator tools over the on-disk formats, modelled on Java's
//! `TxnLogToolkit` (zkTxnLogToolkit.sh), `SnapshotFormatter` (zkSnapShotToolkit.sh) and
//! `PurgeTxnLog` (zkCleanup.sh). Output is line-oriented text like Java's, or JSON with
//! `--json`. A file that is not a ZooKeeper file is an error (non-zero exit), never a panic.

use super::snapshot::{self, Compression, SnapshotImage};
use super::txnlog::{self, FileEnd, LogFileReader, TxnLogOptions, TxnLogWriter};
use crate::jute::opcode;
use crate::jute::records::Acl;
use crate::jute::txn::{Txn, TxnEntry};
use anyhow::{bail, Context};
use base64::Engine;
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum TxnlogCmd {
    /// Print every txn of a log file, one per line (like `zkTxnLogToolkit.sh FILE`).
    Dump {
        file: PathBuf,
        /// One JSON object per line instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write FILE.fixed with every CRC error repaired (like `zkTxnLogToolkit.sh -r -y FILE`).
    Recover {
        file: PathBuf,
        /// Print every txn, not only the repaired ones.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Re-append a log's entries through ruzk's writer into OUT_DIR (compatibility testing).
    Rewrite { file: PathBuf, out_dir: PathBuf },
}

#[derive(Subcommand)]
pub enum SnapshotCmd {
    /// Print a snapshot's nodes and sessions (like `zkSnapShotToolkit.sh FILE`).
    Dump {
        file: PathBuf,
        /// Print node data (base64) instead of its length.
        #[arg(long)]
        data: bool,
        #[arg(long)]
        json: bool,
    },
    /// Read a snapshot and write it again through ruzk's writer (compatibility testing).
    Rewrite {
        file: PathBuf,
        out: PathBuf,
        /// "", gz or snappy (default: none).
        #[arg(long, default_value = "")]
        compression: String,
    },
}

/// `PurgeTxnLog`'s argument order: `dataLogDir [snapDir] -n count` (zkCleanup.sh passes
/// dataLogDir first when it is set, else dataDir alone).
#[derive(Args)]
pub struct PurgeArgs {
    /// dataLogDir, or dataDir when the logs live there too (the parent of version-2).
    pub dir: PathBuf,
    /// dataDir holding the snapshots, if different from DIR.
    pub snap_dir: Option<PathBuf>,
    /// How many snapshots to keep (at least 3).
    #[arg(short = 'n', long = "count")]
    pub count: usize,
}

pub fn run_txnlog(c: TxnlogCmd) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    quiet_broken_pipe(match c {
        TxnlogCmd::Dump { file, json } => dump_log(&file, json, &mut out),
        TxnlogCmd::Recover { file, verbose } => recover_log(&file, verbose, &mut out),
        TxnlogCmd::Rewrite { file, out_dir } => rewrite_log(&file, &out_dir),
    })
}

/// `ruzk txnlog dump … | head` is normal use: a closed stdout ends the dump quietly.
fn quiet_broken_pipe(r: anyhow::Result<()>) -> anyhow::Result<()> {
    match r {
        Err(e) if e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) => {
            Ok(())
        }
        other => other,
    }
}

pub fn run_snapshot(c: SnapshotCmd) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    quiet_broken_pipe(match c {
        SnapshotCmd::Dump { file, data, json } => dump_snapshot(&file, data, json, &mut out),
        SnapshotCmd::Rewrite { file, out, compression } => snapshot::read_snapshot(&file)
            .and_then(|img| snapshot::write_snapshot(&out, &img, Compression::from_property(&compression)))
            .map_err(Into::into),
    })
}

pub fn run_purge(a: PurgeArgs) -> anyhow::Result<()> {
    if a.count < super::purge::MIN_RETAIN {
        bail!("count should be greater than or equal to 3");
    }
    for d in std::iter::once(&a.dir).chain(a.snap_dir.as_ref()) {
        if !d.exists() {
            bail!("Path '{}' does not exist.", d.display());
        }
    }
    let log_dir = a.dir.join(super::VERSION_DIR);
    let snap_dir = a.snap_dir.as_ref().unwrap_or(&a.dir).join(super::VERSION_DIR);
    for f in super::purge::purge(&snap_dir, &log_dir, a.count)? {
        println!("Removing file: {}", f.display());
    }
    Ok(())
}

// ------------------------------------------------------------------ txn logs

fn dump_log(file: &Path, as_json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let mut r = LogFileReader::open(file)?;
    if !as_json {
        writeln!(out, "ZooKeeper Transactional Log File with dbid {} txnlog format version {}", r.dbid, r.version)?;
    }
    let mut count = 0;
    while let Some((e, crc_ok)) = r.next_record()? {
        let decoded = TxnEntry::decode(&e.bytes);
        if as_json {
            let mut v = match &decoded {
                Ok(t) => entry_json(t),
                Err(err) => json!({ "zxid": hex(e.zxid), "error": err.to_string() }),
            };
            if let Some(o) = v.as_object_mut() {
                o.insert("crc_ok".into(), json!(crc_ok));
                o.insert("offset".into(), json!(e.offset));
            }
            writeln!(out, "{v}")?;
        } else {
            let line = match &decoded {
                Ok(t) => entry_line(t),
                Err(err) => format!("zxid 0x{:x} undecodable txn: {err}", e.zxid),
            };
            if crc_ok {
                writeln!(out, "{line}")?;
            } else {
                writeln!(out, "CRC ERROR - {line}")?;
            }
        }
        count += 1;
    }
    if let Some(FileEnd::Torn(at)) = r.end() {
        eprintln!("Last transaction was partial (record at offset {at} is incomplete).");
    }
    if !as_json {
        writeln!(out, "EOF reached after {count} txns.")?;
    }
    Ok(())
}

/// Java's recovery: copy the header and every record, replacing a wrong CRC with the right
/// one, into `FILE.fixed`. Records are never dropped or changed otherwise. Unlike Java the
/// output is not preallocated (its EOF ends the log just as zero padding does).
fn recover_log(file: &Path, verbose: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let mut r = LogFileReader::open(file)?;
    let mut fixed_path = file.as_os_str().to_os_string();
    fixed_path.push(".fixed");
    let fixed_path = PathBuf::from(fixed_path);
    writeln!(out, "ZooKeeper Transactional Log File with dbid {} txnlog format version {}", r.dbid, r.version)?;
    let mut buf = txnlog::file_header(r.dbid).to_vec();
    let mut fixed = 0;
    let mut count = 0;
    while let Some((e, crc_ok)) = r.next_record()? {
        let line = TxnEntry::decode(&e.bytes).map_or_else(|err| format!("undecodable txn: {err}"), |t| entry_line(&t));
        if !crc_ok {
            fixed += 1;
            writeln!(out, "CRC FIXED - {line}")?;
        } else if verbose {
            writeln!(out, "{line}")?;
        }
        txnlog::encode_record(&e.bytes, &mut buf);
        count += 1;
    }
    writeln!(out, "EOF reached after {count} txns.")?;
    if let Some(FileEnd::Torn(at)) = r.end() {
        eprintln!("Last transaction was partial (offset {at}); it is not copied.");
    }
    std::fs::write(&fixed_path, &buf).with_context(|| format!("writing {}", fixed_path.display()))?;
    writeln!(out, "Recovery file {} has been written with {fixed} fixed CRC error(s)", fixed_path.display())?;
    Ok(())
}

fn rewrite_log(file: &Path, out_dir: &Path) -> anyhow::Result<()> {
    let (entries, _) = txnlog::read_file(file)?;
    let mut w = TxnLogWriter::new(out_dir, TxnLogOptions::default())?;
    for e in &entries {
        w.append(&e.bytes, e.zxid)?;
    }
    w.commit()?;
    Ok(())
}

/// Java prints ints through `Long.toHexString`, so a negative cxid shows 16 f's.
fn hex(v: i64) -> String {
    format!("0x{:x}", v as u64)
}

fn text(data: &Option<bytes::Bytes>) -> String {
    data.as_deref().map(|d| String::from_utf8_lossy(d).into_owned()).unwrap_or_default()
}

fn acl_text(acl: &[Acl]) -> String {
    let parts: Vec<String> = acl.iter().map(|a| format!("{}:{}:{}", a.perms, a.id.scheme, a.id.id)).collect();
    format!("[{}]", parts.join(","))
}

/// The body as `TxnLogToolkit.getFormattedTxnStr` lays it out (comma-separated fields).
fn txn_text(t: &Txn) -> String {
    match t {
        Txn::CreateSession(c) => c.time_out.to_string(),
        Txn::CloseSession(None) => String::new(),
        Txn::CloseSession(Some(p)) => format!("paths2Delete={}", p.join(",")),
        Txn::Create(_, c) => {
            format!("{},{},{},{},{}", c.path, text(&c.data), acl_text(&c.acl), c.ephemeral, c.parent_c_version)
        }
        Txn::CreateContainer(c) => format!("{},{},{},{}", c.path, text(&c.data), acl_text(&c.acl), c.parent_c_version),
        Txn::CreateTtl(c) => {
            format!("{},{},{},{},{}", c.path, text(&c.data), acl_text(&c.acl), c.parent_c_version, c.ttl)
        }
        Txn::Delete(_, d) => d.path.clone(),
        Txn::SetData(_, s) => format!("{},{},{}", s.path, text(&s.data), s.version),
        Txn::SetAcl(s) => format!("{},{},{}", s.path, acl_text(&s.acl), s.version),
        Txn::Check(c) => format!("{},{}", c.path, c.version),
        Txn::Error(e) => e.err.to_string(),
        Txn::Multi(subs) => subs
            .iter()
            .map(|s| format!("{}:{}", opcode::java_name(s.type_code()), txn_text(s)))
            .collect::<Vec<_>>()
            .join(";"),
    }
}

fn entry_line(t: &TxnEntry) -> String {
    let h = &t.header;
    let mut line = format!(
        "{} session {} cxid {} zxid {} {} {}",
        java_short_date(h.time),
        hex(h.client_id),
        hex(i64::from(h.cxid)),
        hex(h.zxid),
        opcode::java_name(h.type_),
        txn_text(&t.txn)
    );
    if let Some(d) = &t.digest {
        line.push_str(&format!(" digest {}:{}", d.version, d.tree_digest));
    }
    line
}

fn data_json(data: &Option<bytes::Bytes>) -> Value {
    match data {
        None => Value::Null,
        Some(d) => json!(String::from_utf8_lossy(d)),
    }
}

fn acl_json(acl: &[Acl]) -> Value {
    acl.iter().map(|a| json!({ "perms": a.perms, "scheme": a.id.scheme, "id": a.id.id })).collect()
}

fn txn_json(t: &Txn) -> Value {
    match t {
        Txn::CreateSession(c) => json!({ "timeOut": c.time_out }),
        Txn::CloseSession(p) => json!({ "paths2Delete": p }),
        Txn::Create(_, c) => {
            json!({ "path": c.path, "data": data_json(&c.data), "acl": acl_json(&c.acl),
                                     "ephemeral": c.ephemeral, "parentCVersion": c.parent_c_version })
        }
        Txn::CreateContainer(c) => {
            json!({ "path": c.path, "data": data_json(&c.data), "acl": acl_json(&c.acl),
                                           "parentCVersion": c.parent_c_version })
        }
        Txn::CreateTtl(c) => {
            json!({ "path": c.path, "data": data_json(&c.data), "acl": acl_json(&c.acl),
                                     "parentCVersion": c.parent_c_version, "ttl": c.ttl })
        }
        Txn::Delete(_, d) => json!({ "path": d.path }),
        Txn::SetData(_, s) => {
            json!({ "path": s.path, "data": data_json(&s.data), "version": s.version })
        }
        Txn::SetAcl(s) => json!({ "path": s.path, "acl": acl_json(&s.acl), "version": s.version }),
        Txn::Check(c) => json!({ "path": c.path, "version": c.version }),
        Txn::Error(e) => json!({ "err": e.err }),
        Txn::Multi(subs) => {
            json!({ "txns": subs.iter().map(|s| json!({ "type": opcode::java_name(s.type_code()), "txn": txn_json(s) })).collect::<Vec<_>>() })
        }
    }
}

fn entry_json(t: &TxnEntry) -> Value {
    let h = &t.header;
    json!({
        "time": h.time, "session": hex(h.client_id), "cxid": hex(i64::from(h.cxid)), "zxid": hex(h.zxid),
        "type": opcode::java_name(h.type_), "txn": txn_json(&t.txn),
        "digest": t.digest.as_ref().map(|d| json!({ "version": d.version, "treeDigest": d.tree_digest })),
    })
}

// ------------------------------------------------------------------ snapshots

fn dump_snapshot(file: &Path, with_data: bool, as_json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let img = snapshot::read_snapshot(file)?;
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let name_zxid = super::zxid_from_name(name, super::SNAPSHOT_PREFIX).unwrap_or(-1);
    let mut eph: HashMap<i64, usize> = HashMap::new();
    for n in &img.nodes {
        *eph.entry(n.stat.ephemeral_owner).or_default() += 1;
    }
    if as_json {
        writeln!(out, "{}", snapshot_json(&img, with_data, &eph))?;
        return Ok(());
    }
    // Java's node count includes the root twice ("" and "/").
    writeln!(out, "ZNode Details (count={}):", img.nodes.len() + 1)?;
    let mut max_zxid = 0i64;
    for n in &img.nodes {
        let s = &n.stat;
        writeln!(out, "----")?;
        writeln!(out, "{}", if n.path.is_empty() { "/" } else { &n.path })?;
        writeln!(out, "  cZxid = {:#016x}", s.czxid)?;
        writeln!(out, "  ctime = {}", java_date(s.ctime))?;
        writeln!(out, "  mZxid = {:#016x}", s.mzxid)?;
        writeln!(out, "  mtime = {}", java_date(s.mtime))?;
        writeln!(out, "  pZxid = {:#016x}", s.pzxid)?;
        writeln!(out, "  cversion = {}", s.cversion)?;
        writeln!(out, "  dataVersion = {}", s.version)?;
        writeln!(out, "  aclVersion = {}", s.aversion)?;
        writeln!(out, "  ephemeralOwner = {:#016x}", s.ephemeral_owner)?;
        if with_data {
            let d = n.data.as_deref().map(|d| base64::engine::general_purpose::STANDARD.encode(d)).unwrap_or_default();
            writeln!(out, "  data = {d}")?;
        } else {
            writeln!(out, "  dataLength = {}", n.data.as_ref().map_or(0, |d| d.len()))?;
        }
        max_zxid = max_zxid.max(s.mzxid).max(s.pzxid);
    }
    writeln!(out, "----")?;
    writeln!(out, "Session Details (sid, timeout, ephemeralCount):")?;
    for (id, to) in &img.sessions {
        writeln!(out, "{:#016x}, {}, {}", id, to, eph.get(id).copied().unwrap_or(0))?;
    }
    // Java's SnapshotFormatter never reads the digest section, so its "Target zxid digest"
    // line never appears; the digest is in the --json output.
    writeln!(out, "----")?;
    writeln!(out, "Last zxid: {}", hex(name_zxid.max(max_zxid)))?;
    Ok(())
}

fn snapshot_json(img: &SnapshotImage, with_data: bool, eph: &HashMap<i64, usize>) -> Value {
    let nodes: Vec<Value> = img
        .nodes
        .iter()
        .map(|n| {
            let s = &n.stat;
            let mut v = json!({
                "path": if n.path.is_empty() { "/" } else { &n.path },
                "czxid": hex(s.czxid), "ctime": s.ctime, "mzxid": hex(s.mzxid), "mtime": s.mtime,
                "pzxid": hex(s.pzxid), "cversion": s.cversion, "dataVersion": s.version,
                "aclVersion": s.aversion, "ephemeralOwner": hex(s.ephemeral_owner), "acl": n.acl,
                "dataLength": n.data.as_ref().map_or(0, |d| d.len()),
            });
            if let (true, Some(o)) = (with_data, v.as_object_mut()) {
                let d = n
                    .data
                    .as_deref()
                    .map_or(Value::Null, |d| json!(base64::engine::general_purpose::STANDARD.encode(d)));
                o.insert("data".into(), d);
            }
            v
        })
        .collect();
    json!({
        "sessions": img.sessions.iter().map(|(id, to)| json!({
            "id": hex(*id), "timeout": to, "ephemeralCount": eph.get(id).copied().unwrap_or(0)
        })).collect::<Vec<_>>(),
        "acls": img.acls.iter().map(|(id, l)| json!({ "id": id, "acl": acl_json(l) })).collect::<Vec<_>>(),
        "nodes": nodes,
        "digest": img.digest.map(|d| json!({ "zxid": hex(d.zxid), "version": d.version, "digest": d.digest })),
    })
}

// ------------------------------------------------------------------ dates

/// `java.util.Date.toString()` in UTC: `Wed Nov 25 10:39:12 UTC 2026`.
pub fn java_date(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let wd = WD.get(days.rem_euclid(7) as usize).copied().unwrap_or("?");
    let mon = MON.get((m as usize).wrapping_sub(1)).copied().unwrap_or("?");
    format!("{wd} {mon} {d:02} {:02}:{:02}:{:02} UTC {y}", sod / 3600, sod % 3600 / 60, sod % 60)
}

/// `DateFormat.getDateTimeInstance(SHORT, LONG)` in an en-US JVM at UTC, as TxnLogToolkit
/// prints it: `11/25/26, 10:45:05 AM UTC`.
pub fn java_short_date(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let (h24, min, sec) = (sod / 3600, sod % 3600 / 60, sod % 60);
    let h12 = if h24 % 12 == 0 { 12 } else { h24 % 12 };
    let ampm = if h24 < 12 { "AM" } else { "PM" };
    format!("{m}/{d}/{:02}, {h12}:{min:02}:{sec:02} {ampm} UTC", y.rem_euclid(100))
}

/// Howard Hinnant's days-to-civil (proleptic Gregorian), days since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn java_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/storage/java-3.8.0")
    }

    #[test]
    fn dates_print_like_java_in_utc() {
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_date(1_795_603_152_000), "Wed Nov 25 10:39:12 UTC 2026");
        assert_eq!(java_date(951_782_400_000), "Tue Feb 29 00:00:00 UTC 2000");
        assert_eq!(java_short_date(1_795_603_505_514), "11/25/26, 10:45:05 AM UTC");
        assert_eq!(java_short_date(951_782_400_000 + 13 * 3_600_000), "2/29/00, 1:00:00 PM UTC");
        assert_eq!(java_short_date(0), "1/1/70, 12:00:00 AM UTC");
    }

    #[test]
    fn dump_lists_every_txn_of_a_java_log() {
        let logs = super::super::list_by_zxid(&java_dir(), "log").unwrap();
        let (_, p) = &logs[0];
        let mut out = Vec::new();
        dump_log(p, false, &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        let n = txnlog::read_file(p).unwrap().0.len();
        assert!(s.starts_with("ZooKeeper Transactional Log File with dbid 0 txnlog format version 2\n"));
        assert!(s.ends_with(&format!("EOF reached after {n} txns.\n")), "{s}");
        assert!(
            s.contains("\n11/25/26, 10:45:05 AM UTC session 0x100000c25c40000 cxid 0x0 zxid 0x1 createSession 30000"),
            "{s}"
        );
        assert!(s.contains(" create /a,hello,[31:world:anyone],false,1"), "{s}");
        let mut out = Vec::new();
        dump_log(p, true, &mut out).unwrap();
        let lines: Vec<Value> =
            String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), n);
        assert_eq!(lines[0]["type"], "createSession");
        assert_eq!(lines[0]["crc_ok"], true);
    }

    #[test]
    fn recover_fixes_a_bad_crc_and_nothing_else() {
        let logs = super::super::list_by_zxid(&java_dir(), "log").unwrap();
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("log.7");
        let mut b = std::fs::read(&logs[1].1).unwrap();
        let (entries, _) = txnlog::read_file(&logs[1].1).unwrap();
        let good = b.clone();
        b[entries[0].offset as usize + 6] ^= 0x40; // inside the stored crc
        std::fs::write(&f, &b).unwrap();
        assert!(txnlog::read_file(&f).is_err());
        let mut out = Vec::new();
        recover_log(&f, false, &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("CRC FIXED - "), "{s}");
        assert!(s.contains("written with 1 fixed CRC error(s)"), "{s}");
        let fixed = std::fs::read(d.path().join("log.7.fixed")).unwrap();
        assert_eq!(fixed, good[..good.len() - 12]);
    }

    #[test]
    fn snapshot_dump_shows_nodes_sessions_and_last_zxid() {
        let snaps = super::super::list_by_zxid(&java_dir(), "snapshot").unwrap();
        let (z, p) = snaps.last().unwrap();
        let mut out = Vec::new();
        dump_snapshot(p, false, false, &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("\n/zookeeper/quota\n  cZxid = 0x00000000000000\n"), "{s}");
        assert!(s.contains("Session Details (sid, timeout, ephemeralCount):\n"));
        assert!(s.contains(", 40000, 2\n"), "session c owns two ephemerals: {s}");
        assert!(s.contains("  ephemeralOwner = 0x80000000000000"), "container owner: {s}");
        let img = snapshot::read_snapshot(p).unwrap();
        let last = img.nodes.iter().map(|n| n.stat.mzxid.max(n.stat.pzxid)).fold(*z, i64::max);
        assert!(s.ends_with(&format!("----\nLast zxid: 0x{last:x}\n")), "{s}");
        let mut out = Vec::new();
        dump_snapshot(p, true, true, &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        let a = v["nodes"].as_array().unwrap().iter().find(|n| n["path"] == "/a").unwrap().clone();
        assert_eq!(a["data"], base64::engine::general_purpose::STANDARD.encode("multi"));
    }

    #[test]
    fn non_zookeeper_files_are_errors() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("junk");
        std::fs::write(&f, b"this is not a zookeeper file at all").unwrap();
        let mut out = Vec::new();
        assert!(dump_log(&f, false, &mut out).unwrap_err().to_string().contains("not a ZooKeeper txn log"));
        assert!(dump_snapshot(&f, false, false, &mut out)
            .unwrap_err()
            .to_string()
            .contains("not a ZooKeeper snapshot"));
        assert!(recover_log(&f, false, &mut out).is_err());
        std::fs::write(&f, b"").unwrap();
        assert!(dump_log(&f, false, &mut out).is_err());
        assert!(dump_snapshot(&f, false, false, &mut out).is_err());
    }
}
