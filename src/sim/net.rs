//! The network, modelled on what the real transports are rather than on packets:
//!
//! - **Streams** (learner↔leader quorum connections, client connections) are TCP: each
//!   direction is a FIFO whose delivery times never reorder. A direction blocked by a
//!   partition holds its data (TCP keeps retransmitting) and delivers it after the heal,
//!   unless an end gives up first; a *break* drops everything in flight and tells both
//!   ends. Closing sends a FIN behind the data already queued, as a socket close does.
//! - **Election channels** are `QuorumCnxManager`'s: per peer a send queue of one message
//!   where a newer message replaces an unsent older one, and on every new connection the
//!   last message ever sent to that peer is sent again. Election messages may be dropped.
//! - **Partitions** are a set of blocked directed pairs, so symmetric splits, isolated
//!   members and one-way links are all the same thing.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Which directed member pairs cannot currently deliver.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Partitions {
    blocked: BTreeSet<(usize, usize)>,
}

impl Partitions {
    pub fn blocked(&self, from: usize, to: usize) -> bool {
        self.blocked.contains(&(from, to))
    }

    /// Both directions open.
    pub fn can_talk(&self, a: usize, b: usize) -> bool {
        !self.blocked(a, b) && !self.blocked(b, a)
    }

    pub fn block(&mut self, from: usize, to: usize) {
        if from != to {
            self.blocked.insert((from, to));
        }
    }

    /// Splits the members into groups that cannot reach each other (both directions).
    pub fn split(&mut self, groups: &[Vec<usize>]) {
        for (i, g) in groups.iter().enumerate() {
            for (j, h) in groups.iter().enumerate() {
                if i != j {
                    for a in g {
                        for b in h {
                            self.block(*a, *b);
                        }
                    }
                }
            }
        }
    }

    /// Cuts one member off from every other one (of `n`), both directions.
    pub fn isolate(&mut self, m: usize, n: usize) {
        for o in 0..n {
            self.block(m, o);
            self.block(o, m);
        }
    }

    pub fn heal(&mut self) {
        self.blocked.clear();
    }

    pub fn is_healed(&self) -> bool {
        self.blocked.is_empty()
    }

    pub fn describe(&self) -> String {
        let pairs: Vec<String> = self.blocked.iter().map(|(a, b)| format!("{a}->{b}")).collect();
        if pairs.is_empty() {
            "none".into()
        } else {
            pairs.join(" ")
        }
    }
}

/// One direction of a stream: a FIFO with arrival times that never go backwards.
#[derive(Debug)]
pub struct Pipe<T> {
    queue: VecDeque<(u64, T)>,
    last_at: u64,
    /// An event for the head is pending in the simulator's queue.
    pub scheduled: bool,
}

impl<T> Default for Pipe<T> {
    fn default() -> Self {
        Pipe { queue: VecDeque::new(), last_at: 0, scheduled: false }
    }
}

impl<T> Pipe<T> {
    /// Queues `item` to arrive `delay_ms` from now, but never before what was queued
    /// earlier. Returns the time to schedule a delivery event at, if one is needed now.
    pub fn push(&mut self, now: u64, delay_ms: u64, item: T) -> Option<u64> {
        let at = (now + delay_ms).max(self.last_at);
        self.last_at = at;
        self.queue.push_back((at, item));
        if self.scheduled {
            None
        } else {
            self.scheduled = true;
            self.queue.front().map(|(t, _)| *t)
        }
    }

    /// The delivery event fired: the head, if it is due. The caller reschedules with
    /// [`Pipe::next_event`] after handling it.
    pub fn pop_due(&mut self, now: u64) -> Option<T> {
        match self.queue.front() {
            Some((t, _)) if *t <= now => self.queue.pop_front().map(|(_, x)| x),
            _ => None,
        }
    }

    /// When to fire the next delivery event (none pending is assumed), marking it scheduled.
    pub fn next_event(&mut self, now: u64) -> Option<u64> {
        let t = self.queue.front().map(|(t, _)| (*t).max(now))?;
        self.scheduled = true;
        Some(t)
    }

    pub fn clear(&mut self) -> usize {
        let n = self.queue.len();
        self.queue.clear();
        n
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// What travels in a stream.
#[derive(Debug)]
pub enum Msg<T> {
    /// The connection reached the far end (SYN): the acceptor learns of it.
    Open,
    Data(T),
    /// The sender closed its end.
    Fin,
}

/// A TCP connection: end 0 initiated it (a learner or a client), end 1 accepted it (a
/// member). `pipes[0]` carries 0→1, `pipes[1]` carries 1→0.
#[derive(Debug)]
pub struct Stream<T> {
    pub id: u64,
    pub near: usize,
    pub far: usize,
    /// The incarnation of each member end when the stream was made; a restarted member
    /// never receives data meant for its previous life.
    pub near_inc: u64,
    pub far_inc: u64,
    pub open: [bool; 2],
    pub pipes: [Pipe<Msg<T>>; 2],
}

impl<T> Stream<T> {
    pub fn new(id: u64, near: usize, near_inc: u64, far: usize, far_inc: u64) -> Stream<T> {
        Stream { id, near, far, near_inc, far_inc, open: [true, true], pipes: [Pipe::default(), Pipe::default()] }
    }

    pub fn pipe(&mut self, dir: usize) -> Option<&mut Pipe<Msg<T>>> {
        self.pipes.get_mut(dir)
    }

    pub fn is_open(&self, end: usize) -> bool {
        self.open.get(end).copied().unwrap_or(false)
    }

    pub fn close_end(&mut self, end: usize) {
        if let Some(o) = self.open.get_mut(end) {
            *o = false;
        }
    }

    /// Both ends are closed and nothing is left to deliver: the stream can be forgotten.
    pub fn is_dead(&self) -> bool {
        !self.open.iter().any(|o| *o) && self.pipes.iter().all(Pipe::is_empty)
    }
}

/// All streams of one kind, by id.
#[derive(Debug)]
pub struct Streams<T> {
    pub by_id: BTreeMap<u64, Stream<T>>,
    next_id: u64,
}

impl<T> Default for Streams<T> {
    fn default() -> Self {
        Streams { by_id: BTreeMap::new(), next_id: 1 }
    }
}

impl<T> Streams<T> {
    pub fn open(&mut self, near: usize, near_inc: u64, far: usize, far_inc: u64) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.by_id.insert(id, Stream::new(id, near, near_inc, far, far_inc));
        id
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut Stream<T>> {
        self.by_id.get_mut(&id)
    }

    pub fn get(&self, id: u64) -> Option<&Stream<T>> {
        self.by_id.get(&id)
    }

    pub fn reap(&mut self) {
        self.by_id.retain(|_, s| !s.is_dead());
    }

    pub fn ids(&self) -> Vec<u64> {
        self.by_id.keys().copied().collect()
    }
}

/// `QuorumCnxManager`'s view of one peer: the one-message send queue and the last
/// message sent, which a new connection sends again first.
#[derive(Debug)]
pub struct VoteChannel<N> {
    pub queued: Option<N>,
    pub last_sent: Option<N>,
    pub pipe: Pipe<N>,
}

impl<N> Default for VoteChannel<N> {
    fn default() -> Self {
        VoteChannel { queued: None, last_sent: None, pipe: Pipe::default() }
    }
}

impl<N: Clone> VoteChannel<N> {
    /// `addToSendQueue`: a newer message replaces one not sent yet.
    pub fn offer(&mut self, msg: N) -> bool {
        let replaced = self.queued.is_some();
        self.queued = Some(msg);
        replaced
    }

    /// The connection is (back) up and the queue is empty: send the last message again
    /// (`SendWorker.run` does this so a peer that missed it during the outage gets it).
    pub fn reconnect(&mut self) {
        if self.queued.is_none() {
            self.queued = self.last_sent.clone();
        }
    }

    /// Hands the queued message to the connection.
    pub fn take_for_send(&mut self) -> Option<N> {
        let m = self.queued.take()?;
        self.last_sent = Some(m.clone());
        Some(m)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_never_reorders_even_when_a_later_send_draws_a_shorter_delay() {
        let mut p: Pipe<&str> = Pipe::default();
        assert_eq!(p.push(0, 50, "a"), Some(50), "the first item needs an event");
        assert_eq!(p.push(10, 5, "b"), None, "one event at a time");
        assert_eq!(p.pop_due(49), None);
        assert_eq!(p.pop_due(50), Some("a"));
        p.scheduled = false;
        assert_eq!(p.next_event(50), Some(50), "b is held back to a's time, not 15");
        assert_eq!(p.pop_due(50), Some("b"));
        p.scheduled = false;
        assert_eq!(p.next_event(50), None);
    }

    #[test]
    fn partitions_are_directed_pairs() {
        let mut p = Partitions::default();
        p.split(&[vec![0, 1], vec![2]]);
        assert!(p.can_talk(0, 1));
        assert!(!p.can_talk(0, 2) && p.blocked(2, 1) && p.blocked(1, 2));
        p.heal();
        p.block(0, 1);
        assert!(p.blocked(0, 1) && !p.blocked(1, 0) && !p.can_talk(1, 0));
        assert_eq!(p.describe(), "0->1");
        p.isolate(2, 3);
        assert_eq!(p.describe(), "0->1 0->2 1->2 2->0 2->1");
    }

    #[test]
    fn a_vote_channel_keeps_only_the_newest_unsent_message_and_resends_the_last_on_reconnect() {
        let mut c: VoteChannel<u32> = VoteChannel::default();
        assert!(!c.offer(1));
        assert!(c.offer(2), "1 was never sent and is replaced");
        assert_eq!(c.take_for_send(), Some(2));
        assert_eq!(c.take_for_send(), None);
        c.reconnect();
        assert_eq!(c.take_for_send(), Some(2), "the last message goes out again on a new connection");
        c.offer(3);
        c.reconnect();
        assert_eq!(c.take_for_send(), Some(3), "a queued message is not replaced by the old one");
    }

    #[test]
    fn a_stream_is_dead_once_both_ends_closed_and_drained() {
        let mut s: Stream<u8> = Stream::new(1, 0, 1, 1, 1);
        s.pipe(0).unwrap().push(0, 1, Msg::Data(7));
        s.close_end(0);
        s.close_end(1);
        assert!(!s.is_dead());
        s.pipe(0).unwrap().clear();
        assert!(s.is_dead());
    }
}
