//! `zoo.cfg`, `myid` and Java system properties (`-Dk=v`), parsed the way Java ZooKeeper 3.8.0
//! does it (`QuorumPeerConfig.parse`/`parseProperties`/`setupQuorumPeerConfig`,
//! `QuorumPeer.QuorumServer`, `QuorumMaj`, `ServerConfig`, and the scattered
//! `System.getProperty` reads of the server classes).
//!
//! Parsing is pure: [`Config::parse`] takes the file text, a [`Props`] and a file reader
//! (for `dataDir/myid` and `dynamicConfigFile`); only [`Config::load`] touches the disk.
//! Java quirks kept on purpose, because operators' files rely on them:
//! - a key QuorumPeerConfig does not know becomes system property `zookeeper.<key>`, and it
//!   *overwrites* a `-D` of the same name (`System.setProperty` runs after the JVM started);
//! - properties without the `zookeeper.` prefix (`readonlymode.enabled`, `jute.maxbuffer`,
//!   `znode.container.*`) therefore cannot be set from zoo.cfg, only with `-D`;
//! - one voting server with `standaloneEnabled=true` (the default) means standalone;
//! - `myid` is the first line, parsed as a Java long without trimming.
//!
//! Must not depend on anything above it: no tree, server or runtime types.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

pub mod jaas;
mod known;
mod parse;
mod properties;
mod servers;

pub use properties::{parse_properties, PropLine, Props};
pub use servers::{HostPort, PeerType, QuorumServer, ServerAddr};

use properties::{java_decode_long, java_parse_int, java_parse_long, java_trim};
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::Path;
use std::path::PathBuf;

/// Why a configuration was rejected. Messages name the file, and where a single key is to
/// blame, its line and key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A value that does not parse, or a key that is not allowed where it is.
    #[error("{file} line {line}: {key}: {msg}")]
    Key {
        /// The file as it was named to us.
        file: String,
        /// 1-based line where the key's (last) definition starts.
        line: usize,
        /// The key as written.
        key: String,
        /// What is wrong with it.
        msg: String,
    },
    /// A rule about the whole file (Java's wording where Java has one).
    #[error("{file}: {msg}")]
    File {
        /// The file as it was named to us.
        file: String,
        /// What is wrong.
        msg: String,
    },
    /// The file could not be read.
    #[error("cannot read {file}: {msg}")]
    Io {
        /// The path.
        file: String,
        /// The OS error.
        msg: String,
    },
}

type Result<T> = std::result::Result<T, ConfigError>;

/// `zookeeper.snapshot.compression.method` (`SnapStream.StreamMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotCompression {
    /// `""`: plain stream with an Adler-32 trailer ("CHECKED").
    Checked,
    /// `gz`.
    Gzip,
    /// `snappy`.
    Snappy,
}

/// `zookeeper.4lw.commands.whitelist` after `FourLetterCommands.isEnabled` expanded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FourLetterWhitelist {
    /// `*` appeared: every known command (Java also counts "telnet close").
    All,
    /// Exactly these names (always including `srvr`, and `isro` in read-only mode).
    Only(BTreeSet<String>),
}

impl FourLetterWhitelist {
    /// Whether the command named `name` (e.g. `mntr`) may run.
    pub fn allows(&self, name: &str) -> bool {
        match self {
            FourLetterWhitelist::All => true,
            FourLetterWhitelist::Only(s) => s.contains(name),
        }
    }

    /// `FourLetterCommands.isEnabled` on a property value.
    pub fn from_property(value: Option<&str>, readonly_mode_property: Option<&str>) -> FourLetterWhitelist {
        let mut set = BTreeSet::new();
        if let Some(v) = value {
            for cmd in v.split(',') {
                let cmd = java_trim(cmd);
                if cmd == "*" {
                    return FourLetterWhitelist::All;
                }
                if !cmd.is_empty() {
                    set.insert(cmd.to_string());
                }
            }
        }
        // Java compares with equals("true") here, unlike Boolean.getBoolean elsewhere.
        if readonly_mode_property == Some("true") {
            set.insert("isro".to_string());
        }
        set.insert("srvr".to_string());
        FourLetterWhitelist::Only(set)
    }
}

/// The parsed configuration: zoo.cfg keys, `myid`, and every system property the server reads.
/// Raw integers keep Java's types and a unit suffix; `-1`-style "unset" values are resolved
/// as Java resolves them.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The config file as named to us (`None` for [`Config::default_standalone`]).
    pub config_path: Option<PathBuf>,
    /// `myid`, or `None` when `dataDir/myid` does not exist.
    pub server_id: Option<i64>,

    /// `tickTime` (default 3000 in Java; 2000 in the sample zoo.cfg).
    pub tick_time_ms: i32,
    /// `dataDir`: snapshots (under `version-2/`) and `myid`.
    pub data_dir: PathBuf,
    /// `dataLogDir`, defaulting to `data_dir`.
    pub data_log_dir: PathBuf,
    /// `clientPort` (`None` when unset or 0), possibly taken from this server's `server.N` line.
    pub client_port: Option<u16>,
    /// `clientPortAddress` host; `None` = all interfaces.
    pub client_port_address: Option<String>,
    /// `secureClientPort`; TLS is not implemented, the runtime must refuse to start with it.
    pub secure_client_port: Option<u16>,
    /// `secureClientPortAddress`.
    pub secure_client_port_address: Option<String>,
    /// `observerMasterPort`.
    pub observer_master_port: Option<u16>,
    /// `clientPortListenBacklog` (-1 = OS default).
    pub client_port_listen_backlog: i32,
    /// `maxClientCnxns` per client IP (0 = unlimited).
    pub max_client_cnxns: i32,
    /// `minSessionTimeout`, resolved (-1 ⇒ 2 × tick).
    pub min_session_timeout_ms: i32,
    /// `maxSessionTimeout`, resolved (-1 ⇒ 20 × tick).
    pub max_session_timeout_ms: i32,
    /// `initLimit` in ticks (0 = unset; required in an ensemble).
    pub init_limit: i32,
    /// `syncLimit` in ticks (0 = unset; required in an ensemble).
    pub sync_limit: i32,
    /// `connectToLearnerMasterLimit` in ticks.
    pub connect_to_learner_master_limit: i32,
    /// `electionAlg` (only 3 is accepted).
    pub election_alg: i32,
    /// `quorumListenOnAllIPs`.
    pub quorum_listen_on_all_ips: bool,
    /// `peerType`, corrected to the role in this server's `server.N` line as Java does.
    pub peer_type: PeerType,
    /// `syncEnabled` (observers log txns).
    pub sync_enabled: bool,
    /// `dynamicConfigFile`.
    pub dynamic_config_file: Option<PathBuf>,
    /// `autopurge.snapRetainCount` (default 3; values below 3 become 3).
    pub autopurge_snap_retain_count: i32,
    /// `autopurge.purgeInterval` in hours (0 = off).
    pub autopurge_purge_interval_hours: i32,
    /// `standaloneEnabled` (default true).
    pub standalone_enabled: bool,
    /// `reconfigEnabled` (default false).
    pub reconfig_enabled: bool,
    /// `sslQuorum`.
    pub ssl_quorum: bool,
    /// `portUnification`.
    pub port_unification: bool,
    /// `sslQuorumReloadCertFiles`.
    pub ssl_quorum_reload_cert_files: bool,
    /// `localSessionsEnabled`.
    pub local_sessions_enabled: bool,
    /// `localSessionsUpgradingEnabled`.
    pub local_sessions_upgrading_enabled: bool,
    /// `quorum.auth.enableSasl`.
    pub quorum_enable_sasl: bool,
    /// `quorum.auth.serverRequireSasl`.
    pub quorum_server_require_sasl: bool,
    /// `quorum.auth.learnerRequireSasl`.
    pub quorum_learner_require_sasl: bool,
    /// `quorum.auth.learner.saslLoginContext`.
    pub quorum_learner_login_context: String,
    /// `quorum.auth.server.saslLoginContext`.
    pub quorum_server_login_context: String,
    /// `quorum.auth.kerberos.servicePrincipal`.
    pub quorum_service_principal: String,
    /// `quorum.cnxn.threads.size`.
    pub quorum_cnxn_threads_size: i32,
    /// `jvm.pause.monitor`.
    pub jvm_pause_monitor: bool,
    /// `jvm.pause.info-threshold.ms`.
    pub jvm_pause_info_threshold_ms: i64,
    /// `jvm.pause.warn-threshold.ms`.
    pub jvm_pause_warn_threshold_ms: i64,
    /// `jvm.pause.sleep.time.ms`.
    pub jvm_pause_sleep_time_ms: i64,
    /// `metricsProvider.className`.
    pub metrics_provider_class_name: String,
    /// `metricsProvider.<x>` for every other x (prefix removed).
    pub metrics_provider_config: BTreeMap<String, String>,
    /// `multiAddress.enabled` (or `-Dzookeeper.multiAddress.enabled`).
    pub multi_address_enabled: bool,
    /// `multiAddress.reachabilityCheckEnabled`.
    pub multi_address_reachability_check_enabled: bool,
    /// `multiAddress.reachabilityCheckTimeoutMs`.
    pub multi_address_reachability_check_timeout_ms: i32,
    /// `oraclePath`.
    pub oracle_path: Option<String>,

    /// `server.N` lines (participants and observers), by id.
    pub servers: BTreeMap<i64, QuorumServer>,
    /// `group.N` lines (hierarchical quorums; parsed, not otherwise supported).
    pub groups: BTreeMap<i64, Vec<i64>>,
    /// `weight.N` lines.
    pub weights: BTreeMap<i64, i64>,
    /// The QV `version` (hex in the file, or from the dynamic file's name).
    pub quorum_version: i64,

    /// `zookeeper.admin.enableServer` (anything but `false` means on).
    pub admin_enable_server: bool,
    /// `zookeeper.admin.serverPort` (8080).
    pub admin_server_port: i32,
    /// `zookeeper.admin.serverAddress` (0.0.0.0).
    pub admin_server_address: String,
    /// `zookeeper.admin.commandURL` (/commands).
    pub admin_command_url: String,

    /// `zookeeper.snapCount` (100000; at least 2).
    pub snap_count: i32,
    /// `zookeeper.preAllocSize` in KiB (65536).
    pub pre_alloc_size_kb: i64,
    /// `zookeeper.txnLogSizeLimitInKb` (-1 = off).
    pub txn_log_size_limit_kb: i64,
    /// `zookeeper.snapSizeLimitInKb` (4194304; <= 0 = off).
    pub snap_size_limit_kb: i64,
    /// `zookeeper.forceSync` (anything but `no` means fsync).
    pub force_sync: bool,
    /// `zookeeper.fsync.warningthresholdms`, else `fsync.warningthresholdms` (1000).
    pub fsync_warning_threshold_ms: i64,
    /// `zookeeper.extendedTypesEnabled` (TTL nodes).
    pub extended_types_enabled: bool,
    /// `zookeeper.emulate353TTLNodes`.
    pub emulate_353_ttl_nodes: bool,
    /// `jute.maxbuffer` (0xfffff). Only `-D`: zoo.cfg would set `zookeeper.jute.maxbuffer`.
    pub jute_maxbuffer: i32,
    /// `zookeeper.jute.maxbuffer.extrasize` (defaults to `jute_maxbuffer`).
    pub jute_maxbuffer_extrasize: i32,
    /// `zookeeper.DigestAuthenticationProvider.superDigest` (`super:<base64 sha1>`).
    pub super_digest: Option<String>,
    /// `zookeeper.skipACL` (only `yes` means skip).
    pub skip_acl: bool,
    /// `readonlymode.enabled` (only `-D`).
    pub readonly_mode: bool,
    /// `zookeeper.digest.enabled` (true).
    pub digest_enabled: bool,
    /// `zookeeper.closeSessionTxn.enabled` (true).
    pub close_session_txn_enabled: bool,
    /// `zookeeper.snapshot.compression.method` (unknown values mean CHECKED, as in Java).
    pub snapshot_compression: SnapshotCompression,
    /// `zookeeper.snapshot.trust.empty` (false).
    pub snapshot_trust_empty: bool,
    /// `zookeeper.db.autocreate` (true).
    pub db_autocreate: bool,
    /// `zookeeper.commitLogCount` (500).
    pub commit_log_count: i32,
    /// `zookeeper.snapshotSizeFactor` (0.33).
    pub snapshot_size_factor: f64,
    /// `zookeeper.maxCnxns` (0 = unlimited).
    pub max_cnxns: i32,
    /// `zookeeper.globalOutstandingLimit` (1000).
    pub global_outstanding_limit: i32,
    /// `zookeeper.leaderServes` (anything but `no` means yes).
    pub leader_serves: bool,
    /// `zookeeper.enforceQuota` (false).
    pub enforce_quota: bool,
    /// `znode.container.checkIntervalMs` (60000; only `-D`).
    pub container_check_interval_ms: i32,
    /// `znode.container.maxPerMinute` (10000; only `-D`).
    pub container_max_per_minute: i32,
    /// `znode.container.maxNeverUsedIntervalMs` (0; only `-D`).
    pub container_max_never_used_interval_ms: i64,
    /// `zookeeper.4lw.commands.whitelist`, expanded.
    pub four_letter_whitelist: FourLetterWhitelist,

    /// Every system property after zoo.cfg was applied, for settings not typed above.
    pub props: Props,
    /// Non-fatal notes (Java logs these and continues), plus keys neither QuorumPeerConfig nor
    /// any Java server property reader knows, which are probably typos.
    pub warnings: Vec<String>,
}

const DEFAULT_METRICS_PROVIDER: &str = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider";

impl Config {
    /// The configuration for `ruzk server` without a zoo.cfg: standalone on 127.0.0.1:2181,
    /// tickTime 2000, data and logs in `data_dir`.
    pub fn default_standalone(data_dir: &Path) -> Config {
        let mut c = Config::base(Props::new(), None);
        c.tick_time_ms = 2000;
        c.data_dir = data_dir.to_path_buf();
        c.data_log_dir = data_dir.to_path_buf();
        c.client_port = Some(2181);
        c.client_port_address = Some("127.0.0.1".to_string());
        c.resolve_session_timeouts();
        c.apply_props();
        c
    }

    fn base(props: Props, config_path: Option<PathBuf>) -> Config {
        // Java reads these three in QuorumPeerConfig's field initialisers, i.e. from -D only,
        // before zoo.cfg can override them.
        let multi_address_enabled = props.parse_boolean("zookeeper.multiAddress.enabled", false);
        let multi_address_reachability_check_enabled =
            props.parse_boolean("zookeeper.multiAddress.reachabilityCheckEnabled", true);
        let multi_address_reachability_check_timeout_ms =
            props.get("zookeeper.multiAddress.reachabilityCheckTimeoutMs").and_then(java_parse_int).unwrap_or(1000);
        Config {
            config_path,
            server_id: None,
            tick_time_ms: 3000,
            data_dir: PathBuf::new(),
            data_log_dir: PathBuf::new(),
            client_port: None,
            client_port_address: None,
            secure_client_port: None,
            secure_client_port_address: None,
            observer_master_port: None,
            client_port_listen_backlog: -1,
            max_client_cnxns: 60,
            min_session_timeout_ms: -1,
            max_session_timeout_ms: -1,
            init_limit: 0,
            sync_limit: 0,
            connect_to_learner_master_limit: 0,
            election_alg: 3,
            quorum_listen_on_all_ips: false,
            peer_type: PeerType::Participant,
            sync_enabled: true,
            dynamic_config_file: None,
            autopurge_snap_retain_count: 3,
            autopurge_purge_interval_hours: 0,
            standalone_enabled: true,
            reconfig_enabled: false,
            ssl_quorum: false,
            port_unification: false,
            ssl_quorum_reload_cert_files: false,
            local_sessions_enabled: false,
            local_sessions_upgrading_enabled: false,
            quorum_enable_sasl: false,
            quorum_server_require_sasl: false,
            quorum_learner_require_sasl: false,
            quorum_learner_login_context: "QuorumLearner".into(),
            quorum_server_login_context: "QuorumServer".into(),
            quorum_service_principal: "zkquorum/localhost".into(),
            quorum_cnxn_threads_size: 0,
            jvm_pause_monitor: false,
            jvm_pause_info_threshold_ms: 1000,
            jvm_pause_warn_threshold_ms: 10000,
            jvm_pause_sleep_time_ms: 500,
            metrics_provider_class_name: DEFAULT_METRICS_PROVIDER.into(),
            metrics_provider_config: BTreeMap::new(),
            multi_address_enabled,
            multi_address_reachability_check_enabled,
            multi_address_reachability_check_timeout_ms,
            oracle_path: None,
            servers: BTreeMap::new(),
            groups: BTreeMap::new(),
            weights: BTreeMap::new(),
            quorum_version: 0,
            admin_enable_server: true,
            admin_server_port: 8080,
            admin_server_address: "0.0.0.0".into(),
            admin_command_url: "/commands".into(),
            snap_count: 100000,
            pre_alloc_size_kb: 65536,
            txn_log_size_limit_kb: -1,
            snap_size_limit_kb: 4194304,
            force_sync: true,
            fsync_warning_threshold_ms: 1000,
            extended_types_enabled: false,
            emulate_353_ttl_nodes: false,
            jute_maxbuffer: 0xfffff,
            jute_maxbuffer_extrasize: 0xfffff,
            super_digest: None,
            skip_acl: false,
            readonly_mode: false,
            digest_enabled: true,
            close_session_txn_enabled: true,
            snapshot_compression: SnapshotCompression::Checked,
            snapshot_trust_empty: false,
            db_autocreate: true,
            commit_log_count: 500,
            snapshot_size_factor: 0.33,
            max_cnxns: 0,
            global_outstanding_limit: 1000,
            leader_serves: true,
            enforce_quota: false,
            container_check_interval_ms: 60000,
            container_max_per_minute: 10000,
            container_max_never_used_interval_ms: 0,
            four_letter_whitelist: FourLetterWhitelist::from_property(None, None),
            props,
            warnings: Vec::new(),
        }
    }

    fn resolve_session_timeouts(&mut self) {
        if self.min_session_timeout_ms == -1 {
            self.min_session_timeout_ms = self.tick_time_ms.saturating_mul(2);
        }
        if self.max_session_timeout_ms == -1 {
            self.max_session_timeout_ms = self.tick_time_ms.saturating_mul(20);
        }
    }

    /// Reads the system properties the Java server classes read, after zoo.cfg added its own.
    fn apply_props(&mut self) {
        let p = self.props.clone();
        let w = &mut self.warnings;
        self.admin_enable_server = p.get("zookeeper.admin.enableServer") != Some("false");
        self.admin_server_port = p.get_int("zookeeper.admin.serverPort", 8080, w);
        self.admin_server_address = p.get("zookeeper.admin.serverAddress").unwrap_or("0.0.0.0").to_string();
        self.admin_command_url = p.get("zookeeper.admin.commandURL").unwrap_or("/commands").to_string();

        self.snap_count = p.get_int("zookeeper.snapCount", 100000, w);
        if self.snap_count < 2 {
            w.push("SnapCount should be 2 or more. Now, snapCount is reset to 2".into());
            self.snap_count = 2;
        }
        if let Some(v) = p.get("zookeeper.preAllocSize") {
            match java_parse_long(v) {
                Some(kb) => self.pre_alloc_size_kb = kb,
                None => w.push(format!("{v} is not a valid value for preAllocSize")),
            }
        }
        self.txn_log_size_limit_kb = p.get_long("zookeeper.txnLogSizeLimitInKb", -1, w);
        self.snap_size_limit_kb = p.get_long("zookeeper.snapSizeLimitInKb", 4194304, w);
        self.force_sync = p.get("zookeeper.forceSync") != Some("no");
        self.fsync_warning_threshold_ms = match p.get("zookeeper.fsync.warningthresholdms").and_then(java_decode_long) {
            Some(v) => v,
            None => p.get_long("fsync.warningthresholdms", 1000, w),
        };
        self.extended_types_enabled = p.get_boolean("zookeeper.extendedTypesEnabled");
        self.emulate_353_ttl_nodes = p.get_boolean("zookeeper.emulate353TTLNodes");
        self.jute_maxbuffer = p.get_int("jute.maxbuffer", 0xfffff, w);
        self.jute_maxbuffer_extrasize = p.get_int("zookeeper.jute.maxbuffer.extrasize", self.jute_maxbuffer, w);
        self.super_digest = p.get("zookeeper.DigestAuthenticationProvider.superDigest").map(str::to_string);
        self.skip_acl = p.get("zookeeper.skipACL") == Some("yes");
        self.readonly_mode = p.get_boolean("readonlymode.enabled");
        self.digest_enabled = p.parse_boolean("zookeeper.digest.enabled", true);
        self.close_session_txn_enabled = p.parse_boolean("zookeeper.closeSessionTxn.enabled", true);
        self.snapshot_compression = match p.get("zookeeper.snapshot.compression.method") {
            Some(m) if m.eq_ignore_ascii_case("gz") => SnapshotCompression::Gzip,
            Some(m) if m.eq_ignore_ascii_case("snappy") => SnapshotCompression::Snappy,
            Some(m) if !m.is_empty() => {
                w.push(format!("zookeeper.snapshot.compression.method {m:?} is unknown; using the default (CHECKED)"));
                SnapshotCompression::Checked
            }
            _ => SnapshotCompression::Checked,
        };
        self.snapshot_trust_empty = p.parse_boolean("zookeeper.snapshot.trust.empty", false);
        self.db_autocreate = p.parse_boolean("zookeeper.db.autocreate", true);
        self.commit_log_count = p.get_int("zookeeper.commitLogCount", 500, w);
        self.snapshot_size_factor = match p.get("zookeeper.snapshotSizeFactor") {
            None => 0.33,
            Some(v) => java_trim(v).parse::<f64>().unwrap_or_else(|_| {
                w.push(format!("property zookeeper.snapshotSizeFactor: invalid number {v:?}, using 0.33"));
                0.33
            }),
        };
        self.max_cnxns = p.get_int("zookeeper.maxCnxns", 0, w);
        self.global_outstanding_limit = p.get_int("zookeeper.globalOutstandingLimit", 1000, w);
        self.leader_serves = p.get("zookeeper.leaderServes") != Some("no");
        self.enforce_quota = p.parse_boolean("zookeeper.enforceQuota", false);
        self.container_check_interval_ms = p.get_int("znode.container.checkIntervalMs", 60000, w);
        self.container_max_per_minute = p.get_int("znode.container.maxPerMinute", 10000, w);
        self.container_max_never_used_interval_ms = p.get_long("znode.container.maxNeverUsedIntervalMs", 0, w);
        self.four_letter_whitelist = FourLetterWhitelist::from_property(
            p.get("zookeeper.4lw.commands.whitelist"),
            p.get("readonlymode.enabled"),
        );
    }

    /// Voting members (`server.N` lines without `:observer`).
    pub fn voting_members(&self) -> impl Iterator<Item = &QuorumServer> {
        self.servers.values().filter(|s| s.peer_type == PeerType::Participant)
    }

    /// `QuorumPeerConfig.isDistributed`: an ensemble unless standalone is allowed and at most
    /// one server votes. `ruzk server` runs standalone exactly when this is false.
    pub fn is_distributed(&self) -> bool {
        !self.standalone_enabled || self.voting_members().count() > 1
    }

    /// The id the server reports (`conf`'s `serverId`): Java's standalone server ignores
    /// `myid` and reports 0.
    pub fn effective_server_id(&self) -> i64 {
        if self.is_distributed() {
            self.server_id.unwrap_or(-1)
        } else {
            0
        }
    }

    /// This server's own `server.N` entry (ensembles only).
    pub fn this_server(&self) -> Option<&QuorumServer> {
        self.server_id.and_then(|id| self.servers.get(&id))
    }

    /// `host:port` to bind the client listener to (IPv6 hosts in brackets), for
    /// `ToSocketAddrs`/`lookup_host`; `None` when no clientPort is configured (Java then
    /// starts without a plain listener).
    pub fn client_listen_address(&self) -> Option<String> {
        let port = self.client_port?;
        let host = self.client_port_address.as_deref().unwrap_or("0.0.0.0");
        Some(HostPort { host: host.to_string(), port }.to_java_string())
    }

    /// Settings Java honours and ruzk cannot, each as a message; the runtime should refuse to
    /// start when this is not empty rather than run with weaker security than configured.
    pub fn unsupported(&self) -> Vec<String> {
        let mut v = Vec::new();
        if let Some(p) = self.secure_client_port {
            v.push(format!("secureClientPort={p}: TLS client connections are not supported by ruzk"));
        }
        if self.port_unification {
            v.push("portUnification=true: TLS client connections are not supported by ruzk".into());
        }
        if self.ssl_quorum {
            v.push("sslQuorum=true: TLS between servers is not supported by ruzk".into());
        }
        if self.quorum_enable_sasl {
            v.push("quorum.auth.enableSasl=true: SASL between servers is not supported by ruzk".into());
        }
        v
    }

    /// `QuorumMaj.toString`: the QV string of `/zookeeper/config`, FLE and NEWLEADER
    /// (`server.N=...` lines, then `version=<hex>` with no trailing newline).
    pub fn quorum_verifier_string(&self) -> String {
        let mut s = String::new();
        for (id, qs) in &self.servers {
            s.push_str(&format!("server.{id}={}\n", qs.to_java_string()));
        }
        s.push_str(&format!("version={:x}", self.quorum_version));
        s
    }
}

#[cfg(test)]
mod tests;
