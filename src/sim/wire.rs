//! Moving bytes: learner↔leader connections, client connections and election channels,
//! over the models in [`super::net`]. A delivery event takes the head of one direction of
//! one stream; a direction blocked by a partition keeps its data until the heal.

use super::client::ClientOut;
use super::cluster::{Event, Sim};
use super::net::{Msg, Stream};
use crate::quorum::io::Input;
use crate::quorum::packet::QuorumPacket;
use crate::server;
use crate::sim_trace;
use crate::types::ServerId;
use bytes::Bytes;

/// How long a connect to an unreachable host takes to fail (the learner retries itself).
const CONNECT_TIMEOUT_MS: u64 = 1000;

impl Sim {
    // ------------------------------------------------------------------ learner links

    /// `Output::ConnectLeader`: drop the old connection, dial the leader's quorum port.
    pub(super) fn connect_leader(&mut self, m: usize, leader: ServerId) {
        if let Some(old) = self.members[m].link.take() {
            self.close_link_end(old, 0);
        }
        let inc = self.members[m].inc;
        let Some(l) = self.index_of(leader) else {
            let at = self.now + 1;
            self.schedule(at, Event::Deliver { m, inc, input: Input::LeaderClosed });
            return;
        };
        if !self.partitions.can_talk(m, l) {
            sim_trace!(self.trace, self.now, "m{m} cannot reach leader m{l}: connect times out");
            let at = self.now + CONNECT_TIMEOUT_MS;
            self.schedule(at, Event::Deliver { m, inc, input: Input::LeaderClosed });
            return;
        }
        if !self.members[l].is_up() {
            sim_trace!(self.trace, self.now, "m{m} connects to m{l}: refused (down)");
            let at = self.now + self.net_delay() * 2;
            self.schedule(at, Event::Deliver { m, inc, input: Input::LeaderClosed });
            return;
        }
        let id = self.links.open(m, inc, l, self.members[l].inc);
        self.members[m].link = Some(id);
        sim_trace!(self.trace, self.now, "m{m} connects to leader m{l} (link {id})");
        self.stream_push_link(id, 0, Msg::Open);
        self.stream_push_link(id, 1, Msg::Open);
    }

    fn stream_push_link(&mut self, id: u64, dir: usize, msg: Msg<QuorumPacket>) {
        let d = self.net_delay();
        let now = self.now;
        let Some(s) = self.links.get_mut(id) else { return };
        let Some(p) = s.pipe(dir) else { return };
        if let Some(at) = p.push(now, d, msg) {
            self.schedule(at, Event::Link { id, dir });
        }
    }

    /// A packet into one direction of a link (0: learner→leader, 1: leader→learner), if
    /// the sending end is still open.
    pub(super) fn link_send(&mut self, id: u64, dir: usize, p: QuorumPacket) {
        let Some(s) = self.links.get(id) else { return };
        if !s.is_open(dir) {
            return;
        }
        let (from, to) = if dir == 0 { (s.near, s.far) } else { (s.far, s.near) };
        self.packet_sent(from, to, &p);
        self.stream_push_link(id, dir, Msg::Data(p));
    }

    /// One end closes: a FIN follows what it already sent.
    pub(super) fn close_link_end(&mut self, id: u64, end: usize) {
        let Some(s) = self.links.get_mut(id) else { return };
        if !s.is_open(end) {
            return;
        }
        s.close_end(end);
        self.stream_push_link(id, end, Msg::Fin);
    }

    pub(super) fn on_link_event(&mut self, id: u64, dir: usize) {
        let now = self.now;
        let Some(s) = self.links.get_mut(id) else { return };
        let (from, to) = if dir == 0 { (s.near, s.far) } else { (s.far, s.near) };
        let Some(p) = s.pipe(dir) else { return };
        p.scheduled = false;
        if self.partitions.blocked(from, to) {
            return; // held until the heal reschedules it
        }
        let Some(msg) = p.pop_due(now) else {
            self.reschedule_link(id, dir);
            return;
        };
        self.reschedule_link(id, dir);
        let Some(s) = self.links.get_mut(id) else { return };
        let to_inc = if dir == 0 { s.far_inc } else { s.near_inc };
        let receiver_open = s.is_open(1 - dir);
        if self.members[to].inc != to_inc || !receiver_open {
            return;
        }
        if let (true, Msg::Data(p)) = (self.record_packets, &msg) {
            let (at_ms, type_, zxid) = (self.now, p.type_, p.zxid);
            self.delivered.push(super::cluster::Sent { at_ms, from, to, type_, zxid });
        }
        match (dir, msg) {
            (0, Msg::Open) => self.deliver(to, Input::LearnerConnected { link: id }),
            (0, Msg::Data(packet)) => self.deliver(to, Input::FromLearner { link: id, packet }),
            (0, Msg::Fin) => {
                if let Some(s) = self.links.get_mut(id) {
                    s.close_end(1);
                }
                self.deliver(to, Input::LearnerClosed { link: id });
            }
            (_, Msg::Open) => {
                if self.members[to].link == Some(id) {
                    self.deliver(to, Input::LeaderConnected);
                }
            }
            (_, Msg::Data(packet)) => {
                if self.members[to].link == Some(id) {
                    self.deliver(to, Input::FromLeader(packet));
                }
            }
            (_, Msg::Fin) => {
                if let Some(s) = self.links.get_mut(id) {
                    s.close_end(0);
                }
                if self.members[to].link == Some(id) {
                    self.members[to].link = None;
                    self.deliver(to, Input::LeaderClosed);
                }
            }
        }
        self.links.reap();
    }

    fn reschedule_link(&mut self, id: u64, dir: usize) {
        let now = self.now;
        let Some(p) = self.links.get_mut(id).and_then(|s| s.pipe(dir)) else { return };
        if !p.scheduled {
            if let Some(at) = p.next_event(now) {
                self.schedule(at, Event::Link { id, dir });
            }
        }
    }

    /// A connection break: everything in flight is lost and both ends are told (each gets
    /// a FIN; whatever either end sends afterwards queues behind it and is discarded).
    pub(super) fn break_link(&mut self, id: u64) {
        let Some(s) = self.links.get_mut(id) else { return };
        let (near, far) = (s.near, s.far);
        for p in &mut s.pipes {
            p.clear();
        }
        let (near_open, far_open) = (s.is_open(0), s.is_open(1));
        sim_trace!(self.trace, self.now, "link {id} between learner m{near} and leader m{far} breaks");
        if far_open {
            self.stream_push_link(id, 0, Msg::Fin);
        }
        if near_open {
            self.stream_push_link(id, 1, Msg::Fin);
        }
    }

    /// A member died: its connections break, the other ends find out.
    pub(super) fn break_member_streams(&mut self, m: usize) {
        for id in self.links.ids() {
            let involved = self.links.get(id).is_some_and(|s| s.near == m || s.far == m);
            if involved {
                self.break_link(id);
            }
        }
        for id in self.conns.ids() {
            let Some(s) = self.conns.get_mut(id) else { continue };
            if s.far != m {
                continue;
            }
            for p in &mut s.pipes {
                p.clear();
            }
            s.close_end(1);
            if s.is_open(0) {
                self.conn_send(id, 1, Msg::Fin);
            }
        }
    }

    // ------------------------------------------------------------------ client connections

    pub(super) fn wake_client(&mut self, c: usize, at: u64) {
        if self.client_wake[c].is_some_and(|w| w <= at) {
            return;
        }
        self.client_wake[c] = Some(at);
        self.schedule(at, Event::ClientTick { c });
    }

    /// Executes a client's outputs and schedules its next tick.
    pub(super) fn after_client(&mut self, c: usize) {
        for o in self.clients[c].take_outputs() {
            match o {
                ClientOut::Connect { member } => self.client_connect(c, member),
                ClientOut::Send { conn, frame } => self.conn_send(conn, 0, Msg::Data(frame)),
                ClientOut::Close { conn } => {
                    if let Some(s) = self.conns.get_mut(conn) {
                        if s.is_open(0) {
                            s.close_end(0);
                            self.conn_send(conn, 0, Msg::Fin);
                        }
                    }
                }
            }
        }
        let at = self.clients[c].next_wake(self.now);
        self.client_wake[c] = None;
        self.wake_client(c, at);
    }

    fn client_connect(&mut self, c: usize, m: usize) {
        if !self.members[m].is_up() {
            let at = self.now + self.net_delay() * 2;
            self.schedule(at, Event::ClientRefused { c });
            return;
        }
        let inc = self.members[m].inc;
        let id = self.conns.open(c, 0, m, inc);
        self.conn_send_raw(id, 0, Msg::Open);
        self.conn_send_raw(id, 1, Msg::Open);
    }

    fn conn_send_raw(&mut self, id: u64, dir: usize, msg: Msg<Bytes>) {
        let d = self.net_delay();
        let now = self.now;
        let Some(p) = self.conns.get_mut(id).and_then(|s| s.pipe(dir)) else { return };
        if let Some(at) = p.push(now, d, msg) {
            self.schedule(at, Event::Conn { id, dir });
        }
    }

    /// Data or FIN into a client connection (0: client→member, 1: member→client).
    pub(super) fn conn_send(&mut self, id: u64, dir: usize, msg: Msg<Bytes>) {
        let sender_open = self.conns.get(id).is_some_and(|s| s.is_open(dir) || matches!(msg, Msg::Fin));
        if sender_open {
            self.conn_send_raw(id, dir, msg);
        }
    }

    pub(super) fn on_conn_event(&mut self, id: u64, dir: usize) {
        let now = self.now;
        let Some(s) = self.conns.get_mut(id) else { return };
        let Some(p) = s.pipe(dir) else { return };
        p.scheduled = false;
        let msg = p.pop_due(now);
        if let Some(at) = p.next_event(now) {
            self.schedule(at, Event::Conn { id, dir });
        }
        let Some(msg) = msg else { return };
        let Some(s) = self.conns.get_mut(id) else { return };
        let (client, member, member_inc) = (s.near, s.far, s.far_inc);
        if dir == 0 {
            if self.members[member].inc != member_inc || !s.is_open(1) {
                return;
            }
            let input = match msg {
                Msg::Open => {
                    let addr =
                        std::net::SocketAddr::from(([10, 0, 1, (client % 250) as u8], 40_000 + (id % 20_000) as u16));
                    server::Input::Accepted { conn: id, addr }
                }
                Msg::Data(frame) => server::Input::Frame { conn: id, frame },
                Msg::Fin => {
                    s.close_end(1);
                    server::Input::Closed { conn: id }
                }
            };
            self.deliver(member, Input::Client(input));
        } else {
            if !s.is_open(0) {
                return;
            }
            match msg {
                Msg::Open => self.clients[client].on_open(now, id, &mut self.history),
                Msg::Data(b) => self.clients[client].on_bytes(now, id, &b, &mut self.trace, &mut self.history),
                Msg::Fin => {
                    s.close_end(0);
                    self.clients[client].on_closed(now, Some(id), &mut self.trace, &mut self.history);
                }
            }
            self.after_client(client);
        }
        self.conns.reap();
    }

    // ------------------------------------------------------------------ election channels

    /// Sends what the channel `from → to` has queued, if the connection can carry it.
    pub(super) fn pump_votes(&mut self, from: usize, to: usize) {
        if !self.members[from].is_up() || !self.members[to].is_up() || self.partitions.blocked(from, to) {
            return;
        }
        let d = self.net_delay();
        let drop = self.vote_drop_per_mille > 0 && self.rng_net.chance(self.vote_drop_per_mille);
        let now = self.now;
        let Some(ch) = self.votes.get_mut(&(from, to)) else { return };
        let Some(msg) = ch.take_for_send() else { return };
        if drop {
            self.stats.votes_dropped += 1;
            sim_trace!(self.trace, now, "  vote m{from} -> m{to} dropped");
            return;
        }
        if let Some(at) = ch.pipe.push(now, d, msg) {
            self.schedule(at, Event::Vote { from, to });
        }
    }

    pub(super) fn on_vote_event(&mut self, from: usize, to: usize) {
        let now = self.now;
        let Some(ch) = self.votes.get_mut(&(from, to)) else { return };
        ch.pipe.scheduled = false;
        let msg = ch.pipe.pop_due(now);
        if let Some(at) = ch.pipe.next_event(now) {
            self.schedule(at, Event::Vote { from, to });
        }
        let Some(msg) = msg else { return };
        if self.partitions.blocked(from, to) || !self.members[to].is_up() {
            return;
        }
        let sid = self.members[from].sid;
        sim_trace!(self.trace, now, "  vote m{from} -> m{to} {:?} leader={} zxid={}", msg.state, msg.leader, msg.zxid);
        self.deliver(to, Input::Vote { from: sid, msg });
    }

    /// New connections everywhere they are possible: held stream data moves again and
    /// every election channel re-sends its last message.
    pub(super) fn reconnect_all(&mut self) {
        for id in self.links.ids() {
            for dir in 0..2 {
                self.reschedule_link(id, dir);
            }
        }
        let pairs: Vec<(usize, usize)> = self.votes.keys().copied().collect();
        for (a, b) in pairs {
            if self.members[a].is_up() && self.members[b].is_up() && self.partitions.can_talk(a, b) {
                if let Some(ch) = self.votes.get_mut(&(a, b)) {
                    ch.reconnect();
                }
                self.pump_votes(a, b);
            }
        }
    }

    /// Drops everything in flight to or from a member's election channels.
    pub(super) fn clear_votes_of(&mut self, m: usize) {
        for ((a, b), ch) in self.votes.iter_mut() {
            if *a == m {
                ch.queued = None;
                ch.last_sent = None;
                ch.pipe.clear();
            } else if *b == m {
                ch.pipe.clear();
            }
        }
    }

    /// Links currently open at both ends, for the fault injector.
    pub(super) fn open_links(&self) -> Vec<u64> {
        self.links.by_id.values().filter(|s: &&Stream<QuorumPacket>| s.open[0] && s.open[1]).map(|s| s.id).collect()
    }
}
