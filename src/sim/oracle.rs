//! A stand-in for Fast Leader Election while the real one is being written: an oracle
//! that sees the whole simulated cluster and decides elections the way FLE's outcome is
//! specified, so the Zab core can be driven (and scripted) now.
//!
//! Rules, each the *outcome* FLE guarantees rather than its message exchange:
//! - a LOOKING member that can reach an established leader followed by a quorum of voters
//!   it can also reach joins that leader (FLE's out-of-election path: a quorum of
//!   FOLLOWING/LEADING notifications naming the leader, the leader's own included);
//! - otherwise, when the LOOKING voters a member can reach (itself included) form a
//!   quorum, they all settle on the best vote among them: highest `(currentEpoch,
//!   lastZxid, sid)`, FLE's `totalOrderPredicate`;
//! - observers never vote; they only join leaders;
//! - the decision arrives after a delay (FLE's rounds plus `finalizeWait`, 200 ms).
//!
//! Scenarios can *mute* a member (its votes never reach anyone, as when its election
//! messages are lost; it can still join a leader) to steer who wins, which is safe: the
//! winner is still the best of a quorum.
//!
//! The decision reaches the peer through its [`Elector`]: `poll_timeout` asks for a
//! wake-up at the decision time and `poll_event` hands it over then.

use crate::quorum::election::{Notification, ServerState};
use crate::quorum::peer::{ElectionEvent, Elector};
use crate::types::{ServerId, Zxid};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Looking {
    last: Zxid,
    epoch: i64,
    since_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Decision {
    at_ms: u64,
    leader: ServerId,
    state: ServerState,
}

#[derive(Debug, Default)]
struct Slot {
    looking: Option<Looking>,
    decision: Option<Decision>,
    now_ms: u64,
}

#[derive(Debug, Default)]
pub struct OracleState {
    slots: Vec<Slot>,
}

/// The oracle shared by every member's elector.
#[derive(Clone, Debug, Default)]
pub struct Oracle {
    shared: Arc<Mutex<OracleState>>,
    pub muted: BTreeSet<usize>,
}

/// What the oracle needs to know about one member.
#[derive(Clone, Debug)]
pub struct View {
    pub sid: ServerId,
    pub voter: bool,
    /// Running and not paused.
    pub up: bool,
    pub state: ServerState,
    pub leader: Option<ServerId>,
    /// Leading with a quorum's NEWLEADER acks (or following one that is).
    pub serving: bool,
}

fn lock(m: &Mutex<OracleState>) -> MutexGuard<'_, OracleState> {
    // Nothing panics while holding the lock; a poisoned lock still holds sound data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Oracle {
    pub fn new(members: usize) -> Oracle {
        let o = Oracle::default();
        lock(&o.shared).slots.resize_with(members, Slot::default);
        o
    }

    /// The elector for member `idx`; a restarted member gets a fresh one.
    pub fn elector(&self, idx: usize) -> OracleElector {
        if let Some(s) = lock(&self.shared).slots.get_mut(idx) {
            *s = Slot::default();
        }
        OracleElector { idx, shared: self.shared.clone() }
    }

    /// Members looking with no decision yet.
    pub fn undecided(&self) -> Vec<usize> {
        let st = lock(&self.shared);
        st.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.looking.is_some() && s.decision.is_none())
            .map(|(i, _)| i)
            .collect()
    }

    /// Decides what can be decided now. `talk(a, b)`: both directions open. `quorum`: the
    /// set of sids contains a quorum of voters. Returns the members given a decision.
    pub fn decide(
        &mut self,
        now: u64,
        views: &[View],
        talk: &dyn Fn(usize, usize) -> bool,
        quorum: &dyn Fn(&BTreeSet<ServerId>) -> bool,
        delay: &mut dyn FnMut() -> u64,
    ) -> Vec<(usize, ServerId, ServerState)> {
        let mut st = lock(&self.shared);
        let mut decided = Vec::new();
        for i in 0..views.len() {
            let pending = st.slots.get(i).is_some_and(|s| s.looking.is_some() && s.decision.is_none());
            if !pending || !views.get(i).is_some_and(|v| v.up) {
                continue;
            }
            let choice = join_leader(i, views, talk, quorum, &self.muted)
                .or_else(|| elect(i, views, &st.slots, talk, quorum, &self.muted));
            let Some((leader_idx, group)) = choice else { continue };
            let Some(leader) = views.get(leader_idx).map(|v| v.sid) else { continue };
            let at_ms = now + delay();
            for m in group {
                let Some(v) = views.get(m) else { continue };
                let state = if m == leader_idx {
                    ServerState::Leading
                } else if v.voter {
                    ServerState::Following
                } else {
                    ServerState::Observing
                };
                if let Some(s) = st.slots.get_mut(m) {
                    if s.looking.is_some() && s.decision.is_none() {
                        s.decision = Some(Decision { at_ms, leader, state });
                        decided.push((m, leader, state));
                    }
                }
            }
        }
        decided
    }
}

/// FLE's out-of-election path: a reachable leader that a reachable quorum follows.
fn join_leader(
    i: usize,
    views: &[View],
    talk: &dyn Fn(usize, usize) -> bool,
    quorum: &dyn Fn(&BTreeSet<ServerId>) -> bool,
    muted: &BTreeSet<usize>,
) -> Option<(usize, Vec<usize>)> {
    for (l, lv) in views.iter().enumerate() {
        if l == i || !lv.up || lv.state != ServerState::Leading || !talk(i, l) || muted.contains(&l) {
            continue;
        }
        let backers: BTreeSet<ServerId> = views
            .iter()
            .enumerate()
            .filter(|(j, v)| {
                v.up && v.voter
                    && (*j == l || (v.state == ServerState::Following && v.leader == Some(lv.sid)))
                    && (*j == i || talk(i, *j))
                    && !muted.contains(j)
            })
            .map(|(_, v)| v.sid)
            .collect();
        if quorum(&backers) {
            return Some((l, vec![i]));
        }
    }
    None
}

/// A fresh round: the best vote among a quorum of looking voters that can all talk.
fn elect(
    i: usize,
    views: &[View],
    slots: &[Slot],
    talk: &dyn Fn(usize, usize) -> bool,
    quorum: &dyn Fn(&BTreeSet<ServerId>) -> bool,
    muted: &BTreeSet<usize>,
) -> Option<(usize, Vec<usize>)> {
    let me = views.get(i)?;
    if !me.voter || muted.contains(&i) {
        return None;
    }
    let looking = |j: usize| slots.get(j).and_then(|s| if s.decision.is_none() { s.looking } else { None });
    let group: Vec<usize> = (0..views.len())
        .filter(|j| {
            let v = views.get(*j);
            v.is_some_and(|v| v.up && v.voter)
                && looking(*j).is_some()
                && !muted.contains(j)
                && (*j == i || talk(i, *j))
        })
        .collect();
    // Everyone in the group must hear everyone else, or they would not agree in FLE.
    let clique: Vec<usize> = group.iter().copied().filter(|a| group.iter().all(|b| a == b || talk(*a, *b))).collect();
    let sids: BTreeSet<ServerId> = clique.iter().filter_map(|j| views.get(*j).map(|v| v.sid)).collect();
    if !clique.contains(&i) || !quorum(&sids) {
        return None;
    }
    let best = clique.iter().copied().max_by_key(|j| {
        let l = looking(*j);
        (l.map_or(-1, |l| l.epoch), l.map_or(Zxid::NONE, |l| l.last), views.get(*j).map_or(ServerId(-1), |v| v.sid))
    })?;
    Some((best, clique))
}

/// One member's view of the oracle, as the peer's [`Elector`].
#[derive(Debug)]
pub struct OracleElector {
    idx: usize,
    shared: Arc<Mutex<OracleState>>,
}

impl OracleElector {
    fn with<R>(&self, f: impl FnOnce(&mut Slot) -> R) -> Option<R> {
        lock(&self.shared).slots.get_mut(self.idx).map(f)
    }
}

impl Elector for OracleElector {
    fn start(&mut self, now_ms: u64, last_zxid: Zxid, current_epoch: i64) {
        self.with(|s| {
            s.looking = Some(Looking { last: last_zxid, epoch: current_epoch, since_ms: now_ms });
            s.decision = None;
            s.now_ms = now_ms;
        });
    }

    fn handle(&mut self, now_ms: u64, _from: ServerId, _msg: Notification) {
        self.with(|s| s.now_ms = now_ms);
    }

    fn handle_timeout(&mut self, now_ms: u64) {
        self.with(|s| s.now_ms = now_ms);
    }

    fn poll_timeout(&self) -> Option<u64> {
        self.with(|s| s.decision.map(|d| d.at_ms)).flatten()
    }

    fn poll_event(&mut self) -> Option<ElectionEvent> {
        self.with(|s| match s.decision {
            Some(d) if d.at_ms <= s.now_ms => {
                s.decision = None;
                s.looking = None;
                Some(ElectionEvent::Decided { leader: d.leader, state: d.state })
            }
            _ => None,
        })
        .flatten()
    }

    fn update_vote_epoch(&mut self, _epoch: i64) {}
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn view(sid: i64) -> View {
        View { sid: ServerId(sid), voter: true, up: true, state: ServerState::Looking, leader: None, serving: false }
    }

    fn majority(n: usize) -> impl Fn(&BTreeSet<ServerId>) -> bool {
        move |s: &BTreeSet<ServerId>| s.len() * 2 > n
    }

    #[test]
    fn the_best_of_a_reachable_quorum_leads_and_decisions_arrive_after_the_delay() {
        let mut o = Oracle::new(3);
        let mut e: Vec<OracleElector> = (0..3).map(|i| o.elector(i)).collect();
        e[0].start(0, Zxid::new(1, 5), 1);
        e[1].start(0, Zxid::new(1, 7), 1);
        e[2].start(0, Zxid::new(1, 9), 1);
        let views: Vec<View> = (1..=3).map(view).collect();
        // Member 2 (sid 3, the best) is cut off: 0 and 1 still make a quorum.
        let talk = |a: usize, b: usize| a != 2 && b != 2;
        let d = o.decide(10, &views, &talk, &majority(3), &mut || 300);
        assert_eq!(d, vec![(0, ServerId(2), ServerState::Following), (1, ServerId(2), ServerState::Leading)]);
        assert_eq!(e[1].poll_timeout(), Some(310));
        e[1].handle_timeout(309);
        assert_eq!(e[1].poll_event(), None);
        e[1].handle_timeout(310);
        assert_eq!(
            e[1].poll_event(),
            Some(ElectionEvent::Decided { leader: ServerId(2), state: ServerState::Leading })
        );
        assert_eq!(o.undecided(), vec![2], "the isolated member keeps looking");
    }

    #[test]
    fn a_looker_joins_a_leader_only_with_a_reachable_quorum_behind_it() {
        let mut o = Oracle::new(3);
        let mut e2 = o.elector(2);
        e2.start(0, Zxid::new(1, 1), 1);
        let mut views: Vec<View> = (1..=3).map(view).collect();
        views[0].state = ServerState::Leading;
        views[1].state = ServerState::Following;
        views[1].leader = Some(ServerId(1));
        let cut = |a: usize, b: usize| !((a == 2 && b == 1) || (a == 1 && b == 2));
        // With the follower out of reach only the leader backs itself: one of three is no quorum.
        assert!(o.decide(0, &views, &cut, &majority(3), &mut || 1).is_empty());
        let all = |_: usize, _: usize| true;
        assert_eq!(o.decide(0, &views, &all, &majority(3), &mut || 1), vec![(2, ServerId(1), ServerState::Following)]);
    }

    #[test]
    fn muted_members_are_not_elected_but_the_rest_still_need_a_quorum() {
        let mut o = Oracle::new(3);
        let mut e: Vec<OracleElector> = (0..3).map(|i| o.elector(i)).collect();
        for (i, x) in e.iter_mut().enumerate() {
            x.start(0, Zxid::new(1, i as u32), 1);
        }
        o.muted.insert(2);
        let views: Vec<View> = (1..=3).map(view).collect();
        let all = |_: usize, _: usize| true;
        let d = o.decide(0, &views, &all, &majority(3), &mut || 1);
        assert_eq!(d.iter().find(|x| x.2 == ServerState::Leading).map(|x| x.0), Some(1));
        o.muted.insert(1);
        let mut o2 = Oracle::new(3);
        o2.muted = [1, 2].into_iter().collect();
        let mut f: Vec<OracleElector> = (0..3).map(|i| o2.elector(i)).collect();
        for x in &mut f {
            x.start(0, Zxid::new(1, 1), 1);
        }
        assert!(o2.decide(0, &views, &all, &majority(3), &mut || 1).is_empty(), "one voter is no quorum");
    }
}
