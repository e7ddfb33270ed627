//! `QuorumPeerConfig.parse`: zoo.cfg text (and the dynamic file, and `myid`) into a
//! [`Config`]. Pure apart from [`Config::load`], which reads the files it is pointed at.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::known::is_known_property_key;
use super::properties::{cfg_bool, java_parse_int, java_parse_long, java_trim, parse_properties, PropLine, Props};
use super::servers::{java_host_string, parse_server, HostPort, PeerType};
use super::{Config, ConfigError, Result, DEFAULT_METRICS_PROVIDER};
use std::path::{Path, PathBuf};

impl Config {
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
                // Java 3.8 checks the *system property* here, not the multiAddress.enabled key
                // it parsed into a field, so only -Dzookeeper.multiAddress.enabled=true enables `a|b`.
                let multi_address = self.cfg.props.parse_boolean("zookeeper.multiAddress.enabled", false);
                let qs = parse_server(sid, &l.value, multi_address).map_err(|m| self.key_err(l, m))?;
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
