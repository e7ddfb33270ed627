//! Exact-output tests of the election state machine: given these notifications at these times,
//! exactly these notifications and decisions come out.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::golden::*;
use super::wire::{decode_notification, encode_notification};
use super::*;
use std::collections::BTreeMap;

use ServerState::{Following, Leading, Looking, Observing};

fn sid(i: i64) -> ServerId {
    ServerId(i)
}

/// Majority over voters `1..=n` and the given observers, on loopback ports.
fn maj(n: i64, observers: &[i64]) -> QuorumVerifier {
    let mut text = String::new();
    for i in 1..=n {
        text.push_str(&format!("server.{i}=127.0.0.1:{}:{}\n", 2000 + i, 3000 + i));
    }
    for i in observers {
        text.push_str(&format!("server.{i}=127.0.0.1:{}:{}:observer\n", 2000 + i, 3000 + i));
    }
    QuorumVerifier::parse(&text).unwrap()
}

fn election(id: i64, qv: &QuorumVerifier) -> Election {
    Election::new(sid(id), qv.clone(), qv.is_voter(sid(id)), ElectionSettings::default())
}

fn note(qv: &QuorumVerifier, state: ServerState, leader: i64, zxid: i64, ee: i64, pe: i64) -> Notification {
    Notification {
        state,
        leader: sid(leader),
        zxid: Zxid(zxid),
        election_epoch: ee,
        peer_epoch: pe,
        version: 2,
        config: qv.to_string().into_bytes(),
    }
}

fn send(to: i64, n: Notification) -> ElectionOutput {
    ElectionOutput::Send { to: sid(to), notification: n }
}

fn decided(leader: i64, state: ServerState, zxid: i64, ee: i64, pe: i64) -> ElectionOutput {
    ElectionOutput::Decided { leader: sid(leader), state, vote: Vote::looking(sid(leader), Zxid(zxid), ee, pe) }
}

fn drain(e: &mut Election) -> Vec<ElectionOutput> {
    std::iter::from_fn(|| e.poll_output()).collect()
}

/// Instant, lossless, FIFO delivery between a few elections; time moves only when asked.
struct Net {
    now: u64,
    nodes: BTreeMap<i64, Election>,
    inflight: VecDeque<(i64, i64, Notification)>,
    decisions: Vec<(u64, i64, ElectionOutput)>,
    /// Every message put on the wire, for byte checks.
    wire: Vec<(i64, i64, Notification)>,
}

impl Net {
    fn new(qv: &QuorumVerifier, ids: &[i64]) -> Net {
        Net {
            now: 0,
            nodes: ids.iter().map(|i| (*i, election(*i, qv))).collect(),
            inflight: VecDeque::new(),
            decisions: Vec::new(),
            wire: Vec::new(),
        }
    }

    fn collect(&mut self, id: i64) {
        let outs = drain(self.nodes.get_mut(&id).unwrap());
        for o in outs {
            match o {
                ElectionOutput::Send { to, notification } => {
                    self.wire.push((id, to.0, notification.clone()));
                    // Messages to servers that are not in the net are lost.
                    if self.nodes.contains_key(&to.0) {
                        self.inflight.push_back((id, to.0, notification));
                    }
                }
                d @ ElectionOutput::Decided { .. } => self.decisions.push((self.now, id, d)),
            }
        }
    }

    fn start(&mut self, id: i64, zxid: i64, epoch: i64) {
        let now = self.now;
        self.nodes.get_mut(&id).unwrap().start(now, Zxid(zxid), epoch);
        self.collect(id);
    }

    /// Delivers everything in flight (and what that causes) at the current time.
    fn settle(&mut self) {
        while let Some((from, to, n)) = self.inflight.pop_front() {
            let now = self.now;
            self.nodes.get_mut(&to).unwrap().handle(now, sid(from), n);
            self.collect(to);
        }
    }

    /// Moves time forward to `t`, firing timers in order and settling after each.
    fn run_until(&mut self, t: u64) {
        self.settle();
        loop {
            let next = self.nodes.iter().filter_map(|(id, e)| e.poll_timeout().map(|at| (at, *id))).min();
            match next {
                Some((at, id)) if at <= t => {
                    self.now = self.now.max(at);
                    let now = self.now;
                    self.nodes.get_mut(&id).unwrap().handle_timeout(now);
                    self.collect(id);
                    self.settle();
                }
                _ => break,
            }
        }
        self.now = t;
    }

    fn states(&self) -> Vec<(i64, ServerState)> {
        self.nodes.iter().map(|(id, e)| (*id, e.state())).collect()
    }
}

// ---- Vote.equals ----

#[test]
fn vote_agreement_follows_java_vote_equals() {
    let v = |version, id, zxid, ee, pe, state| Vote {
        version,
        id: sid(id),
        zxid: Zxid(zxid),
        election_epoch: ee,
        peer_epoch: pe,
        state,
    };
    // Either side LOOKING: everything but version and state must match.
    assert!(v(0, 3, 5, 1, 1, Looking).agrees(&v(2, 3, 5, 1, 1, Following)));
    assert!(!v(0, 3, 5, 1, 1, Looking).agrees(&v(0, 3, 6, 1, 1, Looking)));
    assert!(!v(0, 3, 5, 1, 1, Looking).agrees(&v(0, 3, 5, 2, 1, Looking)));
    assert!(!v(0, 3, 5, 1, 1, Following).agrees(&v(0, 3, 5, 1, 2, Looking)));
    // Both out of the election: id and peerEpoch only.
    assert!(v(2, 3, 5, 1, 4, Following).agrees(&v(2, 3, 9, 7, 4, Leading)));
    assert!(!v(2, 3, 5, 1, 4, Following).agrees(&v(2, 3, 5, 1, 5, Leading)));
    // Exactly one of them version 0 (pre-ZOOKEEPER-1732): id only.
    assert!(v(0, 3, 5, 1, 4, Following).agrees(&v(2, 3, 5, 1, 5, Leading)));
    assert!(!v(0, 3, 5, 1, 4, Following).agrees(&v(2, 4, 5, 1, 4, Leading)));
    // Both version 0: id and peerEpoch again.
    assert!(!v(0, 3, 5, 1, 4, Following).agrees(&v(0, 3, 5, 1, 5, Leading)));
}

// ---- one server, exact outputs ----

#[test]
fn start_sends_my_vote_to_every_other_voter_and_counts_my_own() {
    let qv = maj(3, &[]);
    let mut e = election(1, &qv);
    e.start(1000, Zxid(0x1_0000_0005), 1);
    assert_eq!(
        drain(&mut e),
        vec![send(2, note(&qv, Looking, 1, 0x1_0000_0005, 1, 1)), send(3, note(&qv, Looking, 1, 0x1_0000_0005, 1, 1))]
    );
    assert_eq!(e.poll_timeout(), Some(1200));
    assert_eq!(e.proposal(), Vote::looking(sid(1), Zxid(0x1_0000_0005), 1, 1));
    assert_eq!(e.current_vote(), Some(Vote::looking(sid(1), Zxid(0x1_0000_0005), -1, 1)));
    // My own vote plus one agreeing vote is a quorum of 3.
    e.handle(1050, sid(2), note(&qv, Looking, 1, 0x1_0000_0005, 1, 1));
    assert_eq!(drain(&mut e), vec![]);
    assert_eq!(e.poll_timeout(), Some(1250), "finalizeWait");
    e.handle_timeout(1249);
    assert_eq!(drain(&mut e), vec![]);
    e.handle_timeout(1250);
    assert_eq!(drain(&mut e), vec![decided(1, Leading, 0x1_0000_0005, 1, 1)]);
    assert_eq!(e.state(), Leading);
    assert_eq!(e.poll_timeout(), None);
}

#[test]
fn a_better_vote_is_adopted_and_announced() {
    let qv = maj(3, &[]);
    let mut e = election(1, &qv);
    e.start(0, Zxid(0), 0);
    drain(&mut e);
    e.handle(10, sid(3), note(&qv, Looking, 3, 0, 1, 0));
    assert_eq!(drain(&mut e), vec![send(2, note(&qv, Looking, 3, 0, 1, 0)), send(3, note(&qv, Looking, 3, 0, 1, 0))]);
    // 3's vote and my own (now for 3) make a quorum: only the finalize wait remains.
    assert_eq!(e.poll_timeout(), Some(210));
    e.handle_timeout(210);
    assert_eq!(drain(&mut e), vec![decided(3, Following, 0, 1, 0)]);
}

#[test]
fn notification_timeouts_resend_and_double_up_to_the_maximum() {
    let qv = maj(3, &[]);
    let mut e = election(2, &qv);
    e.start(0, Zxid(7), 0);
    drain(&mut e);
    let mut t = 0;
    let mut seen = Vec::new();
    for _ in 0..12 {
        t = e.poll_timeout().unwrap();
        e.handle_timeout(t);
        assert_eq!(
            drain(&mut e),
            vec![send(1, note(&qv, Looking, 2, 7, 1, 0)), send(3, note(&qv, Looking, 2, 7, 1, 0))]
        );
        seen.push(e.poll_timeout().unwrap() - t);
    }
    assert_eq!(seen, vec![400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000, 60000, 60000]);
    // Early calls do nothing; an arriving notification restarts the wait at the current interval.
    e.handle_timeout(t + 1);
    assert_eq!(drain(&mut e), vec![]);
    e.handle(t + 100, sid(1), note(&qv, Looking, 1, 7, 1, 0));
    assert_eq!(drain(&mut e), vec![]);
    assert_eq!(e.poll_timeout(), Some(t + 100 + 60000));
}

#[test]
fn higher_epoch_then_higher_zxid_then_higher_sid_wins() {
    let qv = maj(3, &[]);
    let mut e = election(2, &qv);
    e.start(0, Zxid(0x1_0000_0009), 1);
    drain(&mut e);
    // Higher sid, lower zxid: not better.
    e.handle(1, sid(3), note(&qv, Looking, 3, 0x1_0000_0003, 1, 1));
    assert_eq!(drain(&mut e), vec![]);
    // Lower sid, higher zxid: better.
    e.handle(2, sid(1), note(&qv, Looking, 1, 0x1_0000_000a, 1, 1));
    assert_eq!(
        drain(&mut e),
        vec![send(1, note(&qv, Looking, 1, 0x1_0000_000a, 1, 1)), send(3, note(&qv, Looking, 1, 0x1_0000_000a, 1, 1))]
    );
    // Higher peerEpoch beats a higher zxid.
    e.handle(3, sid(3), note(&qv, Looking, 3, 0x1_0000_0003, 1, 2));
    assert_eq!(
        drain(&mut e),
        vec![send(1, note(&qv, Looking, 3, 0x1_0000_0003, 1, 2)), send(3, note(&qv, Looking, 3, 0x1_0000_0003, 1, 2))]
    );
}

#[test]
fn a_later_round_resets_the_votes_and_compares_with_my_initial_vote() {
    let qv = maj(5, &[]);
    let mut e = election(1, &qv);
    e.start(0, Zxid(5), 0);
    drain(&mut e);
    e.handle(1, sid(3), note(&qv, Looking, 3, 5, 1, 0));
    drain(&mut e);
    // Server 2 is in round 4 and backs itself with a zxid lower than mine: I move to round 4
    // and go back to my own initial vote (not 3, whom I backed in round 1).
    e.handle(2, sid(2), note(&qv, Looking, 2, 4, 4, 0));
    let mine = note(&qv, Looking, 1, 5, 4, 0);
    assert_eq!(
        drain(&mut e),
        vec![send(2, mine.clone()), send(3, mine.clone()), send(4, mine.clone()), send(5, mine.clone())]
    );
    assert_eq!(e.logical_clock(), 4);
    // The round-1 vote of 3 is stale now: it is only answered.
    e.handle(3, sid(3), note(&qv, Looking, 3, 5, 1, 0));
    assert_eq!(drain(&mut e), vec![send(3, mine)]);
    assert_eq!(e.poll_timeout(), Some(203), "no quorum, so no finalize wait");
}

#[test]
fn stale_looking_vote_from_an_old_round_does_not_disturb() {
    // The first frame of a new connection can be the last message the peer ever sent us, from
    // an election long over.
    let qv = maj(3, &[]);
    let mut e = election(1, &qv);
    e.start(0, Zxid(0), 0);
    drain(&mut e);
    e.handle(1, sid(2), note(&qv, Looking, 2, 0, 3, 0));
    drain(&mut e);
    assert_eq!(e.logical_clock(), 3);
    assert_eq!(e.poll_timeout(), Some(201), "finalize wait for 2");
    e.handle(2, sid(3), note(&qv, Looking, 1, 0, 1, 0));
    // Only the lagging sender is told my current proposal; the finalize wait restarts.
    assert_eq!(drain(&mut e), vec![send(3, note(&qv, Looking, 2, 0, 3, 0))]);
    assert_eq!(e.proposal(), Vote::looking(sid(2), Zxid(0), 3, 0));
    assert_eq!(e.poll_timeout(), Some(202));
    e.handle_timeout(202);
    assert_eq!(drain(&mut e), vec![decided(2, Following, 0, 3, 0)]);
}

#[test]
fn stale_but_better_vote_ends_the_finalize_wait_and_a_timeout_recovers() {
    // Java re-queues a better vote seen during finalizeWait, whatever its round; the main loop
    // then drops it as stale, and only the next notification timeout re-checks the quorum.
    let qv = maj(3, &[]);
    let mut e = election(1, &qv);
    e.start(0, Zxid(0), 0);
    e.handle(1, sid(2), note(&qv, Looking, 2, 0, 3, 0));
    drain(&mut e);
    e.handle(2, sid(3), note(&qv, Looking, 3, 0, 1, 0));
    assert_eq!(drain(&mut e), vec![send(3, note(&qv, Looking, 2, 0, 3, 0))]);
    assert_eq!(e.poll_timeout(), Some(202), "back to the notification timeout");
    e.handle_timeout(202);
    assert_eq!(drain(&mut e), vec![send(2, note(&qv, Looking, 2, 0, 3, 0)), send(3, note(&qv, Looking, 2, 0, 3, 0))]);
    assert_eq!(e.poll_timeout(), Some(402), "my own resent vote re-completes the quorum");
    e.handle_timeout(402);
    assert_eq!(drain(&mut e), vec![decided(2, Following, 0, 3, 0)]);
}

#[test]
fn finalize_wait_drops_a_later_round_vote_that_is_not_better() {
    let qv = maj(3, &[]);
    let mut e = election(1, &qv);
    e.start(0, Zxid(5), 0);
    e.handle(1, sid(3), note(&qv, Looking, 3, 5, 1, 0));
    drain(&mut e);
    e.handle(2, sid(2), note(&qv, Looking, 2, 4, 4, 0));
    assert_eq!(drain(&mut e), vec![]);
    assert_eq!(e.logical_clock(), 1);
    e.handle_timeout(202);
    assert_eq!(drain(&mut e), vec![decided(3, Following, 5, 1, 0)]);
}

#[test]
fn stale_following_vote_alone_does_not_decide() {
    let qv = maj(3, &[]);
    let mut e = election(1, &qv);
    e.start(0, Zxid(0), 0);
    drain(&mut e);
    // A follower of 3 from an old round: no quorum, and 3 never said LEADING.
    e.handle(1, sid(2), note(&qv, Following, 3, 0, 1, 1));
    assert_eq!(drain(&mut e), vec![]);
    assert_eq!(e.state(), Looking);
    e.handle(2, sid(2), note(&qv, Following, 3, 0, 7, 1));
    assert_eq!(drain(&mut e), vec![]);
    assert_eq!(e.state(), Looking);
}

#[test]
fn joiner_follows_only_after_a_quorum_including_the_leaders_leading_vote() {
    // 5 servers; 5 leads epoch 2 (round 3) with 1, 2 and 4 following. Server 3 restarts.
    let qv = maj(5, &[]);
    let mut e = election(3, &qv);
    e.start(0, Zxid(0x1_0000_0004), 1);
    drain(&mut e);
    for f in [1, 2, 4] {
        e.handle(10, sid(f), note(&qv, Following, 5, 0x2_0000_0000, 3, 2));
        assert_eq!(drain(&mut e), vec![], "a quorum of followers without the leader's own vote");
    }
    e.handle(11, sid(5), note(&qv, Leading, 5, 0x2_0000_0000, 3, 2));
    assert_eq!(drain(&mut e), vec![decided(5, Following, 0x2_0000_0000, 3, 2)]);
    assert_eq!(e.logical_clock(), 3, "the joiner adopts the leader's round");
    assert_eq!(e.current_vote(), Some(Vote::looking(sid(5), Zxid(0x2_0000_0000), 3, 2)));
}

#[test]
fn joiner_in_the_same_round_decides_through_recvset() {
    let qv = maj(3, &[]);
    let mut e = election(3, &qv);
    e.start(0, Zxid(0), 0);
    drain(&mut e);
    e.handle(1, sid(1), note(&qv, Following, 2, 0, 1, 1));
    assert_eq!(drain(&mut e), vec![]);
    e.handle(2, sid(2), note(&qv, Leading, 2, 0, 1, 1));
    assert_eq!(drain(&mut e), vec![decided(2, Following, 0, 1, 1)]);
}

#[test]
fn followers_disagreeing_on_the_epoch_do_not_make_a_quorum() {
    let qv = maj(3, &[]);
    let mut e = election(3, &qv);
    e.start(0, Zxid(0), 0);
    drain(&mut e);
    e.handle(1, sid(1), note(&qv, Following, 2, 0, 5, 1));
    e.handle(2, sid(2), note(&qv, Leading, 2, 0, 5, 2));
    assert_eq!(drain(&mut e), vec![]);
    // An old-format (version 0) follower vote ignores the peerEpoch difference.
    let mut old = note(&qv, Following, 2, 0, 5, 1);
    old.version = 0;
    e.handle(3, sid(1), old);
    assert_eq!(drain(&mut e), vec![decided(2, Following, 0, 5, 1)], "the last notification's epoch");
}

#[test]
fn a_server_that_everyone_follows_leads_again_only_in_its_own_round() {
    let qv = maj(3, &[]);
    let mut e = election(2, &qv);
    e.start(0, Zxid(0), 0);
    drain(&mut e);
    // Followers of 2 from round 4 while I am in round 1: checkLeader wants my round to match.
    e.handle(1, sid(1), note(&qv, Following, 2, 0, 4, 1));
    e.handle(1, sid(3), note(&qv, Following, 2, 0, 4, 1));
    assert_eq!(drain(&mut e), vec![]);
    let mut e = election(2, &qv);
    e.start(0, Zxid(0), 0);
    drain(&mut e);
    e.handle(1, sid(1), note(&qv, Following, 2, 0, 1, 1));
    assert_eq!(drain(&mut e), vec![]);
    e.handle(1, sid(3), note(&qv, Following, 2, 0, 1, 1));
    assert_eq!(drain(&mut e), vec![decided(2, Leading, 0, 1, 1)]);
}

#[test]
fn not_looking_server_answers_looking_senders_with_its_current_vote() {
    let qv = maj(3, &[]);
    let mut e = election(1, &qv);
    e.start(0, Zxid(0), 0);
    e.handle(1, sid(2), note(&qv, Looking, 2, 0, 1, 0));
    e.handle_timeout(201);
    assert_eq!(drain(&mut e).last(), Some(&decided(2, Following, 0, 1, 0)));
    e.update_vote_epoch(1);
    e.handle(500, sid(3), note(&qv, Looking, 3, 0, 1, 0));
    assert_eq!(drain(&mut e), vec![send(3, note(&qv, Following, 2, 0, 1, 1))]);
    // Non-LOOKING senders get nothing back.
    e.handle(501, sid(3), note(&qv, Following, 2, 0, 1, 1));
    assert_eq!(drain(&mut e), vec![]);
}

#[test]
fn replies_are_byte_identical_to_java() {
    // The setting of the capture: servers 1 and 2 of 3 elect on their own (3 is absent).
    let qv = QuorumVerifier::parse(JAVA_QV).unwrap();
    assert_eq!(qv.to_string(), JAVA_QV);
    let mut net = Net::new(&qv, &[1, 2]);
    net.start(1, 0, 0);
    net.start(2, 0, 0);
    net.run_until(1000);
    assert_eq!(net.states(), vec![(1, Following), (2, Leading)]);
    // What server 1 last sent to the absent server 3 while LOOKING is Java's first frame to it.
    let to3: Vec<_> = net.wire.iter().filter(|(f, t, _)| (*f, *t) == (1, 3)).collect();
    assert_eq!(encode_notification(&to3.last().unwrap().2), java_frame(JAVA_LOOKING_HEAD));
    // Zab established epoch 1; then server 3 asks.
    for e in net.nodes.values_mut() {
        e.update_vote_epoch(1);
    }
    let probe = decode_notification(&java_frame(PROBE_LOOKING_HEAD)).unwrap();
    for (id, head) in [(1, JAVA_FOLLOWING_HEAD), (2, JAVA_LEADING_HEAD)] {
        let e = net.nodes.get_mut(&id).unwrap();
        e.handle(2000, sid(3), probe.clone());
        let out = drain(e);
        let [ElectionOutput::Send { to, notification }] = out.as_slice() else { panic!("{out:?}") };
        assert_eq!(*to, sid(3));
        assert_eq!(encode_notification(notification), java_frame(head));
    }
}

#[test]
fn non_voters_get_an_immediate_answer_with_the_round() {
    let qv = maj(3, &[4]);
    let mut e = election(1, &qv);
    e.start(0, Zxid(5), 2);
    drain(&mut e);
    // Observer 4 asks (and an unknown server 9): the current vote, my round, my state.
    for from in [4, 9] {
        e.handle(1, sid(from), note(&qv, Looking, i64::MIN, i64::MIN, 1, i64::MIN));
        assert_eq!(drain(&mut e), vec![send(from, note(&qv, Looking, 1, 5, 1, 2))]);
    }
    // An OBSERVING vote from a voter is ignored.
    e.handle(2, sid(2), note(&qv, Observing, 2, 9, 1, 2));
    assert_eq!(drain(&mut e), vec![]);
}

#[test]
fn observer_proposes_min_value_and_ends_observing() {
    let qv = maj(3, &[4]);
    let mut obs = Election::new(sid(4), qv.clone(), false, ElectionSettings::default());
    obs.start(0, Zxid(0x1_0000_0002), 1);
    let min = i64::MIN;
    assert_eq!(
        drain(&mut obs),
        vec![
            send(1, note(&qv, Looking, min, min, 1, min)),
            send(2, note(&qv, Looking, min, min, 1, min)),
            send(3, note(&qv, Looking, min, min, 1, min)),
        ]
    );
    let mut net = Net::new(&qv, &[1, 2, 3, 4]);
    for id in [1, 2, 3] {
        net.start(id, 0x1_0000_0002, 1);
    }
    net.start(4, 0x1_0000_0002, 1);
    net.run_until(5000);
    assert_eq!(net.states(), vec![(1, Following), (2, Following), (3, Leading), (4, Observing)]);
    let obs_decision = net.decisions.iter().find(|(_, id, _)| *id == 4).unwrap();
    assert_eq!(obs_decision.2, decided(3, Observing, 0x1_0000_0002, 1, 1));
    // Nobody ever backed the observer.
    assert!(net.wire.iter().all(|(_, _, n)| n.leader != sid(4)));
}

#[test]
fn minus_one_zxids_are_ignored_while_looking() {
    let qv = maj(3, &[]);
    let mut e = election(1, &qv);
    e.start(0, Zxid(0), 0);
    drain(&mut e);
    e.handle(1, sid(2), note(&qv, Looking, 2, -1, 1, 5));
    assert_eq!(drain(&mut e), vec![]);
    assert_eq!(e.proposal().id, sid(1));
    // A server whose own last zxid is -1 ignores every LOOKING vote.
    let mut e = election(1, &qv);
    e.start(0, Zxid(-1), 0);
    drain(&mut e);
    e.handle(1, sid(2), note(&qv, Looking, 2, 5, 1, 5));
    assert_eq!(drain(&mut e), vec![]);
    assert_eq!(e.proposal().id, sid(1));
}

#[test]
fn finalize_wait_is_cut_short_by_a_better_vote_and_extended_by_others() {
    let qv = maj(3, &[]);
    let mut e = election(1, &qv);
    e.start(0, Zxid(0), 0);
    drain(&mut e);
    e.handle(0, sid(2), note(&qv, Looking, 2, 0, 1, 0));
    drain(&mut e);
    assert_eq!(e.poll_timeout(), Some(200));
    // Not better: consumed, not counted, and the quiet period starts again.
    e.handle(150, sid(3), note(&qv, Looking, 1, 0, 1, 0));
    assert_eq!(drain(&mut e), vec![]);
    assert_eq!(e.poll_timeout(), Some(350));
    e.handle_timeout(200);
    assert_eq!(drain(&mut e), vec![]);
    // Better: the wait ends and the vote is handled as usual.
    e.handle(300, sid(3), note(&qv, Looking, 3, 0, 1, 0));
    assert_eq!(drain(&mut e), vec![send(2, note(&qv, Looking, 3, 0, 1, 0)), send(3, note(&qv, Looking, 3, 0, 1, 0))]);
    assert_eq!(e.poll_timeout(), Some(500), "3 and I agree: a new finalize wait");
    e.handle_timeout(500);
    assert_eq!(drain(&mut e), vec![decided(3, Following, 0, 1, 0)]);
}

#[test]
fn notifications_that_arrive_before_start_wait_for_it() {
    let qv = maj(3, &[]);
    let mut e = election(1, &qv);
    e.handle(0, sid(3), note(&qv, Looking, 3, 0, 1, 0));
    assert_eq!(drain(&mut e), vec![]);
    e.start(5, Zxid(0), 0);
    assert_eq!(
        drain(&mut e),
        vec![
            send(2, note(&qv, Looking, 1, 0, 1, 0)),
            send(3, note(&qv, Looking, 1, 0, 1, 0)),
            send(2, note(&qv, Looking, 3, 0, 1, 0)),
            send(3, note(&qv, Looking, 3, 0, 1, 0)),
        ]
    );
}

#[test]
fn config_bytes_in_notifications_are_ignored() {
    let qv = maj(3, &[]);
    let run = |config: &[u8]| {
        let mut e = election(1, &qv);
        e.start(0, Zxid(0), 0);
        let mut n = note(&qv, Looking, 3, 0, 1, 0);
        n.config = config.to_vec();
        e.handle(1, sid(3), n);
        e.handle_timeout(201);
        drain(&mut e)
    };
    let other = b"server.1=10.0.0.1:1:2:participant\nserver.9=10.0.0.9:1:2:participant\nversion=100";
    assert_eq!(run(other), run(b""));
    assert_eq!(run(b"garbage\xff"), run(b""));
}

#[test]
fn a_decided_server_that_goes_back_to_looking_starts_a_new_round() {
    let qv = maj(3, &[]);
    let mut e = election(1, &qv);
    e.start(0, Zxid(0), 0);
    e.handle(1, sid(3), note(&qv, Looking, 3, 0, 1, 0));
    e.handle_timeout(201);
    drain(&mut e);
    assert_eq!(e.state(), Following);
    // The leader went away: Zab sets LOOKING, a notification arrives before the new round.
    e.set_state(Looking);
    e.handle(300, sid(2), note(&qv, Looking, 2, 0x1_0000_0000, 2, 1));
    assert_eq!(drain(&mut e), vec![]);
    e.start(301, Zxid(0x1_0000_0000), 1);
    assert_eq!(e.logical_clock(), 2);
    assert_eq!(
        drain(&mut e),
        vec![
            send(2, note(&qv, Looking, 1, 0x1_0000_0000, 2, 1)),
            send(3, note(&qv, Looking, 1, 0x1_0000_0000, 2, 1)),
            send(2, note(&qv, Looking, 2, 0x1_0000_0000, 2, 1)),
            send(3, note(&qv, Looking, 2, 0x1_0000_0000, 2, 1)),
        ]
    );
}

// ---- small ensembles ----

#[test]
fn three_fresh_servers_elect_the_highest_sid_after_the_finalize_wait() {
    let qv = maj(3, &[]);
    let mut net = Net::new(&qv, &[1, 2, 3]);
    for id in [1, 2, 3] {
        net.start(id, 0, 0);
    }
    net.run_until(199);
    assert!(net.decisions.is_empty());
    net.run_until(200);
    let got: Vec<_> = net.decisions.iter().map(|(t, id, d)| (*t, *id, d.clone())).collect();
    assert_eq!(
        got,
        vec![
            (200, 1, decided(3, Following, 0, 1, 0)),
            (200, 2, decided(3, Following, 0, 1, 0)),
            (200, 3, decided(3, Leading, 0, 1, 0)),
        ]
    );
}

#[test]
fn higher_zxid_beats_higher_sid_in_an_ensemble() {
    let qv = maj(3, &[]);
    let mut net = Net::new(&qv, &[1, 2, 3]);
    net.start(1, 0x1_0000_0009, 1);
    net.start(2, 0x1_0000_0003, 1);
    net.start(3, 0x1_0000_0003, 1);
    net.run_until(1000);
    assert_eq!(net.states(), vec![(1, Leading), (2, Following), (3, Following)]);
}

#[test]
fn late_joiner_learns_the_leader_from_the_replies() {
    let qv = maj(3, &[]);
    let mut net = Net::new(&qv, &[1, 2, 3]);
    net.start(1, 0, 0);
    net.start(2, 0, 0);
    net.run_until(1000);
    assert_eq!(net.states(), vec![(1, Following), (2, Leading), (3, Looking)]);
    for id in [1, 2] {
        net.nodes.get_mut(&id).unwrap().update_vote_epoch(1);
    }
    net.start(3, 0, 0);
    net.settle();
    assert_eq!(net.states(), vec![(1, Following), (2, Leading), (3, Following)]);
    assert_eq!(net.decisions.last().unwrap().2, decided(2, Following, 0, 1, 1));
}

#[test]
fn zero_weight_member_never_leads() {
    // One group {1,2,3}; 3 has the best zxid but weight 0.
    let qv = QuorumVerifier::parse(
        "server.1=127.0.0.1:2001:3001\nserver.2=127.0.0.1:2002:3002\nserver.3=127.0.0.1:2003:3003\n\
         group.1=1:2:3\nweight.3=0\n",
    )
    .unwrap();
    let mut net = Net::new(&qv, &[1, 2, 3]);
    net.start(1, 0x1_0000_0001, 1);
    net.start(2, 0x1_0000_0001, 1);
    net.start(3, 0x1_0000_0009, 1);
    net.run_until(10_000);
    assert_eq!(net.states(), vec![(1, Following), (2, Leading), (3, Following)]);
    assert!(net.wire.iter().filter(|(f, _, _)| *f != 3).all(|(_, _, n)| n.leader != sid(3)));
}
