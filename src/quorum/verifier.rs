//! Who votes and what counts as a quorum: Java's two `QuorumVerifier`s, majority (`QuorumMaj`)
//! and hierarchical (`QuorumHierarchical`, `group.N` / `weight.N`), in one type. Built from the
//! parsed zoo.cfg, or parsed from the QV string that FLE notifications and NEWLEADER carry, and
//! rendered back to that string exactly as Java's `toString` does, including the iteration order
//! of Java's `HashMap`s.
//!
//! Pure data and arithmetic. It parses strings that come from peers, so it never panics.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use crate::config::{parse_properties, Config, HostPort, PeerType, QuorumServer, ServerAddr};
use crate::types::ServerId;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Why a configuration cannot make a verifier (Java's `ConfigException`, or the runtime
/// exception Java would die of for the same input).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct VerifierError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, VerifierError> {
    Err(VerifierError(msg.into()))
}

/// A membership and its quorum rule. `version` is the config version (`version=` in hex).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumVerifier {
    version: i64,
    members: BTreeMap<i64, QuorumServer>,
    hierarchy: Option<Hierarchy>,
}

/// `QuorumHierarchical`'s tables. The `*_order` vectors are Java's insertion orders, which
/// decide how `toString` lists entries that share a hash bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Hierarchy {
    /// `serverWeight`: every participant (default 1) plus any `weight.N` line.
    weight: BTreeMap<i64, i64>,
    weight_order: Vec<i64>,
    /// `serverGroup`: sid → gid.
    group_of: BTreeMap<i64, i64>,
    group_order: Vec<i64>,
    /// `groupWeight`: gid → sum of its members' weights.
    group_weight: BTreeMap<i64, i64>,
    /// Group lines minus groups of weight 0 (`numGroups`).
    num_groups: i64,
}

impl QuorumVerifier {
    /// A majority verifier over `servers` (`QuorumMaj(Map)`).
    pub fn majority(servers: BTreeMap<i64, QuorumServer>, version: i64) -> QuorumVerifier {
        QuorumVerifier { version, members: servers, hierarchy: None }
    }

    /// The verifier of a parsed zoo.cfg (`QuorumPeerConfig.createQuorumVerifier`): hierarchical
    /// exactly when it had `group`/`weight` lines.
    pub fn from_config(c: &Config) -> Result<QuorumVerifier, VerifierError> {
        if let Some(path) = &c.oracle_path {
            return err(format!("oraclePath={path}: QuorumOracleMaj is not supported by ruzk"));
        }
        if c.groups.is_empty() && c.weights.is_empty() {
            return Ok(QuorumVerifier::majority(c.servers.clone(), c.quorum_version));
        }
        let groups: Vec<(i64, Vec<i64>)> = c.groups.iter().map(|(g, m)| (*g, m.clone())).collect();
        let weights: Vec<(i64, i64)> = c.weights.iter().map(|(s, w)| (*s, *w)).collect();
        QuorumVerifier::hierarchical(c.servers.clone(), &groups, &weights, c.quorum_version)
    }

    /// A hierarchical verifier (`QuorumHierarchical.parse` after the lines are read): `groups`
    /// and `weights` in the order their lines were read.
    pub fn hierarchical(
        servers: BTreeMap<i64, QuorumServer>,
        groups: &[(i64, Vec<i64>)],
        weights: &[(i64, i64)],
        version: i64,
    ) -> Result<QuorumVerifier, VerifierError> {
        let mut h = Hierarchy {
            weight: BTreeMap::new(),
            weight_order: Vec::new(),
            group_of: BTreeMap::new(),
            group_order: Vec::new(),
            group_weight: BTreeMap::new(),
            num_groups: 0,
        };
        for (gid, members) in groups {
            h.num_groups += 1;
            for sid in members {
                if h.group_of.contains_key(sid) {
                    return err(format!("Server {sid}is in multiple groups"));
                }
                h.group_of.insert(*sid, *gid);
                h.group_order.push(*sid);
            }
        }
        for (sid, w) in weights {
            if h.weight.insert(*sid, *w).is_none() {
                h.weight_order.push(*sid);
            }
        }
        for qs in servers.values().filter(|s| s.peer_type == PeerType::Participant) {
            if !h.group_of.contains_key(&qs.id) {
                return err(format!("Server {}is not in a group", qs.id));
            }
            if let std::collections::btree_map::Entry::Vacant(e) = h.weight.entry(qs.id) {
                e.insert(1);
                h.weight_order.push(qs.id);
            }
        }
        // computeGroupWeight. A group member that is neither a participant nor weighted has no
        // weight: Java dies with a NullPointerException here, we refuse the configuration.
        for (sid, gid) in &h.group_of {
            let Some(w) = h.weight.get(sid) else {
                return err(format!("Server {sid} of group {gid} has no weight"));
            };
            *h.group_weight.entry(*gid).or_insert(0) += *w;
        }
        h.num_groups -= h.group_weight.values().filter(|w| **w == 0).count() as i64;
        Ok(QuorumVerifier { version, members: servers, hierarchy: Some(h) })
    }

    /// Parses a QV string (`QuorumPeer.configFromString`: `Properties.load`, then
    /// `parseDynamicConfig` without backward-compatibility mode): only `server.N`, `version`,
    /// `group*` and `weight*` keys are allowed, and any `group`/`weight` key makes it
    /// hierarchical. Addresses are taken as written (not resolved).
    pub fn parse(s: &str) -> Result<QuorumVerifier, VerifierError> {
        let lines = parse_properties(s).map_err(|(line, m)| VerifierError(format!("line {line}: {m}")))?;
        let mut hierarchical = false;
        for l in &lines {
            let key = l.key.trim();
            if key.starts_with("group") || key.starts_with("weight") {
                hierarchical = true;
            } else if !key.starts_with("server.") && key != "version" {
                return err(format!("Unrecognised parameter: {key}"));
            }
        }
        let mut servers = BTreeMap::new();
        let mut groups = Vec::new();
        let mut weights = Vec::new();
        let mut version = 0;
        // Java reads the raw entries: the key untrimmed, the value with its trailing blanks.
        let id_after_dot = |key: &str| -> Result<i64, VerifierError> {
            let tail = key.split_once('.').map_or(key, |(_, t)| t);
            java_parse_long(tail).ok_or_else(|| VerifierError(format!("For input string: \"{tail}\"")))
        };
        for l in &lines {
            if l.key.starts_with("server.") {
                let sid = id_after_dot(&l.key)?;
                servers.insert(sid, parse_server(sid, &l.value)?);
            } else if l.key == "version" {
                version = i64::from_str_radix(&l.value, 16)
                    .map_err(|_| VerifierError(format!("For input string: \"{}\"", l.value)))?;
            } else if hierarchical && l.key.starts_with("group") {
                let gid = id_after_dot(&l.key)?;
                let mut members = Vec::new();
                for m in java_split(&l.value, ':') {
                    members
                        .push(java_parse_long(m).ok_or_else(|| VerifierError(format!("For input string: \"{m}\"")))?);
                }
                groups.push((gid, members));
            } else if hierarchical && l.key.starts_with("weight") {
                let sid = id_after_dot(&l.key)?;
                let w = java_parse_long(&l.value)
                    .ok_or_else(|| VerifierError(format!("For input string: \"{}\"", l.value)))?;
                weights.push((sid, w));
            }
        }
        if hierarchical {
            QuorumVerifier::hierarchical(servers, &groups, &weights, version)
        } else {
            Ok(QuorumVerifier::majority(servers, version))
        }
    }

    pub fn version(&self) -> i64 {
        self.version
    }

    pub fn is_hierarchical(&self) -> bool {
        self.hierarchy.is_some()
    }

    /// Every `server.N` (`getAllMembers`), voters and observers.
    pub fn all_members(&self) -> &BTreeMap<i64, QuorumServer> {
        &self.members
    }

    /// `getVotingMembers().keySet()`, ascending.
    pub fn voting_members(&self) -> impl Iterator<Item = ServerId> + '_ {
        self.members.values().filter(|s| s.peer_type == PeerType::Participant).map(|s| ServerId(s.id))
    }

    /// `getObservingMembers().keySet()`, ascending.
    pub fn observers(&self) -> impl Iterator<Item = ServerId> + '_ {
        self.members.values().filter(|s| s.peer_type == PeerType::Observer).map(|s| ServerId(s.id))
    }

    pub fn is_voter(&self, sid: ServerId) -> bool {
        self.members.get(&sid.0).is_some_and(|s| s.peer_type == PeerType::Participant)
    }

    /// `getWeight`: 1 for everyone under a majority (Java does not check membership either);
    /// the configured weight under a hierarchy, and 0 for an id it does not know (Java would
    /// throw a NullPointerException from FLE's `totalOrderPredicate`; 0 means "never elect").
    pub fn weight(&self, sid: ServerId) -> i64 {
        match &self.hierarchy {
            None => 1,
            Some(h) => h.weight.get(&sid.0).copied().unwrap_or(0),
        }
    }

    /// `containsQuorum` over the voters among `acks` (what `SyncedLearnerTracker` hands it).
    /// Majority: strictly more than half of the voters. Hierarchical: strictly more than half of
    /// the non-zero groups each hold strictly more than half of their weight.
    pub fn contains_quorum(&self, acks: &BTreeSet<ServerId>) -> bool {
        let voters: Vec<i64> = acks.iter().filter(|s| self.is_voter(**s)).map(|s| s.0).collect();
        match &self.hierarchy {
            None => voters.len() > self.voting_members().count() / 2,
            Some(h) => {
                if voters.is_empty() {
                    return false;
                }
                let mut expansion: BTreeMap<i64, i64> = BTreeMap::new();
                for sid in &voters {
                    if let Some(gid) = h.group_of.get(sid) {
                        *expansion.entry(*gid).or_insert(0) += h.weight.get(sid).copied().unwrap_or(0);
                    }
                }
                let majority_groups =
                    expansion.iter().filter(|(gid, w)| **w > h.group_weight.get(gid).copied().unwrap_or(0) / 2).count()
                        as i64;
                majority_groups > h.num_groups / 2
            }
        }
    }
}

/// `QuorumMaj.toString` / `QuorumHierarchical.toString`: `server.N=...` lines, then for a
/// hierarchy `group.G=a:b` and `weight.N=w` lines, then `version=<hex>` with no newline. Each
/// block follows the iteration order of the Java `HashMap` it comes from.
impl fmt::Display for QuorumVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for sid in java_hashmap_order(self.members.keys().copied()) {
            if let Some(qs) = self.members.get(&sid) {
                writeln!(f, "server.{sid}={}", qs.to_java_string())?;
            }
        }
        if let Some(h) = &self.hierarchy {
            // toString builds a HashMap<gid, "a:b:c"> by walking serverGroup.
            let mut groups: BTreeMap<i64, String> = BTreeMap::new();
            let mut gid_order = Vec::new();
            for sid in java_hashmap_order(h.group_order.iter().copied()) {
                let Some(gid) = h.group_of.get(&sid) else { continue };
                match groups.get_mut(gid) {
                    Some(s) => {
                        s.push(':');
                        s.push_str(&sid.to_string());
                    }
                    None => {
                        groups.insert(*gid, sid.to_string());
                        gid_order.push(*gid);
                    }
                }
            }
            for gid in java_hashmap_order(gid_order) {
                if let Some(s) = groups.get(&gid) {
                    writeln!(f, "group.{gid}={s}")?;
                }
            }
            for sid in java_hashmap_order(h.weight_order.iter().copied()) {
                if let Some(w) = h.weight.get(&sid) {
                    writeln!(f, "weight.{sid}={w}")?;
                }
            }
        }
        write!(f, "version={:x}", self.version)
    }
}

/// The iteration order of a `java.util.HashMap<Long, V>` into which `keys` were `put` in this
/// order, starting from the default capacity: ascending bucket (`hash ^ hash >>> 16` masked by
/// the table size, which doubles whenever the size passes ¾ of it), insertion order within a
/// bucket. For sids below the table size that is simply ascending. Treeified buckets (8+
/// colliding keys) are not modelled.
pub fn java_hashmap_order(keys: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut seen = BTreeSet::new();
    let keys: Vec<i64> = keys.into_iter().filter(|k| seen.insert(*k)).collect();
    let mut cap = 16usize;
    while keys.len() * 4 > cap * 3 {
        cap *= 2;
    }
    let bucket = |k: i64| -> usize {
        let h = (k ^ ((k as u64) >> 32) as i64) as i32;
        let h = h ^ ((h as u32) >> 16) as i32;
        (h as u32 as usize) & (cap - 1)
    };
    let mut out = keys;
    out.sort_by_key(|k| bucket(*k));
    out
}

/// `QuorumServer(sid, addressStr)`, without resolving host names: `addr[|addr...][;client]`,
/// each addr `host:quorumPort:electionPort[:type]`.
fn parse_server(sid: i64, value: &str) -> Result<QuorumServer, VerifierError> {
    let wrong = || {
        VerifierError(format!(
            "{value} does not have the form server_config or server_config;client_config where server_config is the \
             pipe separated list of host:port:port or host:port:port:type and client_config is port or host:port"
        ))
    };
    let server_client = java_split(value, ';');
    if server_client.len() > 2 {
        return Err(wrong());
    }
    let mut client_addr = None;
    if let Some(client) = server_client.get(1) {
        let cp = get_host_and_port(client)?;
        let (host, port) = match cp.as_slice() {
            [port] => ("0.0.0.0".to_string(), port),
            [host, port] => (java_host_string(host), port),
            _ => return Err(wrong()),
        };
        client_addr = Some(HostPort { port: parse_port(&host, port)?, host });
    }
    let mut addrs = Vec::new();
    let mut peer_type: Option<PeerType> = None;
    for a in java_split(server_client.first().copied().unwrap_or(""), '|') {
        let parts = get_host_and_port(a)?;
        let (host, qport, eport, kind) = match parts.as_slice() {
            [h, q, e] => (h, q, e, None),
            [h, q, e, t] => (h, q, e, Some(t)),
            _ => return Err(wrong()),
        };
        let host = java_host_string(host);
        let quorum_port = parse_port(&host, qport)?;
        let election_port = parse_port(&host, eport)?;
        if quorum_port == election_port {
            return err(format!(
                "Client and election port must be different! Please update the configuration file on server.{sid}"
            ));
        }
        if let Some(t) = kind {
            let t = match t.trim().to_lowercase().as_str() {
                "observer" => PeerType::Observer,
                "participant" => PeerType::Participant,
                _ => return err(format!("Unrecognised peertype: {t}")),
            };
            if peer_type.is_some_and(|p| p != t) {
                return err("Multiple addresses should have similar roles");
            }
            peer_type = Some(t);
        }
        addrs.push(ServerAddr { host, quorum_port, election_port });
    }
    if addrs.is_empty() {
        return Err(wrong());
    }
    Ok(QuorumServer {
        id: sid,
        addrs,
        peer_type: peer_type.unwrap_or(PeerType::Participant),
        client_addr,
        client_addr_from_static: false,
    })
}

fn parse_port(host: &str, s: &str) -> Result<u16, VerifierError> {
    java_parse_long(s)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| VerifierError(format!("Address unresolved: {host}:{s}")))
}

/// `InetSocketAddress.getHostString` of a literal: IPv6 in Java's full form.
fn java_host_string(host: &str) -> String {
    match host.parse::<std::net::Ipv6Addr>() {
        Ok(v6) => v6.segments().iter().map(|s| format!("{s:x}")).collect::<Vec<_>>().join(":"),
        Err(_) => host.to_string(),
    }
}

/// `ConfigUtils.getHostAndPort`.
fn get_host_and_port(s: &str) -> Result<Vec<String>, VerifierError> {
    if let Some(rest) = s.strip_prefix('[') {
        let Some(i) = rest.find(']') else {
            return err(format!("{s} starts with '[' but has no matching ']:'"));
        };
        let host = rest.get(..i).unwrap_or("");
        let after = rest.get(i + 1..).unwrap_or("");
        return match after.len() {
            0 => Ok(vec![s.replace(['[', ']'], "")]),
            1 => err(format!("{s} doesn't have a port after colon")),
            _ => {
                let mut v = vec![host.to_string()];
                v.extend(java_split(after.get(1..).unwrap_or(""), ':').into_iter().map(str::to_string));
                Ok(v)
            }
        };
    }
    Ok(java_split(s, ':').into_iter().map(str::to_string).collect())
}

/// `String.split` with a literal: trailing empty strings removed.
fn java_split(s: &str, sep: char) -> Vec<&str> {
    let mut v: Vec<&str> = s.split(sep).collect();
    while v.last() == Some(&"") {
        v.pop();
    }
    v
}

/// `Long.parseLong`: optional sign and ASCII digits, in range.
fn java_parse_long(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.strip_prefix('+').unwrap_or(s).parse().ok()
}

#[cfg(test)]
#[path = "verifier_tests.rs"]
mod tests;
