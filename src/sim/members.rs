//! A member's life: start from its disk, crash, restart, pause and resume.
//!
//! A start is what the runtime does at boot: restore the database from the disk
//! (`FileTxnSnapLog.restore`: every logged entry applied, committed or not), read the
//! epoch files (refusing to start where Java's `loadDataBase` refuses), and build a fresh
//! `Server` and `Peer` over it. A crash loses the process and the disk's unsynced bytes; a
//! pause is SIGSTOP: nothing runs, inputs wait, timers fire late on resume.

use super::cluster::{ElectionKind, Event, Seen, Sim};
use super::history::{inv, Violation};
use crate::quorum::election::{Election, ElectionSettings};
use crate::quorum::peer::Elector;
use crate::quorum::peer::{Peer, PeerOptions};
use crate::quorum::verifier::QuorumVerifier;
use crate::server::{self, Server};
use crate::sim_trace;
use std::sync::Arc;

impl Sim {
    /// The QV string every member is configured with (`QuorumMaj.toString`).
    pub(super) fn qv_string(&self) -> String {
        let qv: Vec<String> = self
            .members
            .iter()
            .map(|o| {
                let role = if o.voter { "participant" } else { "observer" };
                format!("server.{}=10.0.0.{}:2888:3888:{role}", o.sid, o.sid)
            })
            .collect();
        format!("{}\nversion=0", qv.join("\n"))
    }

    fn elector(&self, m: usize) -> Box<dyn Elector> {
        match self.cfg.election {
            ElectionKind::Oracle => Box::new(self.oracle.elector(m)),
            ElectionKind::Fle => {
                // The QV string is ours, so it parses; a failure is a simulator bug.
                let verifier = QuorumVerifier::parse(&self.qv_string()).expect("the simulator's QV string parses");
                let mm = &self.members[m];
                Box::new(Election::new(mm.sid, verifier, mm.voter, ElectionSettings::default()))
            }
        }
    }

    fn peer_options(&self, m: usize) -> PeerOptions {
        let mm = &self.members[m];
        PeerOptions {
            my_id: mm.sid,
            observer: !mm.voter,
            standalone: false,
            tick_ms: self.cfg.tick_ms,
            init_limit: self.cfg.init_limit,
            sync_limit: self.cfg.sync_limit,
            quorum: self.quorum.clone(),
            qv_string: self.qv_string(),
            qv_version: 0,
            leader_serves: true,
            extended_types: true,
            sync_enabled: true,
            txnlog_sync: true,
            read_only_mode: false,
            force_snap_sync: self.cfg.force_snap_sync,
            commit_log_count: self.cfg.commit_log_count,
            bugs: self.cfg.bugs,
        }
    }

    fn server_options(&self, m: usize) -> server::Options {
        let mut o = server::Options {
            server_id: self.members[m].sid,
            tick_ms: self.cfg.tick_ms,
            min_session_timeout_ms: (2 * self.cfg.tick_ms) as i32,
            max_session_timeout_ms: (20 * self.cfg.tick_ms) as i32,
            max_client_cnxns: 0,
            container_check_interval_ms: 1000,
            ..Default::default()
        };
        o.prep.extended_types = true;
        o.config = Arc::new(crate::config::Config::default_standalone(std::path::Path::new("/sim")));
        o
    }

    /// Boots member `m` from its disk. False when the disk state is one Java refuses.
    pub(super) fn start_member(&mut self, m: usize) -> bool {
        let disk = self.describe_disk(m);
        sim_trace!(self.trace, self.now, "{disk}");
        // A restart replays the log: say so when it holds txns outside its own history, or
        // misses some of them (evidence for the failure that usually follows).
        let (orphans, holes) = (self.orphans(m), self.holes(m));
        if !orphans.is_empty() {
            sim_trace!(self.trace, self.now, "m{m} restarts with txns no leader kept in its log: {orphans:?}");
            self.evidence.push((self.now, super::known::ORPHAN_APPEND));
        }
        if !holes.is_empty() {
            sim_trace!(
                self.trace,
                self.now,
                "m{m} restarts with {} txns of its history missing from its log",
                holes.len()
            );
            self.evidence.push((self.now, super::known::MEMORY_AHEAD_OF_DISK));
        }
        let restored = self.members[m].disk.restore(true);
        if let Some(why) = restored.refused {
            self.violate(Violation {
                invariant: inv::RESTART_REFUSED,
                at_ms: self.now,
                detail: format!("m{m} cannot start from its disk: {why}"),
            });
            return false;
        }
        let on_file = self.members[m].disk.epochs().1;
        let log_epoch = restored.tree.last_zxid.epoch();
        if on_file.is_some_and(|f| restored.epochs.1 > f.max(log_epoch)) {
            sim_trace!(
                self.trace,
                self.now,
                "m{m} starts with currentEpoch {} from currentEpoch.tmp: the file says {on_file:?}, its log reaches epoch {log_epoch}",
                restored.epochs.1
            );
            self.evidence.push((self.now, super::known::EPOCH_TMP_TRUSTED));
        }
        let now = self.now_for(m);
        let mut server = Server::new(self.server_options(m), restored.tree, now);
        server.stop_serving();
        let elector = self.elector(m);
        let peer = Peer::new(self.peer_options(m), server, restored.epochs, restored.replayed, elector, now);
        sim_trace!(
            self.trace,
            self.now,
            "m{m} starts (sid {}, last zxid {}, epochs {:?})",
            self.members[m].sid,
            peer.server().tree.last_zxid,
            restored.epochs
        );
        let member = &mut self.members[m];
        member.peer = Some(peer);
        member.paused = false;
        member.seen = Seen::default();
        member.leading_base = None;
        member.spins = 0;
        self.drive(m);
        self.reconnect_all();
        true
    }

    /// The process dies; the disk keeps only what was synced (and maybe some of the rest).
    pub fn crash(&mut self, m: usize) {
        self.crash_with(m, false);
    }

    /// The machine loses power: nothing unsynced survives.
    pub fn power_loss(&mut self, m: usize) {
        self.crash_with(m, true);
    }

    fn crash_with(&mut self, m: usize, power_loss: bool) {
        if !self.members[m].is_up() {
            return;
        }
        self.stats.crashes += 1;
        let loss = {
            let member = &mut self.members[m];
            member.peer = None;
            member.inc += 1;
            member.paused = false;
            member.inbox.clear();
            member.timer_at = None;
            member.link = None;
            member.seen = Seen::default();
            member.disk_busy = false;
            member.disk_backlog.clear();
            if power_loss {
                member.disk.power_loss()
            } else {
                member.disk.crash(&mut self.rng_disk)
            }
        };
        sim_trace!(
            self.trace,
            self.now,
            "{} m{m}: lost {} unsynced log entries (from {:?}), kept {} unsynced, lost {} snapshots",
            if power_loss { "POWER LOSS" } else { "CRASH" },
            loss.log_entries_lost,
            loss.first_lost,
            loss.log_entries_kept_unsynced,
            loss.snapshots_lost
        );
        self.break_member_streams(m);
        self.clear_votes_of(m);
        // The oracle forgets the dead member's round; its restart gets a fresh elector.
        let _ = self.oracle.elector(m);
    }

    /// Starts a crashed member again from its disk.
    pub fn restart(&mut self, m: usize) {
        if self.members[m].is_up() {
            return;
        }
        self.stats.restarts += 1;
        sim_trace!(self.trace, self.now, "RESTART m{m}");
        self.start_member(m);
    }

    /// SIGSTOP: inputs queue up, timers wait.
    pub fn pause(&mut self, m: usize) {
        if !self.members[m].is_live() {
            return;
        }
        self.stats.pauses += 1;
        self.members[m].paused = true;
        sim_trace!(self.trace, self.now, "PAUSE m{m}");
    }

    /// SIGCONT: everything that arrived is handled in order, then the overdue timers.
    pub fn resume(&mut self, m: usize) {
        if !self.members[m].paused {
            return;
        }
        self.members[m].paused = false;
        let queued: Vec<_> = self.members[m].inbox.drain(..).collect();
        sim_trace!(self.trace, self.now, "RESUME m{m} ({} inputs waited)", queued.len());
        for input in queued {
            self.deliver(m, input);
        }
        let now = self.now_for(m);
        if let Some(p) = self.members[m].peer.as_mut() {
            p.handle_timeout(now);
        }
        self.drive(m);
    }

    /// Schedules a resume after `ms` (for the paused member's current life).
    pub(super) fn resume_later(&mut self, m: usize, ms: u64) {
        let inc = self.members[m].inc;
        let at = self.now + ms;
        self.schedule(at, Event::Resume { m, inc });
    }
}

impl Sim {
    /// A member's disk in one line: snapshots, log range, epochs (for failure reports).
    pub fn describe_disk(&self, m: usize) -> String {
        let d = &self.members[m].disk;
        let all = d.snapshots();
        let mut snaps: Vec<String> = all.keys().rev().take(4).map(|z| z.to_string()).collect();
        snaps.reverse();
        if all.len() > 4 {
            snaps.insert(0, format!("{} older ..", all.len() - 4));
        }
        let log = d.log();
        let unsynced = log.iter().filter(|e| !e.synced).count();
        let mut gaps = Vec::new();
        for w in log.windows(2) {
            if let [a, b] = w {
                if b.zxid != a.zxid.next() && !(b.zxid.epoch() > a.zxid.epoch() && b.zxid.counter() == 1) {
                    gaps.push(format!("{}..{}", a.zxid, b.zxid));
                }
            }
        }
        format!(
            "m{m} disk: snapshots [{}]{}, log {} entries {}..{} ({unsynced} unsynced, breaks at [{}]), epochs {:?}",
            snaps.join(" "),
            match d.snapshots_being_written() {
                0 => String::new(),
                n => format!(" (+{n} being written)"),
            },
            log.len(),
            log.first().map(|e| e.zxid.to_string()).unwrap_or_default(),
            log.last().map(|e| e.zxid.to_string()).unwrap_or_default(),
            gaps.join(" "),
            d.epochs()
        )
    }
}

impl Sim {
    /// Replays a member's disk step by step and says where its tree first differs from
    /// what some member reported at the same zxid (for failure reports).
    pub fn diagnose_disk(&self, m: usize) -> String {
        let d = &self.members[m].disk;
        let mut out = Vec::new();
        let (sz, mut tree) = match d.snapshots().iter().next_back() {
            None => {
                out.push("no snapshot: replaying the log from an empty tree".to_string());
                (crate::types::Zxid::ZERO, crate::tree::DataTree::new(true))
            }
            Some((sz, snap)) => {
                let Ok(tree) = super::disk::tree_from_image(&snap.image, *sz, true) else {
                    return "snapshot does not load".into();
                };
                match self.ghost.observed(*sz) {
                    Some((dg, who)) if dg != tree.digest() => out.push(format!(
                        "snapshot {sz} digest {:x} differs from m{who}'s tree at {sz} ({dg:x})",
                        tree.digest()
                    )),
                    Some(_) => out.push(format!("snapshot {sz} matches the observed tree")),
                    None => out.push(format!("snapshot {sz}: no tree observed at that zxid")),
                }
                (*sz, tree)
            }
        };
        let sz = &sz;
        for e in d.log().iter().filter(|e| e.zxid > *sz) {
            let Ok(t) = crate::jute::txn::TxnEntry::decode(&e.data) else { break };
            tree.apply(&t.header, &t.txn);
            if let Some((dg, who)) = self.ghost.observed(e.zxid) {
                if dg != tree.digest() {
                    let canon = match self.ghost.replay(e.zxid, true) {
                        Ok(c) => format!("{:x} ({})", c.digest(), tree_diff(&tree, &c)),
                        Err(e) => e,
                    };
                    out.push(format!(
                        "after replaying {} (type {} session 0x{:x}) the digest is {:x}, m{who} had {dg:x}, \
                         the canonical history gives {canon}",
                        e.zxid,
                        t.header.type_,
                        t.header.client_id,
                        tree.digest()
                    ));
                    break;
                }
            }
        }
        if let Some(tip) = d.log().last().map(|e| e.zxid) {
            if let Ok(chain) = self.ghost.chain(tip) {
                let orphans: Vec<String> = d
                    .log()
                    .iter()
                    .filter(|e| e.zxid > *sz && !super::ghost::contains(&chain, e.zxid))
                    .map(|e| e.zxid.to_string())
                    .collect();
                if !orphans.is_empty() {
                    out.push(format!(
                        "log entries after the snapshot that are not in the history to {tip}: {}",
                        orphans.join(" ")
                    ));
                }
            }
        }
        out.join("; ")
    }
}

impl Sim {
    /// Log entries a restart would replay (after the newest snapshot) that are not in the
    /// history ending at the log's last entry: txns no leader ever kept.
    pub fn orphans(&self, m: usize) -> Vec<crate::types::Zxid> {
        let d = &self.members[m].disk;
        let since = d.snapshots().keys().next_back().copied().unwrap_or(crate::types::Zxid::ZERO);
        let Some(tip) = d.log().last().map(|e| e.zxid) else { return Vec::new() };
        let Ok(chain) = self.ghost.chain(tip) else { return Vec::new() };
        d.log().iter().filter(|e| e.zxid > since && !super::ghost::contains(&chain, e.zxid)).map(|e| e.zxid).collect()
    }

    /// Txns of the history ending at the log's last entry that a restart would need (after
    /// the newest snapshot) but the log does not hold: holes a replay silently skips.
    pub fn holes(&self, m: usize) -> Vec<crate::types::Zxid> {
        let d = &self.members[m].disk;
        let since = d.snapshots().keys().next_back().copied().unwrap_or(crate::types::Zxid::ZERO);
        let Some(tip) = d.log().last().map(|e| e.zxid) else { return Vec::new() };
        let Ok(chain) = self.ghost.chain(tip) else { return Vec::new() };
        let have: std::collections::BTreeSet<crate::types::Zxid> = d.log().iter().map(|e| e.zxid).collect();
        let mut missing = Vec::new();
        for (epoch, last) in &chain {
            for c in 1..=*last {
                let z = crate::types::Zxid::new(*epoch as u32, c);
                if z > since && z <= tip && !have.contains(&z) {
                    missing.push(z);
                }
            }
        }
        missing
    }
}

/// The first few nodes two trees disagree on, for failure reports.
fn tree_diff(a: &crate::tree::DataTree, b: &crate::tree::DataTree) -> String {
    let collect = |t: &crate::tree::DataTree| {
        let mut m = std::collections::BTreeMap::new();
        t.walk(|p, n| {
            m.insert(p.to_string(), (n.data.clone(), n.stat.clone()));
        });
        m
    };
    let (x, y) = (collect(a), collect(b));
    let mut diffs = Vec::new();
    for (p, v) in &x {
        match y.get(p) {
            None => diffs.push(format!("{p} only on disk")),
            Some(w) if w != v => diffs.push(format!("{p} differs: disk {:?} vs history {:?}", v.1, w.1)),
            _ => {}
        }
    }
    for p in y.keys().filter(|p| !x.contains_key(*p)) {
        diffs.push(format!("{p} only in the history"));
    }
    let n = diffs.len();
    diffs.truncate(3);
    format!("{n} nodes differ: {}", diffs.join("; "))
}
