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

// ---------------------------------------------------------------------------------------------
// java.util.Properties
// ---------------------------------------------------------------------------------------------

/// One `key=value` of a properties file, after Java's escapes are resolved. The value keeps its
/// trailing whitespace as `Properties.load` does; QuorumPeerConfig trims it, QuorumMaj does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropLine {
    /// Key, unescaped.
    pub key: String,
    /// Value, unescaped, leading whitespace removed.
    pub value: String,
    /// 1-based physical line where this logical line starts.
    pub line: usize,
}

/// Parses text as `java.util.Properties.load` does (comments `#`/`!`, separators `=`, `:` or
/// whitespace, backslash escapes and continuation lines), following `Properties.LineReader`.
/// A later duplicate key replaces the earlier one, as in Java's Hashtable; otherwise file order
/// is kept. An error carries the 1-based line number.
pub fn parse_properties(text: &str) -> std::result::Result<Vec<PropLine>, (usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<PropLine> = Vec::new();
    let mut pos = 0usize;
    let mut line_no = 1usize;
    loop {
        // One logical line (LineReader.readLine).
        let mut buf: Vec<char> = Vec::new();
        let mut skip_ws = true;
        let mut is_comment = false;
        let mut is_new_line = true;
        let mut appended_line_begin = false;
        let mut preceding_backslash = false;
        let mut start_line = line_no;
        let mut eof = false;
        loop {
            let Some(&c) = chars.get(pos) else {
                eof = true;
                if preceding_backslash {
                    buf.pop();
                }
                break;
            };
            pos += 1;
            let is_eol = c == '\n' || c == '\r';
            if is_eol {
                // \r\n counts as one line break.
                if c == '\r' && chars.get(pos) == Some(&'\n') {
                    pos += 1;
                }
                line_no += 1;
            }
            if skip_ws {
                if c == ' ' || c == '\t' || c == '\u{c}' {
                    continue;
                }
                if !appended_line_begin && is_eol {
                    continue;
                }
                skip_ws = false;
                appended_line_begin = false;
            }
            if is_new_line {
                is_new_line = false;
                start_line = if is_eol { line_no - 1 } else { line_no };
                if c == '#' || c == '!' {
                    is_comment = true;
                    continue;
                }
            }
            if !is_eol {
                if !is_comment {
                    buf.push(c);
                    preceding_backslash = if c == '\\' { !preceding_backslash } else { false };
                }
                continue;
            }
            if is_comment || buf.is_empty() {
                is_comment = false;
                is_new_line = true;
                skip_ws = true;
                buf.clear();
                continue;
            }
            if preceding_backslash {
                buf.pop();
                skip_ws = true;
                appended_line_begin = true;
                preceding_backslash = false;
                continue;
            }
            break;
        }
        if !buf.is_empty() && !is_comment {
            let (key, value) = split_key_value(&buf).map_err(|m| (start_line, m))?;
            push_prop(&mut out, key, value, start_line);
        }
        if eof {
            return Ok(out);
        }
    }
}

fn push_prop(out: &mut Vec<PropLine>, key: String, value: String, line: usize) {
    if let Some(existing) = out.iter_mut().find(|p| p.key == key) {
        existing.value = value;
        existing.line = line;
    } else {
        out.push(PropLine { key, value, line });
    }
}

fn split_key_value(buf: &[char]) -> std::result::Result<(String, String), String> {
    let limit = buf.len();
    let mut key_len = 0usize;
    let mut value_start = limit;
    let mut has_sep = false;
    let mut preceding_backslash = false;
    while key_len < limit {
        let c = buf.get(key_len).copied().unwrap_or(' ');
        if (c == '=' || c == ':') && !preceding_backslash {
            value_start = key_len + 1;
            has_sep = true;
            break;
        } else if (c == ' ' || c == '\t' || c == '\u{c}') && !preceding_backslash {
            value_start = key_len + 1;
            break;
        }
        if c == '\\' {
            preceding_backslash = !preceding_backslash;
        } else {
            preceding_backslash = false;
        }
        key_len += 1;
    }
    while value_start < limit {
        let c = buf.get(value_start).copied().unwrap_or(' ');
        if c != ' ' && c != '\t' && c != '\u{c}' {
            if !has_sep && (c == '=' || c == ':') {
                has_sep = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    let key = unescape(buf.get(..key_len).unwrap_or(&[]))?;
    let value = unescape(buf.get(value_start..).unwrap_or(&[]))?;
    Ok((key, value))
}

/// `Properties.loadConvert`: `\t \n \r \f`, `\uXXXX`, and `\x` = `x` for anything else.
fn unescape(s: &[char]) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut it = s.iter().copied();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = it.next() else { break };
        match e {
            't' => out.push('\t'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            'f' => out.push('\u{c}'),
            'u' => {
                let mut v = 0u32;
                for _ in 0..4 {
                    let d = it
                        .next()
                        .and_then(|h| h.to_digit(16))
                        .ok_or_else(|| "Malformed \\uxxxx encoding.".to_string())?;
                    v = v * 16 + d;
                }
                // Java keeps lone surrogates in a UTF-16 string; Rust cannot, so they become U+FFFD.
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Java number and boolean readers
// ---------------------------------------------------------------------------------------------

/// `Integer.parseInt` / `Long.parseLong`: optional sign, decimal digits, nothing else.
fn java_parse_long(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

fn java_parse_int(s: &str) -> Option<i32> {
    java_parse_long(s).and_then(|v| i32::try_from(v).ok())
}

/// `Long.decode`: sign, then `0x`/`0X`/`#` hex, a leading `0` for octal, or decimal.
fn java_decode_long(s: &str) -> Option<i64> {
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) = if let Some(h) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        (16, h)
    } else if let Some(h) = rest.strip_prefix('#') {
        (16, h)
    } else if rest.len() > 1 && rest.starts_with('0') {
        (8, rest.get(1..).unwrap_or(""))
    } else {
        (10, rest)
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    let v = if neg { -magnitude } else { magnitude };
    i64::try_from(v).ok()
}

fn java_decode_int(s: &str) -> Option<i32> {
    java_decode_long(s).and_then(|v| i32::try_from(v).ok())
}

/// `QuorumPeerConfig.parseBoolean`: exactly `true` or `false`, any case.
fn cfg_bool(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("true") {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// `String.split` drops trailing empty strings; several zoo.cfg forms depend on it.
fn java_split(s: &str, sep: char) -> Vec<&str> {
    let mut v: Vec<&str> = s.split(sep).collect();
    while v.len() > 1 && v.last().is_some_and(|x| x.is_empty()) {
        v.pop();
    }
    if v.len() == 1 && v.first().is_some_and(|x| x.is_empty()) && !s.is_empty() {
        v.clear();
    }
    v
}

/// `String.trim`: strips every char <= U+0020 at both ends.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

// ---------------------------------------------------------------------------------------------
// System properties
// ---------------------------------------------------------------------------------------------

/// Java system properties: what `-Dname=value` would have set, plus what zoo.cfg adds as
/// `zookeeper.<key>`. Later sets win, as with `System.setProperty`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Props {
    map: BTreeMap<String, String>,
}

impl Props {
    /// Empty property set.
    pub fn new() -> Props {
        Props::default()
    }

    /// Builds the properties a `zkServer.sh` launch would see: `SERVER_JVMFLAGS` first, then
    /// `JVMFLAGS` (zkServer.sh runs `java $SERVER_JVMFLAGS $JVMFLAGS ...`), then our own
    /// `-D name=value` arguments, so the most explicit setting wins. Non-`-D` JVM flags such as
    /// `-Xmx1g` are ignored; `-Dname` alone sets the empty string, as the JVM does.
    pub fn from_args_and_env(args: &[String], server_jvmflags: Option<&str>, jvmflags: Option<&str>) -> Props {
        let mut p = Props::new();
        for flags in [server_jvmflags, jvmflags].into_iter().flatten() {
            for word in flags.split_whitespace() {
                if let Some(def) = word.strip_prefix("-D") {
                    p.set_definition(def);
                }
            }
        }
        for a in args {
            // Accept both `name=value` (clap's `-D name=value`) and a literal `-Dname=value`.
            p.set_definition(a.strip_prefix("-D").unwrap_or(a));
        }
        p
    }

    fn set_definition(&mut self, def: &str) {
        if def.is_empty() {
            return;
        }
        match def.split_once('=') {
            Some((k, v)) if !k.is_empty() => self.set(k, v),
            Some(_) => {}
            None => self.set(def, ""),
        }
    }

    /// `System.getProperty(name)`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// `System.setProperty(name, value)`.
    pub fn set(&mut self, name: &str, value: &str) {
        self.map.insert(name.to_string(), value.to_string());
    }

    /// All properties, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `Integer.getInteger(name, def)`: a value that does not decode gives `def`, silently in
    /// Java; we add a warning so the operator sees it.
    fn get_int(&self, name: &str, def: i32, warnings: &mut Vec<String>) -> i32 {
        match self.get(name) {
            None => def,
            Some(v) => java_decode_int(v).unwrap_or_else(|| {
                warnings.push(format!("property {name}: invalid integer {v:?}, using {def}"));
                def
            }),
        }
    }

    /// `Long.getLong(name, def)`, with the same warning.
    fn get_long(&self, name: &str, def: i64, warnings: &mut Vec<String>) -> i64 {
        match self.get(name) {
            None => def,
            Some(v) => java_decode_long(v).unwrap_or_else(|| {
                warnings.push(format!("property {name}: invalid integer {v:?}, using {def}"));
                def
            }),
        }
    }

    /// `Boolean.getBoolean(name)`: true only for `true` in any case.
    fn get_boolean(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `Boolean.parseBoolean(System.getProperty(name, def))`.
    fn parse_boolean(&self, name: &str, def: bool) -> bool {
        match self.get(name) {
            None => def,
            Some(v) => v.eq_ignore_ascii_case("true"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Typed configuration
// ---------------------------------------------------------------------------------------------

/// `QuorumPeer.LearnerType`. The ordinal is what the `conf` four-letter word prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerType {
    /// A voting member.
    Participant,
    /// A non-voting member.
    Observer,
}

impl PeerType {
    /// Java's enum ordinal (`peerType=` in `conf`).
    pub fn ordinal(self) -> i32 {
        match self {
            PeerType::Participant => 0,
            PeerType::Observer => 1,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            PeerType::Participant => "participant",
            PeerType::Observer => "observer",
        }
    }
}

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

/// A host (as written, unresolved) and a port. `host` is `0.0.0.0` for "all interfaces",
/// which is what Java substitutes when no host is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// Host name or literal address, without IPv6 brackets.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl HostPort {
    /// `QuorumServer.delimitedHostString(addr) + ":" + port`: IPv6 hosts in brackets.
    pub fn to_java_string(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    fn is_wildcard(&self) -> bool {
        matches!(self.host.as_str(), "0.0.0.0" | "::" | "0:0:0:0:0:0:0:0")
    }
}

/// One address of a `server.N` line: `host:quorumPort:electionPort`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddr {
    /// Host, without brackets.
    pub host: String,
    /// Where the leader accepts learners.
    pub quorum_port: u16,
    /// The election (QuorumCnxManager) port.
    pub election_port: u16,
}

/// `QuorumPeer.QuorumServer`: one `server.N=...` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumServer {
    /// N.
    pub id: i64,
    /// One address, or several with `multiAddress.enabled=true` (`a|b|c`).
    pub addrs: Vec<ServerAddr>,
    /// participant (default) or observer.
    pub peer_type: PeerType,
    /// Client address from `;[host:]port`, or, for this server, filled from `clientPort`.
    pub client_addr: Option<HostPort>,
    /// True when `client_addr` was copied from `clientPort`/`clientPortAddress`; Java then
    /// leaves it out of the QV string.
    pub client_addr_from_static: bool,
}

impl QuorumServer {
    /// `QuorumServer.toString`: the value part of a `server.N=` line in the QV string.
    pub fn to_java_string(&self) -> String {
        let mut q: Vec<&ServerAddr> = self.addrs.iter().collect();
        let mut e: Vec<&ServerAddr> = self.addrs.iter().collect();
        // Java sorts the quorum and the election lists separately, by host string.
        q.sort_by(|a, b| a.host.cmp(&b.host));
        e.sort_by(|a, b| a.host.cmp(&b.host));
        let mut s = q
            .iter()
            .zip(e.iter())
            .map(|(a, b)| {
                let host = if a.host.contains(':') { format!("[{}]", a.host) } else { a.host.clone() };
                format!("{}:{}:{}", host, a.quorum_port, b.election_port)
            })
            .collect::<Vec<_>>()
            .join("|");
        s.push(':');
        s.push_str(self.peer_type.as_str());
        if let Some(c) = &self.client_addr {
            if !self.client_addr_from_static {
                s.push(';');
                s.push_str(&c.to_java_string());
            }
        }
        s
    }
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

    /// Reads and parses a zoo.cfg from disk (`myid` and the dynamic file too). The file is
    /// decoded as ISO-8859-1, like `Properties.load(InputStream)`.
    pub fn load(path: &Path, props: &Props) -> Result<Config> {
        let text =
            read_latin1(path).map_err(|e| ConfigError::Io { file: path.display().to_string(), msg: e.to_string() })?;
        let reader = |p: &Path| -> Option<String> {
            if p.is_file() {
                read_latin1(p).ok()
            } else {
                None
            }
        };
        Config::parse(path, &text, props, &reader)
    }

    /// Parses zoo.cfg text. `read_file` returns a file's contents, or `None` when it is not a
    /// regular file; it is asked for `<dataDir>/myid` and for `dynamicConfigFile`.
    pub fn parse(
        path: &Path,
        text: &str,
        props: &Props,
        read_file: &dyn Fn(&Path) -> Option<String>,
    ) -> Result<Config> {
        let file = path.display().to_string();
        let lines = parse_properties(text).map_err(|(line, msg)| ConfigError::Key {
            file: file.clone(),
            line,
            key: String::new(),
            msg,
        })?;
        let mut c = Config::base(props.clone(), Some(path.to_path_buf()));
        let mut p = Parser { file: file.clone(), cfg: &mut c };
        p.parse_properties(&lines)?;

        let has_dynamic = p.cfg.dynamic_config_file.is_some();
        if !has_dynamic {
            p.setup_quorum(&lines, true, read_file)?;
        } else if let Some(dyn_path) = p.cfg.dynamic_config_file.clone() {
            let dyn_name = dyn_path.display().to_string();
            let dyn_text = read_file(&dyn_path).ok_or_else(|| ConfigError::File {
                file: dyn_name.clone(),
                msg: "dynamicConfigFile not found or not readable".to_string(),
            })?;
            let mut dyn_lines = parse_properties(&dyn_text).map_err(|(line, msg)| ConfigError::Key {
                file: dyn_name.clone(),
                line,
                key: String::new(),
                msg,
            })?;
            if dyn_lines.iter().any(|l| l.key == "version") {
                return Err(ConfigError::File {
                    file: dyn_name,
                    msg: "dynamic file shouldn't have version inside".into(),
                });
            }
            if let Some(v) = version_from_filename(&dyn_name) {
                dyn_lines.push(PropLine { key: "version".into(), value: v, line: 0 });
            }
            let mut dp = Parser { file: dyn_name, cfg: p.cfg };
            dp.setup_quorum(&dyn_lines, false, read_file)?;
        }
        c.apply_props();
        Ok(c)
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

fn read_latin1(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(bytes.iter().map(|&b| char::from(b)).collect())
}

/// `QuorumPeerConfig.getVersionFromFilename`: the hex suffix after the last dot.
fn version_from_filename(name: &str) -> Option<String> {
    let (_, tail) = name.rsplit_once('.')?;
    let v = i64::from_str_radix(tail, 16).ok()?;
    Some(format!("{v:x}"))
}

/// Keys the Java server reads as `zookeeper.<key>` system properties (3.8.0), so a zoo.cfg
/// line with one of them is meaningful even though QuorumPeerConfig does not know it.
const KNOWN_PROPERTY_KEYS: &[&str] = &[
    "4lw.commands.whitelist",
    "DigestAuthenticationProvider.digestAlg",
    "DigestAuthenticationProvider.enabled",
    "DigestAuthenticationProvider.superDigest",
    "SASLAuthenticationProvider.superPassword",
    "X509AuthenticationProvider.superUser",
    "admin.commandURL",
    "admin.enableServer",
    "admin.forceHttps",
    "admin.httpVersion",
    "admin.idleTimeout",
    "admin.portUnification",
    "admin.serverAddress",
    "admin.serverPort",
    "allowSaslFailedClients",
    "audit.enable",
    "audit.impl.class",
    "bitHashCacheSize",
    "client.portUnification",
    "client.secure",
    "clientCnxnSocket",
    "clientTcpKeepAlive",
    "closeSessionTxn.enabled",
    "cnxTimeout",
    "commitLogCount",
    "commitProcessor.maxCommitBatchSize",
    "commitProcessor.maxReadBatchSize",
    "commitProcessor.numWorkerThreads",
    "commitProcessor.shutdownTimeout",
    "connection_throttle_decrease_ratio",
    "connection_throttle_drop_decrease",
    "connection_throttle_drop_increase",
    "connection_throttle_fill_count",
    "connection_throttle_fill_time",
    "connection_throttle_freeze_time",
    "connection_throttle_global_session_weight",
    "connection_throttle_local_session_weight",
    "connection_throttle_renew_session_weight",
    "connection_throttle_tokens",
    "connection_throttle_weight_enabled",
    "datadir.autocreate",
    "db.autocreate",
    "digest.enabled",
    "electionPortBindRetry",
    "emulate353TTLNodes",
    "enableEagerACLCheck",
    "enforce.auth.enabled",
    "enforce.auth.schemes",
    "enforceQuota",
    "ensembleAuthName",
    "extendedTypesEnabled",
    "fastleader.maxNotificationInterval",
    "fastleader.minNotificationInterval",
    "flushDelay",
    "follower.skipLearnerRequestToNextProcessor",
    "forceSnapshotSync",
    "forceSync",
    "forward_learner_requests_to_commit_processor_disabled",
    "fsync.warningthresholdms",
    "globalOutstandingLimit",
    "intBufferStartingSizeBytes",
    "jmx.log4j.disable",
    "jmx.log4j.mbean",
    "jute.maxbuffer.extrasize",
    "kerberos.canonicalizeHostNames",
    "kerberos.removeHostFromPrincipal",
    "kerberos.removeRealmFromPrincipal",
    "kinit",
    "largeRequestMaxBytes",
    "largeRequestThreshold",
    "leader.ackLoggingFrequency",
    "leader.closeSocketAsync",
    "leader.maxConcurrentDiffSyncs",
    "leader.maxConcurrentSnapSyncs",
    "leader.maxTimeToWaitForEpoch",
    "leaderConnectDelayDuringRetryMs",
    "leaderServes",
    "learner.asyncSending",
    "learner.closeSocketAsync",
    "letAnySaslUserDoX",
    "maxBatchSize",
    "maxCnxns",
    "maxGetChildrenResponseCacheSize",
    "maxInProcessingDeadWatchers",
    "maxResponseCacheSize",
    "maxWriteQueuePollTime",
    "messageTracker.BufferSize",
    "messageTracker.Enabled",
    "netty.advancedFlowControl.enabled",
    "netty.server.earlyDropSecureConnectionHandshakes",
    "netty.server.outstandingHandshake.limit",
    "nio.directBufferBytes",
    "nio.numSelectorThreads",
    "nio.numWorkerThreads",
    "nio.sessionlessCnxnTimeout",
    "nio.shutdownTimeout",
    "observer.election.DelayMs",
    "observer.reconnectDelayMs",
    "observer.syncEnabled",
    "observerMaster.sizeLimit",
    "pathStats.delay",
    "pathStats.enabled",
    "pathStats.initialDelay",
    "pathStats.maxDepth",
    "pathStats.sampleRate",
    "pathStats.slotCapacity",
    "pathStats.slotDuration",
    "pathStats.topPathMax",
    "preAllocSize",
    "quorumCnxnTimeoutMs",
    "request.timeout",
    "request_stale_connection_check",
    "request_stale_latency_check",
    "request_throttle_drop_stale",
    "request_throttle_max_requests",
    "request_throttle_stall_time",
    "request_throttler.shutdownTimeout",
    "requireKerberosConfig",
    "sessionRequireClientSASLAuth",
    "skipACL",
    "snapCount",
    "snapSizeLimitInKb",
    "snapshot.compression.method",
    "snapshot.trust.empty",
    "snapshotSizeFactor",
    "serverCnxnFactory",
    "superUser",
    "tcpKeepAlive",
    "throttled_op_wait_time",
    "txnLogSizeLimitInKb",
    "watchManagerName",
    "watcherCleanIntervalInSeconds",
    "watcherCleanThreadsNum",
    "watcherCleanThreshold",
];

/// Prefixes of property families (`zookeeper.ssl.*`, `zookeeper.authProvider.*`, ...).
const KNOWN_PROPERTY_PREFIXES: &[&str] = &["ssl.", "authProvider.", "sasl.", "server.", "group", "weight"];

fn is_known_property_key(key: &str) -> bool {
    key == "version" || KNOWN_PROPERTY_KEYS.contains(&key) || KNOWN_PROPERTY_PREFIXES.iter().any(|p| key.starts_with(p))
}

struct Parser<'a> {
    file: String,
    cfg: &'a mut Config,
}

impl Parser<'_> {
    fn key_err(&self, l: &PropLine, msg: impl Into<String>) -> ConfigError {
        ConfigError::Key { file: self.file.clone(), line: l.line, key: java_trim(&l.key).to_string(), msg: msg.into() }
    }

    fn file_err(&self, msg: impl Into<String>) -> ConfigError {
        ConfigError::File { file: self.file.clone(), msg: msg.into() }
    }

    fn int(&self, l: &PropLine, v: &str) -> Result<i32> {
        java_parse_int(v).ok_or_else(|| self.key_err(l, format!("invalid number {v:?}")))
    }

    fn long(&self, l: &PropLine, v: &str) -> Result<i64> {
        java_parse_long(v).ok_or_else(|| self.key_err(l, format!("invalid number {v:?}")))
    }

    fn boolean(&self, l: &PropLine, v: &str) -> Result<bool> {
        cfg_bool(v)
            .ok_or_else(|| self.key_err(l, format!("Invalid option {v} for {}. Choose 'true' or 'false.'", l.key)))
    }

    fn port(&self, l: &PropLine, v: &str) -> Result<i32> {
        let p = self.int(l, v)?;
        if !(0..=65535).contains(&p) {
            return Err(self.key_err(l, format!("port out of range:{p}")));
        }
        Ok(p)
    }

    /// `QuorumPeerConfig.parseProperties`.
    fn parse_properties(&mut self, lines: &[PropLine]) -> Result<()> {
        let mut client_port = 0i32;
        let mut secure_client_port = 0i32;
        let mut observer_master_port = 0i32;
        let mut client_port_address: Option<String> = None;
        let mut secure_client_port_address: Option<String> = None;
        let mut data_dir: Option<PathBuf> = None;
        let mut data_log_dir: Option<PathBuf> = None;
        let has_dynamic = lines.iter().any(|l| l.key == "dynamicConfigFile");
        for l in lines {
            let key = java_trim(&l.key);
            let value = java_trim(&l.value);
            let c = &mut *self.cfg;
            match key {
                "dataDir" => data_dir = Some(PathBuf::from(value)),
                "dataLogDir" => data_log_dir = Some(PathBuf::from(value)),
                "clientPort" => client_port = self.port(l, value)?,
                "localSessionsEnabled" => self.cfg.local_sessions_enabled = self.boolean(l, value)?,
                "localSessionsUpgradingEnabled" => {
                    self.cfg.local_sessions_upgrading_enabled = self.boolean(l, value)?
                }
                "clientPortAddress" => client_port_address = Some(value.to_string()),
                "secureClientPort" => secure_client_port = self.port(l, value)?,
                "secureClientPortAddress" => secure_client_port_address = Some(value.to_string()),
                "observerMasterPort" => observer_master_port = self.int(l, value)?,
                "clientPortListenBacklog" => self.cfg.client_port_listen_backlog = self.int(l, value)?,
                "tickTime" => self.cfg.tick_time_ms = self.int(l, value)?,
                "maxClientCnxns" => self.cfg.max_client_cnxns = self.int(l, value)?,
                "minSessionTimeout" => self.cfg.min_session_timeout_ms = self.int(l, value)?,
                "maxSessionTimeout" => self.cfg.max_session_timeout_ms = self.int(l, value)?,
                "initLimit" => self.cfg.init_limit = self.int(l, value)?,
                "syncLimit" => self.cfg.sync_limit = self.int(l, value)?,
                "connectToLearnerMasterLimit" => self.cfg.connect_to_learner_master_limit = self.int(l, value)?,
                "electionAlg" => {
                    let v = self.int(l, value)?;
                    if v != 3 {
                        return Err(self.key_err(l, "Invalid electionAlg value. Only 3 is supported."));
                    }
                    self.cfg.election_alg = v;
                }
                "quorumListenOnAllIPs" => self.cfg.quorum_listen_on_all_ips = self.boolean(l, value)?,
                "peerType" => {
                    self.cfg.peer_type = match value.to_lowercase().as_str() {
                        "observer" => PeerType::Observer,
                        "participant" => PeerType::Participant,
                        _ => return Err(self.key_err(l, format!("Unrecognised peertype: {value}"))),
                    }
                }
                "syncEnabled" => self.cfg.sync_enabled = self.boolean(l, value)?,
                "dynamicConfigFile" => c.dynamic_config_file = Some(PathBuf::from(value)),
                "autopurge.snapRetainCount" => self.cfg.autopurge_snap_retain_count = self.int(l, value)?,
                "autopurge.purgeInterval" => self.cfg.autopurge_purge_interval_hours = self.int(l, value)?,
                "standaloneEnabled" => self.cfg.standalone_enabled = self.boolean(l, value)?,
                "reconfigEnabled" => self.cfg.reconfig_enabled = self.boolean(l, value)?,
                "sslQuorum" => self.cfg.ssl_quorum = self.boolean(l, value)?,
                "portUnification" => self.cfg.port_unification = self.boolean(l, value)?,
                "sslQuorumReloadCertFiles" => self.cfg.ssl_quorum_reload_cert_files = self.boolean(l, value)?,
                k if (k.starts_with("server.") || k.starts_with("group") || k.starts_with("weight")) && has_dynamic => {
                    return Err(self.key_err(l, format!("parameter: {k} must be in a separate dynamic config file")));
                }
                "quorum.auth.enableSasl" => self.cfg.quorum_enable_sasl = self.boolean(l, value)?,
                "quorum.auth.serverRequireSasl" => self.cfg.quorum_server_require_sasl = self.boolean(l, value)?,
                "quorum.auth.learnerRequireSasl" => self.cfg.quorum_learner_require_sasl = self.boolean(l, value)?,
                "quorum.auth.learner.saslLoginContext" => c.quorum_learner_login_context = value.to_string(),
                "quorum.auth.server.saslLoginContext" => c.quorum_server_login_context = value.to_string(),
                "quorum.auth.kerberos.servicePrincipal" => c.quorum_service_principal = value.to_string(),
                "quorum.cnxn.threads.size" => self.cfg.quorum_cnxn_threads_size = self.int(l, value)?,
                "jvm.pause.info-threshold.ms" => self.cfg.jvm_pause_info_threshold_ms = self.long(l, value)?,
                "jvm.pause.warn-threshold.ms" => self.cfg.jvm_pause_warn_threshold_ms = self.long(l, value)?,
                "jvm.pause.sleep.time.ms" => self.cfg.jvm_pause_sleep_time_ms = self.long(l, value)?,
                "jvm.pause.monitor" => self.cfg.jvm_pause_monitor = self.boolean(l, value)?,
                "metricsProvider.className" => c.metrics_provider_class_name = value.to_string(),
                k if k.starts_with("metricsProvider.") => {
                    let sub = k.get("metricsProvider.".len()..).unwrap_or("");
                    c.metrics_provider_config.insert(sub.to_string(), value.to_string());
                }
                "multiAddress.enabled" => self.cfg.multi_address_enabled = self.boolean(l, value)?,
                "multiAddress.reachabilityCheckTimeoutMs" => {
                    self.cfg.multi_address_reachability_check_timeout_ms = self.int(l, value)?
                }
                "multiAddress.reachabilityCheckEnabled" => {
                    self.cfg.multi_address_reachability_check_enabled = self.boolean(l, value)?
                }
                "oraclePath" => c.oracle_path = Some(value.to_string()),
                k => {
                    // Java: System.setProperty("zookeeper." + key, value), after -D, so it wins.
                    if !is_known_property_key(k) {
                        c.warnings.push(format!(
                            "{} line {}: unknown key {k:?} (set as system property zookeeper.{k}, which nothing reads)",
                            self.file, l.line
                        ));
                    }
                    c.props.set(&format!("zookeeper.{k}"), value);
                }
            }
        }

        let c = &mut *self.cfg;
        if !c.quorum_enable_sasl && c.quorum_server_require_sasl {
            return Err(
                self.file_err("quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.serverRequireSasl")
            );
        }
        if !self.cfg.quorum_enable_sasl && self.cfg.quorum_learner_require_sasl {
            return Err(
                self.file_err("quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.learnerRequireSasl")
            );
        }
        if !self.cfg.quorum_learner_require_sasl && self.cfg.quorum_server_require_sasl {
            return Err(self.file_err(
                "quorum.auth.learnerRequireSasl is disabled, so cannot enable quorum.auth.serverRequireSasl",
            ));
        }
        let c = &mut *self.cfg;
        if c.autopurge_snap_retain_count < 3 {
            c.warnings
                .push(format!("Invalid autopurge.snapRetainCount: {}. Defaulting to 3", c.autopurge_snap_retain_count));
            c.autopurge_snap_retain_count = 3;
        }
        let Some(dd) = data_dir else {
            return Err(self.file_err("dataDir is not set"));
        };
        let c = &mut *self.cfg;
        c.data_log_dir = data_log_dir.unwrap_or_else(|| dd.clone());
        c.data_dir = dd;

        if client_port == 0 {
            if client_port_address.is_some() {
                return Err(self.file_err("clientPortAddress is set but clientPort is not set"));
            }
        } else {
            let c = &mut *self.cfg;
            c.client_port = u16::try_from(client_port).ok();
            c.client_port_address = client_port_address.map(|h| java_host_string(&h));
        }
        if secure_client_port == 0 {
            if secure_client_port_address.is_some() {
                return Err(self.file_err("secureClientPortAddress is set but secureClientPort is not set"));
            }
        } else {
            let c = &mut *self.cfg;
            c.secure_client_port = u16::try_from(secure_client_port).ok();
            c.secure_client_port_address = secure_client_port_address;
        }
        let c = &mut *self.cfg;
        c.observer_master_port = if observer_master_port > 0 { u16::try_from(observer_master_port).ok() } else { None };

        if c.tick_time_ms == 0 {
            return Err(self.file_err("tickTime is not set"));
        }
        if self.cfg.tick_time_ms < 0 {
            // Java accepts this and then misbehaves; nothing useful can run with it.
            return Err(self.file_err(format!("tickTime must be positive, got {}", self.cfg.tick_time_ms)));
        }
        self.cfg.resolve_session_timeouts();
        if self.cfg.min_session_timeout_ms > self.cfg.max_session_timeout_ms {
            return Err(self.file_err("minSessionTimeout must not be larger than maxSessionTimeout"));
        }
        if self.cfg.metrics_provider_class_name != DEFAULT_METRICS_PROVIDER {
            let name = self.cfg.metrics_provider_class_name.clone();
            self.cfg.warnings.push(format!(
                "metricsProvider.className={name} is a Java class; ruzk serves its built-in metrics only"
            ));
        }
        Ok(())
    }

    /// `setupQuorumPeerConfig`: parseDynamicConfig, setupMyId, setupClientPort, setupPeerType,
    /// checkValidity.
    fn setup_quorum(
        &mut self,
        lines: &[PropLine],
        backward_compatible: bool,
        read_file: &dyn Fn(&Path) -> Option<String>,
    ) -> Result<()> {
        self.parse_dynamic_config(lines, backward_compatible)?;
        self.setup_my_id(read_file)?;
        self.setup_client_port()?;
        self.setup_peer_type();
        let c = &*self.cfg;
        if c.is_distributed() {
            if c.init_limit == 0 {
                return Err(self.file_err("initLimit is not set"));
            }
            if c.sync_limit == 0 {
                return Err(self.file_err("syncLimit is not set"));
            }
            if c.server_id.is_none() {
                return Err(self.file_err("myid file is missing"));
            }
        }
        Ok(())
    }

    fn parse_dynamic_config(&mut self, lines: &[PropLine], backward_compatible: bool) -> Result<()> {
        let mut hierarchical = false;
        for l in lines {
            let key = java_trim(&l.key);
            if key.starts_with("group") || key.starts_with("weight") {
                hierarchical = true;
            } else if !backward_compatible && !key.starts_with("server.") && key != "version" {
                return Err(self.key_err(l, format!("Unrecognised parameter: {key}")));
            }
        }
        for l in lines {
            // QuorumMaj reads the raw Properties entry: the key untrimmed, the value with its
            // trailing whitespace, which then fails as a port number, as in Java.
            if let Some(sid) = l.key.strip_prefix("server.") {
                let sid = java_parse_long(sid).ok_or_else(|| self.key_err(l, format!("invalid server id {sid:?}")))?;
                let qs = self.parse_server(l, sid, &l.value)?;
                self.cfg.servers.insert(sid, qs);
            } else if l.key == "version" {
                self.cfg.quorum_version = i64::from_str_radix(&l.value, 16)
                    .map_err(|_| self.key_err(l, format!("invalid hex {:?}", l.value)))?;
            } else if hierarchical {
                if let Some(g) = l.key.strip_prefix("group.") {
                    let gid = java_parse_long(g).ok_or_else(|| self.key_err(l, format!("invalid group id {g:?}")))?;
                    let mut members = Vec::new();
                    for m in l.value.split(':') {
                        members.push(
                            java_parse_long(m).ok_or_else(|| self.key_err(l, format!("invalid server id {m:?}")))?,
                        );
                    }
                    self.cfg.groups.insert(gid, members);
                } else if let Some(w) = l.key.strip_prefix("weight.") {
                    let sid = java_parse_long(w).ok_or_else(|| self.key_err(l, format!("invalid server id {w:?}")))?;
                    let weight = java_parse_long(&l.value)
                        .ok_or_else(|| self.key_err(l, format!("invalid number {:?}", l.value)))?;
                    self.cfg.weights.insert(sid, weight);
                }
            }
        }
        if hierarchical {
            self.cfg
                .warnings
                .push("group/weight lines (hierarchical quorums) are parsed but ruzk counts a plain majority".into());
        }
        let voting = self.cfg.voting_members().count();
        let observers = self.cfg.servers.len() - voting;
        if voting == 0 {
            if !self.cfg.standalone_enabled {
                return Err(self.file_err("standaloneEnabled = false then number of participants should be >0"));
            }
            if observers > 0 {
                return Err(self.file_err("Observers w/o participants is an invalid configuration"));
            }
        } else if voting == 1 && self.cfg.standalone_enabled {
            self.cfg.warnings.push("Invalid configuration, only one server specified (ignoring)".into());
            if observers > 0 {
                return Err(self.file_err("Observers w/o quorum is an invalid configuration"));
            }
        } else if voting <= 2 {
            self.cfg.warnings.push("No server failure will be tolerated. You need at least 3 servers.".into());
        } else if voting.is_multiple_of(2) {
            self.cfg.warnings.push("Non-optimal configuration, consider an odd number of servers.".into());
        }
        Ok(())
    }

    /// `QuorumServer.initializeWithAddressString`.
    fn parse_server(&self, l: &PropLine, sid: i64, value: &str) -> Result<QuorumServer> {
        let wrong = || {
            self.key_err(
                l,
                format!(
                    "{value} does not have the form server_config or server_config;client_config where server_config \
                     is the pipe separated list of host:port:port or host:port:port:type and client_config is port \
                     or host:port"
                ),
            )
        };
        let server_client = java_split(value, ';');
        let addresses = java_split(server_client.first().copied().unwrap_or(""), '|');
        let mut client_addr = None;
        if server_client.len() == 2 {
            let cp = get_host_and_port(server_client.get(1).copied().unwrap_or("")).map_err(|m| self.key_err(l, m))?;
            if cp.len() > 2 {
                return Err(wrong());
            }
            let host = if cp.len() == 2 {
                java_host_string(cp.first().map(String::as_str).unwrap_or(""))
            } else {
                "0.0.0.0".to_string()
            };
            let port_str = cp.last().cloned().unwrap_or_default();
            let port = java_parse_int(&port_str)
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| self.key_err(l, format!("Address unresolved: {host}:{port_str}")))?;
            client_addr = Some(HostPort { host, port });
        }
        // Java 3.8 checks the *system property* here, not the multiAddress.enabled key it
        // parsed into a field, so only -Dzookeeper.multiAddress.enabled=true enables `a|b`.
        let multi_address = self.cfg.props.parse_boolean("zookeeper.multiAddress.enabled", false);
        if !multi_address && addresses.len() > 1 {
            return Err(self.key_err(
                l,
                format!("Multiple address feature is disabled, but multiple addresses were specified for sid {sid}"),
            ));
        }
        let mut addrs = Vec::new();
        let mut peer_type: Option<PeerType> = None;
        for a in &addresses {
            let parts = get_host_and_port(a).map_err(|m| self.key_err(l, m))?;
            if server_client.len() > 2 || parts.len() < 3 || parts.len() > 4 {
                return Err(wrong());
            }
            let host = java_host_string(parts.first().map(String::as_str).unwrap_or(""));
            let port_of = |s: &String| {
                java_parse_int(s)
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(|| self.key_err(l, format!("Address unresolved: {host}:{s}")))
            };
            let quorum_port = port_of(parts.get(1).unwrap_or(&String::new()))?;
            let election_port = port_of(parts.get(2).unwrap_or(&String::new()))?;
            if quorum_port == election_port {
                return Err(self.key_err(
                    l,
                    format!(
                        "Client and election port must be different! Please update the configuration file on server.{sid}"
                    ),
                ));
            }
            if let Some(t) = parts.get(3) {
                let t2 = match java_trim(t).to_lowercase().as_str() {
                    "observer" => PeerType::Observer,
                    "participant" => PeerType::Participant,
                    _ => return Err(self.key_err(l, format!("Unrecognised peertype: {t}"))),
                };
                match peer_type {
                    None => peer_type = Some(t2),
                    Some(prev) if prev != t2 => {
                        return Err(self.key_err(
                            l,
                            format!(
                                "Multiple addresses should have similar roles: {} vs {}",
                                prev.as_str(),
                                t2.as_str()
                            ),
                        ))
                    }
                    Some(_) => {}
                }
            }
            addrs.push(ServerAddr { host, quorum_port, election_port });
        }
        Ok(QuorumServer {
            id: sid,
            addrs,
            peer_type: peer_type.unwrap_or(PeerType::Participant),
            client_addr,
            client_addr_from_static: false,
        })
    }

    fn setup_my_id(&mut self, read_file: &dyn Fn(&Path) -> Option<String>) -> Result<()> {
        let path = self.cfg.data_dir.join("myid");
        let Some(text) = read_file(&path) else {
            return Ok(());
        };
        // BufferedReader.readLine: up to \n, \r or \r\n; null for an empty file.
        let first = if text.is_empty() { None } else { text.split(['\n', '\r']).next() };
        match first.and_then(java_parse_long) {
            Some(id) => {
                self.cfg.server_id = Some(id);
                Ok(())
            }
            None => Err(ConfigError::File {
                file: path.display().to_string(),
                msg: format!("serverid {} is not a number", first.unwrap_or("null")),
            }),
        }
    }

    fn setup_client_port(&mut self) -> Result<()> {
        let Some(sid) = self.cfg.server_id else {
            return Ok(());
        };
        let static_addr = self.cfg.client_port.map(|port| HostPort {
            host: self.cfg.client_port_address.clone().unwrap_or_else(|| "0.0.0.0".to_string()),
            port,
        });
        let Some(qs) = self.cfg.servers.get(&sid) else {
            return Ok(());
        };
        if let (Some(st), Some(dynamic)) = (&static_addr, &qs.client_addr) {
            let differs = if st.is_wildcard() { st.port != dynamic.port } else { st != dynamic };
            if differs {
                return Err(self.file_err(format!(
                    "client address for this server (id = {sid}) in static config file is {} is different from \
                     client address found in dynamic file: {}",
                    st.to_java_string(),
                    dynamic.to_java_string()
                )));
            }
        }
        match qs.client_addr.clone() {
            Some(dynamic) => {
                self.cfg.client_port = Some(dynamic.port);
                self.cfg.client_port_address = Some(dynamic.host);
            }
            None => {
                if let Some(qs) = self.cfg.servers.get_mut(&sid) {
                    qs.client_addr = static_addr;
                    qs.client_addr_from_static = true;
                }
            }
        }
        Ok(())
    }

    fn setup_peer_type(&mut self) {
        let by_list = match self.cfg.server_id.and_then(|id| self.cfg.servers.get(&id)) {
            Some(qs) if qs.peer_type == PeerType::Observer => PeerType::Observer,
            _ => PeerType::Participant,
        };
        if by_list != self.cfg.peer_type {
            self.cfg.warnings.push(format!(
                "Peer type from servers list ({}) doesn't match peerType ({}). Defaulting to servers list.",
                by_list.as_str().to_uppercase(),
                self.cfg.peer_type.as_str().to_uppercase()
            ));
            self.cfg.peer_type = by_list;
        }
    }
}

/// `InetSocketAddress.getHostString` for a literal address: Java prints IPv6 literals in full,
/// uncompressed form (`::1` → `0:0:0:0:0:0:0:1`). Host names stay as written.
fn java_host_string(host: &str) -> String {
    if let Ok(v6) = host.parse::<std::net::Ipv6Addr>() {
        return v6.segments().iter().map(|s| format!("{s:x}")).collect::<Vec<_>>().join(":");
    }
    if let Ok(v4) = host.parse::<std::net::Ipv4Addr>() {
        return v4.to_string();
    }
    host.to_string()
}

/// `ConfigUtils.getHostAndPort`: `host:p1:p2...`, or `[v6host]:p1:p2...`.
fn get_host_and_port(s: &str) -> std::result::Result<Vec<String>, String> {
    if let Some(rest) = s.strip_prefix('[') {
        let Some(i) = rest.find(']') else {
            return Err(format!("{s} starts with '[' but has no matching ']:'"));
        };
        let host = rest.get(..i).unwrap_or("");
        let after = rest.get(i + 1..).unwrap_or("");
        if after.len() == 1 {
            return Err(format!("{s} doesn't have a port after colon"));
        }
        if after.len() > 1 {
            let mut v = vec![host.to_string()];
            v.extend(java_split(after.get(1..).unwrap_or(""), ':').into_iter().map(str::to_string));
            return Ok(v);
        }
        return Ok(vec![s.replace(['[', ']'], "")]);
    }
    Ok(java_split(s, ':').into_iter().map(str::to_string).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn no_files(_: &Path) -> Option<String> {
        None
    }

    fn parse(text: &str) -> Result<Config> {
        Config::parse(Path::new("zoo.cfg"), text, &Props::new(), &no_files)
    }

    fn parse_with(text: &str, props: &Props, myid: Option<&str>) -> Result<Config> {
        let myid = myid.map(str::to_string);
        let reader = move |p: &Path| {
            if p.ends_with("myid") {
                myid.clone()
            } else {
                None
            }
        };
        Config::parse(Path::new("zoo.cfg"), text, props, &reader)
    }

    const ENSEMBLE: &str = "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/d\nclientPort=2181\n\
        server.1=10.0.0.1:2888:3888\nserver.2=10.0.0.2:2888:3888\nserver.3=10.0.0.3:2888:3888\n";

    #[test]
    fn minimal_standalone_gets_java_defaults() {
        let c = parse("dataDir=/var/zk\nclientPort=2181\n").unwrap();
        assert_eq!(c.tick_time_ms, 3000);
        assert_eq!(c.data_dir, PathBuf::from("/var/zk"));
        assert_eq!(c.data_log_dir, PathBuf::from("/var/zk"));
        assert_eq!(c.client_port, Some(2181));
        assert_eq!(c.client_port_address, None);
        assert_eq!(c.secure_client_port, None);
        assert_eq!(c.max_client_cnxns, 60);
        assert_eq!((c.min_session_timeout_ms, c.max_session_timeout_ms), (6000, 60000));
        assert_eq!(c.autopurge_snap_retain_count, 3);
        assert_eq!(c.autopurge_purge_interval_hours, 0);
        assert!(c.standalone_enabled && !c.reconfig_enabled && !c.is_distributed());
        assert_eq!(c.snap_count, 100000);
        assert_eq!(c.pre_alloc_size_kb, 65536);
        assert_eq!(c.txn_log_size_limit_kb, -1);
        assert_eq!(c.snap_size_limit_kb, 4194304);
        assert!(c.force_sync && c.digest_enabled && c.close_session_txn_enabled && c.admin_enable_server);
        assert!(!c.extended_types_enabled && !c.skip_acl && !c.readonly_mode && !c.local_sessions_enabled);
        assert_eq!(c.fsync_warning_threshold_ms, 1000);
        assert_eq!(c.jute_maxbuffer, 0xfffff);
        assert_eq!(c.snapshot_compression, SnapshotCompression::Checked);
        assert_eq!(c.container_check_interval_ms, 60000);
        assert_eq!(c.admin_server_port, 8080);
        assert_eq!(c.server_id, None);
        assert_eq!(c.effective_server_id(), 0);
        assert!(c.four_letter_whitelist.allows("srvr"));
        assert!(!c.four_letter_whitelist.allows("mntr") && !c.four_letter_whitelist.allows("isro"));
        assert_eq!(c.quorum_verifier_string(), "version=0");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn every_typed_key_is_read() {
        let text = "tickTime=100\ndataDir=/a\ndataLogDir=/b\nclientPort=1\nclientPortAddress=::1\n\
            secureClientPort=2\nsecureClientPortAddress=127.0.0.2\nobserverMasterPort=3\nclientPortListenBacklog=4\n\
            maxClientCnxns=5\nminSessionTimeout=6\nmaxSessionTimeout=7\ninitLimit=8\nsyncLimit=9\n\
            connectToLearnerMasterLimit=10\nelectionAlg=3\nquorumListenOnAllIPs=true\npeerType=participant\n\
            syncEnabled=false\nautopurge.snapRetainCount=11\nautopurge.purgeInterval=12\nstandaloneEnabled=true\n\
            reconfigEnabled=TRUE\nsslQuorum=true\nportUnification=true\nsslQuorumReloadCertFiles=true\n\
            localSessionsEnabled=true\nlocalSessionsUpgradingEnabled=true\nquorum.auth.enableSasl=true\n\
            quorum.auth.learnerRequireSasl=true\nquorum.auth.serverRequireSasl=true\n\
            quorum.auth.learner.saslLoginContext=L\nquorum.auth.server.saslLoginContext=S\n\
            quorum.auth.kerberos.servicePrincipal=P\nquorum.cnxn.threads.size=13\njvm.pause.monitor=true\n\
            jvm.pause.info-threshold.ms=14\njvm.pause.warn-threshold.ms=15\njvm.pause.sleep.time.ms=16\n\
            metricsProvider.className=org.apache.zookeeper.metrics.impl.DefaultMetricsProvider\n\
            metricsProvider.exportJvmInfo=false\nmultiAddress.reachabilityCheckTimeoutMs=17\n\
            multiAddress.reachabilityCheckEnabled=false\noraclePath=/o\n\
            snapCount=18\npreAllocSize=19\ntxnLogSizeLimitInKb=20\nsnapSizeLimitInKb=21\nforceSync=no\n\
            fsync.warningthresholdms=22\nextendedTypesEnabled=true\nemulate353TTLNodes=true\n\
            DigestAuthenticationProvider.superDigest=super:x\nskipACL=yes\ndigest.enabled=false\n\
            closeSessionTxn.enabled=false\nsnapshot.compression.method=SNAPPY\nsnapshot.trust.empty=true\n\
            db.autocreate=false\ncommitLogCount=23\nsnapshotSizeFactor=0.5\nmaxCnxns=24\n\
            globalOutstandingLimit=25\nleaderServes=no\nenforceQuota=true\n4lw.commands.whitelist=*\n\
            admin.enableServer=false\nadmin.serverPort=26\nadmin.serverAddress=127.0.0.3\nadmin.commandURL=/c\n\
            jute.maxbuffer.extrasize=27\n";
        let c = parse(text).unwrap();
        assert_eq!(c.tick_time_ms, 100);
        assert_eq!((c.data_dir.as_path(), c.data_log_dir.as_path()), (Path::new("/a"), Path::new("/b")));
        assert_eq!((c.client_port, c.client_port_address.as_deref()), (Some(1), Some("0:0:0:0:0:0:0:1")));
        assert_eq!((c.secure_client_port, c.secure_client_port_address.as_deref()), (Some(2), Some("127.0.0.2")));
        assert_eq!((c.observer_master_port, c.client_port_listen_backlog), (Some(3), 4));
        assert_eq!((c.max_client_cnxns, c.min_session_timeout_ms, c.max_session_timeout_ms), (5, 6, 7));
        assert_eq!((c.init_limit, c.sync_limit, c.connect_to_learner_master_limit), (8, 9, 10));
        assert!(c.quorum_listen_on_all_ips && !c.sync_enabled && c.reconfig_enabled);
        assert_eq!((c.autopurge_snap_retain_count, c.autopurge_purge_interval_hours), (11, 12));
        assert!(c.ssl_quorum && c.port_unification && c.ssl_quorum_reload_cert_files);
        assert!(c.local_sessions_enabled && c.local_sessions_upgrading_enabled);
        assert!(c.quorum_enable_sasl && c.quorum_learner_require_sasl && c.quorum_server_require_sasl);
        assert_eq!((c.quorum_learner_login_context.as_str(), c.quorum_server_login_context.as_str()), ("L", "S"));
        assert_eq!((c.quorum_service_principal.as_str(), c.quorum_cnxn_threads_size), ("P", 13));
        assert!(c.jvm_pause_monitor);
        assert_eq!(
            (c.jvm_pause_info_threshold_ms, c.jvm_pause_warn_threshold_ms, c.jvm_pause_sleep_time_ms),
            (14, 15, 16)
        );
        assert_eq!(c.metrics_provider_config.get("exportJvmInfo").map(String::as_str), Some("false"));
        assert!(!c.metrics_provider_config.contains_key("className"));
        assert_eq!(c.multi_address_reachability_check_timeout_ms, 17);
        assert!(!c.multi_address_reachability_check_enabled);
        assert_eq!(c.oracle_path.as_deref(), Some("/o"));
        assert_eq!(
            (c.snap_count, c.pre_alloc_size_kb, c.txn_log_size_limit_kb, c.snap_size_limit_kb),
            (18, 19, 20, 21)
        );
        assert!(!c.force_sync);
        assert_eq!(c.fsync_warning_threshold_ms, 22);
        assert!(c.extended_types_enabled && c.emulate_353_ttl_nodes && c.skip_acl);
        assert_eq!(c.super_digest.as_deref(), Some("super:x"));
        assert!(!c.digest_enabled && !c.close_session_txn_enabled);
        assert_eq!(c.snapshot_compression, SnapshotCompression::Snappy);
        assert!(c.snapshot_trust_empty && !c.db_autocreate);
        assert_eq!((c.commit_log_count, c.snapshot_size_factor), (23, 0.5));
        assert_eq!((c.max_cnxns, c.global_outstanding_limit), (24, 25));
        assert!(!c.leader_serves && c.enforce_quota);
        assert_eq!(c.four_letter_whitelist, FourLetterWhitelist::All);
        assert!(!c.admin_enable_server);
        assert_eq!(
            (c.admin_server_port, c.admin_server_address.as_str(), c.admin_command_url.as_str()),
            (26, "127.0.0.3", "/c")
        );
        assert_eq!(c.jute_maxbuffer_extrasize, 27);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn keys_without_zookeeper_prefix_cannot_come_from_zoo_cfg() {
        // Java sets zookeeper.<key>; these properties are read without the prefix.
        let c = parse("dataDir=/d\njute.maxbuffer=10\nreadonlymode.enabled=true\nznode.container.checkIntervalMs=5\n")
            .unwrap();
        assert_eq!(c.jute_maxbuffer, 0xfffff);
        assert!(!c.readonly_mode);
        assert_eq!(c.container_check_interval_ms, 60000);
        assert_eq!(c.props.get("zookeeper.jute.maxbuffer"), Some("10"));
        let p = Props::from_args_and_env(
            &[
                "jute.maxbuffer=10".into(),
                "readonlymode.enabled=true".into(),
                "znode.container.checkIntervalMs=5".into(),
            ],
            None,
            None,
        );
        let c = parse_with("dataDir=/d\n", &p, None).unwrap();
        assert_eq!((c.jute_maxbuffer, c.container_check_interval_ms), (10, 5));
        assert!(c.readonly_mode && c.four_letter_whitelist.allows("isro"));
    }

    #[test]
    fn jvmflags_strings_are_split_like_the_shell_does() {
        let p = Props::from_args_and_env(
            &["zookeeper.snapCount=3".into(), "-Dx.y=1=2".into()],
            Some("-Xmx512m -Dzookeeper.snapCount=1 -Da=server  -Dflag"),
            Some("-XX:+UseG1GC -Dzookeeper.snapCount=2 -Da=jvm -Dempty="),
        );
        assert_eq!(p.get("zookeeper.snapCount"), Some("3"));
        assert_eq!(p.get("a"), Some("jvm"));
        assert_eq!(p.get("flag"), Some(""));
        assert_eq!(p.get("empty"), Some(""));
        assert_eq!(p.get("x.y"), Some("1=2"));
        assert_eq!(p.get("-Xmx512m"), None);
        assert_eq!(p.iter().count(), 5);
    }

    #[test]
    fn zoo_cfg_key_overrides_the_same_minus_d_property() {
        let p =
            Props::from_args_and_env(&["zookeeper.snapCount=111".into(), "zookeeper.forceSync=no".into()], None, None);
        let c = parse_with("dataDir=/d\nsnapCount=222\n", &p, None).unwrap();
        assert_eq!(c.snap_count, 222);
        assert!(!c.force_sync);
        assert_eq!(c.props.get("zookeeper.snapCount"), Some("222"));
    }

    #[test]
    fn system_property_readers_follow_java_number_rules() {
        let p = Props::from_args_and_env(
            &[
                "zookeeper.snapCount=0x10".into(),
                "zookeeper.commitLogCount=010".into(),
                "zookeeper.maxCnxns=abc".into(),
            ],
            None,
            None,
        );
        let c = parse_with("dataDir=/d\n", &p, None).unwrap();
        assert_eq!(c.snap_count, 16);
        assert_eq!(c.commit_log_count, 8);
        assert_eq!(c.max_cnxns, 0);
        assert!(c.warnings.iter().any(|w| w.contains("zookeeper.maxCnxns")), "{:?}", c.warnings);
        let c = parse("dataDir=/d\nsnapCount=1\npreAllocSize=0x10\n").unwrap();
        assert_eq!(c.snap_count, 2, "Java raises snapCount below 2 to 2");
        assert_eq!(c.pre_alloc_size_kb, 65536, "preAllocSize is parseLong, not decode");
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        assert_eq!(java_decode_long("-0x8000000000000000"), Some(i64::MIN));
        assert_eq!(java_decode_long("#ff"), Some(255));
        assert_eq!(java_decode_long("0"), Some(0));
        assert_eq!(java_decode_long("0x"), None);
        assert_eq!(java_decode_long("--1"), None);
        assert_eq!(java_parse_int("+7"), Some(7));
        assert_eq!(java_parse_int("2147483648"), None);
        assert_eq!(java_parse_int(" 7"), None);
    }

    #[test]
    fn a_bad_value_names_the_file_line_and_key() {
        let e = parse("# comment\ndataDir=/d\ntickTime=abc\n").unwrap_err();
        assert_eq!(e.to_string(), "zoo.cfg line 3: tickTime: invalid number \"abc\"");
        let e = parse("dataDir=/d\n\n\nstandaloneEnabled=yes\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "zoo.cfg line 4: standaloneEnabled: Invalid option yes for standaloneEnabled. Choose 'true' or 'false.'"
        );
        let e = parse("dataDir=/d\nclientPort=70000\n").unwrap_err();
        assert_eq!(e.to_string(), "zoo.cfg line 2: clientPort: port out of range:70000");
        let e = parse("dataDir=/d\nserver.1=a:1:1\nserver.2=b:1:2\n").unwrap_err();
        assert!(matches!(&e, ConfigError::Key { line: 2, key, .. } if key == "server.1"), "{e}");
        let e = parse("dataDir=/d\nserver.x=a:1:2\n").unwrap_err();
        assert!(e.to_string().starts_with("zoo.cfg line 2: server.x: invalid server id"), "{e}");
        let e = parse("dataDir=/d\nserver.1=a:1:2:witness\nserver.2=b:1:2\n").unwrap_err();
        assert!(e.to_string().ends_with("Unrecognised peertype: witness"), "{e}");
        let e = parse("dataDir=/d\nserver.1=a:1\n").unwrap_err();
        assert!(e.to_string().contains("does not have the form server_config"), "{e}");
        let e = parse("dataDir=/d\nelectionAlg=0\n").unwrap_err();
        assert!(e.to_string().ends_with("Invalid electionAlg value. Only 3 is supported."), "{e}");
        let e = parse("dataDir=/d\npeerType=spectator\n").unwrap_err();
        assert!(e.to_string().ends_with("Unrecognised peertype: spectator"), "{e}");
    }

    #[test]
    fn whole_file_rules_use_java_wording() {
        let msg = |t: &str| parse(t).unwrap_err().to_string();
        assert_eq!(msg("clientPort=2181\n"), "zoo.cfg: dataDir is not set");
        assert_eq!(
            msg("dataDir=/d\nclientPortAddress=1.2.3.4\n"),
            "zoo.cfg: clientPortAddress is set but clientPort is not set"
        );
        assert_eq!(
            msg("dataDir=/d\nsecureClientPortAddress=1.2.3.4\n"),
            "zoo.cfg: secureClientPortAddress is set but secureClientPort is not set"
        );
        assert_eq!(msg("dataDir=/d\ntickTime=0\n"), "zoo.cfg: tickTime is not set");
        assert_eq!(
            msg("dataDir=/d\nminSessionTimeout=10\nmaxSessionTimeout=5\n"),
            "zoo.cfg: minSessionTimeout must not be larger than maxSessionTimeout"
        );
        assert_eq!(msg(ENSEMBLE), "zoo.cfg: myid file is missing");
        assert_eq!(
            msg("dataDir=/d\nserver.1=a:1:2:observer\n"),
            "zoo.cfg: Observers w/o participants is an invalid configuration"
        );
        assert_eq!(
            msg("dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2:observer\n"),
            "zoo.cfg: Observers w/o quorum is an invalid configuration"
        );
        assert_eq!(
            msg("dataDir=/d\nstandaloneEnabled=false\n"),
            "zoo.cfg: standaloneEnabled = false then number of participants should be >0"
        );
    }

    #[test]
    fn ensemble_with_myid_parses_servers_and_roles() {
        let text = format!("{ENSEMBLE}server.4=10.0.0.4:2888:3888:observer;10.0.0.4:2190\nserver.5=[fe80::1]:1:2;3\n");
        let c = parse_with(&text, &Props::new(), Some("2\n")).unwrap();
        assert_eq!(c.server_id, Some(2));
        assert_eq!(c.effective_server_id(), 2);
        assert!(c.is_distributed());
        assert_eq!(c.voting_members().count(), 4);
        let s4 = &c.servers[&4];
        assert_eq!(s4.peer_type, PeerType::Observer);
        assert_eq!(s4.client_addr, Some(HostPort { host: "10.0.0.4".into(), port: 2190 }));
        let s5 = &c.servers[&5];
        assert_eq!(s5.addrs, vec![ServerAddr { host: "fe80:0:0:0:0:0:0:1".into(), quorum_port: 1, election_port: 2 }]);
        assert_eq!(s5.client_addr, Some(HostPort { host: "0.0.0.0".into(), port: 3 }));
        // This server's client address came from clientPort, so the QV string leaves it out.
        assert!(c.servers[&2].client_addr_from_static);
        assert_eq!(
            c.quorum_verifier_string(),
            "server.1=10.0.0.1:2888:3888:participant\nserver.2=10.0.0.2:2888:3888:participant\n\
             server.3=10.0.0.3:2888:3888:participant\nserver.4=10.0.0.4:2888:3888:observer;10.0.0.4:2190\n\
             server.5=[fe80:0:0:0:0:0:0:1]:1:2:participant;0.0.0.0:3\nversion=0"
        );
        assert!(c.warnings.iter().any(|w| w.contains("odd number")), "{:?}", c.warnings);
    }

    #[test]
    fn own_server_line_supplies_the_client_port_and_peer_type() {
        let text = "initLimit=1\nsyncLimit=1\ndataDir=/d\npeerType=participant\n\
            server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2:observer;127.0.0.1:2183\n";
        let c = parse_with(text, &Props::new(), Some("3")).unwrap();
        assert_eq!((c.client_port, c.client_port_address.as_deref()), (Some(2183), Some("127.0.0.1")));
        assert_eq!(c.peer_type, PeerType::Observer);
        assert_eq!(c.peer_type.ordinal(), 1);
        assert!(c.warnings.iter().any(|w| w.contains("Peer type from servers list")), "{:?}", c.warnings);
        let clash = format!("clientPortAddress=127.0.0.1\nclientPort=2999\n{text}");
        let e = parse_with(&clash, &Props::new(), Some("3")).unwrap_err();
        assert!(e.to_string().contains("is different from client address found in dynamic file"), "{e}");
        // A wildcard static address only has to agree on the port.
        let same_port = format!("clientPort=2183\n{text}");
        assert!(parse_with(&same_port, &Props::new(), Some("3")).is_ok());
    }

    #[test]
    fn one_voting_server_is_standalone_unless_standalone_is_disabled() {
        let text = "dataDir=/d\nclientPort=1\nserver.1=a:1:2\n";
        let c = parse_with(text, &Props::new(), Some("1")).unwrap();
        assert!(!c.is_distributed());
        assert_eq!(c.server_id, Some(1));
        assert_eq!(c.effective_server_id(), 0, "Java's standalone server reports serverId=0");
        assert!(c.warnings.iter().any(|w| w.contains("only one server")));
        let e = parse_with(&format!("standaloneEnabled=false\n{text}"), &Props::new(), Some("1")).unwrap_err();
        assert_eq!(e.to_string(), "zoo.cfg: initLimit is not set");
        let c =
            parse_with(&format!("standaloneEnabled=false\ninitLimit=1\nsyncLimit=1\n{text}"), &Props::new(), Some("1"))
                .unwrap();
        assert!(c.is_distributed());
    }

    #[test]
    fn myid_is_the_first_line_parsed_as_a_java_long() {
        let ok = |m: &str| parse_with(ENSEMBLE, &Props::new(), Some(m)).map(|c| c.server_id);
        assert_eq!(ok("7"), Ok(Some(7)));
        assert_eq!(ok("7\r\nignored"), Ok(Some(7)));
        assert_eq!(ok("-1\n"), Ok(Some(-1)));
        let e = ok(" 7\n").unwrap_err();
        assert_eq!(e.to_string(), "/d/myid: serverid  7 is not a number");
        let e = ok("").unwrap_err();
        assert_eq!(e.to_string(), "/d/myid: serverid null is not a number");
    }

    #[test]
    fn multiple_addresses_need_the_system_property() {
        let text = "initLimit=1\nsyncLimit=1\ndataDir=/d\nclientPort=1\nserver.1=b:1:2|a:3:4\nserver.2=c:1:2\n";
        let e = parse_with(&format!("multiAddress.enabled=true\n{text}"), &Props::new(), Some("1")).unwrap_err();
        assert!(e.to_string().contains("Multiple address feature is disabled"), "{e}");
        let p = Props::from_args_and_env(&["zookeeper.multiAddress.enabled=true".into()], None, None);
        let c = parse_with(text, &p, Some("1")).unwrap();
        assert!(c.multi_address_enabled);
        assert_eq!(c.servers[&1].to_java_string(), "a:3:4|b:1:2:participant");
    }

    #[test]
    fn properties_syntax_matches_java_properties_load() {
        let text = "  # c\n! c\nk1 = v1  \nk2:v2\nk3 v3\nk4=a\\\n    b\\\\\nk5=\\u0041\\t\\=\nk1=again\n\\ k6=x\nk7\n";
        let lines = parse_properties(text).unwrap();
        let got: Vec<(&str, &str, usize)> = lines.iter().map(|l| (l.key.as_str(), l.value.as_str(), l.line)).collect();
        assert_eq!(
            got,
            vec![
                ("k1", "again", 9),
                ("k2", "v2", 4),
                ("k3", "v3", 5),
                ("k4", "ab\\", 6),
                ("k5", "A\t=", 8),
                (" k6", "x", 10),
                ("k7", "", 11),
            ]
        );
        assert!(parse_properties("k=\\u00zz\n").is_err());
        assert_eq!(
            parse_properties("a=1\r\n\r\nb=2\rc=3").unwrap().iter().map(|l| l.line).collect::<Vec<_>>(),
            vec![1, 3, 4]
        );
        // A comment line does not continue, even when it ends in a backslash.
        assert_eq!(parse_properties("#x\\\ny=1\n").unwrap().len(), 1);
    }

    #[test]
    fn unknown_keys_warn_but_still_become_properties() {
        let c = parse("dataDir=/d\ntickTim=2000\nsnapCount=5\n").unwrap();
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("tickTim"));
        assert_eq!(c.props.get("zookeeper.tickTim"), Some("2000"));
    }

    #[test]
    fn whitelist_parsing_follows_four_letter_commands_is_enabled() {
        let w = FourLetterWhitelist::from_property(Some(" mntr , ,conf"), None);
        assert!(w.allows("mntr") && w.allows("conf") && w.allows("srvr"));
        assert!(!w.allows("ruok") && !w.allows("") && !w.allows("isro"));
        assert_eq!(FourLetterWhitelist::from_property(Some("ruok, *"), None), FourLetterWhitelist::All);
        assert!(FourLetterWhitelist::from_property(None, Some("true")).allows("isro"));
        assert!(!FourLetterWhitelist::from_property(None, Some("TRUE")).allows("isro"));
    }

    #[test]
    fn dynamic_config_file_supplies_the_membership() {
        let text = "initLimit=1\nsyncLimit=1\ndataDir=/d\nclientPort=2185\ndynamicConfigFile=/c/zoo.cfg.dynamic.1f\n";
        let dynamic = "server.1=a:1:2;2185\nserver.2=b:1:2;2186\nserver.3=c:1:2;2187\n";
        let reader = |p: &Path| match p.to_str() {
            Some("/d/myid") => Some("1".to_string()),
            Some("/c/zoo.cfg.dynamic.1f") => Some(dynamic.to_string()),
            _ => None,
        };
        let c = Config::parse(Path::new("zoo.cfg"), text, &Props::new(), &reader).unwrap();
        assert_eq!(c.quorum_version, 0x1f);
        assert_eq!(c.servers.len(), 3);
        assert!(c.quorum_verifier_string().ends_with("server.3=c:1:2:participant;0.0.0.0:2187\nversion=1f"));
        let with_server = format!("{text}server.9=z:1:2\n");
        let e = Config::parse(Path::new("zoo.cfg"), &with_server, &Props::new(), &reader).unwrap_err();
        assert!(e.to_string().ends_with("parameter: server.9 must be in a separate dynamic config file"), "{e}");
        let bad = |p: &Path| {
            if p.ends_with("zoo.cfg.dynamic.1f") {
                Some("server.1=a:1:2\ntickTime=5\n".into())
            } else {
                None
            }
        };
        let e = Config::parse(Path::new("zoo.cfg"), text, &Props::new(), &bad).unwrap_err();
        assert!(e.to_string().ends_with("Unrecognised parameter: tickTime"), "{e}");
    }

    #[test]
    fn default_standalone_listens_on_loopback_2181() {
        let c = Config::default_standalone(Path::new("/tmp/x"));
        assert_eq!((c.client_port, c.client_port_address.as_deref()), (Some(2181), Some("127.0.0.1")));
        assert_eq!(c.tick_time_ms, 2000);
        assert_eq!((c.min_session_timeout_ms, c.max_session_timeout_ms), (4000, 40000));
        assert_eq!(c.data_log_dir, PathBuf::from("/tmp/x"));
        assert!(!c.is_distributed());
    }

    #[test]
    fn load_reads_latin1_files_and_myid_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::write(data.join("myid"), "2\n").unwrap();
        let cfg_path = dir.path().join("zoo.cfg");
        let mut text = format!(
            "# caf\u{e9}\ninitLimit=5\nsyncLimit=2\ndataDir={}\nclientPort=2181\n\
             server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890\n",
            data.display()
        )
        .into_bytes();
        // A raw 0xE9 byte: Properties.load(InputStream) reads ISO-8859-1, so this is 'é'.
        text.extend_from_slice(b"superUser=caf\xe9\n");
        std::fs::write(&cfg_path, text).unwrap();
        let c = Config::load(&cfg_path, &Props::new()).unwrap();
        assert_eq!(c.server_id, Some(2));
        assert!(c.is_distributed());
        assert_eq!(c.props.get("zookeeper.superUser"), Some("caf\u{e9}"));
        let e = Config::load(&dir.path().join("missing.cfg"), &Props::new()).unwrap_err();
        assert!(matches!(e, ConfigError::Io { .. }), "{e}");
    }

    #[test]
    fn listen_address_and_unsupported_settings() {
        let c = parse("dataDir=/d\nclientPort=2181\n").unwrap();
        assert_eq!(c.client_listen_address().as_deref(), Some("0.0.0.0:2181"));
        assert!(c.unsupported().is_empty());
        let c = parse("dataDir=/d\nclientPort=2181\nclientPortAddress=::1\nsecureClientPort=2281\nsslQuorum=true\n")
            .unwrap();
        assert_eq!(c.client_listen_address().as_deref(), Some("[0:0:0:0:0:0:0:1]:2181"));
        assert_eq!(c.secure_client_port, Some(2281));
        assert_eq!(c.unsupported().len(), 2, "{:?}", c.unsupported());
        assert!(c.unsupported()[0].starts_with("secureClientPort=2281"));
        assert_eq!(parse("dataDir=/d\n").unwrap().client_listen_address(), None);
    }

    #[test]
    fn the_shipped_sample_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/zoo.cfg");
        let text = std::fs::read_to_string(&path).unwrap();
        // No file reader: the host's own dataDir/myid must not leak into the test.
        let c = Config::parse(&path, &text, &Props::new(), &no_files).unwrap();
        assert_eq!((c.tick_time_ms, c.client_port), (2000, Some(2181)));
        assert!(!c.admin_enable_server && c.four_letter_whitelist.allows("mntr"));
        assert!(!c.is_distributed());
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    /// The same report `compat-tests/java/ParseConfig.java` prints for Java's QuorumPeerConfig.
    fn compat_report(c: &Config) -> String {
        let addr = |port: Option<u16>, host: &Option<String>| match port {
            Some(p) => format!("{}:{p}", host.as_deref().unwrap_or("0.0.0.0")),
            None => "none".to_string(),
        };
        let mut o = String::from("result=ok\n");
        o += &format!("dataDir={}\n", c.data_dir.display());
        o += &format!("dataLogDir={}\n", c.data_log_dir.display());
        o += &format!("clientPortAddress={}\n", addr(c.client_port, &c.client_port_address));
        o += &format!("secureClientPortAddress={}\n", addr(c.secure_client_port, &c.secure_client_port_address));
        o += &format!("tickTime={}\nmaxClientCnxns={}\n", c.tick_time_ms, c.max_client_cnxns);
        o += &format!(
            "minSessionTimeout={}\nmaxSessionTimeout={}\n",
            c.min_session_timeout_ms, c.max_session_timeout_ms
        );
        o += &format!("initLimit={}\nsyncLimit={}\npeerType={}\n", c.init_limit, c.sync_limit, c.peer_type.ordinal());
        o += &format!(
            "snapRetainCount={}\npurgeInterval={}\n",
            c.autopurge_snap_retain_count, c.autopurge_purge_interval_hours
        );
        o += &format!("serverId={}\ndistributed={}\n", c.server_id.unwrap_or(-1), c.is_distributed());
        o += &format!("standaloneEnabled={}\nreconfigEnabled={}\n", c.standalone_enabled, c.reconfig_enabled);
        o += &format!("localSessionsEnabled={}\n", c.local_sessions_enabled);
        o += &format!("clientPortListenBacklog={}\n", c.client_port_listen_backlog);
        let mp: Vec<String> = c.metrics_provider_config.iter().map(|(k, v)| format!("{k}={v}")).collect();
        o += &format!("metricsProvider={{{}}}\n", mp.join(", "));
        o += &format!("qv={}\n", c.quorum_verifier_string().replace('\n', "\\n"));
        for p in [
            "zookeeper.snapCount",
            "zookeeper.preAllocSize",
            "zookeeper.forceSync",
            "zookeeper.4lw.commands.whitelist",
            "zookeeper.extendedTypesEnabled",
            "zookeeper.digest.enabled",
            "zookeeper.admin.enableServer",
            "zookeeper.admin.serverPort",
            "zookeeper.skipACL",
            "jute.maxbuffer",
            "zookeeper.jute.maxbuffer",
            "readonlymode.enabled",
            "zookeeper.readonlymode.enabled",
        ] {
            o += &format!("prop.{p}={}\n", c.props.get(p).unwrap_or("<unset>"));
        }
        o
    }

    /// Every `tests/data/config/*.cfg` must be accepted or rejected exactly as Java 3.8.0's
    /// QuorumPeerConfig does, and an accepted one must come out the same (expected files are
    /// generated by `tests/data/config/regen.sh`).
    #[test]
    fn sample_configs_match_java_quorum_peer_config() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/config");
        let mut cfgs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "cfg"))
            .collect();
        cfgs.sort();
        assert!(cfgs.len() >= 25, "test data missing: {}", cfgs.len());
        let mut failures = Vec::new();
        for cfg in &cfgs {
            let text = std::fs::read_to_string(cfg).unwrap();
            let flags = text.lines().next().and_then(|l| l.strip_prefix("# jvmflags: ")).map(str::to_string);
            let props = Props::from_args_and_env(&[], flags.as_deref(), None);
            let base = dir.clone();
            let reader = move |p: &Path| {
                let full = base.join(p);
                if full.is_file() {
                    std::fs::read_to_string(full).ok()
                } else {
                    None
                }
            };
            let name = cfg.file_name().unwrap().to_str().unwrap();
            let got = match Config::parse(Path::new(name), &text, &props, &reader) {
                Ok(c) => compat_report(&c),
                Err(_) => "result=error\n".to_string(),
            };
            let expected_all = std::fs::read_to_string(cfg.with_extension("expected")).unwrap();
            let expected: String =
                expected_all.lines().filter(|l| !l.starts_with("java_error=")).map(|l| format!("{l}\n")).collect();
            if got != expected {
                failures.push(format!("{name}:\n--- java\n{expected}--- ruzk\n{got}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
