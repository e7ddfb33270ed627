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
            Err(why) => return Err(format!("{why}\n{}", $sim.trace.lines().join("\n"))),
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
/// 2. m1 goes down; m0 comes back with a slow disk (fsync +400 ms) and m2 DIFFs W1..W5 to it.
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
    sim.slow_disk(0, until, 400);
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

/// ZOOKEEPER-4643: a learner writes its new `currentEpoch` before the DIFF's txns are on
/// disk and crashes right then; with the higher epoch it wins the next election and
/// truncates committed txns from the member that has them.
///
/// 0. All three commit A1..A3.
/// 1. m0 is down while m2 and m1 commit W1..W5.
/// 2. m1 goes down; m0 comes back (fsync +400 ms) and m2 DIFFs W1..W5 to it.
/// 3. The moment m0 writes its new `currentEpoch`, m0 loses power.
/// 4. m2 crashes; m0 and m1 come back and elect; then everything heals.
pub fn zk4643(bugs: Bugs) -> Run {
    let mut sim = Sim::scripted_with(config(4643, bugs));
    step!(sim, sim.await_serving(&[0, 1, 2], 5_000));
    let c = sim.pinned_client(2);
    step!(sim, write(&mut sim, c, "a", 3));
    sim.run_for(100);
    sim.crash(0);
    step!(sim, write(&mut sim, c, "w", 5));
    sim.crash(1);
    let until = sim.now + 60_000;
    sim.slow_disk(0, until, 400);
    sim.restart(0);
    step!(sim, sim.await_new_current_epoch(0, 10_000));
    sim.power_loss(0);
    sim.run_for(50);
    sim.crash(2);
    sim.run_for(500);
    sim.restart(0);
    sim.restart(1);
    step!(sim, sim.await_serving(&[0, 1], 10_000));
    finish(sim)
}

/// ZOOKEEPER-4646: after the 3911 fix a learner still logs the DIFF's txns asynchronously
/// and acknowledges NEWLEADER first; the new epoch commits more writes with that learner's
/// (early) acknowledgements, then the learner and the leader lose power before its disk
/// caught up, and the learner and the third member elect without those writes.
///
/// 0. to 2. as in [`zk3911`].
/// 3. Once m0 acknowledged NEWLEADER, the client commits X1..X3 in epoch 2.
/// 4. m2 and m0 lose power; m0 and m1 come back and elect; then everything heals.
pub fn zk4646(bugs: Bugs) -> Run {
    let mut sim = Sim::scripted_with(config(4646, bugs));
    step!(sim, sim.await_serving(&[0, 1, 2], 5_000));
    let c = sim.pinned_client(2);
    step!(sim, write(&mut sim, c, "a", 3));
    sim.run_for(100);
    sim.crash(0);
    step!(sim, write(&mut sim, c, "w", 5));
    sim.crash(1);
    let until = sim.now + 60_000;
    sim.slow_disk(0, until, 400);
    sim.restart(0);
    step!(sim, sim.await_newleader_ack(0, 10_000));
    step!(sim, sim.await_serving(&[0, 2], 5_000));
    step!(sim, write(&mut sim, c, "x", 3));
    sim.power_loss(2);
    sim.power_loss(0);
    sim.run_for(500);
    sim.restart(0);
    sim.restart(1);
    step!(sim, sim.await_serving(&[0, 1], 10_000));
    finish(sim)
}

/// ZOOKEEPER-4685: in Java a learner's asynchronous logging can ACK a PROPOSAL it got
/// during the sync before it ACKs NEWLEADER; the leader takes that ACK as the NEWLEADER
/// ACK's stand-in, finds the wrong zxid, and the learner never joins. ruzk sends no
/// proposal ACK before the NEWLEADER ACK.
///
/// m2 leads with m1 and a client keeps writing; m0 (fsync +150 ms) restarts and syncs while
/// proposals are outstanding. m0 must join within 10 s, and its first ACK after every
/// NEWLEADER must be the NEWLEADER ACK.
pub fn zk4685(bugs: Bugs) -> Run {
    let mut sim = Sim::scripted_with(config(4685, bugs));
    step!(sim, sim.await_serving(&[0, 1, 2], 5_000));
    let c = sim.pinned_client(2);
    step!(sim, write(&mut sim, c, "a", 3));
    sim.crash(0);
    sim.queue_writes(c, "w", 200);
    sim.run_for(300);
    let until = sim.now + 60_000;
    sim.slow_disk(0, until, 150);
    sim.restart(0);
    step!(sim, sim.await_serving(&[0, 1, 2], 10_000));
    // In the order m0 sent them: after each NEWLEADER it received, its first ACK.
    let mut expect_newleader_ack = false;
    let mut events: Vec<(u64, bool, crate::types::Zxid)> = sim
        .delivered
        .iter()
        .filter(|p| p.to == 0 && p.type_ == crate::quorum::packet::kind::NEWLEADER)
        .map(|p| (p.at_ms, true, p.zxid))
        .chain(
            sim.sent
                .iter()
                .filter(|p| p.from == 0 && p.type_ == crate::quorum::packet::kind::ACK)
                .map(|p| (p.at_ms, false, p.zxid)),
        )
        .collect();
    events.sort_by_key(|e| (e.0, !e.1));
    for (at, is_newleader, zxid) in events {
        if is_newleader {
            expect_newleader_ack = true;
        } else if expect_newleader_ack {
            if zxid.counter() != 0 {
                return Err(format!("at {at} ms m0's first ACK after NEWLEADER was for proposal {zxid}"));
            }
            expect_newleader_ack = false;
        }
    }
    finish(sim)
}

/// ZOOKEEPER-4785: the race in `syncWithLeader` during a DIFF: the txns of the DIFF and the
/// proposals still outstanding at the sync are logged after the NEWLEADER ACK, so a learner
/// bounced right after it comes back without them and with the new epoch.
///
/// 0. All commit A1..A3.
/// 1. m0 down; m2 and m1 commit W1..W5, and keep writing.
/// 2. m1 goes down while writes are outstanding; m0 (fsync +400 ms) restarts and syncs:
///    DIFF W.. plus the outstanding proposals.
/// 3. m0 loses power right after its NEWLEADER ACK, and so does m2.
/// 4. m0 and m1 come back and elect; then everything heals.
pub fn zk4785(bugs: Bugs) -> Run {
    let mut sim = Sim::scripted_with(config(4785, bugs));
    step!(sim, sim.await_serving(&[0, 1, 2], 5_000));
    let c = sim.pinned_client(2);
    step!(sim, write(&mut sim, c, "a", 3));
    sim.run_for(100);
    sim.crash(0);
    step!(sim, write(&mut sim, c, "w", 5));
    sim.queue_writes(c, "y", 50);
    sim.run_for(60);
    sim.crash(1);
    let until = sim.now + 60_000;
    sim.slow_disk(0, until, 400);
    sim.restart(0);
    step!(sim, sim.await_newleader_ack(0, 10_000));
    sim.power_loss(0);
    sim.power_loss(2);
    sim.run_for(500);
    sim.restart(0);
    sim.restart(1);
    step!(sim, sim.await_serving(&[0, 1], 10_000));
    finish(sim)
}

/// ZOOKEEPER-3642: a learner takes a SNAP into memory, the leader dies before NEWLEADER,
/// the learner syncs with the next leader by an (empty) DIFF because its in-memory zxid
/// already matches — and Java never writes that state to disk, so a restart loses it.
///
/// 0. m0 is down while m2 and m1 commit W1..W20.
/// 1. m0 restarts and gets a SNAP; the moment it has the SNAP, m2 crashes.
/// 2. m1 and m0 elect and sync (m0 already holds the state).
/// 3. m0 restarts from its disk; then everything heals.
pub fn zk3642(bugs: Bugs) -> Run {
    let mut sim = Sim::scripted_with(config(3642, bugs));
    step!(sim, sim.await_serving(&[0, 1, 2], 5_000));
    sim.crash(0);
    let c = sim.pinned_client(2);
    step!(sim, write(&mut sim, c, "w", 20));
    sim.restart(0);
    step!(
        sim,
        sim.await_delivered(10_000, "SNAP to m0", |p| p.to == 0 && p.type_ == crate::quorum::packet::kind::SNAP)
    );
    sim.crash(2);
    step!(sim, sim.await_serving(&[0, 1], 10_000));
    sim.crash(0);
    sim.run_for(200);
    sim.restart(0);
    step!(sim, sim.await_serving(&[0, 1], 10_000));
    finish(sim)
}

/// ZOOKEEPER-4925 (3.9.3): a learner synced by DIFF left those txns out of its committed
/// log; once it leads, it DIFFs a staler member from that log across the hole, and the
/// staler member silently misses the txns in it. Five voters, m4 leading epoch 1.
///
/// 0. All commit A1..A3.
/// 1. m0 and m1 go down; m4, m3, m2 commit W1..W5.
/// 2. m3 goes down, m0 comes back and is DIFFed W1..W5; m4, m2, m0 commit X1..X3.
/// 3. m4 and m2 go down; m1 (still at A3) and m3 come back: m0 leads and must send m1
///    every W and X; then everything heals.
pub fn zk4925(bugs: Bugs) -> Run {
    let mut cfg = config(4925, bugs);
    cfg.voters = 5;
    let mut sim = Sim::scripted_with(cfg);
    step!(sim, sim.await_serving(&[0, 1, 2, 3, 4], 5_000));
    let c = sim.pinned_client(4);
    step!(sim, write(&mut sim, c, "a", 3));
    sim.run_for(100);
    sim.crash(0);
    sim.crash(1);
    step!(sim, write(&mut sim, c, "w", 5));
    sim.crash(3);
    sim.restart(0);
    step!(sim, sim.await_serving(&[0, 2, 4], 10_000));
    step!(sim, write(&mut sim, c, "x", 3));
    sim.run_for(100);
    sim.crash(4);
    sim.crash(2);
    sim.restart(1);
    sim.restart(3);
    step!(sim, sim.await_serving(&[0, 1, 3], 10_000));
    finish(sim)
}

/// ZOOKEEPER-5094: a learner told to TRUNC is interrupted before the reload completes;
/// Java's in-memory database stays ahead of the truncated log and a restart leaves a gap.
///
/// 0. All commit A1..A3.
/// 1. m2 (leader) is cut off and logs a write nobody else gets.
/// 2. m0 and m1 elect (m1 leads epoch 2) with no new write, so m2's extra txn is past the
///    new leader's committed log: TRUNC.
/// 3. m2 rejoins; the moment the TRUNC reaches it, it crashes.
/// 4. m2 restarts; everything heals.
pub fn zk5094(bugs: Bugs) -> Run {
    let mut sim = Sim::scripted_with(config(5094, bugs));
    step!(sim, sim.await_serving(&[0, 1, 2], 5_000));
    let c = sim.pinned_client(2);
    step!(sim, write(&mut sim, c, "a", 3));
    sim.run_for(100);
    sim.isolate(2);
    sim.queue_writes(c, "p", 1);
    step!(sim, sim.await_leader(&[0, 1], 10_000));
    step!(sim, sim.await_serving(&[0, 1], 10_000));
    sim.heal();
    step!(
        sim,
        sim.await_delivered(10_000, "TRUNC to m2", |p| p.to == 2 && p.type_ == crate::quorum::packet::kind::TRUNC)
    );
    sim.crash(2);
    sim.run_for(300);
    sim.restart(2);
    step!(sim, sim.await_serving(&[0, 1, 2], 10_000));
    finish(sim)
}

/// The scenarios by JIRA number, for `ruzk sim --scenario`.
pub fn by_name(name: &str) -> Option<fn(Bugs) -> Run> {
    Some(match name.trim_start_matches("ZOOKEEPER-") {
        "3911" => zk3911,
        "4643" => zk4643,
        "4646" => zk4646,
        "4685" => zk4685,
        "4785" => zk4785,
        "3642" => zk3642,
        "4925" => zk4925,
        "5094" => zk5094,
        _ => return None,
    })
}

/// Every scenario's JIRA number.
pub const NAMES: &[&str] = &["3911", "4643", "4646", "4685", "4785", "3642", "4925", "5094"];
