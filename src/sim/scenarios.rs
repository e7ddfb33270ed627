//! Scripted schedules for the Java ZooKeeper sync bugs of `anchors.md` §3.3: each drives
//! the exact crash, partition and disk-timing schedule that loses (or blocks) data in Java
//! 3.8, against ruzk's Peer, then heals everything and runs the end-of-run checks.
//!
//! Each scenario takes the test switches ([`Bugs`]) so a test can also run it with the
//! switch that reproduces Java 3.8's ordering (`ack_before_durable`: a learner acknowledges
//! NEWLEADER, and writes `currentEpoch`, before the txns it was sent are durable) and show
//! that the same schedule then loses an acknowledged write — proof that the script really
//! opens the window it is named after.
//!
//! Members are m0, m1, m2 (sids 1, 2, 3). With empty logs the oracle elects the highest
//! sid, so m2 leads epoch 1.

use super::cluster::{Config, ElectionKind, Sim};
use super::faults::Faults;
use super::run::Outcome;
use crate::quorum::peer::Bugs;

/// A scenario's result: the simulator (for its trace) and the outcome, or the step that
/// could not be reached.
pub type Run = Result<(Sim, Outcome), String>;

/// Java 3.8's learner ordering, for showing a script opens its window: acknowledge before
/// durable. That switch makes *every* early ACK visible to `acked_write_durable_on_quorum`
/// at once, so that check is left out of these runs to let the schedule's own loss show.
pub fn java_ordering() -> Bugs {
    Bugs { ack_before_durable: true, ..Bugs::default() }
}

fn config(seed: u64, bugs: Bugs) -> Config {
    let mut c = Config::new(seed, 3);
    c.clients = 0;
    c.faults = Faults::none();
    c.election = ElectionKind::Oracle;
    c.force_snap_sync = false;
    c.commit_log_count = 500;
    c.snap_count = 10_000;
    c.keep_trace = true;
    c.bugs = bugs;
    if bugs != Bugs::default() {
        c.disabled.insert(super::history::inv::ACK_DURABLE_ON_QUORUM);
    }
    c
}

/// A step of a script: on failure, a run stopped by a violation is the result; anything
/// else is a script that could not proceed.
macro_rules! step {
    ($sim:ident, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(_) if $sim.failed() => return finish($sim),
            Err(why) => return Err(why),
        }
    };
}

fn finish(mut sim: Sim) -> Run {
    if !(sim.cfg.stop_on_violation && sim.failed()) {
        sim.settle();
    }
    let o = sim.outcome();
    Ok((sim, o))
}

fn paths(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("/{prefix}{i}")).collect()
}

fn write(sim: &mut Sim, c: usize, prefix: &str, n: usize) -> Result<(), String> {
    let p = paths(prefix, n);
    let refs: Vec<&str> = p.iter().map(String::as_str).collect();
    sim.write_all(c, &refs, 5_000).map(|_| ())
}

/// ZOOKEEPER-3911 (and 4646): a learner synced by DIFF acknowledges NEWLEADER before the
/// DIFF's txns are on its disk; the new epoch's quorum (leader and that learner) then
/// crashes, and the learner, whose `currentEpoch` is already the new one, wins the next
/// election against the member that still has those committed txns, which it truncates.
///
/// 0. All three commit A1..A3 (so m0's log later ends inside the leader's committed log).
/// 1. m0 is down while m2 (leader) and m1 commit W1..W5 (acknowledged to the client).
/// 2. m1 goes down; m0 comes back with a slow disk (fsync +1 s) and m2 DIFFs W1..W5 to it.
/// 3. The moment m0 sends its NEWLEADER ACK, m2 and m0 lose power (only synced data stays).
/// 4. m0 and m1 come back and elect; then everything heals.
pub fn zk3911(bugs: Bugs) -> Run {
    let mut sim = Sim::scripted_with(config(3911, bugs));
    step!(sim, sim.await_serving(&[0, 1, 2], 5_000));
    let c = sim.pinned_client(2);
    step!(sim, write(&mut sim, c, "a", 3));
    sim.run_for(100);
    sim.crash(0);
    step!(sim, write(&mut sim, c, "w", 5));
    sim.crash(1);
    let until = sim.now + 60_000;
    sim.slow_disk(0, until, 1_000);
    sim.restart(0);
    step!(sim, sim.await_newleader_ack(0, 10_000));
    sim.power_loss(2);
    sim.power_loss(0);
    sim.run_for(500);
    sim.restart(0);
    sim.restart(1);
    step!(sim, sim.await_serving(&[0, 1], 10_000));
    finish(sim)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(r: &Run) -> String {
        match r {
            Ok((sim, o)) => format!("{}\n{:#?}\n{}", o.summary(), o.violations, sim.trace.lines().join("\n")),
            Err(e) => e.clone(),
        }
    }

    #[test]
    fn zk3911_keeps_every_acknowledged_write() {
        let r = zk3911(Bugs::default());
        assert!(r.as_ref().is_ok_and(|(_, o)| o.passed()), "{}", show(&r));
    }

    #[test]
    fn zk3911_loses_a_write_with_java_ordering() {
        let r = zk3911(java_ordering());
        let first = r.as_ref().ok().and_then(|(_, o)| o.first_invariant());
        assert!(first.is_some(), "{}", show(&r));
        if let Ok((_, o)) = &r {
            for v in &o.violations {
                eprintln!("{v}");
            }
        }
    }
}
