//! Helpers for scripted schedules: a quiet cluster (no random faults, no random clients, the
//! oracle electing), clients pinned to one member that send exactly what they are told, and
//! waits on roles, acknowledgements and packets, each bounded and failing with a sentence
//! that says what it waited for.

use super::client::{Client, Role};
use super::cluster::{Config, ElectionKind, Sent, Sim};
use super::faults::Faults;
use super::workload::create_request;
use crate::quorum::election::ServerState;
use crate::quorum::packet::kind;
use crate::types::Zxid;

impl Sim {
    /// A cluster for a script: `voters` members, oracle elections, no faults, no workload.
    pub fn scripted(seed: u64, voters: usize) -> Sim {
        let mut c = Config::new(seed, voters);
        c.clients = 0;
        c.faults = Faults::none();
        c.election = ElectionKind::Oracle;
        c.force_snap_sync = false;
        c.commit_log_count = 500;
        c.snap_count = 10_000;
        c.keep_trace = true;
        Sim::scripted_with(c)
    }

    /// A scripted cluster from an explicit config (packets recorded, trace kept).
    pub fn scripted_with(cfg: Config) -> Sim {
        let mut sim = Sim::new(cfg);
        sim.record_packets = true;
        sim
    }

    /// The member leading a started epoch, if any.
    pub fn leader(&self) -> Option<usize> {
        self.members
            .iter()
            .position(|m| m.peer.as_ref().is_some_and(|p| p.state().0 == ServerState::Leading && p.is_serving()))
    }

    /// Waits until `members` all serve (a leader with them synced). Err says who did not.
    pub fn await_serving(&mut self, members: &[usize], within_ms: u64) -> Result<(), String> {
        let deadline = self.now + within_ms;
        let ok = self.run_until(deadline, |s| {
            members.iter().all(|m| s.members[*m].peer.as_ref().is_some_and(|p| p.is_serving()))
        });
        if ok {
            Ok(())
        } else {
            Err(format!("members {members:?} were not all serving within {within_ms} ms: {}", self.roles()))
        }
    }

    /// Waits until one of `among` leads a started epoch; returns it.
    pub fn await_leader(&mut self, among: &[usize], within_ms: u64) -> Result<usize, String> {
        let deadline = self.now + within_ms;
        if self.run_until(deadline, |s| s.leader().is_some_and(|l| among.contains(&l))) {
            self.leader().ok_or_else(|| "no leader".to_string())
        } else {
            Err(format!("none of {among:?} led within {within_ms} ms: {}", self.roles()))
        }
    }

    /// Adds a client that only ever talks to `member`; returns its index.
    pub fn pinned_client(&mut self, member: usize) -> usize {
        let c = self.clients.len();
        let rng = super::rng::Rng::new(self.cfg.seed).fork(&format!("scripted{c}"));
        let mut cl = Client::new(c, Role::Scripted, self.members.len(), self.cfg.mix, rng);
        cl.pinned = Some(member);
        self.clients.push(cl);
        self.client_wake.push(None);
        let now = self.now;
        self.wake_client(c, now);
        c
    }

    /// Has client `c` create each path (with its name as data), one after the other, and
    /// waits until all are acknowledged.
    pub fn write_all(&mut self, c: usize, paths: &[&str], within_ms: u64) -> Result<Vec<Zxid>, String> {
        let before = self.history.acked.iter().filter(|a| a.client == c).count();
        for p in paths {
            self.clients[c].script.push_back(create_request(p, p));
        }
        self.after_client(c);
        let want = before + paths.len();
        let deadline = self.now + within_ms;
        let ok = self.run_until(deadline, |s| s.history.acked.iter().filter(|a| a.client == c).count() >= want);
        if !ok {
            return Err(format!("client {c} did not get {} writes acknowledged within {within_ms} ms", paths.len()));
        }
        Ok(self.history.acked.iter().filter(|a| a.client == c).skip(before).map(|a| a.zxid).collect())
    }

    /// Queues writes for client `c` without waiting for them (a background writer).
    pub fn queue_writes(&mut self, c: usize, prefix: &str, n: usize) {
        for i in 1..=n {
            let p = format!("/{prefix}{i}");
            self.clients[c].script.push_back(create_request(&p, &p));
        }
        self.after_client(c);
    }

    /// Waits for the first link packet sent from now on that matches.
    pub fn await_packet(&mut self, within_ms: u64, what: &str, pred: impl Fn(&Sent) -> bool) -> Result<Sent, String> {
        let from = self.sent.len();
        let deadline = self.now + within_ms;
        let found = |s: &Sim| s.sent.iter().skip(from).any(&pred);
        if self.run_until(deadline, found) {
            if let Some(p) = self.sent.iter().skip(from).find(|p| pred(p)) {
                return Ok(p.clone());
            }
        }
        Err(format!("no {what} within {within_ms} ms: {}", self.roles()))
    }

    /// Waits for the first link packet handed to its receiver from now on that matches.
    pub fn await_delivered(
        &mut self,
        within_ms: u64,
        what: &str,
        pred: impl Fn(&Sent) -> bool,
    ) -> Result<Sent, String> {
        let from = self.delivered.len();
        let deadline = self.now + within_ms;
        let found = |s: &Sim| s.delivered.iter().skip(from).any(&pred);
        if self.run_until(deadline, found) {
            if let Some(p) = self.delivered.iter().skip(from).find(|p| pred(p)) {
                return Ok(p.clone());
            }
        }
        Err(format!("{what} was not delivered within {within_ms} ms: {}", self.roles()))
    }

    /// Waits until member `m` writes a `currentEpoch` newer than the one it has now.
    pub fn await_new_current_epoch(&mut self, m: usize, within_ms: u64) -> Result<i64, String> {
        let before = self.members[m].disk.epochs().1.unwrap_or(0);
        let deadline = self.now + within_ms;
        if self.run_until(deadline, |s| s.members[m].disk.epochs().1.unwrap_or(0) > before) {
            Ok(self.members[m].disk.epochs().1.unwrap_or(0))
        } else {
            Err(format!("m{m} did not write a currentEpoch after {before} within {within_ms} ms: {}", self.roles()))
        }
    }

    /// Waits until member `m` has sent the ACK of a NEWLEADER (an ACK whose zxid has counter 0).
    pub fn await_newleader_ack(&mut self, m: usize, within_ms: u64) -> Result<Sent, String> {
        self.await_packet(within_ms, &format!("NEWLEADER ACK from m{m}"), |p| {
            p.from == m && p.type_ == kind::ACK && p.zxid.counter() == 0
        })
    }

    /// Steers elections: member `m`'s votes stop counting (as if its election messages were
    /// lost), so it is not elected; it can still follow.
    pub fn mute(&mut self, m: usize) {
        self.oracle.muted.insert(m);
    }

    pub fn unmute_all(&mut self) {
        self.oracle.muted.clear();
    }

    /// The zxids a member's synced log holds (for scenario assertions).
    pub fn synced_zxids(&self, m: usize) -> Vec<Zxid> {
        self.members[m].disk.log().iter().filter(|e| e.synced).map(|e| e.zxid).collect()
    }
}
