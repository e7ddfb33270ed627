//! Client-protocol and data records (`org.apache.zookeeper.proto`, `org.apache.zookeeper.data`),
//! each declared once in `zookeeper.jute` field order. Connect records are hand-written
//! because of the optional trailing `readOnly` byte.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use super::{Jute, Result};
use bytes::{Buf, BufMut, Bytes};

crate::record! {
    /// `data.Id`
    pub struct Id {
        pub scheme: String,
        pub id: String,
    }
    /// `data.ACL`
    pub struct Acl {
        pub perms: i32,
        pub id: Id,
    }
    /// `data.Stat`, as clients see it. Wire order: `pzxid` is last.
    pub struct Stat {
        pub czxid: i64,
        pub mzxid: i64,
        pub ctime: i64,
        pub mtime: i64,
        pub version: i32,
        pub cversion: i32,
        pub aversion: i32,
        pub ephemeral_owner: i64,
        pub data_length: i32,
        pub num_children: i32,
        pub pzxid: i64,
    }
    /// `data.StatPersisted`: the stored stat (snapshots); no dataLength/numChildren.
    pub struct StatPersisted {
        pub czxid: i64,
        pub mzxid: i64,
        pub ctime: i64,
        pub mtime: i64,
        pub version: i32,
        pub cversion: i32,
        pub aversion: i32,
        pub ephemeral_owner: i64,
        pub pzxid: i64,
    }
    /// `data.ClientInfo` (3.7+)
    pub struct ClientInfo {
        pub auth_scheme: String,
        pub user: String,
    }
    /// `proto.RequestHeader`
    pub struct RequestHeader {
        pub xid: i32,
        pub type_: i32,
    }
    /// `proto.ReplyHeader`
    pub struct ReplyHeader {
        pub xid: i32,
        pub zxid: i64,
        pub err: i32,
    }
    /// `proto.MultiHeader`
    pub struct MultiHeader {
        pub type_: i32,
        pub done: bool,
        pub err: i32,
    }
    /// `proto.SetWatches`
    pub struct SetWatches {
        pub relative_zxid: i64,
        pub data_watches: Vec<String>,
        pub exist_watches: Vec<String>,
        pub child_watches: Vec<String>,
    }
    /// `proto.SetWatches2`
    pub struct SetWatches2 {
        pub relative_zxid: i64,
        pub data_watches: Vec<String>,
        pub exist_watches: Vec<String>,
        pub child_watches: Vec<String>,
        pub persistent_watches: Vec<String>,
        pub persistent_recursive_watches: Vec<String>,
    }
    /// `proto.AuthPacket`
    pub struct AuthPacket {
        pub type_: i32,
        pub scheme: String,
        pub auth: Bytes,
    }
    /// `proto.GetDataRequest`
    pub struct GetDataRequest {
        pub path: String,
        pub watch: bool,
    }
    /// `proto.SetDataRequest`
    pub struct SetDataRequest {
        pub path: String,
        pub data: Option<Bytes>,
        pub version: i32,
    }
    /// `proto.ReconfigRequest`
    pub struct ReconfigRequest {
        pub joining_servers: Option<String>,
        pub leaving_servers: Option<String>,
        pub new_members: Option<String>,
        pub cur_config_id: i64,
    }
    /// `proto.SetDataResponse`
    pub struct SetDataResponse {
        pub stat: Stat,
    }
    /// `proto.GetSASLRequest`
    pub struct GetSaslRequest {
        pub token: Bytes,
    }
    /// `proto.SetSASLResponse`
    pub struct SetSaslResponse {
        pub token: Bytes,
    }
    /// `proto.CreateRequest` (ops create, create2, createContainer)
    pub struct CreateRequest {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Option<Vec<Acl>>,
        pub flags: i32,
    }
    /// `proto.CreateTTLRequest` (op createTTL)
    pub struct CreateTtlRequest {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Option<Vec<Acl>>,
        pub flags: i32,
        pub ttl: i64,
    }
    /// `proto.DeleteRequest`
    pub struct DeleteRequest {
        pub path: String,
        pub version: i32,
    }
    /// `proto.GetChildrenRequest`
    pub struct GetChildrenRequest {
        pub path: String,
        pub watch: bool,
    }
    /// `proto.GetAllChildrenNumberRequest`
    pub struct GetAllChildrenNumberRequest {
        pub path: String,
    }
    /// `proto.GetChildren2Request`
    pub struct GetChildren2Request {
        pub path: String,
        pub watch: bool,
    }
    /// `proto.CheckVersionRequest`
    pub struct CheckVersionRequest {
        pub path: String,
        pub version: i32,
    }
    /// `proto.SyncRequest`
    pub struct SyncRequest {
        pub path: String,
    }
    /// `proto.SyncResponse`
    pub struct SyncResponse {
        pub path: String,
    }
    /// `proto.GetACLRequest`
    pub struct GetAclRequest {
        pub path: String,
    }
    /// `proto.SetACLRequest`
    pub struct SetAclRequest {
        pub path: String,
        pub acl: Option<Vec<Acl>>,
        pub version: i32,
    }
    /// `proto.SetACLResponse`
    pub struct SetAclResponse {
        pub stat: Stat,
    }
    /// `proto.AddWatchRequest`
    pub struct AddWatchRequest {
        pub path: String,
        pub mode: i32,
    }
    /// `proto.WatcherEvent`
    pub struct WatcherEvent {
        pub type_: i32,
        pub state: i32,
        pub path: String,
    }
    /// `proto.ErrorResponse`
    pub struct ErrorResponse {
        pub err: i32,
    }
    /// `proto.CreateResponse`
    pub struct CreateResponse {
        pub path: String,
    }
    /// `proto.Create2Response`
    pub struct Create2Response {
        pub path: String,
        pub stat: Stat,
    }
    /// `proto.ExistsRequest`
    pub struct ExistsRequest {
        pub path: String,
        pub watch: bool,
    }
    /// `proto.ExistsResponse`
    pub struct ExistsResponse {
        pub stat: Stat,
    }
    /// `proto.GetDataResponse`
    pub struct GetDataResponse {
        pub data: Option<Bytes>,
        pub stat: Stat,
    }
    /// `proto.GetChildrenResponse`
    pub struct GetChildrenResponse {
        pub children: Vec<String>,
    }
    /// `proto.GetAllChildrenNumberResponse`
    pub struct GetAllChildrenNumberResponse {
        pub total_number: i32,
    }
    /// `proto.GetChildren2Response`
    pub struct GetChildren2Response {
        pub children: Vec<String>,
        pub stat: Stat,
    }
    /// `proto.GetACLResponse`
    pub struct GetAclResponse {
        pub acl: Vec<Acl>,
        pub stat: Stat,
    }
    /// `proto.CheckWatchesRequest`
    pub struct CheckWatchesRequest {
        pub path: String,
        pub type_: i32,
    }
    /// `proto.RemoveWatchesRequest`
    pub struct RemoveWatchesRequest {
        pub path: String,
        pub type_: i32,
    }
    /// `proto.GetEphemeralsRequest`
    pub struct GetEphemeralsRequest {
        pub prefix_path: Option<String>,
    }
    /// `proto.GetEphemeralsResponse`
    pub struct GetEphemeralsResponse {
        pub ephemerals: Vec<String>,
    }
    /// `proto.WhoAmIResponse`
    pub struct WhoAmIResponse {
        pub client_info: Vec<ClientInfo>,
    }
}

/// `proto.ConnectRequest`. `read_only` is `None` when the client (an "old" one, or the C
/// client before 3.x) did not send the trailing byte; the response mirrors that.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectRequest {
    pub protocol_version: i32,
    pub last_zxid_seen: i64,
    pub time_out: i32,
    pub session_id: i64,
    pub passwd: Option<Bytes>,
    pub read_only: Option<bool>,
}

impl Jute for ConnectRequest {
    fn encode<B: BufMut>(&self, out: &mut B) {
        self.protocol_version.encode(out);
        self.last_zxid_seen.encode(out);
        self.time_out.encode(out);
        self.session_id.encode(out);
        self.passwd.encode(out);
        if let Some(ro) = self.read_only {
            ro.encode(out);
        }
    }
    /// As `ProtocolManager.deserializeConnectRequest`: the readOnly byte is read if present.
    fn decode<B: Buf>(src: &mut B) -> Result<Self> {
        let protocol_version = i32::decode(src)?;
        let last_zxid_seen = i64::decode(src)?;
        let time_out = i32::decode(src)?;
        let session_id = i64::decode(src)?;
        let passwd = Option::<Bytes>::decode(src)?;
        let read_only = if src.has_remaining() { Some(bool::decode(src)?) } else { None };
        Ok(Self { protocol_version, last_zxid_seen, time_out, session_id, passwd, read_only })
    }
}

/// `proto.ConnectResponse`, with the readOnly byte only when the request carried one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectResponse {
    pub protocol_version: i32,
    pub time_out: i32,
    pub session_id: i64,
    pub passwd: Bytes,
    pub read_only: Option<bool>,
}

impl Jute for ConnectResponse {
    fn encode<B: BufMut>(&self, out: &mut B) {
        self.protocol_version.encode(out);
        self.time_out.encode(out);
        self.session_id.encode(out);
        self.passwd.encode(out);
        if let Some(ro) = self.read_only {
            ro.encode(out);
        }
    }
    fn decode<B: Buf>(src: &mut B) -> Result<Self> {
        let protocol_version = i32::decode(src)?;
        let time_out = i32::decode(src)?;
        let session_id = i64::decode(src)?;
        let passwd = Bytes::decode(src)?;
        let read_only = if src.has_remaining() { Some(bool::decode(src)?) } else { None };
        Ok(Self { protocol_version, time_out, session_id, passwd, read_only })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn stat_is_68_bytes_with_pzxid_last() {
        let s = Stat { pzxid: 0x0102030405060708, ..Default::default() };
        let b = s.to_bytes();
        assert_eq!(b.len(), 68);
        assert_eq!(&b[60..68], &[1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn captured_connect_request_with_readonly_byte() {
        let hex = "00000000000000000000000000007530000000000000000000000010\
                   0000000000000000000000000000000001";
        let bytes: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        assert_eq!(bytes.len(), 45);
        let req = ConnectRequest::from_slice(&bytes).unwrap();
        assert_eq!(req.time_out, 30000);
        assert_eq!(req.read_only, Some(true));
        assert_eq!(req.to_bytes(), bytes);
        let old = ConnectRequest::from_slice(&bytes[..44]).unwrap();
        assert_eq!(old.read_only, None);
    }
}
