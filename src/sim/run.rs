//! A whole run: a chaos phase (random workload, random faults, checks after every event),
//! then a heal phase (every fault undone) with the liveness probe, then quiescence and the
//! end-of-run checks that only make sense once everything has settled.

use super::cluster::{Config, Sim, Stats};
use super::history::{inv, ClientStats, Violation};
use crate::quorum::election::ServerState;
use crate::sim_trace;
use crate::types::Zxid;

/// How long after the heal a leader must emerge and a write succeed.
pub const LIVENESS_BOUND_MS: u64 = 30_000;
/// How long after quiescing the members must agree.
pub const CONVERGENCE_BOUND_MS: u64 = 30_000;

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub seed: u64,
    pub violations: Vec<Violation>,
    pub trace_hash: u64,
    pub trace_lines: u64,
    pub stats: Stats,
    pub clients: ClientStats,
    pub virtual_ms: u64,
    pub final_zxid: Zxid,
    pub acked_writes: usize,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The first violation's invariant, if any.
    pub fn first_invariant(&self) -> Option<&'static str> {
        self.violations.first().map(|v| v.invariant)
    }

    /// One line for a seed's result.
    pub fn summary(&self) -> String {
        format!(
            "seed {}: {} — {:.1}s virtual, {} events, {} ops ({} writes acked), {} crashes, {} partitions, {} pauses, \
             {} link breaks, {} epochs, final zxid {}, trace {:016x}",
            self.seed,
            if self.passed() { "ok".to_string() } else { format!("{} VIOLATION(S)", self.violations.len()) },
            self.virtual_ms as f64 / 1000.0,
            self.stats.events,
            self.clients.replies,
            self.acked_writes,
            self.stats.crashes,
            self.stats.partitions,
            self.stats.pauses,
            self.stats.breaks,
            self.stats.epochs,
            self.final_zxid,
            self.trace_hash
        )
    }
}

impl Sim {
    /// Runs `steps` events of chaos, then heals, settles and checks.
    pub fn run(cfg: Config, steps: u64) -> (Sim, Outcome) {
        let mut sim = Sim::new(cfg);
        sim.chaos(steps);
        if !(sim.cfg.stop_on_violation && sim.failed()) {
            sim.settle();
        }
        let o = sim.outcome();
        (sim, o)
    }

    /// The chaos phase: `steps` events with faults injected.
    pub fn chaos(&mut self, steps: u64) {
        self.start_faults();
        for _ in 0..steps {
            if !self.step() || (self.cfg.stop_on_violation && self.failed()) {
                break;
            }
        }
        self.stop_faults();
    }

    /// Undoes every fault now in force.
    pub fn heal_all(&mut self) {
        self.stop_faults();
        self.heal();
        for m in 0..self.members.len() {
            self.members[m].slow_disk = None;
            if self.members[m].paused {
                self.resume(m);
            }
            if !self.members[m].is_up() {
                self.restart(m);
            }
        }
    }

    /// Heal, liveness probe, quiesce, convergence and the end-of-run checks.
    pub fn settle(&mut self) {
        self.heal_all();
        sim_trace!(self.trace, self.now, "SETTLE: faults stopped, everything healed");
        let probe =
            self.clients.iter().position(|c| c.role == super::client::Role::Probe).unwrap_or(self.clients.len() - 1);
        self.clients[probe].start_probe();
        self.after_client(probe);
        let deadline = self.now + LIVENESS_BOUND_MS;
        if !self.run_until(deadline, |s| s.history.probe_acked_at.is_some()) {
            if self.cfg.stop_on_violation && self.failed() {
                return;
            }
            let roles = self.roles();
            self.violate(Violation {
                invariant: inv::LIVENESS,
                at_ms: self.now,
                detail: format!("no write succeeded within {LIVENESS_BOUND_MS} ms of the heal; members: {roles}"),
            });
            return;
        }
        for c in &mut self.clients {
            c.issuing = false;
        }
        let deadline = self.now + CONVERGENCE_BOUND_MS;
        if !self.run_until(deadline, |s| s.quiet() && s.converged()) {
            if self.cfg.stop_on_violation && self.failed() {
                return;
            }
            let roles = self.roles();
            self.violate(Violation {
                invariant: inv::CONVERGENCE,
                at_ms: self.now,
                detail: format!("members did not agree within {CONVERGENCE_BOUND_MS} ms of quiescing: {roles}"),
            });
            return;
        }
        self.final_checks();
    }

    /// No client waits for a reply.
    fn quiet(&self) -> bool {
        self.clients.iter().all(|c| c.outstanding() == 0)
    }

    /// Every member serves, at one zxid with one digest, with its whole log synced.
    pub fn converged(&self) -> bool {
        let mut states = self.members.iter().map(|m| {
            m.peer.as_ref().filter(|p| p.is_serving()).map(|p| (p.server().tree.last_zxid, p.server().tree.digest()))
        });
        let Some(Some(first)) = states.next() else { return false };
        // Whole logs synced, and nothing logged beyond the tree (no proposal in flight, e.g.
        // a session expiry the leader just proposed).
        states.all(|s| s == Some(first))
            && self
                .members
                .iter()
                .all(|m| m.disk.log().iter().all(|e| e.synced) && m.disk.log().last().is_none_or(|e| e.zxid <= first.0))
    }

    /// `member:role@zxid` for every member, for failure messages.
    pub fn roles(&self) -> String {
        self.members
            .iter()
            .enumerate()
            .map(|(i, m)| match &m.peer {
                None => format!("{i}:down"),
                Some(p) => {
                    let (s, l) = p.state();
                    let role = match s {
                        ServerState::Looking => "looking".to_string(),
                        ServerState::Leading => "leading".to_string(),
                        ServerState::Following => format!("following {}", l.map(|l| l.0).unwrap_or(-1)),
                        ServerState::Observing => format!("observing {}", l.map(|l| l.0).unwrap_or(-1)),
                    };
                    format!(
                        "{i}:{role}{}{}@{} epochs {:?}",
                        if p.is_serving() { " serving" } else { "" },
                        if m.paused { " paused" } else { "" },
                        p.server().tree.last_zxid,
                        p.epochs()
                    )
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// After convergence: the trees are the replayed history, every acknowledged write is
    /// in it, and every disk would restart into the same tree.
    pub fn final_checks(&mut self) {
        let Some(first) = self.members.iter().find_map(|m| m.peer.as_ref()) else { return };
        let (tip, digest) = (first.server().tree.last_zxid, first.server().tree.digest());
        let now = self.now;
        sim_trace!(self.trace, now, "FINAL: every member at {tip} digest {digest:x}");
        match self.ghost.replay(tip, true) {
            Ok(t) if t.digest() == digest => {}
            Ok(t) => self.violate(Violation {
                invariant: inv::HISTORY_REPLAY,
                at_ms: now,
                detail: format!(
                    "replaying the history to {tip} gives digest {:x} ({} nodes); the members hold {digest:x}",
                    t.digest(),
                    t.node_count()
                ),
            }),
            Err(why) => self.violate(Violation { invariant: inv::HISTORY_REPLAY, at_ms: now, detail: why }),
        }
        let chain = self.ghost.chain(tip).unwrap_or_default();
        let lost: Vec<String> = self
            .history
            .acked
            .iter()
            .filter(|a| !super::ghost::contains(&chain, a.zxid))
            .map(|a| format!("{} ({} by client {})", a.zxid, a.path, a.client))
            .collect();
        let dirty: Vec<String> = self
            .history
            .seen
            .iter()
            .filter(|(z, _)| z.counter() > 0 && !super::ghost::contains(&chain, **z))
            .map(|(z, w)| format!("{z} (client {} via m{} at {} ms)", w.client, w.member, w.at_ms))
            .collect();
        if !dirty.is_empty() {
            self.violate(Violation {
                invariant: inv::NO_DIRTY_READ,
                at_ms: now,
                detail: format!(
                    "clients saw {} states that are not in the final history: {}",
                    dirty.len(),
                    dirty.join(", ")
                ),
            });
        }
        if !lost.is_empty() {
            self.violate(Violation {
                invariant: inv::ACK_NEVER_LOST,
                at_ms: now,
                detail: format!("{} acknowledged writes are not in the final history: {}", lost.len(), lost.join(", ")),
            });
        }
        for m in 0..self.members.len() {
            let r = self.members[m].disk.restore(true);
            if r.tree.last_zxid != tip || r.tree.digest() != digest {
                self.violate(Violation {
                    invariant: inv::DISK_MATCHES_TREE,
                    at_ms: now,
                    detail: format!(
                        "m{m}'s disk restores to {} digest {:x}, its tree is {tip} {digest:x}",
                        r.tree.last_zxid,
                        r.tree.digest()
                    ),
                });
            }
        }
    }

    pub fn outcome(&self) -> Outcome {
        Outcome {
            seed: self.cfg.seed,
            violations: self.all_violations(),
            trace_hash: self.trace.hash(),
            trace_lines: self.trace.len(),
            stats: self.stats.clone(),
            clients: self.history.stats.clone(),
            virtual_ms: self.now,
            final_zxid: self
                .members
                .iter()
                .filter_map(|m| m.peer.as_ref().map(|p| p.server().tree.last_zxid))
                .max()
                .unwrap_or(Zxid::ZERO),
            acked_writes: self.history.acked.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::faults::Faults;

    #[test]
    fn a_run_without_faults_keeps_every_invariant_and_converges() {
        let mut cfg = Config::new(1, 3);
        cfg.faults = Faults::none();
        let (sim, o) = Sim::run(cfg, 20_000);
        assert!(o.passed(), "{:?}", o.violations);
        assert!(sim.converged());
        assert!(o.acked_writes > 100, "{}", o.summary());
        assert_eq!(o.stats.crashes, 0);
    }
}
