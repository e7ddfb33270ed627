//! Four-letter words (`ruok`, `srvr`, `mntr`, ...): recognising the command int, the
//! whitelist, and rendering Java 3.8.0's exact reply text from a plain snapshot of the server
//! ([`FourLwInfo`]). Pure: no I/O, no clock; the core fills the snapshot, the runtime writes the
//! returned text and closes the socket (`NIOServerCnxn.checkFourLetterWord`).
//!
//! Java classes: `server/command/FourLetterCommands`, `StatCommand` (+`ServerStats.toString`),
//! `MonitorCommand` (+`ZooKeeperServer.dumpMonitorValues`, `DefaultMetricsProvider.dump`),
//! `ConfCommand` (+`ZooKeeperServer/QuorumZooKeeperServer.dumpConf`), `ConsCommand`
//! (+`ServerCnxn.dumpConnectionInfo`), `EnvCommand`, `WatchCommand` (+`WatchManager`),
//! `DumpCommand` (+`SessionTrackerImpl`, `ExpiryQueue.dump`, `DataTree.dumpEphemerals`),
//! `DirsCommand`, `IsroCommand`, `DigestCommand`, trace-mask and reset commands.
//! Sample replies captured from Java 3.8.0 live in `tests/data/4lw/`; the tests rebuild them.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

mod from_server;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::Config;
use crate::config::FourLetterWhitelist;

/// `AbstractFourLetterCommand.ZK_NOT_SERVING`.
pub const ZK_NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

/// A four-letter word. The `i32` is the first 4 bytes of a fresh connection, big-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FourLw {
    /// `conf`: configuration.
    Conf,
    /// `cons`: connections with session details.
    Cons,
    /// `crst`: reset connection statistics.
    Crst,
    /// `dirs`: data and log directory sizes.
    Dirs,
    /// `dump`: session expiry sets, ephemerals, connection expiry sets.
    Dump,
    /// `envi`: environment.
    Envi,
    /// `gtmk`: get the trace mask.
    Gtmk,
    /// `ruok`: liveness.
    Ruok,
    /// `stmk`: set the trace mask (8 more bytes follow on the socket: the mask, a big-endian long).
    Stmk,
    /// `srst`: reset server statistics.
    Srst,
    /// `srvr`: server summary (`zkServer.sh status` reads its `Mode:` line).
    Srvr,
    /// `stat`: `srvr` plus brief connections.
    Stat,
    /// `wchc`: data watches by session.
    Wchc,
    /// `wchp`: data watches by path.
    Wchp,
    /// `wchs`: data watch summary.
    Wchs,
    /// `mntr`: `zk_<key>\t<value>` metrics.
    Mntr,
    /// `isro`: `rw`, `ro`, or `null`.
    Isro,
    /// `hash`: the tree digest log.
    Hash,
    /// Telnet's interrupt sequence (0xfff4fffd); Java just closes the connection.
    TelnetClose,
}

const ALL: [FourLw; 19] = [
    FourLw::Conf,
    FourLw::Cons,
    FourLw::Crst,
    FourLw::Dirs,
    FourLw::Dump,
    FourLw::Envi,
    FourLw::Gtmk,
    FourLw::Ruok,
    FourLw::Stmk,
    FourLw::Srst,
    FourLw::Srvr,
    FourLw::Stat,
    FourLw::Wchc,
    FourLw::Wchp,
    FourLw::Wchs,
    FourLw::Mntr,
    FourLw::Isro,
    FourLw::Hash,
    FourLw::TelnetClose,
];

impl FourLw {
    /// The name Java uses in the whitelist and in log lines (`"telnet close"` for telnet's ^C).
    pub fn name(self) -> &'static str {
        match self {
            FourLw::Conf => "conf",
            FourLw::Cons => "cons",
            FourLw::Crst => "crst",
            FourLw::Dirs => "dirs",
            FourLw::Dump => "dump",
            FourLw::Envi => "envi",
            FourLw::Gtmk => "gtmk",
            FourLw::Ruok => "ruok",
            FourLw::Stmk => "stmk",
            FourLw::Srst => "srst",
            FourLw::Srvr => "srvr",
            FourLw::Stat => "stat",
            FourLw::Wchc => "wchc",
            FourLw::Wchp => "wchp",
            FourLw::Wchs => "wchs",
            FourLw::Mntr => "mntr",
            FourLw::Isro => "isro",
            FourLw::Hash => "hash",
            FourLw::TelnetClose => "telnet close",
        }
    }

    /// The int a client sends (the 4 ASCII bytes read as a big-endian i32).
    pub fn code(self) -> i32 {
        match self {
            FourLw::TelnetClose => 0xfff4fffd_u32 as i32,
            other => {
                let mut b = [0u8; 4];
                for (dst, src) in b.iter_mut().zip(other.name().bytes()) {
                    *dst = src;
                }
                i32::from_be_bytes(b)
            }
        }
    }
}

/// `FourLetterCommands.isKnown` + `getCommandString`: a connection's first 4 bytes, read as the
/// frame length, name a command.
pub fn command_from_int(i: i32) -> Option<FourLw> {
    ALL.iter().copied().find(|c| c.code() == i)
}

/// `FourLetterCommands.isEnabled`.
pub fn is_allowed(cmd: FourLw, whitelist: &FourLetterWhitelist) -> bool {
    whitelist.allows(cmd.name())
}

/// Whether the runtime must read 8 more bytes (the new trace mask, a big-endian i64) before
/// answering: only for `stmk`, and only when it is whitelisted (Java never reads them otherwise).
pub fn needs_mask_bytes(cmd: FourLw, whitelist: &FourLetterWhitelist) -> bool {
    cmd == FourLw::Stmk && is_allowed(cmd, whitelist)
}

/// The reply Java sends for a command outside the whitelist (the command is not run).
pub fn not_in_whitelist_text(cmd: FourLw) -> String {
    format!("{} is not executed because it is not in the whitelist.\n", cmd.name())
}

/// What the caller must do besides sending the text. Java performs these only when the
/// command is whitelisted, and `crst`/`srst` only while the server is serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SideEffect {
    /// `crst`: `ServerCnxn.resetStats` on every connection (recved/sent 0, lop `NA`,
    /// lcxid/lzxid -1, latencies cleared).
    ResetConnectionStats,
    /// `srst`: `ServerStats.reset` (latency, packet counters, response sizes, all metrics),
    /// and the leader's proposal size stats.
    ResetServerStats,
    /// `stmk`: store the 8-byte mask that followed the command (render with it as `trace_mask`).
    SetTraceMask,
    /// Telnet ^C: close the connection without a reply.
    Close,
}

/// The side effect of running `cmd` now, if any (see [`SideEffect`]).
pub fn side_effect(cmd: FourLw, info: &FourLwInfo, config: &Config) -> Option<SideEffect> {
    if !is_allowed(cmd, &config.four_letter_whitelist) {
        return None;
    }
    match cmd {
        FourLw::Crst if info.serving => Some(SideEffect::ResetConnectionStats),
        FourLw::Srst if info.serving => Some(SideEffect::ResetServerStats),
        FourLw::Stmk => Some(SideEffect::SetTraceMask),
        FourLw::TelnetClose => Some(SideEffect::Close),
        _ => None,
    }
}

/// The version text after `Zookeeper version: ` (the crate's `VERSION_STRING`): Java's form
/// `3.8.0-<build>, built on <date>`, since scripts split on `-` and on `, built on `.
pub fn version_string() -> String {
    crate::VERSION_STRING.to_string()
}

// ---------------------------------------------------------------------------------------------
// The snapshot the core fills
// ---------------------------------------------------------------------------------------------

/// `AvgMinMaxCounter`: count, total, min, max. `min == i64::MAX` means "no sample" (printed 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Number of samples.
    pub count: i64,
    /// Sum of samples.
    pub total: i64,
    /// Smallest sample, `i64::MAX` when empty.
    pub min: i64,
    /// Largest sample, 0 when empty.
    pub max: i64,
}

impl Default for Summary {
    fn default() -> Self {
        Summary { count: 0, total: 0, min: i64::MAX, max: 0 }
    }
}

impl Summary {
    /// Adds one sample.
    pub fn add(&mut self, v: i64) {
        self.count += 1;
        self.total = self.total.saturating_add(v);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// `getMin`: 0 when empty.
    pub fn min_or_zero(&self) -> i64 {
        if self.min == i64::MAX {
            0
        } else {
            self.min
        }
    }

    /// `AvgMinMaxCounter.getAvg`: total/count as a double, rounded half-up to 4 decimals.
    pub fn avg(&self) -> f64 {
        if self.count <= 0 {
            return 0.0;
        }
        round_half_up_4(self.total as f64 / self.count as f64)
    }
}

/// `AvgMinMaxPercentileCounter`: a [`Summary`] plus the four percentiles Java prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PercentileSummary {
    /// avg/min/max/cnt/sum.
    pub summary: Summary,
    /// Median.
    pub p50: i64,
    /// 95th percentile.
    pub p95: i64,
    /// 99th percentile.
    pub p99: i64,
    /// 99.9th percentile.
    pub p999: i64,
}

/// `BufferStats`: last/min/max sizes, -1 until the first sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferSizes {
    /// Last size.
    pub last: i32,
    /// Smallest size.
    pub min: i32,
    /// Largest size.
    pub max: i32,
}

impl Default for BufferSizes {
    fn default() -> Self {
        BufferSizes { last: -1, min: -1, max: -1 }
    }
}

/// One client connection, as `ServerCnxn` tracks it (fields of `cons`/`stat`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// Peer address.
    pub remote: SocketAddr,
    /// Selector interest ops (Java prints 0 or hex: 1 = read, 4 = write, 5 = both).
    pub interest_ops: i32,
    /// Requests submitted and not yet answered.
    pub outstanding: i64,
    /// Packets received since the last `crst`.
    pub packets_received: i64,
    /// Packets sent since the last `crst`.
    pub packets_sent: i64,
    /// 0 until the session is established.
    pub session_id: i64,
    /// Last operation's short name (`PING`, `GETD`, `SESS`, ... or `NA`).
    pub last_op: String,
    /// When the connection was established, wall-clock ms.
    pub established_ms: i64,
    /// Negotiated session timeout.
    pub session_timeout_ms: i32,
    /// Last cxid answered; negative = none (then `lcxid` is omitted).
    pub last_cxid: i64,
    /// Last zxid answered (-1 after `crst`).
    pub last_zxid: i64,
    /// When the last response went out, on the monotonic clock in ms (Java's `lresp`).
    pub last_response_time_ms: i64,
    /// Latency of the last request.
    pub last_latency_ms: i64,
    /// Request latencies (avg is integer division in `cons`).
    pub latency: Summary,
}

/// A session-expiry or connection-expiry bucket (`ExpiryQueue`): everything that expires at
/// `expire_at_ms` (wall clock). Buckets may be empty; Java prints them too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryBucket<T> {
    /// Expiry time, wall-clock ms since the epoch.
    pub expire_at_ms: i64,
    /// Members.
    pub entries: Vec<T>,
}

/// One connection in the `Connections dump:` part of `dump`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRef {
    /// Peer address.
    pub remote: SocketAddr,
    /// Its session, 0 if none yet.
    pub session_id: i64,
}

/// The session part of `dump`, which depends on the server's role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionDump {
    /// Standalone or leader (`SessionTrackerImpl`): expiry buckets of session ids, and with
    /// local sessions enabled a `Local ` block first, then `Global `.
    Expiry {
        /// Local sessions' buckets, when local sessions are enabled.
        local: Option<Vec<ExpiryBucket<i64>>>,
        /// (Global) sessions' buckets.
        global: Vec<ExpiryBucket<i64>>,
    },
    /// Follower or observer (`LearnerSessionTracker`): global sessions with their timeouts.
    Learner {
        /// Local sessions' buckets, when local sessions are enabled.
        local: Option<Vec<ExpiryBucket<i64>>>,
        /// (session id, timeout ms), any order (printed sorted).
        global: Vec<(i64, i32)>,
    },
}

impl Default for SessionDump {
    fn default() -> Self {
        SessionDump::Expiry { local: None, global: Vec::new() }
    }
}

/// What `envi` prints besides the version. `None` prints Java's `<NA>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvInfo {
    /// `host.name` (canonical host name).
    pub host_name: Option<String>,
    /// `java.version` and the other `java.*` keys (ruzk has none: leave `None`).
    pub java_version: Option<String>,
    /// `java.vendor`.
    pub java_vendor: Option<String>,
    /// `java.home`.
    pub java_home: Option<String>,
    /// `java.class.path`.
    pub java_class_path: Option<String>,
    /// `java.library.path`.
    pub java_library_path: Option<String>,
    /// `java.io.tmpdir`.
    pub java_io_tmpdir: Option<String>,
    /// `java.compiler`.
    pub java_compiler: Option<String>,
    /// `os.name` (Java: `Linux`).
    pub os_name: Option<String>,
    /// `os.arch` (Java: `amd64`).
    pub os_arch: Option<String>,
    /// `os.version` (kernel release).
    pub os_version: Option<String>,
    /// `user.name`.
    pub user_name: Option<String>,
    /// `user.home`.
    pub user_home: Option<String>,
    /// `user.dir` (working directory).
    pub user_dir: Option<String>,
    /// `os.memory.free` in MiB.
    pub memory_free_mb: i64,
    /// `os.memory.max` in MiB.
    pub memory_max_mb: i64,
    /// `os.memory.total` in MiB.
    pub memory_total_mb: i64,
}

/// Gauges only a leader has (`LeaderZooKeeperServer.registerMetrics`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaderInfo {
    /// All learners connected.
    pub learners: i64,
    /// Synced voting followers.
    pub synced_followers: i64,
    /// Synced non-voting followers.
    pub synced_non_voting_followers: i64,
    /// Pending `sync` requests.
    pub pending_syncs: i64,
    /// Ms since this server became leader.
    pub leader_uptime_ms: i64,
    /// Proposal sizes (`srvr`'s `Proposal sizes last/min/max`).
    pub proposal_sizes: BufferSizes,
}

/// A plain snapshot of everything the four-letter words print. The core fills it; fields it
/// cannot know stay at their defaults, which print as Java's zero values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FourLwInfo {
    /// Full version (see [`version_string`]).
    pub version: String,
    /// `isZKServerRunning()`: false while looking/syncing or shutting down.
    pub serving: bool,
    /// Serving as a read-only server (`ReadOnlyZooKeeperServer`).
    pub read_only: bool,
    /// `standalone`, `leader`, `follower`, `observer` or `read-only` (Java's `ServerStats` state).
    pub server_state: String,
    /// Quorum only: `QuorumPeer.getDetailedPeerState`, e.g. `leading - broadcast`.
    pub peer_state: Option<String>,
    /// Observer only: the learner master it follows.
    pub observer_master_id: Option<i64>,
    /// Last processed zxid.
    pub last_zxid: i64,
    /// `DataTree.getNodeCount` (Java counts the root twice: a fresh server says 5).
    pub node_count: i64,
    /// Server-wide request latency.
    pub latency: Summary,
    /// Packets received (4lw commands count too).
    pub packets_received: i64,
    /// Packets sent.
    pub packets_sent: i64,
    /// Client connections, including this 4lw connection.
    pub num_alive_connections: i64,
    /// Requests in the pipeline.
    pub outstanding_requests: i64,
    /// Response sizes (`zk_*_client_response_size`).
    pub client_response_sizes: BufferSizes,
    /// Connections, in the order to print.
    pub connections: Vec<ConnectionInfo>,
    /// Data watches (getData/exists) per session; child watches are not listed by Java.
    pub data_watches: Vec<(i64, Vec<String>)>,
    /// All watches, data and child (`zk_watch_count`).
    pub watch_count: i64,
    /// Ephemeral nodes per owner session.
    pub ephemerals: Vec<(i64, Vec<String>)>,
    /// Session part of `dump`.
    pub sessions: SessionDump,
    /// Connection expiry buckets (`NIOServerCnxnFactory.dumpConnections`).
    pub connection_expiry: Vec<ExpiryBucket<ConnectionRef>>,
    /// `zk_ephemerals_count`.
    pub ephemerals_count: i64,
    /// `zk_approximate_data_size`: sum of path lengths and data lengths.
    pub approximate_data_size: i64,
    /// `zk_global_sessions`.
    pub global_sessions: i64,
    /// `zk_local_sessions`.
    pub local_sessions: i64,
    /// Open file descriptors of the process.
    pub open_file_descriptor_count: i64,
    /// The fd limit.
    pub max_file_descriptor_count: i64,
    /// Ms since the server (stats) started.
    pub uptime_ms: i64,
    /// Bytes in the snapshot directory.
    pub data_dir_size: i64,
    /// Bytes in the txn-log directory.
    pub log_dir_size: i64,
    /// Absolute snapshot directory (`<dataDir>/version-2`), as `conf` prints it.
    pub snap_dir: PathBuf,
    /// Absolute txn-log directory (`<dataLogDir>/version-2`).
    pub log_dir: PathBuf,
    /// The local port clients listen on; set -1 when there is no listener, as Java prints
    /// (the `Default` of 0 is only a placeholder).
    pub client_port: i32,
    /// `serverId` in `conf` (0 on a standalone, see [`Config::effective_server_id`]).
    pub server_id: i64,
    /// Current QV string when it differs from the config's (after a reconfig).
    pub quorum_verifier: Option<String>,
    /// `hash`: (zxid, digest) entries, oldest first.
    pub digest_log: Vec<(i64, i64)>,
    /// The trace mask (`gtmk`; for `stmk` the newly set mask). Java's default is 306.
    pub trace_mask: i64,
    /// `envi`.
    pub env: EnvInfo,
    /// Leader-only gauges; `Some` exactly when leading.
    pub leader: Option<LeaderInfo>,
    /// `zk_synced_observers` (leader; Java prints nothing when it is null).
    pub synced_observers: Option<i64>,
    /// `zk_quorum_size` (any quorum member).
    pub quorum_size: Option<i64>,
    /// Counters by Java metric name (e.g. `digest_mismatches_count`, `bytes_received_count`);
    /// missing ones print 0.
    pub counters: BTreeMap<String, i64>,
    /// Basic summaries by Java metric name (e.g. `fsynctime`, `snapshottime`).
    pub summaries: BTreeMap<String, Summary>,
    /// Percentile summaries by Java metric name (e.g. `readlatency`, `updatelatency`).
    pub percentile_summaries: BTreeMap<String, PercentileSummary>,
}

/// `ZooTrace`'s default text trace mask, what `gtmk` prints on a fresh Java server.
pub const DEFAULT_TRACE_MASK: i64 = 306;

impl FourLwInfo {
    /// A snapshot with everything the configuration determines filled in: version, client port,
    /// `serverId`, the `version-2` directories as absolute paths (relative ones are joined to
    /// `cwd`, as Java's `File.getAbsolutePath` does), the default trace mask, `standalone` mode
    /// and, in an ensemble, `zk_quorum_size`. The core adds the live state (and `serving`).
    pub fn from_config(config: &Config, cwd: &std::path::Path) -> FourLwInfo {
        let abs = |p: &std::path::Path| if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) };
        let distributed = config.is_distributed();
        FourLwInfo {
            version: version_string(),
            server_state: if distributed { String::new() } else { "standalone".to_string() },
            client_port: config.client_port.map_or(-1, i32::from),
            server_id: config.effective_server_id(),
            snap_dir: abs(&config.data_dir).join("version-2"),
            log_dir: abs(&config.data_log_dir).join("version-2"),
            trace_mask: DEFAULT_TRACE_MASK,
            quorum_size: distributed.then(|| config.voting_members().count() as i64),
            ..FourLwInfo::default()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/// The complete reply to `cmd`: the whitelist text if the command is not allowed, the
/// not-serving text where Java checks, else the command's output. Telnet ^C renders as "".
pub fn render(cmd: FourLw, info: &FourLwInfo, config: &Config) -> String {
    if !is_allowed(cmd, &config.four_letter_whitelist) {
        return not_in_whitelist_text(cmd);
    }
    let mut o = String::new();
    let needs_serving =
        !matches!(cmd, FourLw::Ruok | FourLw::Envi | FourLw::Gtmk | FourLw::Stmk | FourLw::Isro | FourLw::TelnetClose);
    if needs_serving && !info.serving {
        o.push_str(ZK_NOT_SERVING);
        // DigestCommand uses print, every other command println.
        if cmd != FourLw::Hash {
            o.push('\n');
        }
        return o;
    }
    match cmd {
        FourLw::Ruok => o.push_str("imok"),
        FourLw::Gtmk | FourLw::Stmk => o.push_str(&info.trace_mask.to_string()),
        FourLw::Isro => o.push_str(if !info.serving {
            "null"
        } else if info.read_only {
            "ro"
        } else {
            "rw"
        }),
        FourLw::Envi => render_envi(&mut o, info),
        FourLw::Srvr | FourLw::Stat => render_stat(&mut o, info, cmd == FourLw::Stat),
        FourLw::Cons => {
            for c in &info.connections {
                render_connection(&mut o, c, false);
                o.push('\n');
            }
            o.push('\n');
        }
        FourLw::Conf => render_conf(&mut o, info, config),
        FourLw::Mntr => render_mntr(&mut o, info),
        FourLw::Wchs => render_wchs(&mut o, info),
        FourLw::Wchc => {
            for (sid, paths) in &info.data_watches {
                let _ = writeln!(o, "0x{sid:x}");
                for p in paths {
                    let _ = writeln!(o, "\t{p}");
                }
            }
            o.push('\n');
        }
        FourLw::Wchp => {
            for (path, sids) in watches_by_path(&info.data_watches) {
                let _ = writeln!(o, "{path}");
                for sid in sids {
                    let _ = writeln!(o, "\t0x{sid:x}");
                }
            }
            o.push('\n');
        }
        FourLw::Dump => render_dump(&mut o, info),
        FourLw::Dirs => {
            let _ = writeln!(o, "datadir_size: {}", info.data_dir_size);
            let _ = writeln!(o, "logdir_size: {}", info.log_dir_size);
        }
        FourLw::Crst => o.push_str("Connection stats reset.\n"),
        FourLw::Srst => o.push_str("Server stats reset.\n"),
        FourLw::Hash => {
            for (zxid, digest) in &info.digest_log {
                let _ = writeln!(o, "{zxid:x}: {digest}");
            }
        }
        FourLw::TelnetClose => {}
    }
    o
}

fn render_envi(o: &mut String, info: &FourLwInfo) {
    let e = &info.env;
    let na = |v: &Option<String>| v.clone().unwrap_or_else(|| "<NA>".to_string());
    o.push_str("Environment:\n");
    let rows: [(&str, String); 18] = [
        ("zookeeper.version", info.version.clone()),
        ("host.name", na(&e.host_name)),
        ("java.version", na(&e.java_version)),
        ("java.vendor", na(&e.java_vendor)),
        ("java.home", na(&e.java_home)),
        ("java.class.path", na(&e.java_class_path)),
        ("java.library.path", na(&e.java_library_path)),
        ("java.io.tmpdir", na(&e.java_io_tmpdir)),
        ("java.compiler", na(&e.java_compiler)),
        ("os.name", na(&e.os_name)),
        ("os.arch", na(&e.os_arch)),
        ("os.version", na(&e.os_version)),
        ("user.name", na(&e.user_name)),
        ("user.home", na(&e.user_home)),
        ("user.dir", na(&e.user_dir)),
        ("os.memory.free", format!("{}MB", e.memory_free_mb)),
        ("os.memory.max", format!("{}MB", e.memory_max_mb)),
        ("os.memory.total", format!("{}MB", e.memory_total_mb)),
    ];
    for (k, v) in &rows {
        let _ = writeln!(o, "{k}={v}");
    }
}

fn render_stat(o: &mut String, info: &FourLwInfo, with_clients: bool) {
    let _ = writeln!(o, "Zookeeper version: {}", info.version);
    if info.read_only {
        o.push_str("READ-ONLY mode; serving only read-only clients\n");
    }
    if with_clients {
        o.push_str("Clients:\n");
        for c in &info.connections {
            render_connection(o, c, true);
            o.push('\n');
        }
        o.push('\n');
    }
    let _ = writeln!(
        o,
        "Latency min/avg/max: {}/{}/{}",
        info.latency.min_or_zero(),
        java_double(info.latency.avg()),
        info.latency.max
    );
    let _ = writeln!(o, "Received: {}", info.packets_received);
    let _ = writeln!(o, "Sent: {}", info.packets_sent);
    let _ = writeln!(o, "Connections: {}", info.num_alive_connections);
    let _ = writeln!(o, "Outstanding: {}", info.outstanding_requests);
    let _ = writeln!(o, "Zxid: 0x{:x}", info.last_zxid);
    let _ = writeln!(o, "Mode: {}", info.server_state);
    let _ = writeln!(o, "Node count: {}", info.node_count);
    if info.server_state == "leader" {
        let p = info.leader.as_ref().map(|l| l.proposal_sizes).unwrap_or_default();
        let _ = writeln!(o, "Proposal sizes last/min/max: {}/{}/{}", p.last, p.min, p.max);
    }
}

/// `ServerCnxn.dumpConnectionInfo`.
fn render_connection(o: &mut String, c: &ConnectionInfo, brief: bool) {
    let ops = if c.interest_ops == 0 { "0".to_string() } else { format!("{:x}", c.interest_ops) };
    let _ = write!(
        o,
        " {}[{ops}](queued={},recved={},sent={}",
        java_socket_addr(&c.remote),
        c.outstanding,
        c.packets_received,
        c.packets_sent
    );
    if !brief && c.session_id != 0 {
        let _ = write!(
            o,
            ",sid=0x{:x},lop={},est={},to={}",
            c.session_id, c.last_op, c.established_ms, c.session_timeout_ms
        );
        if c.last_cxid >= 0 {
            let _ = write!(o, ",lcxid=0x{:x}", c.last_cxid);
        }
        let avg = if c.latency.count == 0 { 0 } else { c.latency.total / c.latency.count };
        let _ = write!(
            o,
            ",lzxid=0x{:x},lresp={},llat={},minlat={},avglat={avg},maxlat={}",
            c.last_zxid,
            c.last_response_time_ms,
            c.last_latency_ms,
            c.latency.min_or_zero(),
            c.latency.max
        );
    }
    o.push(')');
}

/// `ZooKeeperServer.dumpConf` (+ `QuorumZooKeeperServer.dumpConf` in an ensemble).
fn render_conf(o: &mut String, info: &FourLwInfo, config: &Config) {
    let _ = writeln!(o, "clientPort={}", info.client_port);
    // ruzk has no TLS listener, so Java's getSecureClientPort() would be -1.
    o.push_str("secureClientPort=-1\n");
    let _ = writeln!(o, "dataDir={}", info.snap_dir.display());
    let _ = writeln!(o, "dataDirSize={}", info.data_dir_size);
    let _ = writeln!(o, "dataLogDir={}", info.log_dir.display());
    let _ = writeln!(o, "dataLogSize={}", info.log_dir_size);
    let _ = writeln!(o, "tickTime={}", config.tick_time_ms);
    let _ = writeln!(o, "maxClientCnxns={}", config.max_client_cnxns);
    let _ = writeln!(o, "minSessionTimeout={}", config.min_session_timeout_ms);
    let _ = writeln!(o, "maxSessionTimeout={}", config.max_session_timeout_ms);
    let _ = writeln!(o, "clientPortListenBacklog={}", config.client_port_listen_backlog);
    let _ = writeln!(o, "serverId={}", info.server_id);
    if !config.is_distributed() {
        return;
    }
    let _ = writeln!(o, "initLimit={}", config.init_limit);
    let _ = writeln!(o, "syncLimit={}", config.sync_limit);
    let _ = writeln!(o, "electionAlg={}", config.election_alg);
    let me = config.this_server();
    let ports = |f: fn(&crate::config::ServerAddr) -> u16| {
        me.map(|s| s.addrs.iter().map(|a| f(a).to_string()).collect::<Vec<_>>().join("|")).unwrap_or_default()
    };
    let _ = writeln!(o, "electionPort={}", ports(|a| a.election_port));
    let _ = writeln!(o, "quorumPort={}", ports(|a| a.quorum_port));
    let _ = writeln!(o, "peerType={}", config.peer_type.ordinal());
    o.push_str("membership: \n");
    match &info.quorum_verifier {
        Some(qv) => o.push_str(qv),
        None => o.push_str(&config.quorum_verifier_string()),
    }
}

/// `WatchManager.toString` (data watches only), then WatchCommand's println.
fn render_wchs(o: &mut String, info: &FourLwInfo) {
    let paths = watches_by_path(&info.data_watches).len();
    let total: usize = info.data_watches.iter().map(|(_, p)| p.len()).sum();
    let _ = writeln!(o, "{} connections watching {paths} paths", info.data_watches.len());
    let _ = writeln!(o, "Total watches:{total}");
}

/// Java iterates hash maps here, so the order is unspecified; sorted output is as valid.
fn watches_by_path(by_session: &[(i64, Vec<String>)]) -> BTreeMap<&str, Vec<i64>> {
    let mut m: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (sid, paths) in by_session {
        for p in paths {
            m.entry(p.as_str()).or_default().push(*sid);
        }
    }
    for sids in m.values_mut() {
        sids.sort_unstable();
        sids.dedup();
    }
    m
}

fn render_dump(o: &mut String, info: &FourLwInfo) {
    o.push_str("SessionTracker dump:\n");
    match &info.sessions {
        SessionDump::Expiry { local, global } => {
            if let Some(l) = local {
                o.push_str("Local Session ");
                dump_expiry(o, l, |o, sid| {
                    let _ = write!(o, "0x{sid:x}");
                });
                o.push_str("Global ");
            }
            o.push_str("Session ");
            dump_expiry(o, global, |o, sid| {
                let _ = write!(o, "0x{sid:x}");
            });
        }
        SessionDump::Learner { local, global } => {
            if let Some(l) = local {
                o.push_str("Local Session ");
                dump_expiry(o, l, |o, sid| {
                    let _ = write!(o, "0x{sid:x}");
                });
            }
            let mut g = global.clone();
            g.sort();
            let _ = writeln!(o, "Global Sessions({}):", g.len());
            for (sid, to) in g {
                let _ = writeln!(o, "0x{sid:x}\t{to}ms");
            }
        }
    }
    o.push_str("ephemeral nodes dump:\n");
    let _ = writeln!(o, "Sessions with Ephemerals ({}):", info.ephemerals.len());
    for (sid, paths) in &info.ephemerals {
        let _ = writeln!(o, "0x{sid:x}:");
        for p in paths {
            let _ = writeln!(o, "\t{p}");
        }
    }
    o.push_str("Connections dump:\n");
    o.push_str("Connections ");
    dump_expiry(o, &info.connection_expiry, |o, c| {
        let _ = write!(o, "ip: {} sessionId: 0x{:x}", java_socket_addr(&c.remote), c.session_id);
    });
}

/// `ExpiryQueue.dump`: `Sets (buckets)/(members):`, then buckets in time order.
fn dump_expiry<T>(o: &mut String, buckets: &[ExpiryBucket<T>], entry: impl Fn(&mut String, &T)) {
    let members: usize = buckets.iter().map(|b| b.entries.len()).sum();
    let _ = writeln!(o, "Sets ({})/({members}):", buckets.len());
    let mut sorted: Vec<&ExpiryBucket<T>> = buckets.iter().collect();
    sorted.sort_by_key(|b| b.expire_at_ms);
    for b in sorted {
        let _ = writeln!(o, "{} expire at {}:", b.entries.len(), java_date(b.expire_at_ms));
        for e in &b.entries {
            o.push('\t');
            entry(o, e);
            o.push('\n');
        }
    }
}

/// A gauge: where it sits in Java's output and which servers register it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum GaugeScope {
    All,
    Leader,
    Quorum,
    SyncedObservers,
}

/// Java's `DefaultMetricsProvider` keeps gauges in a ConcurrentHashMap, so `mntr` prints them in
/// hash order. With 24–48 gauges the table has 64 buckets and this is that order (checked
/// against standalone, leader and follower captures in `tests/data/4lw/`).
const GAUGES: [(&str, GaugeScope); 34] = [
    ("ephemerals_count", GaugeScope::All),
    ("num_alive_connections", GaugeScope::All),
    ("avg_latency", GaugeScope::All),
    ("min_proposal_size", GaugeScope::Leader),
    ("outstanding_requests", GaugeScope::All),
    ("znode_count", GaugeScope::All),
    ("global_sessions", GaugeScope::All),
    ("non_mtls_remote_conn_count", GaugeScope::All),
    ("last_client_response_size", GaugeScope::All),
    ("packets_sent", GaugeScope::All),
    ("packets_received", GaugeScope::All),
    ("max_proposal_size", GaugeScope::Leader),
    ("max_client_response_size", GaugeScope::All),
    ("synced_followers", GaugeScope::Leader),
    ("connection_drop_probability", GaugeScope::All),
    ("watch_count", GaugeScope::All),
    ("synced_non_voting_followers", GaugeScope::Leader),
    ("synced_observers", GaugeScope::SyncedObservers),
    ("auth_failed_count", GaugeScope::All),
    ("min_latency", GaugeScope::All),
    ("max_file_descriptor_count", GaugeScope::All),
    ("approximate_data_size", GaugeScope::All),
    ("open_file_descriptor_count", GaugeScope::All),
    ("last_proposal_size", GaugeScope::Leader),
    ("pending_syncs", GaugeScope::Leader),
    ("leader_uptime", GaugeScope::Leader),
    ("local_sessions", GaugeScope::All),
    ("uptime", GaugeScope::All),
    ("max_latency", GaugeScope::All),
    ("outstanding_tls_handshake", GaugeScope::All),
    ("learners", GaugeScope::Leader),
    ("min_client_response_size", GaugeScope::All),
    ("non_mtls_local_conn_count", GaugeScope::All),
    ("quorum_size", GaugeScope::Quorum),
];

/// `ServerMetrics` counters, in Java 3.8.0's print order.
const COUNTERS: [&str; 47] = [
    "proposal_count",
    "watch_bytes",
    "outstanding_changes_removed",
    "throttled_ops",
    "stale_requests_dropped",
    "large_requests_rejected",
    "insecure_admin_count",
    "connection_rejected",
    "cnxn_closed_without_zk_server_running",
    "sessionless_connections_expired",
    "looking_count",
    "dead_watchers_queued",
    "stale_requests",
    "connection_drop_count",
    "learner_proposal_received_count",
    "digest_mismatches_count",
    "dead_watchers_cleared",
    "response_packet_cache_hits",
    "bytes_received_count",
    "add_dead_watcher_stall_time",
    "request_throttle_wait_count",
    "requests_not_forwarded_to_commit_processor",
    "response_packet_cache_misses",
    "ensemble_auth_success",
    "prep_processor_request_queued",
    "learner_commit_received_count",
    "stale_replies",
    "connection_request_count",
    "response_bytes",
    "ensemble_auth_fail",
    "diff_count",
    "response_packet_get_children_cache_misses",
    "connection_revalidate_count",
    "quit_leading_due_to_disloyal_voter",
    "snap_count",
    "unrecoverable_error_count",
    "unsuccessful_handshake",
    "commit_count",
    "stale_sessions_expired",
    "response_packet_get_children_cache_hits",
    "sync_processor_request_queued",
    "outstanding_changes_queued",
    "request_commit_queued",
    "ensemble_auth_skip",
    "skip_learner_request_to_next_processor_count",
    "tls_handshake_exceeded",
    "revalidate_count",
];

/// `ServerMetrics` basic summaries (avg/min/max/cnt/sum), in print order.
const SUMMARIES: [&str; 41] = [
    "socket_closing_time",
    "proposal_process_time",
    "leader_unavailable_time",
    "node_created_watch_count",
    "session_queues_drained",
    "write_commit_proc_req_queued",
    "connection_token_deficit",
    "read_commit_proc_req_queued",
    "node_deleted_watch_count",
    "startup_txns_load_time",
    "sync_processor_queue_size",
    "follower_sync_time",
    "prep_processor_queue_size",
    "fsynctime",
    "inflight_snap_count",
    "reads_issued_from_session_queue",
    "learner_request_processor_queue_size",
    "snapshottime",
    "unavailable_time",
    "startup_txns_loaded",
    "reads_after_write_in_session_queue",
    "requests_in_session_queue",
    "write_commit_proc_issued",
    "prep_process_time",
    "pending_session_queue_size",
    "time_waiting_empty_pool_in_commit_processor_read_ms",
    "commit_process_time",
    "dbinittime",
    "inflight_diff_count",
    "netty_queued_buffer_capacity",
    "election_time",
    "commit_commit_proc_req_queued",
    "sync_processor_batch_size",
    "node_children_watch_count",
    "write_batch_time_in_commit_processor",
    "read_commit_proc_issued",
    "concurrent_request_processing_in_commit_processor",
    "observer_sync_time",
    "node_changed_watch_count",
    "sync_process_time",
    "startup_snap_load_time",
];

/// `ServerMetrics` percentile summaries (plus p50/p95/p99/p999), in print order.
const PERCENTILE_SUMMARIES: [&str; 23] = [
    "prep_processor_queue_time_ms",
    "jvm_pause_time_ms",
    "close_session_prep_time",
    "read_commitproc_time_ms",
    "updatelatency",
    "local_write_committed_time_ms",
    "request_throttle_queue_time_ms",
    "readlatency",
    "quorum_ack_latency",
    "om_commit_process_time_ms",
    "read_final_proc_time_ms",
    "commit_propagation_latency",
    "dead_watchers_cleaner_latency",
    "write_final_proc_time_ms",
    "proposal_ack_creation_latency",
    "proposal_latency",
    "om_proposal_process_time_ms",
    "sync_processor_queue_and_flush_time_ms",
    "propagation_latency",
    "server_write_committed_time_ms",
    "sync_processor_queue_time_ms",
    "sync_processor_queue_flush_time_ms",
    "write_commitproc_time_ms",
];

fn render_mntr(o: &mut String, info: &FourLwInfo) {
    let mut line = |k: &str, v: String| {
        let _ = writeln!(o, "zk_{k}\t{v}");
    };
    line("version", info.version.clone());
    line("server_state", info.server_state.clone());
    if let Some(ps) = &info.peer_state {
        line("peer_state", ps.clone());
    }
    if let Some(id) = info.observer_master_id {
        line("observer_master_id", id.to_string());
    }
    for (name, scope) in GAUGES {
        let present = match scope {
            GaugeScope::All => true,
            GaugeScope::Leader => info.leader.is_some(),
            GaugeScope::Quorum => info.quorum_size.is_some(),
            GaugeScope::SyncedObservers => info.synced_observers.is_some(),
        };
        if present {
            line(name, gauge_value(name, info));
        }
    }
    for name in COUNTERS {
        line(name, info.counters.get(name).copied().unwrap_or(0).to_string());
    }
    for name in SUMMARIES {
        let s = info.summaries.get(name).copied().unwrap_or_default();
        summary_lines(&mut line, name, &s);
    }
    for name in PERCENTILE_SUMMARIES {
        let p = info.percentile_summaries.get(name).copied().unwrap_or_default();
        summary_lines(&mut line, name, &p.summary);
        line(&format!("p50_{name}"), p.p50.to_string());
        line(&format!("p95_{name}"), p.p95.to_string());
        line(&format!("p99_{name}"), p.p99.to_string());
        line(&format!("p999_{name}"), p.p999.to_string());
    }
}

fn summary_lines(line: &mut impl FnMut(&str, String), name: &str, s: &Summary) {
    line(&format!("avg_{name}"), java_double(s.avg()));
    line(&format!("min_{name}"), s.min_or_zero().to_string());
    line(&format!("max_{name}"), s.max.to_string());
    line(&format!("cnt_{name}"), s.count.to_string());
    line(&format!("sum_{name}"), s.total.to_string());
}

fn gauge_value(name: &str, info: &FourLwInfo) -> String {
    let leader = info.leader.clone().unwrap_or_default();
    let v: i64 = match name {
        "avg_latency" => return java_double(info.latency.avg()),
        // getConnectionDropChance() is a double; ruzk never drops connections on purpose.
        "connection_drop_probability" => return java_double(0.0),
        "ephemerals_count" => info.ephemerals_count,
        "num_alive_connections" => info.num_alive_connections,
        "outstanding_requests" => info.outstanding_requests,
        "znode_count" => info.node_count,
        "global_sessions" => info.global_sessions,
        "local_sessions" => info.local_sessions,
        "last_client_response_size" => i64::from(info.client_response_sizes.last),
        "max_client_response_size" => i64::from(info.client_response_sizes.max),
        "min_client_response_size" => i64::from(info.client_response_sizes.min),
        "packets_sent" => info.packets_sent,
        "packets_received" => info.packets_received,
        "watch_count" => info.watch_count,
        "min_latency" => info.latency.min_or_zero(),
        "max_latency" => info.latency.max,
        "max_file_descriptor_count" => info.max_file_descriptor_count,
        "open_file_descriptor_count" => info.open_file_descriptor_count,
        "approximate_data_size" => info.approximate_data_size,
        "uptime" => info.uptime_ms,
        "min_proposal_size" => i64::from(leader.proposal_sizes.min),
        "max_proposal_size" => i64::from(leader.proposal_sizes.max),
        "last_proposal_size" => i64::from(leader.proposal_sizes.last),
        "synced_followers" => leader.synced_followers,
        "synced_non_voting_followers" => leader.synced_non_voting_followers,
        "pending_syncs" => leader.pending_syncs,
        "leader_uptime" => leader.leader_uptime_ms,
        "learners" => leader.learners,
        "synced_observers" => info.synced_observers.unwrap_or(0),
        "quorum_size" => info.quorum_size.unwrap_or(0),
        // auth_failed_count, non_mtls_*_conn_count, outstanding_tls_handshake: no TLS, no SASL.
        _ => 0,
    };
    v.to_string()
}

// ---------------------------------------------------------------------------------------------
// Java formatting helpers
// ---------------------------------------------------------------------------------------------

/// `new BigDecimal(v).setScale(4, RoundingMode.HALF_UP).doubleValue()`: rounds the exact
/// binary value of `v`, not its shortest decimal form.
fn round_half_up_4(v: f64) -> f64 {
    if !v.is_finite() {
        return v;
    }
    // 1100 places print any double exactly (the smallest subnormal needs 1074).
    let exact = format!("{:.1100}", v.abs());
    let Some((int_part, frac)) = exact.split_once('.') else {
        return v;
    };
    let keep: String = frac.chars().take(4).collect();
    let round_up = frac.chars().nth(4).is_some_and(|d| d >= '5');
    let mut digits: Vec<u8> = format!("{int_part}{keep}").into_bytes();
    if round_up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if let Some(d) = digits.get_mut(i) {
                if *d == b'9' {
                    *d = b'0';
                } else {
                    *d += 1;
                    break;
                }
            }
        }
    }
    let s = String::from_utf8(digits).unwrap_or_default();
    let split = s.len().saturating_sub(4);
    let text = format!("{}.{}", s.get(..split).unwrap_or("0"), s.get(split..).unwrap_or("0"));
    let r: f64 = text.parse().unwrap_or(v.abs());
    if v < 0.0 {
        -r
    } else {
        r
    }
}

/// `Double.toString`: plain decimal with at least one fraction digit in [1e-3, 1e7), otherwise
/// `d.dddE±n`. Digits are the shortest that round-trip, as Java 19+ prints them; Java 17 differs
/// only for rare values, never for the 4-decimal numbers the four-letter words print.
pub fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{v}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{v:e}");
    let (mant, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let mant = if mant.contains('.') { mant.to_string() } else { format!("{mant}.0") };
    format!("{mant}E{exp}")
}

/// `InetSocketAddress.toString` for an accepted socket: `/ip:port`, IPv6 in brackets and in
/// Java's uncompressed form.
fn java_socket_addr(a: &SocketAddr) -> String {
    match a {
        SocketAddr::V4(v4) => format!("/{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => {
            let ip = v6.ip().segments().iter().map(|s| format!("{s:x}")).collect::<Vec<_>>().join(":");
            format!("/[{ip}]:{}", v6.port())
        }
    }
}

/// `java.util.Date.toString` in UTC: `EEE MMM dd HH:mm:ss zzz yyyy`. (Java uses the JVM's
/// time zone; ruzk always prints UTC.)
fn java_date(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86400);
    let tod = secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    let wd = DAYS.get(days.rem_euclid(7) as usize).copied().unwrap_or("???");
    let mon = MONTHS.get((m - 1) as usize).copied().unwrap_or("???");
    format!("{wd} {mon} {d:02} {:02}:{:02}:{:02} UTC {y}", tod / 3600, tod % 3600 / 60, tod % 60)
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::path::Path;

    const JAVA_VERSION: &str = "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC";
    const S0: i64 = 0x10000055f280000;
    const S1: i64 = 0x10000055f280001;

    fn captured(name: &str) -> String {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/4lw").join(name);
        std::fs::read_to_string(p).unwrap()
    }

    fn config(text: &str, myid: Option<&str>) -> Config {
        let myid = myid.map(str::to_string);
        let reader = move |p: &Path| {
            if p.ends_with("myid") {
                myid.clone()
            } else {
                None
            }
        };
        Config::parse(Path::new("zoo.cfg"), text, &crate::config::Props::new(), &reader).unwrap()
    }

    /// The standalone server the captures in tests/data/4lw came from.
    fn standalone_config() -> Config {
        config(
            "tickTime=2000\ndataDir=/tmp/cfgwork/j1/data\nclientPort=21101\nclientPortAddress=127.0.0.1\n\
             4lw.commands.whitelist=*\nadmin.enableServer=false\n",
            None,
        )
    }

    fn latency(count: i64, total: i64, min: i64, max: i64) -> Summary {
        Summary { count, total, min, max }
    }

    fn conn(port: u16, ops: i32, recved: i64, sent: i64) -> ConnectionInfo {
        ConnectionInfo {
            remote: SocketAddr::from(([127, 0, 0, 1], port)),
            interest_ops: ops,
            outstanding: 0,
            packets_received: recved,
            packets_sent: sent,
            session_id: 0,
            last_op: "NA".into(),
            established_ms: 0,
            session_timeout_ms: 0,
            last_cxid: -1,
            last_zxid: -1,
            last_response_time_ms: 0,
            last_latency_ms: 0,
            latency: Summary::default(),
        }
    }

    /// State matching the standalone capture: two sessions, two ephemerals, three data watches.
    fn standalone_info() -> FourLwInfo {
        FourLwInfo {
            version: JAVA_VERSION.into(),
            serving: true,
            server_state: "standalone".into(),
            last_zxid: 5,
            node_count: 8,
            num_alive_connections: 3,
            data_watches: vec![(S1, vec!["/a".into()]), (S0, vec!["/a".into(), "/a/e1".into()])],
            watch_count: 4,
            ephemerals: vec![(S1, vec!["/a/e1".into()]), (S0, vec!["/a/e2".into()])],
            data_dir_size: 67109337,
            log_dir_size: 67109337,
            snap_dir: PathBuf::from("/tmp/cfgwork/j1/data/version-2"),
            log_dir: PathBuf::from("/tmp/cfgwork/j1/data/version-2"),
            client_port: 21101,
            server_id: 0,
            trace_mask: 306,
            ..FourLwInfo::default()
        }
    }

    #[test]
    fn command_ints_are_the_ascii_bytes_big_endian() {
        assert_eq!(command_from_int(0x72756f6b), Some(FourLw::Ruok));
        assert_eq!(command_from_int(0x6d6e7472), Some(FourLw::Mntr));
        assert_eq!(command_from_int(0x73746d6b), Some(FourLw::Stmk));
        assert_eq!(command_from_int(0xfff4fffd_u32 as i32), Some(FourLw::TelnetClose));
        assert_eq!(command_from_int(0x78787878), None);
        assert_eq!(command_from_int(45), None, "an ordinary frame length is not a command");
        for c in ALL {
            assert_eq!(command_from_int(c.code()), Some(c));
        }
    }

    #[test]
    fn default_whitelist_allows_only_srvr() {
        let cfg = config("dataDir=/d\nclientPort=1\n", None);
        let info = standalone_info();
        assert_eq!(render(FourLw::Mntr, &info, &cfg), "mntr is not executed because it is not in the whitelist.\n");
        assert_eq!(render(FourLw::Ruok, &info, &cfg), "ruok is not executed because it is not in the whitelist.\n");
        assert!(render(FourLw::Srvr, &info, &cfg).starts_with("Zookeeper version: "));
        assert_eq!(side_effect(FourLw::Srst, &info, &cfg), None);
        assert!(!is_allowed(FourLw::TelnetClose, &cfg.four_letter_whitelist));
        assert!(!needs_mask_bytes(FourLw::Stmk, &cfg.four_letter_whitelist));
        assert!(needs_mask_bytes(FourLw::Stmk, &standalone_config().four_letter_whitelist));
        assert!(!needs_mask_bytes(FourLw::Gtmk, &standalone_config().four_letter_whitelist));
    }

    #[test]
    fn from_config_fills_what_the_configuration_decides() {
        let info = FourLwInfo::from_config(&config("dataDir=data\nclientPort=21101\n", Some("4")), Path::new("/srv"));
        assert_eq!(info.snap_dir, PathBuf::from("/srv/data/version-2"));
        assert_eq!(info.log_dir, PathBuf::from("/srv/data/version-2"));
        assert_eq!((info.client_port, info.server_id, info.trace_mask), (21101, 0, 306));
        assert_eq!((info.server_state.as_str(), info.quorum_size, info.serving), ("standalone", None, false));
        let ens = config(
            "initLimit=1\nsyncLimit=1\ndataDir=/d\ndataLogDir=/l\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2:observer\n",
            Some("2"),
        );
        let info = FourLwInfo::from_config(&ens, Path::new("/srv"));
        assert_eq!((info.client_port, info.server_id, info.quorum_size), (-1, 2, Some(2)));
        assert_eq!(info.log_dir, PathBuf::from("/l/version-2"));
    }

    #[test]
    fn hash_and_whitelist_texts_match_a_second_capture() {
        // Java 3.8.0 with `4lw.commands.whitelist=hash, srvr ,ruok` after 300 creates.
        let cfg = config("dataDir=/d\nclientPort=1\n4lw.commands.whitelist=hash, srvr ,ruok\n", None);
        let info = FourLwInfo { digest_log: vec![(0x80, 278142866775), (0x100, 536230571305)], ..standalone_info() };
        assert_eq!(render(FourLw::Hash, &info, &cfg), captured("hash_300.txt"));
        assert_eq!(render(FourLw::Mntr, &info, &cfg), captured("not_whitelisted_mntr.txt"));
        assert_eq!(
            render(FourLw::TelnetClose, &info, &cfg),
            "telnet close is not executed because it is not in the whitelist.\n"
        );
        let negative = FourLwInfo { digest_log: vec![(0x180, -5)], ..standalone_info() };
        assert_eq!(render(FourLw::Hash, &negative, &cfg), "180: -5\n");
    }

    #[test]
    fn not_serving_text_where_java_checks() {
        let cfg = standalone_config();
        let info = FourLwInfo { serving: false, trace_mask: 306, ..standalone_info() };
        assert_eq!(render(FourLw::Srvr, &info, &cfg), format!("{ZK_NOT_SERVING}\n"));
        assert_eq!(render(FourLw::Mntr, &info, &cfg), format!("{ZK_NOT_SERVING}\n"));
        assert_eq!(render(FourLw::Hash, &info, &cfg), ZK_NOT_SERVING, "DigestCommand uses print");
        assert_eq!(render(FourLw::Isro, &info, &cfg), "null");
        assert_eq!(render(FourLw::Ruok, &info, &cfg), "imok");
        assert_eq!(render(FourLw::Gtmk, &info, &cfg), "306");
        assert!(render(FourLw::Envi, &info, &cfg).starts_with("Environment:\n"));
        assert_eq!(side_effect(FourLw::Crst, &info, &cfg), None);
        assert_eq!(side_effect(FourLw::Stmk, &info, &cfg), Some(SideEffect::SetTraceMask));
    }

    #[test]
    fn simple_commands_match_the_capture() {
        let cfg = standalone_config();
        let info = standalone_info();
        assert_eq!(render(FourLw::Ruok, &info, &cfg), captured("ruok.txt"));
        assert_eq!(render(FourLw::Isro, &info, &cfg), captured("isro.txt"));
        assert_eq!(render(FourLw::Gtmk, &info, &cfg), captured("gtmk.txt"));
        assert_eq!(render(FourLw::Dirs, &info, &cfg), captured("dirs.txt"));
        assert_eq!(render(FourLw::Crst, &info, &cfg), captured("crst.txt"));
        assert_eq!(render(FourLw::Srst, &info, &cfg), captured("srst.txt"));
        assert_eq!(render(FourLw::Hash, &info, &cfg), captured("hash.txt"));
        let stmk = FourLwInfo { trace_mask: 15, ..standalone_info() };
        assert_eq!(render(FourLw::Stmk, &stmk, &cfg), captured("stmk.txt"));
        assert_eq!(side_effect(FourLw::Crst, &info, &cfg), Some(SideEffect::ResetConnectionStats));
        assert_eq!(side_effect(FourLw::TelnetClose, &info, &cfg), Some(SideEffect::Close));
        assert_eq!(render(FourLw::TelnetClose, &info, &cfg), "");
        let ro = FourLwInfo { read_only: true, ..standalone_info() };
        assert_eq!(render(FourLw::Isro, &ro, &cfg), "ro");
    }

    #[test]
    fn srvr_and_stat_match_the_capture() {
        let cfg = standalone_config();
        let info =
            FourLwInfo { latency: latency(30, 29, 0, 10), packets_received: 34, packets_sent: 33, ..standalone_info() };
        assert_eq!(render(FourLw::Srvr, &info, &cfg), captured("srvr.txt"));
        let info = FourLwInfo {
            latency: latency(31, 29, 0, 10),
            packets_received: 36,
            packets_sent: 35,
            connections: vec![conn(54528, 0, 1, 0), conn(60636, 1, 25, 25), conn(60634, 1, 6, 6)],
            ..standalone_info()
        };
        assert_eq!(render(FourLw::Stat, &info, &cfg), captured("stat.txt"));
        let ro = FourLwInfo { read_only: true, server_state: "read-only".into(), ..standalone_info() };
        let text = render(FourLw::Srvr, &ro, &cfg);
        assert!(text.contains(", built on 2024-12-29 17:54 UTC\nREAD-ONLY mode; serving only read-only clients\n"));
        assert!(text.contains("Mode: read-only\n"));
    }

    #[test]
    fn cons_matches_the_capture_including_a_connection_without_session() {
        let cfg = standalone_config();
        let mut c1 = conn(60636, 1, 26, 26);
        c1.session_id = S1;
        c1.last_op = "PING".into();
        c1.established_ms = 1795603076121;
        c1.session_timeout_ms = 30000;
        c1.last_cxid = 0x18;
        c1.last_zxid = 5;
        c1.last_response_time_ms = 377213;
        c1.last_latency_ms = 1;
        c1.latency = latency(26, 13, 0, 10);
        let mut c0 = conn(60634, 1, 7, 7);
        c0.session_id = S0;
        c0.last_op = "PING".into();
        c0.established_ms = 1795603076121;
        c0.session_timeout_ms = 10000;
        c0.last_cxid = 3;
        c0.last_zxid = 5;
        c0.last_response_time_ms = 377189;
        c0.latency = latency(7, 7, 0, 5);
        let info = FourLwInfo { connections: vec![conn(54560, 0, 1, 0), c1, c0], ..standalone_info() };
        assert_eq!(render(FourLw::Cons, &info, &cfg), captured("cons.txt"));
        // After crst Java prints no lcxid (-1); lzxid -1 would print as 64 bits of hex.
        let mut reset = conn(1, 1, 0, 0);
        reset.session_id = 1;
        let text = render(FourLw::Cons, &FourLwInfo { connections: vec![reset], ..standalone_info() }, &cfg);
        assert!(text.contains(",to=0,lzxid=0xffffffffffffffff,lresp=0,"), "{text}");
    }

    #[test]
    fn conf_matches_standalone_and_leader_captures() {
        assert_eq!(render(FourLw::Conf, &standalone_info(), &standalone_config()), captured("conf.txt"));
        let cfg = config(
            "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/tmp/cfgwork/q3/data\nclientPort=21113\n\
             clientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nadmin.enableServer=false\n\
             server.1=127.0.0.1:21121:21131\nserver.2=127.0.0.1:21122:21132\n\
             server.3=127.0.0.1:21123:21133;127.0.0.1:21113\n",
            Some("3"),
        );
        let info = FourLwInfo {
            data_dir_size: 613,
            log_dir_size: 613,
            snap_dir: PathBuf::from("/tmp/cfgwork/q3/data/version-2"),
            log_dir: PathBuf::from("/tmp/cfgwork/q3/data/version-2"),
            client_port: 21113,
            server_id: cfg.effective_server_id(),
            server_state: "leader".into(),
            ..standalone_info()
        };
        assert_eq!(render(FourLw::Conf, &info, &cfg), captured("leader_conf.txt"));
    }

    #[test]
    fn watch_commands_match_the_capture() {
        let cfg = standalone_config();
        let info = standalone_info();
        assert_eq!(render(FourLw::Wchs, &info, &cfg), captured("wchs.txt"));
        assert_eq!(render(FourLw::Wchc, &info, &cfg), captured("wchc.txt"));
        assert_eq!(render(FourLw::Wchp, &info, &cfg), captured("wchp.txt"));
    }

    #[test]
    fn dump_matches_the_capture() {
        let cfg = standalone_config();
        let b = |t: i64, entries: Vec<i64>| ExpiryBucket { expire_at_ms: t, entries };
        let cref =
            |port: u16, session_id: i64| ConnectionRef { remote: SocketAddr::from(([127, 0, 0, 1], port)), session_id };
        let info = FourLwInfo {
            sessions: SessionDump::Expiry {
                local: None,
                global: vec![
                    b(1795603107000, vec![]),
                    b(1795603093000, vec![]),
                    b(1795603097000, vec![]),
                    b(1795603101000, vec![S0]),
                    b(1795603117000, vec![S1]),
                ],
            },
            connection_expiry: vec![
                ExpiryBucket { expire_at_ms: 1795603099000, entries: vec![] },
                ExpiryBucket { expire_at_ms: 1795603109000, entries: vec![cref(50756, 0), cref(60634, S0)] },
                ExpiryBucket { expire_at_ms: 1795603119000, entries: vec![cref(60636, S1)] },
            ],
            ..standalone_info()
        };
        assert_eq!(render(FourLw::Dump, &info, &cfg), captured("dump.txt"));
        let learner = FourLwInfo {
            sessions: SessionDump::Learner { local: None, global: vec![(S1, 30000), (S0, 10000)] },
            ..info
        };
        let text = render(FourLw::Dump, &learner, &cfg);
        assert!(text.starts_with(&format!(
            "SessionTracker dump:\nGlobal Sessions(2):\n0x{S0:x}\t10000ms\n0x{S1:x}\t30000ms\nephemeral nodes dump:\n"
        )));
    }

    #[test]
    fn envi_has_javas_keys_in_order() {
        let cfg = standalone_config();
        let info = FourLwInfo {
            env: EnvInfo { host_name: Some("localhost".into()), memory_max_mb: 256, ..EnvInfo::default() },
            ..standalone_info()
        };
        let got = render(FourLw::Envi, &info, &cfg);
        let keys = |t: &str| t.lines().map(|l| l.split('=').next().unwrap().to_string()).collect::<Vec<_>>();
        assert_eq!(keys(&got), keys(&captured("envi.txt")));
        assert!(got.contains("\nhost.name=localhost\njava.version=<NA>\n"));
        assert!(got.ends_with("os.memory.max=256MB\nos.memory.total=0MB\n"));
        assert!(got.starts_with(&format!("Environment:\nzookeeper.version={JAVA_VERSION}\n")));
    }

    fn mntr_keys(text: &str) -> Vec<String> {
        text.lines().map(|l| l.split('\t').next().unwrap().to_string()).collect()
    }

    /// Java's per-namespace and per-learner metric sets appear only with traffic; ruzk leaves
    /// them out.
    fn without_dynamic_sets(keys: Vec<String>) -> Vec<String> {
        keys.into_iter().filter(|k| !k.ends_with("_per_namespace") && !k.contains("_learner_handler_qp_")).collect()
    }

    #[test]
    fn mntr_standalone_has_javas_keys_in_javas_order() {
        let cfg = standalone_config();
        let mut info = standalone_info();
        info.latency = latency(31, 29, 0, 10);
        info.counters.insert("digest_mismatches_count".into(), 7);
        info.summaries.insert("fsynctime".into(), latency(4, 5, 1, 2));
        info.percentile_summaries.insert(
            "readlatency".into(),
            PercentileSummary { summary: latency(26, 6, 0, 1), p50: 0, p95: 1, p99: 1, p999: 1 },
        );
        let got = render(FourLw::Mntr, &info, &cfg);
        assert_eq!(mntr_keys(&got), without_dynamic_sets(mntr_keys(&captured("mntr.txt"))));
        assert!(got.starts_with(&format!("zk_version\t{JAVA_VERSION}\nzk_server_state\tstandalone\n")));
        for line in [
            "zk_avg_latency\t0.9355",
            "zk_znode_count\t8",
            "zk_watch_count\t4",
            "zk_connection_drop_probability\t0.0",
            "zk_digest_mismatches_count\t7",
            "zk_avg_fsynctime\t1.25",
            "zk_min_fsynctime\t1",
            "zk_sum_fsynctime\t5",
            "zk_avg_readlatency\t0.2308",
            "zk_p95_readlatency\t1",
            "zk_avg_snapshottime\t0.0",
            "zk_min_snapshottime\t0",
            "zk_last_client_response_size\t-1",
        ] {
            assert!(got.contains(&format!("\n{line}\n")), "missing {line:?}");
        }
    }

    #[test]
    fn mntr_leader_and_follower_keys_match_the_captures() {
        let cfg = standalone_config();
        let leader = FourLwInfo {
            server_state: "leader".into(),
            peer_state: Some("leading - broadcast".into()),
            leader: Some(LeaderInfo { learners: 2, synced_followers: 2, ..LeaderInfo::default() }),
            synced_observers: Some(0),
            quorum_size: Some(3),
            ..standalone_info()
        };
        let got = render(FourLw::Mntr, &leader, &cfg);
        assert_eq!(mntr_keys(&got), without_dynamic_sets(mntr_keys(&captured("leader_mntr.txt"))));
        assert!(got.contains("\nzk_peer_state\tleading - broadcast\n"));
        assert!(got.contains("\nzk_min_proposal_size\t-1\n"));
        assert!(got.contains("\nzk_synced_followers\t2\n"));
        let srvr = render(FourLw::Srvr, &leader, &cfg);
        assert!(srvr.ends_with("Mode: leader\nNode count: 8\nProposal sizes last/min/max: -1/-1/-1\n"));
        let follower = FourLwInfo {
            server_state: "follower".into(),
            peer_state: Some("following - broadcast".into()),
            quorum_size: Some(3),
            ..standalone_info()
        };
        let got = render(FourLw::Mntr, &follower, &cfg);
        assert_eq!(mntr_keys(&got), without_dynamic_sets(mntr_keys(&captured("follower_mntr.txt"))));
    }

    #[test]
    fn averages_round_half_up_on_the_exact_binary_value() {
        assert_eq!(latency(31, 29, 0, 0).avg(), 0.9355);
        assert_eq!(latency(3, 2, 0, 0).avg(), 0.6667);
        assert_eq!(latency(0, 0, 0, 0).avg(), 0.0);
        assert_eq!(round_half_up_4(2.00005), 2.0, "2.00005 is stored just below the half");
        assert_eq!(round_half_up_4(1.00005), 1.0001, "1.00005 is stored just above the half");
        assert_eq!(round_half_up_4(0.00015), 0.0001);
        assert_eq!(round_half_up_4(9.99996), 10.0);
        assert_eq!(round_half_up_4(-0.12346), -0.1235);
    }

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(0.9355), "0.9355");
        assert_eq!(java_double(74.875), "74.875");
        assert_eq!(java_double(6.3333), "6.3333");
        assert_eq!(java_double(0.001), "0.001");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(0.00015), "1.5E-4");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(12345678.9), "1.23456789E7");
        assert_eq!(java_double(-2.5), "-2.5");
    }

    #[test]
    fn dates_and_addresses_print_like_java() {
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(java_date(1795603093000), "Wed Nov 25 10:38:13 UTC 2026");
        assert_eq!(java_date(951782400000), "Tue Feb 29 00:00:00 UTC 2000");
        assert_eq!(java_socket_addr(&"[::1]:5".parse().unwrap()), "/[0:0:0:0:0:0:0:1]:5");
        assert_eq!(java_socket_addr(&"10.1.2.3:2181".parse().unwrap()), "/10.1.2.3:2181");
    }

    #[test]
    fn version_keeps_the_parts_scripts_split_on() {
        let v = version_string();
        assert!(v.starts_with("3.8.0-ruzk-"), "{v}");
        assert!(v.contains(", built on "), "{v}");
    }
}
