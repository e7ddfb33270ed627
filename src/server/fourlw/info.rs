//! The plain snapshot the four-letter words print from ([`FourLwInfo`]) and its parts. The core
//! fills it (`from_server.rs`); fields it cannot know keep defaults that print as Java's zeros.

use super::java_fmt::round_half_up_4;
use crate::config::Config;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The version text after `Zookeeper version: ` (the crate's `VERSION_STRING`): Java's form
/// `3.8.0-<build>, built on <date>`, since scripts split on `-` and on `, built on `.
pub fn version_string() -> String {
    crate::VERSION_STRING.to_string()
}

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
