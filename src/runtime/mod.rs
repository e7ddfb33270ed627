//! The only async and I/O code. One core task owns the [`Server`] state machine; connection
//! tasks only frame bytes; a disk thread appends and fsyncs with group commit. The core
//! never awaits a client: it hands each connection its replies in batches, bounded in bytes
//! per connection (`conn.rs`), and closes a connection that would exceed its bound.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

pub(crate) mod codec;
pub(crate) mod conn;
mod core;
mod disk;
pub mod election_probe;
pub mod qcm;
pub(crate) mod quorum_net;

use crate::config::{Config, Props};
use crate::quorum::peer::{Elector, Peer, PeerOptions};
use crate::server::{persist, Now, Options, Server};
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
    /// `zookeeper.commitLogCount`: committed txns kept in memory for DIFF syncs.
    pub commit_log_count: usize,
    /// `zookeeper.cnxTimeout`.
    pub cnx_timeout_ms: u64,
    /// `zookeeper.snapshotSizeFactor`.
    pub snapshot_size_factor: f64,
    /// The ensemble member's settings; `None` for a standalone server.
    pub peer: Option<PeerOptions>,
    /// The ensemble's voters and observers, for the election.
    pub verifier: Option<crate::quorum::verifier::QuorumVerifier>,
    /// Where the leader side listens for learners (ensembles only).
    pub quorum_listen: Option<SocketAddr>,
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
    crate::tree::acl::set_sasl_provider(crate::server::sasl::acl_provider(&config.props));
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
    let mut sasl_warnings = Vec::new();
    let mut sasl = crate::server::sasl::options_from_props(&c.props, &mut sasl_warnings)
        .map_err(|e| anyhow::anyhow!("refusing to start: {e}"))?;
    for w in sasl_warnings {
        tracing::warn!("{w}");
    }
    sasl.nonce_seed = rand::random();
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
        local_sessions: c.local_sessions_enabled,
        local_sessions_upgrading: c.local_sessions_upgrading_enabled,
        sasl,
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
        commit_log_count: {
            // ZKDatabase: anything below 500 is raised to 500.
            if c.commit_log_count < 500 {
                tracing::warn!("The configured commitLogCount zookeeper.commitLogCount is less than the recommended 500, going to use the recommended one");
            }
            c.commit_log_count.max(500) as usize
        },
        snapshot_size_factor: c.snapshot_size_factor,
        cnx_timeout_ms: c.props.get("zookeeper.cnxTimeout").and_then(|v| v.trim().parse().ok()).unwrap_or(5000),
        peer: None,
        verifier: None,
        quorum_listen: None,
    })
    .and_then(|s| if c.is_distributed() { ensemble_settings(s, &c) } else { Ok(s) })
}

/// The member's part of the settings: its id, role, timing and quorum (`QuorumPeerConfig`
/// checks what an ensemble must have).
fn ensemble_settings(mut s: Settings, c: &Config) -> anyhow::Result<Settings> {
    use crate::quorum::verifier::QuorumVerifier;
    let my_id = c.server_id.context("an ensemble member needs dataDir/myid")?;
    let me = c.servers.get(&my_id).with_context(|| format!("myid {my_id} has no server.{my_id} line"))?;
    anyhow::ensure!(c.init_limit > 0, "initLimit is not set");
    anyhow::ensure!(c.sync_limit > 0, "syncLimit is not set");
    let verifier = QuorumVerifier::from_config(c).map_err(|e| anyhow::anyhow!("{e}"))?;
    let first = me.addrs.first().context("the server line has no address")?;
    let host = if c.quorum_listen_on_all_ips { "0.0.0.0".to_string() } else { first.host.clone() };
    let quorum_listen = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), first.quorum_port))
        .with_context(|| format!("resolving {host}:{}", first.quorum_port))?
        .next()
        .with_context(|| format!("{host}:{} resolves to nothing", first.quorum_port))?;
    let id = crate::types::ServerId(my_id);
    s.opts.server_id = id;
    let bugs = match std::env::var(crate::quorum::peer::TEST_ONLY_BREAK_ENV) {
        Ok(list) => {
            let b = crate::quorum::peer::Bugs::parse(&list).map_err(|e| anyhow::anyhow!(e))?;
            tracing::warn!("TEST ONLY: deliberately broken Zab rules {b:?}; this server can lose writes");
            b
        }
        Err(_) => Default::default(),
    };
    s.peer = Some(PeerOptions {
        my_id: id,
        observer: c.peer_type == crate::config::PeerType::Observer,
        standalone: false,
        tick_ms: s.opts.tick_ms,
        init_limit: c.init_limit.max(1) as u64,
        sync_limit: c.sync_limit.max(1) as u64,
        quorum: std::sync::Arc::new(verifier.clone()),
        qv_string: verifier.to_string(),
        qv_version: verifier.version(),
        leader_serves: c.leader_serves,
        extended_types: c.extended_types_enabled,
        sync_enabled: c.sync_enabled,
        txnlog_sync: c.snapshot_size_factor >= 0.0,
        read_only_mode: c.readonly_mode,
        force_snap_sync: false,
        commit_log_count: s.commit_log_count,
        bugs,
    });
    s.verifier = Some(verifier);
    s.quorum_listen = Some(quorum_listen);
    Ok(s)
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

/// Builds the member from its data dir and runs it until SIGTERM/SIGINT.
pub async fn serve(s: Settings) -> anyhow::Result<()> {
    std::fs::create_dir_all(&s.data_dir).with_context(|| format!("creating {}", s.data_dir.display()))?;
    let clock = Clock { start: Instant::now() };
    let separate_log = (s.data_log_dir != s.data_dir).then_some(s.data_log_dir.as_path());
    let dirs = DataDirs::open(&s.data_dir, separate_log)?;
    let ropts = RestoreOptions { trust_empty_snapshot: s.trust_empty_snapshot };
    let t0 = Instant::now();
    let (tree, rep, fresh, tail) =
        persist::restore_tree_with_tail(&dirs.snap, &dirs.log, &ropts, s.opts.prep.extended_types, s.commit_log_count)?;
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
    let epochs = crate::storage::epoch::load_epochs(&dirs.snap, tree.last_zxid.0)?;
    let last = tree.last_zxid;
    let server = Server::new(s.opts.clone(), tree, clock.now());
    let (votes_keepalive, mut votes_rx) = mpsc::channel(1);
    let (peer_opts, election, votes): (PeerOptions, Box<dyn Elector>, Box<dyn core::VoteSink>) =
        match (&s.peer, &s.verifier) {
            (Some(p), Some(v)) => {
                let qcm_cfg = qcm::QcmConfig::from_config(&s.opts.config).await?;
                let (handle, inbound) = qcm::start(qcm_cfg).await?;
                votes_rx = inbound;
                let settings = crate::quorum::election::ElectionSettings::from_props(&s.opts.config.props);
                let e = crate::quorum::election::Election::new(p.my_id, v.clone(), !p.observer, settings);
                (p.clone(), Box::new(e), Box::new(handle))
            }
            _ => (PeerOptions::standalone(&s.opts), Box::new(crate::quorum::peer::NoElection), Box::new(core::NoVotes)),
        };
    let mut peer = Peer::new(peer_opts, server, (epochs.accepted, epochs.current), tail, election, clock.now());
    let listener = conn::bind(s.listen).with_context(|| format!("binding {}", s.listen))?;
    tracing::info!("binding to port {}", s.listen);
    let (core_tx, core_rx) = mpsc::channel::<core::CoreMsg>(16384);
    let disk = disk::Disk::start(
        disk::DiskConfig::from_settings(&s, dirs.snap.clone(), dirs.log.clone()),
        core_tx.clone(),
        last,
    )?;
    if rep.replayed > 0 {
        peer.handle(clock.now(), crate::quorum::io::Input::TakeSnapshot);
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
    let max_packet = s.jute_maxbuffer.saturating_mul(2).max(1 << 20);
    let mut tasks = Vec::new();
    if let Some(addr) = s.quorum_listen {
        let l = conn::bind(addr).with_context(|| format!("binding the quorum port {addr}"))?;
        tracing::info!("Leader/learner quorum port listening on {addr}");
        tasks.push(tokio::spawn(quorum_net::accept_learners(l, core_tx.clone(), max_packet)));
    }
    let conn_cfg = Arc::new(conn::ConnConfig { max_frame: s.jute_maxbuffer });
    tasks.push(tokio::spawn(conn::accept_loop(listener, core_tx.clone(), conn_cfg)));
    let core = core::Core {
        peer,
        clock,
        disk,
        dirs,
        config: s.opts.config.clone(),
        votes,
        max_packet,
        cnx_timeout: Duration::from_millis(s.cnx_timeout_ms),
        core_tx,
        conns: HashMap::new(),
        outbox: HashMap::new(),
        links: HashMap::new(),
        leader_gen: 0,
        leader_tx: None,
    };
    let disk = core.run(core_rx, votes_rx, shutdown_signal()).await;
    drop(votes_keepalive);
    tracing::info!("shutting down");
    for t in tasks {
        t.abort();
    }
    // The disk thread may be blocked handing the core a Durable: the receiver is gone now.
    disk.stop();
    Ok(())
}
