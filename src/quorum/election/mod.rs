//! Fast Leader Election (`FastLeaderElection`, `Vote`), sans-I/O: notifications in, notifications
//! and a decision out. The connections that carry notifications (`QuorumCnxManager`) live in
//! `runtime`; this module only sees decoded [`Notification`]s from a [`ServerId`].

use crate::types::{ServerId, Zxid};

/// `QuorumPeer.ServerState`; the ordinal is the `state` field of a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerState {
    Looking,
    Following,
    Leading,
    Observing,
}

impl ServerState {
    pub fn ordinal(self) -> i32 {
        match self {
            ServerState::Looking => 0,
            ServerState::Following => 1,
            ServerState::Leading => 2,
            ServerState::Observing => 3,
        }
    }

    pub fn from_ordinal(v: i32) -> Option<ServerState> {
        match v {
            0 => Some(ServerState::Looking),
            1 => Some(ServerState::Following),
            2 => Some(ServerState::Leading),
            3 => Some(ServerState::Observing),
            _ => None,
        }
    }
}

/// One election message (`FastLeaderElection.Notification` / `ToSend`), as it travels between
/// servers (`buildMsg`, version 2): the sender's state and the vote it currently backs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub state: ServerState,
    /// The proposed (or established) leader.
    pub leader: ServerId,
    /// The proposed leader's last zxid.
    pub zxid: Zxid,
    /// The sender's logical clock ("round").
    pub election_epoch: i64,
    /// The proposed leader's epoch.
    pub peer_epoch: i64,
    /// Message format version (2 for 3.6+; older formats decode as 0 or 1).
    pub version: i32,
    /// The sender's QV string (`QuorumVerifier.toString`), empty for old formats.
    pub config: Vec<u8>,
}
