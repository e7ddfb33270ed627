//! The only async and I/O code. One core task owns the [`Server`] state machine; connection
//! tasks only frame bytes; a disk thread appends and fsyncs with group commit. The core
//! never awaits a client: it `try_send`s into bounded per-connection queues and closes a
//! connection whose queue is full.

mod conn;
mod disk;

use crate::server::{persist, Input, Now, Options, Output, Server};
use crate::storage::restore::{restore_with, DataDirs, RestoreOptions};
use anyhow::Context;
use bytes::Bytes;
use clap::Args;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

#[derive(Args)]
pub struct ServerArgs {
    /// zoo.cfg; without it a standalone server on 127.0.0.1:2181 with a temp data dir
    pub config: Option<PathBuf>,
    /// Java system properties, as `-Dname=value`
    #[arg(short = 'D', value_name = "NAME=VALUE")]
    pub props: Vec<String>,
}

/// Everything the runtime needs, resolved from zoo.cfg and system properties.
#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub data_log_dir: PathBuf,
    pub jute_maxbuffer: usize,
    pub four_lw_whitelist: Vec<String>,
    pub opts: Options,
    pub force_sync: bool,
    pub fsync_warning_ms: u64,
    pub snap_count: u64,
    pub prealloc_kb: u64,
    pub txn_log_size_limit_kb: Option<u64>,
    pub compression: crate::storage::snapshot::Compression,
    pub autopurge_retain: usize,
    pub autopurge_interval_hours: u64,
    pub trust_empty_snapshot: bool,
}

/// Messages to the core task.
pub(crate) enum CoreMsg {
    Register { conn: u64, addr: SocketAddr, tx: mpsc::Sender<conn::Out> },
    Input(Input),
}

pub(crate) struct Clock {
    start: Instant,
}

impl Clock {
    fn now(&self) -> Now {
        let wall_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        Now { mono_ms: self.start.elapsed().as_millis() as u64, wall_ms }
    }
}

pub fn run_server(a: ServerArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("RUZK_LOG").unwrap_or_else(|_| "info".into()))
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let settings = settings_from_args(&a)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build()?;
    rt.block_on(serve(settings))
}

/// Minimal zoo.cfg reading until the full `config` module lands.
fn settings_from_args(a: &ServerArgs) -> anyhow::Result<Settings> {
    let mut kv: HashMap<String, String> = HashMap::new();
    let mut props: HashMap<String, String> = HashMap::new();
    for p in &a.props {
        if let Some((k, v)) = p.split_once('=') {
            props.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    let default_dir = match &a.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            for line in text.lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                if let Some((k, v)) = line.split_once('=') {
                    kv.insert(k.trim().to_string(), v.trim().to_string());
                }
            }
            None
        }
        None => {
            let d = std::env::temp_dir().join(format!("ruzk-{}", std::process::id()));
            kv.insert("dataDir".into(), d.display().to_string());
            kv.insert("clientPort".into(), "2181".into());
            kv.insert("clientPortAddress".into(), "127.0.0.1".into());
            Some(d)
        }
    };
    let get = |k: &str| -> Option<String> {
        props.get(&format!("zookeeper.{k}")).or_else(|| props.get(k)).or_else(|| kv.get(k)).cloned()
    };
    let num = |k: &str, d: i64| -> anyhow::Result<i64> {
        match get(k) {
            Some(v) => v.parse::<i64>().with_context(|| format!("{k}: invalid number {v:?}")),
            None => Ok(d),
        }
    };
    let tick = num("tickTime", 2000)?;
    let data_dir = PathBuf::from(get("dataDir").context("dataDir is not set")?);
    let data_log_dir = get("dataLogDir").map(PathBuf::from).unwrap_or_else(|| data_dir.clone());
    let port = num("clientPort", 2181)?;
    let host = get("clientPortAddress").unwrap_or_else(|| "0.0.0.0".into());
    let listen: SocketAddr =
        format!("{host}:{port}").parse().with_context(|| format!("bad client address {host}:{port}"))?;
    let min_to = num("minSessionTimeout", -1)?;
    let max_to = num("maxSessionTimeout", -1)?;
    let yes = |k: &str| get(k).is_some_and(|v| v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("yes"));
    let whitelist = get("4lw.commands.whitelist").unwrap_or_else(|| "srvr".into());
    let mut opts = Options {
        tick_ms: tick as u64,
        min_session_timeout_ms: if min_to < 0 { (2 * tick) as i32 } else { min_to as i32 },
        max_session_timeout_ms: if max_to < 0 { (20 * tick) as i32 } else { max_to as i32 },
        max_client_cnxns: num("maxClientCnxns", 60)? as usize,
        super_digest: props.get("zookeeper.DigestAuthenticationProvider.superDigest").cloned(),
        ..Options::default()
    };
    opts.prep.extended_types = yes("extendedTypesEnabled");
    opts.prep.skip_acl = yes("skipACL");
    opts.container_check_interval_ms =
        props.get("znode.container.checkIntervalMs").and_then(|v| v.parse().ok()).unwrap_or(60000);
    if let Some(d) = &default_dir {
        tracing::info!("no config given: standalone server on {listen}, data dir {} (tickTime {tick})", d.display());
    }
    Ok(Settings {
        listen,
        data_dir,
        data_log_dir,
        jute_maxbuffer: get("jute.maxbuffer").and_then(|v| parse_int(&v)).unwrap_or(0xfffff) as usize,
        four_lw_whitelist: whitelist.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        opts,
        force_sync: get("forceSync").is_none_or(|v| v != "no"),
        fsync_warning_ms: num("fsync.warningthresholdms", 1000)? as u64,
        snap_count: num("snapCount", 100000)?.max(2) as u64,
        prealloc_kb: num("preAllocSize", 65536)?.max(0) as u64,
        txn_log_size_limit_kb: Some(num("txnLogSizeLimitInKb", -1)?).filter(|v| *v > 0).map(|v| v as u64),
        compression: crate::storage::snapshot::Compression::from_property(
            &get("snapshot.compression.method").unwrap_or_default(),
        ),
        autopurge_retain: num("autopurge.snapRetainCount", 3)?.max(3) as usize,
        autopurge_interval_hours: num("autopurge.purgeInterval", 0)?.max(0) as u64,
        trust_empty_snapshot: yes("snapshot.trust.empty"),
    })
}

/// Java's `Integer.decode`-style parsing (`0x` hex allowed) for `jute.maxbuffer`.
fn parse_int(v: &str) -> Option<i64> {
    let v = v.trim();
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => i64::from_str_radix(h, 16).ok(),
        None => v.parse().ok(),
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
}

pub async fn serve(s: Settings) -> anyhow::Result<()> {
    std::fs::create_dir_all(&s.data_dir).with_context(|| format!("creating {}", s.data_dir.display()))?;
    let clock = Clock { start: Instant::now() };
    let separate_log = (s.data_log_dir != s.data_dir).then_some(s.data_log_dir.as_path());
    let dirs = DataDirs::open(&s.data_dir, separate_log)?;
    let ropts = RestoreOptions { trust_empty_snapshot: s.trust_empty_snapshot };
    let restored = restore_with(&dirs.snap, &dirs.log, &ropts)?;
    let fresh = restored.image.is_none();
    let (tree, rep) = persist::tree_from_restored(&restored, s.opts.prep.extended_types)
        .map_err(|e| anyhow::anyhow!("restoring {}: {e}", dirs.snap.display()))?;
    drop(restored);
    tracing::info!(
        "Restored {} znodes and {} sessions; replayed {} txns (digest checked {}, mismatches {}); last zxid 0x{:x}",
        tree.node_count(),
        tree.sessions.len(),
        rep.replayed,
        rep.digest_checked,
        rep.digest_mismatches,
        tree.last_zxid
    );
    // Java writes a snapshot at every start (snapshot.0 on a fresh data dir).
    let start_image = persist::image_from_tree(&tree);
    let start_zxid = tree.last_zxid;
    let mut server = Server::new(s.opts.clone(), tree, clock.now());
    let listener = conn::bind(s.listen).with_context(|| format!("binding {}", s.listen))?;
    tracing::info!("binding to port {}", s.listen);
    let (core_tx, mut core_rx) = mpsc::channel::<CoreMsg>(16384);
    let disk =
        disk::Disk::start(disk::DiskConfig::from_settings(&s, dirs.snap.clone(), dirs.log.clone()), core_tx.clone())?;
    if fresh {
        let path = dirs.snap.join(crate::storage::snapshot::snapshot_name(start_zxid, s.compression));
        crate::storage::snapshot::write_snapshot(&path, &start_image, s.compression)?;
    } else {
        disk.snapshot(start_zxid, Box::new(start_image));
    }
    if s.autopurge_interval_hours > 0 {
        let (snap, log, keep) = (dirs.snap.clone(), dirs.log.clone(), s.autopurge_retain);
        let every = Duration::from_secs(s.autopurge_interval_hours * 3600);
        tokio::spawn(async move {
            let mut t = tokio::time::interval(every);
            loop {
                t.tick().await;
                let (snap, log) = (snap.clone(), log.clone());
                let r = tokio::task::spawn_blocking(move || crate::storage::purge::purge(&snap, &log, keep)).await;
                match r {
                    Ok(Ok(gone)) => tracing::info!("Purge task completed: {} files removed", gone.len()),
                    Ok(Err(e)) => tracing::error!("Error purging old snapshots and logs: {e}"),
                    Err(e) => tracing::error!("purge task failed: {e}"),
                }
            }
        });
    }
    let conn_cfg = Arc::new(conn::ConnConfig { max_frame: s.jute_maxbuffer, whitelist: s.four_lw_whitelist.clone() });
    let acceptor = tokio::spawn(conn::accept_loop(listener, core_tx.clone(), conn_cfg));
    let mut conns: HashMap<u64, mpsc::Sender<conn::Out>> = HashMap::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        while let Some(o) = server.poll_output() {
            match o {
                Output::Send { conn, bytes } => {
                    if let Some(tx) = conns.get(&conn) {
                        if tx.try_send(conn::Out::Bytes(bytes)).is_err() {
                            tracing::warn!("connection {conn} is not reading its replies; closing it");
                            conns.remove(&conn);
                            server.handle(clock.now(), Input::Closed { conn });
                        }
                    }
                }
                Output::Close { conn } => {
                    if let Some(tx) = conns.remove(&conn) {
                        let _ = tx.try_send(conn::Out::Close);
                    }
                }
                Output::Append { zxid, entry } => disk.append(zxid, entry),
                Output::Snapshot { zxid, image } => disk.snapshot(zxid, image),
            }
        }
        let deadline = server.poll_timeout().map(|ms| clock.start + Duration::from_millis(ms));
        let timer = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            msg = core_rx.recv() => match msg {
                Some(CoreMsg::Register { conn, addr, tx }) => {
                    conns.insert(conn, tx);
                    server.handle(clock.now(), Input::Accepted { conn, addr });
                }
                Some(CoreMsg::Input(i)) => {
                    if let Input::Closed { conn } = &i {
                        conns.remove(conn);
                    }
                    server.handle(clock.now(), i);
                }
                None => break,
            },
            _ = timer => server.handle_timeout(clock.now()),
        }
    }
    tracing::info!("shutting down");
    acceptor.abort();
    // The disk thread may be blocked handing the core a Durable: let that fail first.
    drop(core_rx);
    disk.stop();
    Ok(())
}

#[allow(dead_code)]
fn _assert_send(b: Bytes) -> impl Send {
    b
}
