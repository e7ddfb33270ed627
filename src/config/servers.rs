//! The ensemble as zoo.cfg (or the dynamic file) lists it: `server.N` lines parsed as Java's
//! `QuorumPeer.QuorumServer` parses them, with the host forms and error texts of
//! `ConfigUtils.getHostAndPort`.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::properties::{java_parse_int, java_split, java_trim};

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

    pub(super) fn as_str(self) -> &'static str {
        match self {
            PeerType::Participant => "participant",
            PeerType::Observer => "observer",
        }
    }
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

    pub(super) fn is_wildcard(&self) -> bool {
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

/// `QuorumServer.initializeWithAddressString`.
pub(super) fn parse_server(sid: i64, value: &str, multi_address: bool) -> Result<QuorumServer, String> {
    let wrong = || {
        format!(
            "{value} does not have the form server_config or server_config;client_config where server_config \
                 is the pipe separated list of host:port:port or host:port:port:type and client_config is port \
                 or host:port"
        )
    };
    let server_client = java_split(value, ';');
    let addresses = java_split(server_client.first().copied().unwrap_or(""), '|');
    let mut client_addr = None;
    if server_client.len() == 2 {
        let cp = get_host_and_port(server_client.get(1).copied().unwrap_or(""))?;
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
            .ok_or_else(|| format!("Address unresolved: {host}:{port_str}"))?;
        client_addr = Some(HostPort { host, port });
    }
    if !multi_address && addresses.len() > 1 {
        return Err(format!(
            "Multiple address feature is disabled, but multiple addresses were specified for sid {sid}"
        ));
    }
    let mut addrs = Vec::new();
    let mut peer_type: Option<PeerType> = None;
    for a in &addresses {
        let parts = get_host_and_port(a)?;
        if server_client.len() > 2 || parts.len() < 3 || parts.len() > 4 {
            return Err(wrong());
        }
        let host = java_host_string(parts.first().map(String::as_str).unwrap_or(""));
        let port_of = |s: &String| {
            java_parse_int(s)
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| format!("Address unresolved: {host}:{s}"))
        };
        let quorum_port = port_of(parts.get(1).unwrap_or(&String::new()))?;
        let election_port = port_of(parts.get(2).unwrap_or(&String::new()))?;
        if quorum_port == election_port {
            return Err(format!(
                "Client and election port must be different! Please update the configuration file on server.{sid}"
            ));
        }
        if let Some(t) = parts.get(3) {
            let t2 = match java_trim(t).to_lowercase().as_str() {
                "observer" => PeerType::Observer,
                "participant" => PeerType::Participant,
                _ => return Err(format!("Unrecognised peertype: {t}")),
            };
            match peer_type {
                None => peer_type = Some(t2),
                Some(prev) if prev != t2 => {
                    return Err(format!(
                        "Multiple addresses should have similar roles: {} vs {}",
                        prev.as_str(),
                        t2.as_str()
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

/// `InetSocketAddress.getHostString` for a literal address: Java prints IPv6 literals in full,
/// uncompressed form (`::1` → `0:0:0:0:0:0:0:1`). Host names stay as written.
pub(super) fn java_host_string(host: &str) -> String {
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
