//! The only async and I/O code. One core task owns the [`Server`] state machine; connection
//! tasks only frame bytes; a disk thread appends and fsyncs with group commit. The core
//! never awaits a client: it `try_send`s into bounded per-connection queues and closes a
//! connection whose queue is full.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

mod conn;
mod disk;

use crate::config::{Config, Props};
use crate::server::{persist, Input, IoFacts, Now, Options, Output, Server};
use crate::storage::restore::{DataDirs, RestoreOptions};
use anyhow::Context;
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

/// Reads zoo.cfg (or the embedded default) and the `-D`/`SERVER_JVMFLAGS`/`JVMFLAGS`
/// properties with [`Config`], and resolves what the runtime needs.
fn settings_from_args(a: &ServerArgs) -> anyhow::Result<Settings> {
    let props = Props::from_args_and_env(
        &a.props,
        std::env::var("SERVER_JVMFLAGS").ok().as_deref(),
        std::env::var("JVMFLAGS").ok().as_deref(),
    );
    let config = match &a.config {
        Some(path) => Config::load(path, &props)?,
        None => {
            let d = std::env::temp_dir().join(format!("ruzk-{}", std::process::id()));
            let mut c = Config::default_standalone(&d);
            // -D flags still apply to the embedded default.
            c = Config::parse(std::path::Path::new("<default>"), &default_cfg_text(&d), &props, &|_| None).unwrap_or(c);
            tracing::info!(
                "no config given: standalone server on 127.0.0.1:2181, data dir {} (tickTime 2000)",
                d.display()
            );
            c
        }
    };
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    let unsupported = config.unsupported();
    if !unsupported.is_empty() {
        anyhow::bail!("refusing to start: {}", unsupported.join("; "));
    }
    if config.is_distributed() {
        anyhow::bail!(
            "refusing to start: this zoo.cfg describes an ensemble ({} voting servers); ruzk runs standalone only so far",
            config.voting_members().count()
        );
    }
    settings_from_config(config)
}

fn default_cfg_text(d: &std::path::Path) -> String {
    format!("tickTime=2000\ndataDir={}\nclientPort=2181\nclientPortAddress=127.0.0.1\n", d.display())
}

pub fn settings_from_config(c: Config) -> anyhow::Result<Settings> {
    let port = c.client_port.context("no clientPort configured (secure-only clients are not supported)")?;
    let host = c.client_port_address.clone().unwrap_or_else(|| "0.0.0.0".into());
    let listen: SocketAddr = format!("{host}:{port}")
        .parse()
        .or_else(|_| format!("[{host}]:{port}").parse())
        .with_context(|| format!("bad client address {host}:{port}"))?;
    let tick = c.tick_time_ms.max(1) as i64;
    let opts = Options {
        server_id: crate::types::ServerId(1),
        tick_ms: tick as u64,
        min_session_timeout_ms: c.min_session_timeout_ms,
        max_session_timeout_ms: c.max_session_timeout_ms,
        max_client_cnxns: c.max_client_cnxns.max(0) as usize,
        super_digest: c.super_digest.clone(),
        prep: crate::server::prep::PrepOptions {
            extended_types: c.extended_types_enabled,
            skip_acl: c.skip_acl,
            close_session_txn: c.close_session_txn_enabled,
            reconfig_enabled: c.reconfig_enabled,
        },
        container_check_interval_ms: c.container_check_interval_ms.max(1) as u64,
        container_max_per_minute: c.container_max_per_minute.max(0) as u32,
        container_max_never_used_ms: c.container_max_never_used_interval_ms,
        config: Arc::new(c.clone()),
    };
    use crate::config::SnapshotCompression as Sc;
    use crate::storage::snapshot::Compression;
    Ok(Settings {
        listen,
        data_dir: c.data_dir.clone(),
        data_log_dir: c.data_log_dir.clone(),
        jute_maxbuffer: c.jute_maxbuffer.max(0) as usize,
        opts,
        force_sync: c.force_sync,
        fsync_warning_ms: c.fsync_warning_threshold_ms.max(0) as u64,
        snap_count: c.snap_count.max(2) as u64,
        prealloc_kb: c.pre_alloc_size_kb.max(0) as u64,
        txn_log_size_limit_kb: Some(c.txn_log_size_limit_kb).filter(|v| *v > 0).map(|v| v as u64),
        compression: match c.snapshot_compression {
            Sc::Checked => Compression::None,
            Sc::Gzip => Compression::Gzip,
            Sc::Snappy => Compression::Snappy,
        },
        autopurge_retain: c.autopurge_snap_retain_count.max(3) as usize,
        autopurge_interval_hours: c.autopurge_purge_interval_hours.max(0) as u64,
        trust_empty_snapshot: c.snapshot_trust_empty,
    })
}

/// The process and disk facts the four-letter words report.
fn io_facts(dirs: &DataDirs) -> IoFacts {
    let size = |d: &std::path::Path| -> i64 {
        std::fs::read_dir(d)
            .map(|rd| rd.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len() as i64).sum())
            .unwrap_or(0)
    };
    let open_fds = std::fs::read_dir("/proc/self/fd").map(|rd| rd.count() as i64).unwrap_or(-1);
    let max_fds = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(-1);
    IoFacts { data_dir_size: size(&dirs.snap), log_dir_size: size(&dirs.log), open_fds, max_fds }
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
    let t0 = Instant::now();
    let (tree, rep, fresh) = persist::restore_tree(&dirs.snap, &dirs.log, &ropts, s.opts.prep.extended_types)?;
    tracing::info!(
        "Restored {} znodes and {} sessions in {} ms; replayed {} txns (digest checked {}, mismatches {}); last zxid 0x{:x}",
        tree.node_count(),
        tree.sessions.len(),
        t0.elapsed().as_millis(),
        rep.replayed,
        rep.digest_checked,
        rep.digest_mismatches,
        tree.last_zxid.0
    );
    // Java writes a snapshot at every start: snapshot.0 on a fresh data dir, written here;
    // after replaying logged txns the core takes one once serving (so the next start replays
    // less); with nothing replayed the newest snapshot already is the state.
    if fresh {
        let path = dirs.snap.join(crate::storage::snapshot::snapshot_name(tree.last_zxid.0, s.compression));
        crate::storage::snapshot::write_snapshot(&path, &persist::image_from_tree(&tree), s.compression)?;
    }
    let mut server = Server::new(s.opts.clone(), tree, clock.now());
    let listener = conn::bind(s.listen).with_context(|| format!("binding {}", s.listen))?;
    tracing::info!("binding to port {}", s.listen);
    let (core_tx, mut core_rx) = mpsc::channel::<CoreMsg>(16384);
    let disk =
        disk::Disk::start(disk::DiskConfig::from_settings(&s, dirs.snap.clone(), dirs.log.clone()), core_tx.clone())?;
    if rep.replayed > 0 {
        server.handle(clock.now(), Input::TakeSnapshot);
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
    let conn_cfg = Arc::new(conn::ConnConfig { max_frame: s.jute_maxbuffer });
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
                Output::Append { zxid, entry } => disk.append(zxid.0, entry),
                Output::Snapshot { zxid, image } => disk.snapshot(zxid.0, image),
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
                Some(CoreMsg::Input(mut i)) => {
                    match &mut i {
                        Input::Closed { conn } => {
                            conns.remove(conn);
                        }
                        Input::FourLetter { io, .. } => *io = io_facts(&dirs),
                        _ => {}
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
