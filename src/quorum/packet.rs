//! The learner↔leader wire (`QuorumPacket`, `LearnerInfo`, the packet types of
//! `Leader.java`) and the SNAP stream body scanner. Packets follow each other on the TCP
//! stream with no length prefix, so decoding a packet from a partial buffer reports
//! [`Incomplete`](PacketError::Incomplete) and the framing layer waits for more bytes.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use crate::jute::records::Id;
use crate::jute::{DecodeError, Jute};
use crate::types::{ServerId, Zxid};
use bytes::{BufMut, Bytes};

/// Packet type codes (`Leader.REQUEST` … `Leader.INFORMANDACTIVATE`).
pub mod kind {
    pub const REQUEST: i32 = 1;
    pub const PROPOSAL: i32 = 2;
    pub const ACK: i32 = 3;
    pub const COMMIT: i32 = 4;
    pub const PING: i32 = 5;
    pub const REVALIDATE: i32 = 6;
    pub const SYNC: i32 = 7;
    pub const INFORM: i32 = 8;
    pub const COMMITANDACTIVATE: i32 = 9;
    pub const NEWLEADER: i32 = 10;
    pub const FOLLOWERINFO: i32 = 11;
    pub const UPTODATE: i32 = 12;
    pub const DIFF: i32 = 13;
    pub const TRUNC: i32 = 14;
    pub const SNAP: i32 = 15;
    pub const OBSERVERINFO: i32 = 16;
    pub const LEADERINFO: i32 = 17;
    pub const ACKEPOCH: i32 = 18;
    pub const INFORMANDACTIVATE: i32 = 19;

    /// The name Java's `LearnerHandler.packetToString` prints, for logs and traces.
    pub fn name(t: i32) -> &'static str {
        match t {
            REQUEST => "REQUEST",
            PROPOSAL => "PROPOSAL",
            ACK => "ACK",
            COMMIT => "COMMIT",
            PING => "PING",
            REVALIDATE => "REVALIDATE",
            SYNC => "SYNC",
            INFORM => "INFORM",
            COMMITANDACTIVATE => "COMMITANDACTIVATE",
            NEWLEADER => "NEWLEADER",
            FOLLOWERINFO => "FOLLOWERINFO",
            UPTODATE => "UPTODATE",
            DIFF => "DIFF",
            TRUNC => "TRUNC",
            SNAP => "SNAP",
            OBSERVERINFO => "OBSERVERINFO",
            LEADERINFO => "LEADERINFO",
            ACKEPOCH => "ACKEPOCH",
            INFORMANDACTIVATE => "INFORMANDACTIVATE",
            _ => "UNKNOWN",
        }
    }
}

/// `Leader.VERSION` / the LearnerInfo protocol version of Zab 1.0.
pub const ZAB_PROTOCOL_VERSION: i32 = 0x10000;

/// The string that ends a SNAP body on the stream (`ZKDatabase.serializeSnapshot` callers).
pub const SNAP_SIGNATURE: &str = "BenWasHere";

/// `quorum.QuorumPacket`. `data` and `authinfo` keep null (`None`) apart from empty, because
/// Java writes null as length -1 and some readers dereference the buffer without a check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuorumPacket {
    pub type_: i32,
    pub zxid: Zxid,
    pub data: Option<Bytes>,
    pub authinfo: Option<Vec<Id>>,
}

/// Why bytes from a peer are not (yet) a packet.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// The buffer ends inside the packet: read more.
    #[error("incomplete packet")]
    Incomplete,
    /// The peer sent something no Java peer sends: close the connection.
    #[error("bad packet: {0}")]
    Bad(String),
}

impl QuorumPacket {
    /// A packet with only a type and a zxid (null data and authinfo, as Java sends them).
    pub fn bare(type_: i32, zxid: Zxid) -> QuorumPacket {
        QuorumPacket { type_, zxid, data: None, authinfo: None }
    }

    /// A packet carrying `data`.
    pub fn with_data(type_: i32, zxid: Zxid, data: impl Into<Bytes>) -> QuorumPacket {
        QuorumPacket { type_, zxid, data: Some(data.into()), authinfo: None }
    }

    /// The data buffer, empty when null.
    pub fn body(&self) -> &[u8] {
        self.data.as_deref().unwrap_or(&[])
    }

    pub fn encode<B: BufMut>(&self, out: &mut B) {
        self.type_.encode(out);
        self.zxid.encode(out);
        self.data.encode(out);
        self.authinfo.encode(out);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(24 + self.body().len());
        self.encode(&mut v);
        v
    }

    /// Decodes one packet from the front of `src`, returning it and the bytes it used.
    /// `max_len` caps the data buffer (Java: `jute.maxbuffer` plus its extra size).
    pub fn decode_prefix(src: &[u8], max_len: usize) -> Result<(QuorumPacket, usize), PacketError> {
        let (Some(type_), Some(zxid)) = (int_at(src, 0), long_at(src, 4)) else {
            return Err(PacketError::Incomplete);
        };
        let mut pos = 12;
        let data = match string_at(src.get(pos..).unwrap_or(&[]), max_len)? {
            None => return Err(PacketError::Incomplete),
            Some((bytes, used)) => {
                let null = int_at(src, pos).is_some_and(|l| l < 0);
                pos += used;
                (!null).then(|| Bytes::copy_from_slice(bytes))
            }
        };
        let authinfo = match int_at(src, pos) {
            None => return Err(PacketError::Incomplete),
            Some(n) if n < 0 => {
                pos += 4;
                None
            }
            Some(n) => {
                pos += 4;
                let mut ids = Vec::new();
                for _ in 0..n {
                    let mut parts = [String::new(), String::new()];
                    for part in &mut parts {
                        match string_at(src.get(pos..).unwrap_or(&[]), max_len)? {
                            None => return Err(PacketError::Incomplete),
                            Some((b, used)) => {
                                *part = String::from_utf8_lossy(b).into_owned();
                                pos += used;
                            }
                        }
                    }
                    let [scheme, id] = parts;
                    ids.push(Id { scheme, id });
                }
                Some(ids)
            }
        };
        Ok((QuorumPacket { type_, zxid: Zxid(zxid), data, authinfo }, pos))
    }
}

/// `quorum.LearnerInfo`, the data of FOLLOWERINFO and OBSERVERINFO.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LearnerInfo {
    pub server_id: ServerId,
    pub protocol_version: i32,
    pub config_version: i64,
}

impl LearnerInfo {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(20);
        self.server_id.encode(&mut v);
        self.protocol_version.encode(&mut v);
        self.config_version.encode(&mut v);
        v
    }

    /// Read by length as `LearnerHandler.run` does: 8 bytes give only the sid (a pre-3.4
    /// learner), 12 add the protocol version, 20 the config version.
    pub fn from_slice(mut b: &[u8]) -> Result<LearnerInfo, PacketError> {
        let bad = |e: DecodeError| PacketError::Bad(format!("LearnerInfo: {e}"));
        let server_id = ServerId::decode(&mut b).map_err(bad)?;
        let protocol_version = if b.len() >= 4 { i32::decode(&mut b).map_err(bad)? } else { 0 };
        let config_version = if b.len() >= 8 { i64::decode(&mut b).map_err(bad)? } else { -1 };
        Ok(LearnerInfo { server_id, protocol_version, config_version })
    }
}

/// Finds where a SNAP body ends on the stream: `int count, {long, int}*, int count,
/// {long, vector<ACL>}*, {ustring path, DataNode}* up to the path "/", ustring "BenWasHere"`.
/// The body has no length prefix, so the scanner walks its structure, resuming where it
/// stopped when more bytes arrive (so a large snapshot is scanned once, not once per read).
#[derive(Clone, Debug, Default)]
pub struct SnapScanner {
    pos: usize,
    stage: SnapStage,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum SnapStage {
    #[default]
    SessionCount,
    Sessions(u32),
    AclCount,
    Acls(u32),
    Nodes,
    Signature,
    Done,
}

impl SnapScanner {
    /// Scans `buf` (the whole body received so far, starting at its first byte). Returns
    /// `Ok(Some(len))` with the length of the body including the signature once complete,
    /// `Ok(None)` when more bytes are needed.
    pub fn scan(&mut self, buf: &[u8], max_len: usize) -> Result<Option<usize>, PacketError> {
        loop {
            let rest = buf.get(self.pos..).unwrap_or(&[]);
            let step = match self.stage {
                SnapStage::SessionCount => count(rest)?.map(|(n, u)| (SnapStage::Sessions(n), u)),
                SnapStage::Sessions(0) => Some((SnapStage::AclCount, 0)),
                SnapStage::Sessions(n) => (rest.len() >= 12).then_some((SnapStage::Sessions(n - 1), 12)),
                SnapStage::AclCount => count(rest)?.map(|(n, u)| (SnapStage::Acls(n), u)),
                SnapStage::Acls(0) => Some((SnapStage::Nodes, 0)),
                SnapStage::Acls(n) => acl_entry(rest, max_len)?.map(|u| (SnapStage::Acls(n - 1), u)),
                SnapStage::Nodes => match string_at(rest, max_len)? {
                    None => None,
                    Some((path, used)) if path == b"/" => Some((SnapStage::Signature, used)),
                    Some((_, used)) => {
                        data_node(rest.get(used..).unwrap_or(&[]), max_len)?.map(|u| (SnapStage::Nodes, used + u))
                    }
                },
                SnapStage::Signature => match string_at(rest, max_len)? {
                    None => None,
                    Some((sig, used)) if sig == SNAP_SIGNATURE.as_bytes() => Some((SnapStage::Done, used)),
                    Some(_) => return Err(PacketError::Bad("SNAP body without its signature".into())),
                },
                SnapStage::Done => return Ok(Some(self.pos)),
            };
            match step {
                None => return Ok(None),
                Some((stage, used)) => {
                    self.pos += used;
                    self.stage = stage;
                }
            }
        }
    }
}

fn int_at(b: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn long_at(b: &[u8], at: usize) -> Option<i64> {
    Some(i64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn count(b: &[u8]) -> Result<Option<(u32, usize)>, PacketError> {
    match int_at(b, 0) {
        None => Ok(None),
        Some(n) if n < 0 => Err(PacketError::Bad(format!("negative count {n} in SNAP body"))),
        Some(n) => Ok(Some((n as u32, 4))),
    }
}

/// A Jute buffer/string at the front of `b`: its bytes and the total length used.
fn string_at(b: &[u8], max_len: usize) -> Result<Option<(&[u8], usize)>, PacketError> {
    let Some(len) = int_at(b, 0) else { return Ok(None) };
    if len < 0 {
        return Ok(Some((&[], 4)));
    }
    let len = len as usize;
    if len > max_len {
        return Err(PacketError::Bad(format!("length {len} in SNAP body exceeds {max_len}")));
    }
    Ok(b.get(4..4 + len).map(|s| (s, 4 + len)))
}

/// `long id; vector<ACL>` where ACL = `int perms; ustring scheme; ustring id`.
fn acl_entry(b: &[u8], max_len: usize) -> Result<Option<usize>, PacketError> {
    let mut pos = 8;
    let Some(n) = int_at(b, pos) else { return Ok(None) };
    pos += 4;
    for _ in 0..n.max(0) {
        pos += 4;
        for _ in 0..2 {
            match string_at(b.get(pos..).unwrap_or(&[]), max_len)? {
                None => return Ok(None),
                Some((_, used)) => pos += used,
            }
        }
    }
    Ok((b.len() >= pos).then_some(pos))
}

/// `DataNode`: `buffer data; long acl; StatPersisted stat` (60 bytes of stat).
fn data_node(b: &[u8], max_len: usize) -> Result<Option<usize>, PacketError> {
    let Some((_, used)) = string_at(b, max_len)? else { return Ok(None) };
    let total = used + 8 + 60;
    Ok((b.len() >= total).then_some(total))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// Bytes a Java 3.8.0 leader and learner exchanged (protocol.md §6.12).
    #[test]
    fn captured_packets_decode_and_reencode() {
        let cases = [
            "0000000b 0000000000000000 00000014 0000000000000003 00010000 0000000000000000 ffffffff",
            "00000011 0000000100000000 00000004 00010000 ffffffff",
            "00000012 0000000000000000 00000004 00000000 ffffffff",
            "0000000c ffffffffffffffff ffffffff ffffffff",
            "00000004 0000000100000001 ffffffff ffffffff",
            "0000000d 0000000100000003 ffffffff ffffffff",
            "0000000e 000000010000000a ffffffff ffffffff",
            "00000001 ffffffffffffffff 00000014 0300000000000001 00000000 fffffff6 00007530 ffffffff",
        ];
        for c in cases {
            let b = hex(c);
            let (p, used) = QuorumPacket::decode_prefix(&b, 1 << 20).unwrap();
            assert_eq!(used, b.len(), "{c}");
            assert_eq!(p.to_bytes(), b, "{c}");
        }
        let (fi, _) = QuorumPacket::decode_prefix(&hex(cases[0]), 1 << 20).unwrap();
        assert_eq!(fi.type_, kind::FOLLOWERINFO);
        let info = LearnerInfo::from_slice(fi.body()).unwrap();
        assert_eq!(info, LearnerInfo { server_id: ServerId(3), protocol_version: 0x10000, config_version: 0 });
        assert_eq!(info.to_bytes(), fi.body());
        let (up, _) = QuorumPacket::decode_prefix(&hex(cases[3]), 1 << 20).unwrap();
        assert_eq!(up, QuorumPacket::bare(kind::UPTODATE, Zxid::NONE));
    }

    #[test]
    fn a_partial_packet_is_incomplete_and_a_huge_one_is_refused() {
        let b = hex("00000002 0000000100000001 00000030 0102");
        assert_eq!(QuorumPacket::decode_prefix(&b, 1 << 20), Err(PacketError::Incomplete));
        assert_eq!(QuorumPacket::decode_prefix(&b[..7], 1 << 20), Err(PacketError::Incomplete));
        let huge = hex("00000002 0000000100000001 7fffffff");
        assert!(matches!(QuorumPacket::decode_prefix(&huge, 1 << 20), Err(PacketError::Bad(_))));
    }

    #[test]
    fn learner_info_is_read_by_length() {
        let old = LearnerInfo::from_slice(&[0, 0, 0, 0, 0, 0, 0, 7]).unwrap();
        assert_eq!(old, LearnerInfo { server_id: ServerId(7), protocol_version: 0, config_version: -1 });
    }

    #[test]
    fn snap_scanner_finds_the_end_across_reads() {
        // 1 session, 1 ACL list, node "" and "/a", then "/" and the signature.
        let mut body = Vec::new();
        1i32.encode(&mut body);
        0x0100_0000_0000_0001i64.encode(&mut body);
        30000i32.encode(&mut body);
        1i32.encode(&mut body);
        1i64.encode(&mut body);
        1i32.encode(&mut body);
        31i32.encode(&mut body);
        "world".to_string().encode(&mut body);
        "anyone".to_string().encode(&mut body);
        for (path, data) in [("", None), ("/a", Some(Bytes::from_static(b"hi")))] {
            path.to_string().encode(&mut body);
            data.encode(&mut body);
            1i64.encode(&mut body);
            body.extend_from_slice(&[0u8; 60]);
        }
        "/".to_string().encode(&mut body);
        SNAP_SIGNATURE.to_string().encode(&mut body);
        let total = body.len();
        body.extend_from_slice(&hex("00000005 0000000100000001 ffffffff ffffffff"));
        let mut s = SnapScanner::default();
        for cut in [3, 10, 40, 90, total - 1] {
            assert_eq!(s.scan(&body[..cut], 1 << 20).unwrap(), None, "cut {cut}");
        }
        assert_eq!(s.scan(&body, 1 << 20).unwrap(), Some(total));
        let mut fresh = SnapScanner::default();
        assert_eq!(fresh.scan(&body, 1 << 20).unwrap(), Some(total));
    }
}
