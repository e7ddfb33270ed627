//! The election wire: a [`Notification`] as `FastLeaderElection.buildMsg` writes it and as its
//! `WorkerReceiver` reads it back (including the two legacy sizes), and the initial message a
//! `QuorumCnxManager` connection opens with. Pure functions over byte slices; the connection
//! code in `runtime::qcm` does the framing and the I/O.
//!
//! Everything here decodes bytes from peers, so nothing may panic: every read is bounds-checked
//! and a bad message is an `Err` that the caller turns into "drop it" (a notification) or "close
//! the socket" (an initial message), which is what Java does.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::{Notification, ServerState};
use crate::types::{ServerId, Zxid};

/// `Notification.CURRENTVERSION`: the format every 3.6+ server sends.
pub const NOTIFICATION_VERSION: i32 = 2;
/// The fixed part of a version-2 notification, before the config bytes.
pub const NOTIFICATION_HEADER_LEN: usize = 44;
/// `QuorumCnxManager.PROTOCOL_VERSION_V1` (3.5+): one `host:port` election address.
pub const PROTOCOL_V1: i64 = -65536;
/// `PROTOCOL_VERSION_V2` (3.6+, sent only with `multiAddress.enabled`): `a|b|...`.
pub const PROTOCOL_V2: i64 = -65535;
/// `QuorumPeer.OBSERVER_ID`: the sid of an observer that has none of its own.
pub const OBSERVER_ID: i64 = i64::MAX;
/// `QuorumCnxManager.maxBuffer`: the longest address string an initial message may carry.
pub const MAX_ADDRESS_LEN: usize = 2048;
/// `QuorumCnxManager.PACKETMAXSIZE`: the longest frame after the initial message.
pub const MAX_FRAME_LEN: usize = 512 * 1024;

/// Why a notification was dropped. Java logs and skips the message; the connection stays up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    /// Fewer than the 28 bytes every protocol generation sends.
    #[error("short notification: {0} bytes")]
    Short(usize),
    /// The message ends inside a field (Java's `BufferUnderflowException`).
    #[error("notification of {len} bytes ends inside a field")]
    Truncated { len: usize },
    /// `configLength` negative or larger than the message (Java's explicit check).
    #[error("invalid configLength {config_len} in a notification of {len} bytes")]
    BadConfigLength { config_len: i32, len: usize },
    /// A `state` that is not a `ServerState` ordinal. Java checks this only after it has
    /// answered a non-voting sender, see [`decode_notification_raw`].
    #[error("unknown state {0}")]
    UnknownState(i32),
}

/// Encodes as `buildMsg(state, leader, zxid, electionEpoch, peerEpoch, configData)`: always the
/// version-2 layout with the config bytes, whatever `n.version` says, because that is the only
/// form a 3.8 server sends.
pub fn encode_notification(n: &Notification) -> Vec<u8> {
    let mut out = Vec::with_capacity(NOTIFICATION_HEADER_LEN + n.config.len());
    out.extend_from_slice(&n.state.ordinal().to_be_bytes());
    out.extend_from_slice(&n.leader.0.to_be_bytes());
    out.extend_from_slice(&n.zxid.0.to_be_bytes());
    out.extend_from_slice(&n.election_epoch.to_be_bytes());
    out.extend_from_slice(&n.peer_epoch.to_be_bytes());
    out.extend_from_slice(&NOTIFICATION_VERSION.to_be_bytes());
    out.extend_from_slice(&(n.config.len() as i32).to_be_bytes());
    out.extend_from_slice(&n.config);
    out
}

/// A notification whose `state` is still the raw int, for the one caller that must act on a
/// message before rejecting its state (the reply to a non-voter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawNotification {
    pub state: i32,
    pub notification: Notification,
}

/// Decodes one frame as the 3.8 `WorkerReceiver` does, except for the state check (see
/// [`decode_notification`]). By total length: `< 28` dropped; exactly 28: no peerEpoch (it is
/// then the epoch of the zxid) and version 0; exactly 40: no version (0) even though 3.4's
/// 40-byte form carries one; otherwise the version is read and, when it is above 1, a config
/// length in `0..=len` and that many config bytes. Bytes after the config are ignored, as in Java.
pub fn decode_notification_raw(buf: &[u8]) -> Result<RawNotification, NotificationError> {
    let len = buf.len();
    if len < 28 {
        return Err(NotificationError::Short(len));
    }
    let mut r = Reader { buf, pos: 0 };
    let truncated = NotificationError::Truncated { len };
    let state = r.i32().ok_or(truncated.clone())?;
    let leader = r.i64().ok_or(truncated.clone())?;
    let zxid = r.i64().ok_or(truncated.clone())?;
    let election_epoch = r.i64().ok_or(truncated.clone())?;
    let mut version = 0;
    let mut config = Vec::new();
    let peer_epoch = if len == 28 {
        Zxid(zxid).epoch()
    } else {
        let pe = r.i64().ok_or(truncated.clone())?;
        if len != 40 {
            version = r.i32().ok_or(truncated.clone())?;
        }
        pe
    };
    if version > 1 {
        let config_len = r.i32().ok_or(truncated.clone())?;
        if config_len < 0 || config_len as usize > len {
            return Err(NotificationError::BadConfigLength { config_len, len });
        }
        config = r.bytes(config_len as usize).ok_or(truncated)?.to_vec();
    }
    Ok(RawNotification {
        state,
        notification: Notification {
            // Placeholder until the caller checks the state; never observable through
            // `decode_notification`.
            state: ServerState::from_ordinal(state).unwrap_or(ServerState::Looking),
            leader: ServerId(leader),
            zxid: Zxid(zxid),
            election_epoch,
            peer_epoch,
            version,
            config,
        },
    })
}

/// [`decode_notification_raw`] plus the state check: an unknown state drops the message.
pub fn decode_notification(buf: &[u8]) -> Result<Notification, NotificationError> {
    let raw = decode_notification_raw(buf)?;
    match ServerState::from_ordinal(raw.state) {
        Some(_) => Ok(raw.notification),
        None => Err(NotificationError::UnknownState(raw.state)),
    }
}

/// One election address of an initial message, as `ConfigUtils.getHostAndPort` split it
/// (IPv6 hosts without brackets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerAddress {
    pub host: String,
    pub port: u16,
}

impl PeerAddress {
    /// `NetUtils.formatInetAddr`: `host:port`, IPv6 literals in brackets.
    pub fn to_java_string(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// What the first bytes of an election connection said (`QuorumCnxManager.InitialMessage`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialMessage {
    /// `None` for a pre-3.5 peer that sent only its sid; else `PROTOCOL_V1` or `PROTOCOL_V2`.
    pub protocol: Option<i64>,
    /// The sid as sent (`OBSERVER_ID` for an anonymous observer; the connection manager
    /// replaces it with a negative id of its own).
    pub sid: i64,
    /// Parsed addresses, wildcard ones left out (Java drops them too). Empty for a bare sid.
    pub addresses: Vec<PeerAddress>,
}

/// Why an initial message was refused; the acceptor logs it and closes the socket.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InitialMessageError {
    #[error("Got unrecognized protocol version {0}")]
    UnknownProtocol(i64),
    #[error("Unreasonable buffer length: {0}")]
    BadLength(i32),
    #[error("Badly formed address: {0}")]
    BadAddress(String),
    #[error("Bad port number: {0}")]
    BadPort(String),
}

/// Encodes the initial message a dialling server sends (`QuorumCnxManager.startConnection`):
/// protocol version, my sid, and my election address(es) joined by `|`. Java sends `PROTOCOL_V1`
/// with one address unless multi-address is enabled.
pub fn encode_initial_message(protocol: i64, sid: i64, addresses: &[PeerAddress]) -> Vec<u8> {
    let addr = addresses.iter().map(PeerAddress::to_java_string).collect::<Vec<_>>().join("|");
    let mut out = Vec::with_capacity(20 + addr.len());
    out.extend_from_slice(&protocol.to_be_bytes());
    out.extend_from_slice(&sid.to_be_bytes());
    out.extend_from_slice(&(addr.len() as i32).to_be_bytes());
    out.extend_from_slice(addr.as_bytes());
    out
}

/// Decodes an initial message from the start of `buf`, which holds what has arrived so far.
/// `Ok(None)`: more bytes are needed. `Ok(Some((msg, used)))`: `used` bytes belong to it; what
/// follows is the first frame. Java: a first long `>= 0` is a bare sid (pre-3.5) and nothing
/// else follows; otherwise it must be V1 or V2, then sid, then a length in `1..=2048` and that
/// many bytes of `|`-separated `host:port` addresses.
pub fn decode_initial_message(buf: &[u8]) -> Result<Option<(InitialMessage, usize)>, InitialMessageError> {
    let mut r = Reader { buf, pos: 0 };
    let Some(first) = r.i64() else { return Ok(None) };
    if first >= 0 {
        return Ok(Some((InitialMessage { protocol: None, sid: first, addresses: Vec::new() }, 8)));
    }
    if first != PROTOCOL_V1 && first != PROTOCOL_V2 {
        return Err(InitialMessageError::UnknownProtocol(first));
    }
    let Some(sid) = r.i64() else { return Ok(None) };
    let Some(len) = r.i32() else { return Ok(None) };
    if len <= 0 || len as usize > MAX_ADDRESS_LEN {
        return Err(InitialMessageError::BadLength(len));
    }
    let Some(raw) = r.bytes(len as usize) else { return Ok(None) };
    let addresses = parse_addresses(&String::from_utf8_lossy(raw))?;
    Ok(Some((InitialMessage { protocol: Some(first), sid, addresses }, r.pos)))
}

/// `InitialMessage.parse`'s address loop: split on `|` (Java's `String.split`, so trailing
/// empty pieces vanish), each piece through `getHostAndPort`, exactly two parts, an int port.
fn parse_addresses(s: &str) -> Result<Vec<PeerAddress>, InitialMessageError> {
    let mut out = Vec::new();
    for piece in java_split(s, '|') {
        let parts = get_host_and_port(piece).ok_or_else(|| InitialMessageError::BadAddress(piece.to_string()))?;
        let [host, port] = parts.as_slice() else {
            return Err(InitialMessageError::BadAddress(piece.to_string()));
        };
        let port_num = java_parse_int(port).ok_or_else(|| InitialMessageError::BadPort(port.to_string()))?;
        // Java would throw IllegalArgumentException from `new InetSocketAddress` here, which
        // escapes the parser and stops its election listener thread; refusing the one
        // connection is the sane reading.
        let port_num = u16::try_from(port_num).map_err(|_| InitialMessageError::BadPort(port.to_string()))?;
        if !is_wildcard(host) {
            out.push(PeerAddress { host: host.to_string(), port: port_num });
        }
    }
    Ok(out)
}

/// `InetAddress.getByName(host).isAnyLocalAddress()` for literals (a host name that resolves
/// to the wildcard is not caught; Java would resolve it).
fn is_wildcard(host: &str) -> bool {
    if let Ok(v4) = host.parse::<std::net::Ipv4Addr>() {
        return v4.is_unspecified();
    }
    if let Ok(v6) = host.parse::<std::net::Ipv6Addr>() {
        return v6.is_unspecified();
    }
    false
}

/// `ConfigUtils.getHostAndPort`: `[v6]:p...` or `host:p...`; `None` for its ConfigException.
fn get_host_and_port(s: &str) -> Option<Vec<String>> {
    if let Some(rest) = s.strip_prefix('[') {
        let i = rest.find(']')?;
        let host = rest.get(..i)?;
        let after = rest.get(i + 1..)?;
        return match after.len() {
            0 => Some(vec![s.replace(['[', ']'], "")]),
            1 => None,
            _ => {
                let mut v = vec![host.to_string()];
                v.extend(java_split(after.get(1..)?, ':').into_iter().map(str::to_string));
                Some(v)
            }
        };
    }
    Some(java_split(s, ':').into_iter().map(str::to_string).collect())
}

/// `String.split` with a one-character literal: trailing empty strings are removed.
fn java_split(s: &str, sep: char) -> Vec<&str> {
    let mut v: Vec<&str> = s.split(sep).collect();
    while v.last() == Some(&"") {
        v.pop();
    }
    v
}

/// `Integer.parseInt`: optional sign, decimal digits, in range.
fn java_parse_int(s: &str) -> Option<i32> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.strip_prefix('+').unwrap_or(s).parse().ok()
}

/// Big-endian reads that report "not enough bytes" instead of panicking.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.bytes(4)?.try_into().ok()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_be_bytes(self.bytes(8)?.try_into().ok()?))
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
