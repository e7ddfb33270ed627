//! The core's side of the four-letter words: run a command's side effect on the live server
//! and fill the [`FourLwInfo`] snapshot the renderers print from.

use super::{ConnectionInfo, ExpiryBucket, FourLw, FourLwInfo, SessionDump, SideEffect, Summary};
use crate::server::stats::{ConnStats, Latency, ServerStats};
use crate::server::watch::ConnId;
use crate::server::{IoFacts, Server};
use std::collections::BTreeMap;

impl Server {
    pub(in crate::server) fn four_letter(&mut self, conn: ConnId, word: [u8; 4], io: &IoFacts) -> String {
        let Some(cmd) = super::command_from_int(i32::from_be_bytes(word)) else {
            return String::new();
        };
        let config = self.opts.config.clone();
        let info = self.fourlw_info(conn, io);
        match super::side_effect(cmd, &info, &config) {
            Some(SideEffect::ResetConnectionStats) => {
                for c in self.conns.values_mut() {
                    c.stats = ConnStats { established_ms: c.stats.established_ms, ..Default::default() };
                }
            }
            Some(SideEffect::ResetServerStats) => self.stats = ServerStats::default(),
            _ => {}
        }
        if cmd == FourLw::TelnetClose {
            return String::new();
        }
        super::render(cmd, &info, &config)
    }

    fn fourlw_info(&self, this_conn: ConnId, io: &IoFacts) -> FourLwInfo {
        let cwd = std::path::PathBuf::from(".");
        let mut info = FourLwInfo::from_config(&self.opts.config, &cwd);
        info.serving = self.is_serving();
        info.read_only = self.pipeline() == crate::server::Pipeline::ReadOnly;
        if !self.role.server_state.is_empty() {
            info.server_state = self.role.server_state.clone();
            info.peer_state = self.role.peer_state.clone();
            info.leader = self.role.leader.clone();
            info.synced_observers = self.role.synced_observers;
        }
        info.last_zxid = self.tree.last_zxid.0;
        // Java's DataTree counts the root under both "" and "/".
        info.node_count = self.tree.node_count() as i64 + 1;
        info.latency = summary(&self.stats.latency);
        info.packets_received = self.stats.packets_received as i64;
        info.packets_sent = self.stats.packets_sent as i64;
        // The 4lw connection itself counts, as in Java.
        info.num_alive_connections = self.conns.len() as i64 + i64::from(!self.conns.contains_key(&this_conn));
        info.outstanding_requests = self.queue.len() as i64;
        let mut ids: Vec<&ConnId> = self.conns.keys().collect();
        ids.sort();
        for id in ids {
            let Some(c) = self.conns.get(id) else { continue };
            let st = &c.stats;
            info.connections.push(ConnectionInfo {
                remote: c.addr,
                interest_ops: 1,
                outstanding: 0,
                packets_received: st.received as i64,
                packets_sent: st.sent as i64,
                session_id: c.session.0,
                last_op: if st.last_op.is_empty() { "NA".into() } else { st.last_op.into() },
                established_ms: st.established_ms,
                session_timeout_ms: self.sessions.map.get(&c.session).map_or(0, |s| s.timeout_ms),
                last_cxid: if st.latency.count == 0 { -1 } else { i64::from(st.last_cxid) },
                last_zxid: if st.latency.count == 0 { -1 } else { st.last_zxid },
                last_response_time_ms: st.last_response_ms,
                last_latency_ms: st.last_latency as i64,
                latency: summary(&st.latency),
            });
        }
        let mut by_session: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for conn in self.watches.data.conns() {
            if let Some(c) = self.conns.get(&conn) {
                by_session.entry(c.session.0).or_default().extend(self.watches.data.paths_of(conn));
            }
        }
        info.data_watches = by_session.into_iter().collect();
        info.watch_count = (self.watches.data.count() + self.watches.child.count()) as i64;
        let mut eph: Vec<(i64, Vec<String>)> =
            self.tree.all_ephemerals().iter().map(|(s, p)| (*s, p.iter().cloned().collect())).collect();
        eph.sort();
        info.ephemerals = eph;
        let mut buckets: BTreeMap<u64, Vec<i64>> = BTreeMap::new();
        for (id, s) in &self.sessions.map {
            buckets.entry(s.expire_at).or_default().push(id.0);
        }
        // Expiry times are on the monotonic clock; `dump` prints wall-clock times.
        let offset = self.now.wall_ms - self.now.mono_ms as i64;
        info.sessions = SessionDump::Expiry {
            local: None,
            global: buckets
                .into_iter()
                .map(|(at, mut ids)| {
                    ids.sort();
                    ExpiryBucket { expire_at_ms: at as i64 + offset, entries: ids }
                })
                .collect(),
        };
        info.ephemerals_count = self.tree.ephemeral_count() as i64;
        info.approximate_data_size = self.tree.approximate_data_size() as i64;
        info.global_sessions = self.sessions.map.len() as i64;
        info.local_sessions = self.local_sessions.map.len() as i64;
        info.open_file_descriptor_count = io.open_fds;
        info.max_file_descriptor_count = io.max_fds;
        info.uptime_ms = self.now.mono_ms as i64;
        info.data_dir_size = io.data_dir_size;
        info.log_dir_size = io.log_dir_size;
        info.digest_log = self.tree.digest_log.iter().map(|(z, d)| (*z, *d as i64)).collect();
        info
    }
}

/// `AvgMinMaxCounter`'s view of a latency record; `i64::MAX` as min means "no sample".
fn summary(l: &Latency) -> Summary {
    Summary {
        count: l.count as i64,
        total: l.total as i64,
        min: if l.count == 0 { i64::MAX } else { l.min as i64 },
        max: l.max as i64,
    }
}
