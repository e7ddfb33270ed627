//! What goes into and comes out of a [`Peer`](super::peer::Peer): the whole boundary
//! between one ensemble member's state machine and the world (the tokio runtime in
//! production, the deterministic simulator in tests).
//!
//! Storage is part of the boundary on purpose: appends, truncations, snapshots and epoch
//! writes are outputs, and their completion comes back as inputs, so a simulated disk can
//! lose unsynced bytes on a crash and the invariant "acknowledged ⇒ durable" can be checked.

use super::election::Notification;
use super::packet::QuorumPacket;
use crate::server;
use crate::storage::snapshot::SnapshotImage;
use crate::tree::DataTree;
use crate::types::{ServerId, Zxid};
use bytes::Bytes;

/// A learner's connection to this server's quorum port, numbered by whoever accepted it.
pub type LinkId = u64;

/// Which epoch file (`dataDir/version-2/acceptedEpoch` or `currentEpoch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpochKind {
    Accepted,
    Current,
    /// `currentEpoch.tmp`: written before a learner makes any state of the new epoch durable,
    /// so a crash before `currentEpoch` itself is written still loads (Java's
    /// `QuorumPeer.loadDataBase` takes the tmp file when the log is ahead of `currentEpoch`).
    CurrentTmp,
}

#[derive(Debug)]
pub enum Input {
    /// A client connection event (accept, frame, four-letter word, close).
    Client(server::Input),
    /// An election notification from `from`, decoded by the election connection layer.
    Vote { from: ServerId, msg: Notification },

    /// Leader side: a learner connected to our quorum port.
    LearnerConnected { link: LinkId },
    /// Leader side: a packet from that learner.
    FromLearner { link: LinkId, packet: QuorumPacket },
    /// Leader side: the learner's connection is gone (closed, reset, or after our close).
    LearnerClosed { link: LinkId },

    /// Learner side: the connection asked for by [`Output::ConnectLeader`] is up.
    LeaderConnected,
    /// Learner side: a packet from the leader. A SNAP packet carries the snapshot body that
    /// follows it on the stream (up to and including the "BenWasHere" signature) as `data`.
    FromLeader(QuorumPacket),
    /// Learner side: the leader connection failed or closed.
    LeaderClosed,

    /// Every append up to and including this zxid is on stable storage.
    Durable { zxid: Zxid },
    /// A snapshot asked for with `notify` is on stable storage.
    SnapshotWritten { zxid: Zxid },
    /// The result of [`Output::Reload`]: the tree restored from disk (snapshot + log) and the
    /// raw entries replayed after the snapshot, oldest first (for the committed log).
    Reloaded { tree: Box<DataTree>, replayed: Vec<(Zxid, Bytes)> },
    /// The log was rolled: take a snapshot (`snapCount`).
    TakeSnapshot,
    /// The answer to [`Output::ReadLog`]: the logged entries from `from` up to `upto`, or
    /// `None` when the logs cannot serve them (the learner then gets a SNAP).
    LogRead { link: LinkId, entries: Option<Vec<(Zxid, Bytes)>> },
}

#[derive(Debug)]
pub enum Output {
    /// Bytes for a client connection / close it after what is queued.
    ClientSend {
        conn: server::watch::ConnId,
        bytes: Bytes,
    },
    ClientClose {
        conn: server::watch::ConnId,
    },

    /// An election notification for `to` (to ourselves too: the transport loops it back,
    /// as QuorumCnxManager does).
    Vote {
        to: ServerId,
        msg: Notification,
    },

    /// Learner side: open a connection to `leader`'s quorum port; answer with
    /// `LeaderConnected` or `LeaderClosed`. Any previous leader connection is dropped.
    ConnectLeader {
        leader: ServerId,
    },
    /// Learner side: a packet for the leader.
    ToLeader(QuorumPacket),
    /// Learner side: drop the leader connection (no `LeaderClosed` follows).
    CloseLeader,

    /// Leader side: a packet for one learner. A SNAP packet's `data` is the body to write
    /// raw after the packet (the packet itself goes out with null data).
    ToLearner {
        link: LinkId,
        packet: QuorumPacket,
    },
    /// Leader side: drop a learner connection (no `LearnerClosed` follows).
    CloseLearner {
        link: LinkId,
    },

    /// Append one txn entry to the log; `Durable` follows once it is synced.
    Append {
        zxid: Zxid,
        entry: Bytes,
    },
    /// Drop every logged entry after `zxid` and every snapshot newer than `zxid`.
    Truncate {
        zxid: Zxid,
    },
    /// Restore the database from disk; `Reloaded` follows.
    Reload,
    /// Write this image as `snapshot.<zxid>`; with `notify`, `SnapshotWritten` follows once
    /// it is synced.
    Snapshot {
        zxid: Zxid,
        image: Box<SnapshotImage>,
        notify: bool,
    },
    /// Write an epoch file durably. Executed before any later output.
    WriteEpoch {
        kind: EpochKind,
        epoch: i64,
    },
    /// Leader: read logged entries `from..=upto` to DIFF a learner that fell behind the
    /// committed log (`ZKDatabase.getProposalsFromTxnLog`); `LogRead` follows.
    ReadLog {
        link: LinkId,
        from: Zxid,
        upto: Zxid,
    },
}
