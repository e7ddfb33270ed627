//! The learner side of Zab (`Learner`, `Follower`, `Observer`), sans-I/O.
//!
//! Join: FOLLOWERINFO/OBSERVERINFO → LEADERINFO (persist `acceptedEpoch`) → ACKEPOCH →
//! DIFF, TRUNC or SNAP → proposals and commits → NEWLEADER → ACK → UPTODATE → ACK.
//!
//! Where Java 3.8 loses data during this dance (`anchors.md` §3.3), ruzk does the safe thing
//! and stays compatible with every 3.8 leader's message order:
//! - every PROPOSAL is appended to the log the moment it arrives, in every sync mode, and a
//!   SNAP is written as a synced snapshot (with the stale log beyond it truncated) at once;
//! - the NEWLEADER ACK goes out only when all of that is durable and `currentEpoch` is
//!   written after it (ZOOKEEPER-3911, 4643, 4646, 4785, 3642);
//! - no proposal is ACKed before the NEWLEADER ACK (ZOOKEEPER-4685), and only once durable;
//! - proposals must be contiguous, so a gapped DIFF aborts the sync instead of silently
//!   skipping a transaction (ZOOKEEPER-4925);
//! - TRUNC drops snapshots newer than the truncation point before reloading (ZOOKEEPER-3526,
//!   5094), and a reload that does not land exactly there aborts.

use super::io::{EpochKind, Output};
use super::packet::{kind, LearnerInfo, QuorumPacket, ZAB_PROTOCOL_VERSION};
use super::peer::Ctx;
use crate::jute::txn::TxnEntry;
use crate::types::{ServerId, SessionId, Zxid};
use bytes::{Buf, BufMut, Bytes};
use std::collections::VecDeque;

/// Why following stopped; the peer logs it and goes back to election.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quit(pub String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for the connection to the leader's quorum port.
    Connecting,
    /// FOLLOWERINFO sent; waiting for LEADERINFO.
    Info,
    /// ACKEPOCH sent; waiting for DIFF, TRUNC or SNAP.
    SyncStart,
    /// Receiving the sync stream, up to NEWLEADER.
    Syncing,
    /// NEWLEADER received; waiting for everything received so far to be durable.
    /// With the zxid to acknowledge and the last append that must be durable first.
    NewLeader(Zxid, Zxid),
    /// NEWLEADER acknowledged; waiting for UPTODATE.
    UpToDate,
    /// Serving.
    Broadcast,
}

/// A proposal logged (or being logged) and not yet committed.
#[derive(Debug)]
struct Pending {
    zxid: Zxid,
    entry: TxnEntry,
    data: Bytes,
}

#[derive(Debug)]
pub struct Learner {
    leader: ServerId,
    observer: bool,
    phase: Phase,
    new_epoch: i64,
    pending: VecDeque<Pending>,
    /// Appended proposals not acknowledged yet (followers only).
    unacked: VecDeque<Zxid>,
    last_appended: Zxid,
    newleader_acked: bool,
    /// A SNAP snapshot that must be on disk before the NEWLEADER ACK.
    snapshot_wait: Option<Zxid>,
    /// TRUNC: waiting for the reload; packets meanwhile are held in order.
    reloading: Option<Zxid>,
    held: VecDeque<QuorumPacket>,
    /// When the current wait for the leader gives up.
    deadline_ms: u64,
    retry_at_ms: Option<u64>,
    connect_deadline_ms: u64,
}

const CONNECT_RETRY_MS: u64 = 100;

impl Learner {
    /// Starts following `leader` (`Follower.followLeader` / `Observer.observeLeader`).
    pub fn new(ctx: &mut Ctx<'_>, leader: ServerId, observer: bool) -> Learner {
        tracing::info!(
            "{} - LEADER ELECTION TOOK - {} MS",
            if observer { "OBSERVING" } else { "FOLLOWING" },
            ctx.election_took_ms
        );
        let init_ms = ctx.opts.init_limit * ctx.opts.tick_ms;
        ctx.out.push_back(Output::ConnectLeader { leader });
        Learner {
            leader,
            observer,
            phase: Phase::Connecting,
            new_epoch: -1,
            pending: VecDeque::new(),
            unacked: VecDeque::new(),
            last_appended: ctx.server.tree.last_zxid,
            newleader_acked: false,
            snapshot_wait: None,
            reloading: None,
            held: VecDeque::new(),
            deadline_ms: ctx.now.mono_ms + init_ms,
            retry_at_ms: None,
            connect_deadline_ms: ctx.now.mono_ms + init_ms,
        }
    }

    pub fn leader(&self) -> ServerId {
        self.leader
    }

    pub fn is_serving(&self) -> bool {
        self.phase == Phase::Broadcast
    }

    pub fn is_observer(&self) -> bool {
        self.observer
    }

    /// Java's ZabState while following.
    pub fn zab_state(&self) -> &'static str {
        match self.phase {
            Phase::Connecting | Phase::Info => "discovery",
            Phase::Broadcast => "broadcast",
            _ => "synchronization",
        }
    }

    pub fn poll_timeout(&self) -> u64 {
        self.retry_at_ms.map_or(self.deadline_ms, |r| r.min(self.deadline_ms))
    }

    fn heard(&mut self, ctx: &Ctx<'_>) {
        let limit = match self.phase {
            Phase::Broadcast | Phase::UpToDate => ctx.opts.sync_limit,
            // Until the NEWLEADER ACK is out (waiting on our own fsync included) the leader is
            // still waiting initLimit for it, and sends no pings before it starts.
            _ => ctx.opts.init_limit,
        };
        self.deadline_ms = ctx.now.mono_ms + limit * ctx.opts.tick_ms;
    }

    pub fn on_timeout(&mut self, ctx: &mut Ctx<'_>) -> Result<(), Quit> {
        let now = ctx.now.mono_ms;
        if let Some(at) = self.retry_at_ms {
            if now >= at {
                self.retry_at_ms = None;
                ctx.out.push_back(Output::ConnectLeader { leader: self.leader });
            }
        }
        if now >= self.deadline_ms {
            return Err(Quit(match self.phase {
                Phase::Connecting => format!("Failed connect to leader {} within initLimit", self.leader),
                _ => "Read timed out: no packet from the leader within the limit".to_string(),
            }));
        }
        Ok(())
    }

    pub fn on_connected(&mut self, ctx: &mut Ctx<'_>) {
        if self.phase != Phase::Connecting {
            return;
        }
        let info = LearnerInfo {
            server_id: ctx.opts.my_id,
            protocol_version: ZAB_PROTOCOL_VERSION,
            config_version: ctx.opts.qv_version,
        };
        let t = if self.observer { kind::OBSERVERINFO } else { kind::FOLLOWERINFO };
        let zxid = Zxid::epoch_start(ctx.store.accepted_epoch);
        ctx.out.push_back(Output::ToLeader(QuorumPacket::with_data(t, zxid, info.to_bytes())));
        self.phase = Phase::Info;
        self.heard(ctx);
    }

    /// The connection failed: retry until `initLimit` runs out while still connecting;
    /// after that a lost leader means a new election.
    pub fn on_closed(&mut self, ctx: &mut Ctx<'_>) -> Result<(), Quit> {
        // Closed before LEADERINFO: the server we chose may not lead yet; keep trying.
        let early = matches!(self.phase, Phase::Connecting | Phase::Info);
        if early && ctx.now.mono_ms + CONNECT_RETRY_MS < self.connect_deadline_ms {
            self.phase = Phase::Connecting;
            self.retry_at_ms = Some(ctx.now.mono_ms + CONNECT_RETRY_MS);
            return Ok(());
        }
        Err(Quit("the connection to the leader closed".into()))
    }

    pub fn on_packet(&mut self, ctx: &mut Ctx<'_>, p: QuorumPacket) -> Result<(), Quit> {
        self.heard(ctx);
        if self.reloading.is_some() {
            self.held.push_back(p);
            return Ok(());
        }
        self.dispatch(ctx, p)
    }

    fn dispatch(&mut self, ctx: &mut Ctx<'_>, p: QuorumPacket) -> Result<(), Quit> {
        match self.phase {
            Phase::Connecting => Err(Quit("a packet before the connection was up".into())),
            Phase::Info => self.on_leader_info(ctx, p),
            Phase::SyncStart => self.on_sync_start(ctx, p),
            Phase::Syncing | Phase::NewLeader(..) | Phase::UpToDate | Phase::Broadcast => self.on_stream(ctx, p),
        }
    }

    /// `registerWithLeader`: accept the new epoch (persisting it first) or refuse an older one.
    fn on_leader_info(&mut self, ctx: &mut Ctx<'_>, p: QuorumPacket) -> Result<(), Quit> {
        if p.type_ != kind::LEADERINFO {
            return Err(Quit(format!("First packet should have been LEADERINFO, got {}", kind::name(p.type_))));
        }
        let new_epoch = p.zxid.epoch();
        let accepted = ctx.store.accepted_epoch;
        let reply = if new_epoch > accepted {
            ctx.store.accepted_epoch = new_epoch;
            ctx.out.push_back(Output::WriteEpoch { kind: EpochKind::Accepted, epoch: new_epoch });
            ctx.store.current_epoch as i32
        } else if new_epoch == accepted {
            -1
        } else {
            return Err(Quit(format!("Leaders epoch, {new_epoch} is less than accepted epoch, {accepted}")));
        };
        self.new_epoch = new_epoch;
        let last = ctx.server.tree.last_zxid;
        ctx.out.push_back(Output::ToLeader(QuorumPacket::with_data(
            kind::ACKEPOCH,
            last,
            Bytes::copy_from_slice(&reply.to_be_bytes()),
        )));
        self.phase = Phase::SyncStart;
        Ok(())
    }

    fn on_sync_start(&mut self, ctx: &mut Ctx<'_>, p: QuorumPacket) -> Result<(), Quit> {
        match p.type_ {
            kind::DIFF => {
                tracing::info!("Getting a diff from the leader 0x{:x}", p.zxid.0);
            }
            kind::SNAP => {
                tracing::info!("Getting a snapshot from leader 0x{:x}", p.zxid.0);
                let tree = super::snap::decode_body(p.body(), p.zxid, ctx.opts.extended_types)
                    .map_err(|e| Quit(e.to_string()))?;
                ctx.server.replace_tree(tree, ctx.now);
                ctx.store.committed.clear();
                let image = crate::server::persist::image_from_tree(&ctx.server.tree);
                ctx.note_epoch_on_disk(p.zxid);
                ctx.out.push_back(Output::Snapshot { zxid: p.zxid, image: Box::new(image), notify: true });
                ctx.truncate(p.zxid);
                ctx.store.history_from = p.zxid;
                self.snapshot_wait = Some(p.zxid);
                self.last_appended = p.zxid;
            }
            kind::TRUNC => {
                tracing::warn!("Truncating log to get in sync with the leader 0x{:x}", p.zxid.0);
                ctx.truncate(p.zxid);
                ctx.out.push_back(Output::Reload);
                self.reloading = Some(p.zxid);
            }
            other => {
                return Err(Quit(format!("Got unexpected packet from leader: {}, exiting ... ", kind::name(other))));
            }
        }
        if self.reloading.is_none() {
            ctx.server.tree.set_config_node(&ctx.opts.qv_string, ctx.opts.qv_version, ctx.now.wall_ms);
        }
        self.phase = Phase::Syncing;
        Ok(())
    }

    /// The database reloaded after TRUNC; it must end exactly at the truncation point.
    pub fn on_reloaded(
        &mut self,
        ctx: &mut Ctx<'_>,
        tree: crate::tree::DataTree,
        replayed: Vec<(Zxid, Bytes)>,
    ) -> Result<(), Quit> {
        let Some(z) = self.reloading.take() else { return Ok(()) };
        if tree.last_zxid != z {
            return Err(Quit(format!(
                "Not able to truncate the log 0x{:x} (the log ends at 0x{:x})",
                z.0, tree.last_zxid.0
            )));
        }
        ctx.server.replace_tree(tree, ctx.now);
        ctx.server.tree.set_config_node(&ctx.opts.qv_string, ctx.opts.qv_version, ctx.now.wall_ms);
        ctx.store.committed.clear();
        ctx.store.history_from = replayed.first().map_or(z, |(zz, _)| *zz);
        for (zxid, data) in replayed {
            ctx.store.committed.push(zxid, data);
        }
        self.last_appended = z;
        while let Some(p) = self.held.pop_front() {
            self.dispatch(ctx, p)?;
            if self.reloading.is_some() {
                break;
            }
        }
        Ok(())
    }

    /// Everything after the sync's first packet: the same handling before and after NEWLEADER,
    /// except that ACKs wait for the NEWLEADER ACK and clients wait for UPTODATE.
    fn on_stream(&mut self, ctx: &mut Ctx<'_>, p: QuorumPacket) -> Result<(), Quit> {
        match p.type_ {
            kind::PROPOSAL => self.on_proposal(ctx, &p),
            kind::COMMIT | kind::COMMITANDACTIVATE => self.on_commit(ctx, p.zxid),
            kind::INFORM => {
                let (entry, data) = self.accept(&p, p.body())?;
                if ctx.opts.sync_enabled {
                    ctx.append(Zxid(entry.header.zxid), data.clone());
                }
                self.apply(ctx, entry, data);
                Ok(())
            }
            kind::INFORMANDACTIVATE => {
                let body = p.body().get(8..).unwrap_or(&[]);
                let (entry, data) = self.accept(&p, body)?;
                if ctx.opts.sync_enabled {
                    ctx.append(Zxid(entry.header.zxid), data.clone());
                }
                self.apply(ctx, entry, data);
                Ok(())
            }
            kind::NEWLEADER => self.on_new_leader(ctx, p.zxid),
            kind::UPTODATE => self.on_uptodate(ctx),
            kind::PING => {
                if self.phase == Phase::Broadcast {
                    let mut data = Vec::new();
                    for (id, to) in ctx.server.take_touched() {
                        data.put_i64(id.0);
                        data.put_i32(to);
                    }
                    ctx.out.push_back(Output::ToLeader(QuorumPacket {
                        type_: kind::PING,
                        zxid: p.zxid,
                        data: Some(Bytes::from(data)),
                        authinfo: p.authinfo,
                    }));
                }
                Ok(())
            }
            kind::SYNC => {
                ctx.server.sync_arrived();
                Ok(())
            }
            kind::REVALIDATE => {
                let mut b = p.body();
                if b.len() < 9 {
                    return Err(Quit("short REVALIDATE reply".into()));
                }
                let id = SessionId(b.get_i64());
                let valid = b.get_u8() != 0;
                ctx.server.revalidated(id, valid);
                Ok(())
            }
            other => {
                tracing::warn!("Unknown packet type: {}", kind::name(other));
                Ok(())
            }
        }
    }

    /// Decodes a txn carried by PROPOSAL/INFORM and checks it continues our log.
    fn accept(&mut self, p: &QuorumPacket, body: &[u8]) -> Result<(TxnEntry, Bytes), Quit> {
        let entry = TxnEntry::decode(body).map_err(|e| Quit(format!("bad txn in {}: {e}", kind::name(p.type_))))?;
        let zxid = Zxid(entry.header.zxid);
        if zxid != p.zxid && p.type_ != kind::INFORMANDACTIVATE {
            return Err(Quit(format!("{} 0x{:x} carries txn 0x{:x}", kind::name(p.type_), p.zxid.0, zxid.0)));
        }
        let last = self.last_appended;
        let follows = zxid == last.next() || (zxid.epoch() > last.epoch() && zxid.counter() == 1);
        if !follows {
            // Java 3.8 only warns ("Got zxid ... expected ..."); accepting a gap would make this
            // learner skip a committed transaction (ZOOKEEPER-4925).
            return Err(Quit(format!(
                "Got zxid 0x{:x} expected 0x{:x}: refusing a gap in the log",
                zxid.0,
                last.next().0
            )));
        }
        self.last_appended = zxid;
        Ok((entry, Bytes::copy_from_slice(body)))
    }

    fn on_proposal(&mut self, ctx: &mut Ctx<'_>, p: &QuorumPacket) -> Result<(), Quit> {
        if self.observer {
            // Observers get PROPOSAL/COMMIT pairs during a DIFF sync, never afterwards.
            if self.phase == Phase::Broadcast {
                tracing::warn!("Ignoring proposal");
                return Ok(());
            }
        }
        let (entry, data) = self.accept(p, p.body())?;
        let zxid = Zxid(entry.header.zxid);
        if !self.observer || ctx.opts.sync_enabled {
            ctx.append(zxid, data.clone());
        }
        if ctx.opts.bugs.apply_uncommitted {
            self.apply(ctx, entry, data);
            return Ok(());
        }
        if !self.observer {
            self.unacked.push_back(zxid);
        }
        self.pending.push_back(Pending { zxid, entry, data });
        if ctx.opts.bugs.ack_before_durable {
            self.flush_acks(ctx);
        }
        Ok(())
    }

    fn on_commit(&mut self, ctx: &mut Ctx<'_>, zxid: Zxid) -> Result<(), Quit> {
        if ctx.opts.bugs.apply_uncommitted {
            return Ok(());
        }
        let Some(head) = self.pending.front() else {
            tracing::warn!("Committing 0x{:x} without seeing txn", zxid.0);
            return Ok(());
        };
        if head.zxid != zxid {
            // Java exits the process here (UNMATCHED_TXN_COMMIT); a fresh sync is as safe.
            return Err(Quit(format!("Committing zxid 0x{:x} but next pending txn 0x{:x}", zxid.0, head.zxid.0)));
        }
        if let Some(p) = self.pending.pop_front() {
            self.apply(ctx, p.entry, p.data);
        }
        Ok(())
    }

    fn apply(&mut self, ctx: &mut Ctx<'_>, entry: TxnEntry, data: Bytes) {
        let zxid = Zxid(entry.header.zxid);
        ctx.server.apply_committed(entry);
        ctx.store.committed.push(zxid, data);
    }

    fn on_new_leader(&mut self, ctx: &mut Ctx<'_>, zxid: Zxid) -> Result<(), Quit> {
        if self.phase != Phase::Syncing {
            return Err(Quit("NEWLEADER outside the sync phase".into()));
        }
        tracing::info!("Learner received NEWLEADER message");
        // Only what arrived before NEWLEADER must be durable for its ACK: proposals keep coming
        // meanwhile, and waiting for those too never ends when fsync is slower than the writes.
        self.phase = Phase::NewLeader(zxid, ctx.store.appended);
        self.heard(ctx);
        self.try_ack_new_leader(ctx);
        Ok(())
    }

    /// The NEWLEADER ACK, once the snapshot and every appended proposal are durable:
    /// durable log first, then `currentEpoch`, then the ACK, then the proposals' ACKs.
    fn try_ack_new_leader(&mut self, ctx: &mut Ctx<'_>) {
        let Phase::NewLeader(zxid, needed) = self.phase else { return };
        let durable = ctx.store.durable >= needed || ctx.opts.bugs.ack_before_durable;
        if self.snapshot_wait.is_some() || !durable {
            return;
        }
        ctx.store.current_epoch = self.new_epoch;
        ctx.store.tmp_epoch = ctx.store.tmp_epoch.max(self.new_epoch);
        ctx.out.push_back(Output::WriteEpoch { kind: EpochKind::Current, epoch: self.new_epoch });
        ctx.out.push_back(Output::ToLeader(QuorumPacket::bare(kind::ACK, zxid)));
        self.newleader_acked = true;
        self.phase = Phase::UpToDate;
        self.heard(ctx);
        self.flush_acks(ctx);
    }

    fn on_uptodate(&mut self, ctx: &mut Ctx<'_>) -> Result<(), Quit> {
        if self.phase == Phase::Broadcast {
            tracing::error!("Received an UPTODATE message after Follower started");
            return Ok(());
        }
        if self.phase != Phase::UpToDate {
            return Err(Quit("UPTODATE before the NEWLEADER ACK".into()));
        }
        tracing::info!("Learner received UPTODATE message");
        ctx.out.push_back(Output::ToLeader(QuorumPacket::bare(kind::ACK, Zxid::epoch_start(self.new_epoch))));
        self.phase = Phase::Broadcast;
        ctx.server.start_following(ctx.now, self.observer);
        ctx.election.update_vote_epoch(self.new_epoch);
        Ok(())
    }

    pub fn on_durable(&mut self, ctx: &mut Ctx<'_>) {
        self.try_ack_new_leader(ctx);
        self.flush_acks(ctx);
    }

    pub fn on_snapshot_written(&mut self, ctx: &mut Ctx<'_>, zxid: Zxid) {
        if self.snapshot_wait == Some(zxid) {
            self.snapshot_wait = None;
            self.try_ack_new_leader(ctx);
        }
    }

    fn flush_acks(&mut self, ctx: &mut Ctx<'_>) {
        if !self.newleader_acked {
            return;
        }
        while let Some(&z) = self.unacked.front() {
            if z > ctx.store.durable && !ctx.opts.bugs.ack_before_durable {
                break;
            }
            self.unacked.pop_front();
            ctx.out.push_back(Output::ToLeader(QuorumPacket::bare(kind::ACK, z)));
        }
    }

    /// Proposals logged but not committed, oldest first: applied on the way out, as Java's
    /// `fastForwardDataBase` does, so the tree again equals the log.
    pub fn take_pending(&mut self) -> Vec<(TxnEntry, Bytes)> {
        std::mem::take(&mut self.pending).into_iter().map(|p| (p.entry, p.data)).collect()
    }

    /// Sends a client write on to the leader (`Learner.request`): session, cxid, type and
    /// the request body exactly as the client sent it, with the connection's auth ids.
    pub fn forward(
        &self,
        ctx: &mut Ctx<'_>,
        session: SessionId,
        cxid: i32,
        op: i32,
        body: &[u8],
        auth: Vec<crate::jute::records::Id>,
    ) {
        let mut data = Vec::with_capacity(16 + body.len());
        data.put_i64(session.0);
        data.put_i32(cxid);
        data.put_i32(op);
        data.extend_from_slice(body);
        ctx.out.push_back(Output::ToLeader(QuorumPacket {
            type_: kind::REQUEST,
            zxid: Zxid::NONE,
            data: Some(Bytes::from(data)),
            authinfo: Some(auth),
        }));
    }

    /// Asks the leader whether a reconnecting client's session is still alive.
    pub fn revalidate(&self, ctx: &mut Ctx<'_>, session: SessionId, timeout: i32) {
        let mut data = Vec::with_capacity(12);
        data.put_i64(session.0);
        data.put_i32(timeout);
        ctx.out.push_back(Output::ToLeader(QuorumPacket::with_data(kind::REVALIDATE, Zxid::NONE, data)));
    }
}
