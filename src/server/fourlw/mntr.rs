//! `mntr`: every metric Java 3.8.0 prints, in its order (gauges in hash order, then counters
//! and summaries in `ServerMetrics` order), with the values the snapshot knows.

use super::info::*;
use super::java_fmt::java_double;
use std::fmt::Write as _;

/// A gauge: where it sits in Java's output and which servers register it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum GaugeScope {
    All,
    Leader,
    Quorum,
    SyncedObservers,
}

/// Java's `DefaultMetricsProvider` keeps gauges in a ConcurrentHashMap, so `mntr` prints them in
/// hash order. With 24–48 gauges the table has 64 buckets and this is that order (checked
/// against standalone, leader and follower captures in `tests/data/4lw/`).
const GAUGES: [(&str, GaugeScope); 34] = [
    ("ephemerals_count", GaugeScope::All),
    ("num_alive_connections", GaugeScope::All),
    ("avg_latency", GaugeScope::All),
    ("min_proposal_size", GaugeScope::Leader),
    ("outstanding_requests", GaugeScope::All),
    ("znode_count", GaugeScope::All),
    ("global_sessions", GaugeScope::All),
    ("non_mtls_remote_conn_count", GaugeScope::All),
    ("last_client_response_size", GaugeScope::All),
    ("packets_sent", GaugeScope::All),
    ("packets_received", GaugeScope::All),
    ("max_proposal_size", GaugeScope::Leader),
    ("max_client_response_size", GaugeScope::All),
    ("synced_followers", GaugeScope::Leader),
    ("connection_drop_probability", GaugeScope::All),
    ("watch_count", GaugeScope::All),
    ("synced_non_voting_followers", GaugeScope::Leader),
    ("synced_observers", GaugeScope::SyncedObservers),
    ("auth_failed_count", GaugeScope::All),
    ("min_latency", GaugeScope::All),
    ("max_file_descriptor_count", GaugeScope::All),
    ("approximate_data_size", GaugeScope::All),
    ("open_file_descriptor_count", GaugeScope::All),
    ("last_proposal_size", GaugeScope::Leader),
    ("pending_syncs", GaugeScope::Leader),
    ("leader_uptime", GaugeScope::Leader),
    ("local_sessions", GaugeScope::All),
    ("uptime", GaugeScope::All),
    ("max_latency", GaugeScope::All),
    ("outstanding_tls_handshake", GaugeScope::All),
    ("learners", GaugeScope::Leader),
    ("min_client_response_size", GaugeScope::All),
    ("non_mtls_local_conn_count", GaugeScope::All),
    ("quorum_size", GaugeScope::Quorum),
];

/// `ServerMetrics` counters, in Java 3.8.0's print order.
const COUNTERS: [&str; 47] = [
    "proposal_count",
    "watch_bytes",
    "outstanding_changes_removed",
    "throttled_ops",
    "stale_requests_dropped",
    "large_requests_rejected",
    "insecure_admin_count",
    "connection_rejected",
    "cnxn_closed_without_zk_server_running",
    "sessionless_connections_expired",
    "looking_count",
    "dead_watchers_queued",
    "stale_requests",
    "connection_drop_count",
    "learner_proposal_received_count",
    "digest_mismatches_count",
    "dead_watchers_cleared",
    "response_packet_cache_hits",
    "bytes_received_count",
    "add_dead_watcher_stall_time",
    "request_throttle_wait_count",
    "requests_not_forwarded_to_commit_processor",
    "response_packet_cache_misses",
    "ensemble_auth_success",
    "prep_processor_request_queued",
    "learner_commit_received_count",
    "stale_replies",
    "connection_request_count",
    "response_bytes",
    "ensemble_auth_fail",
    "diff_count",
    "response_packet_get_children_cache_misses",
    "connection_revalidate_count",
    "quit_leading_due_to_disloyal_voter",
    "snap_count",
    "unrecoverable_error_count",
    "unsuccessful_handshake",
    "commit_count",
    "stale_sessions_expired",
    "response_packet_get_children_cache_hits",
    "sync_processor_request_queued",
    "outstanding_changes_queued",
    "request_commit_queued",
    "ensemble_auth_skip",
    "skip_learner_request_to_next_processor_count",
    "tls_handshake_exceeded",
    "revalidate_count",
];

/// `ServerMetrics` basic summaries (avg/min/max/cnt/sum), in print order.
const SUMMARIES: [&str; 41] = [
    "socket_closing_time",
    "proposal_process_time",
    "leader_unavailable_time",
    "node_created_watch_count",
    "session_queues_drained",
    "write_commit_proc_req_queued",
    "connection_token_deficit",
    "read_commit_proc_req_queued",
    "node_deleted_watch_count",
    "startup_txns_load_time",
    "sync_processor_queue_size",
    "follower_sync_time",
    "prep_processor_queue_size",
    "fsynctime",
    "inflight_snap_count",
    "reads_issued_from_session_queue",
    "learner_request_processor_queue_size",
    "snapshottime",
    "unavailable_time",
    "startup_txns_loaded",
    "reads_after_write_in_session_queue",
    "requests_in_session_queue",
    "write_commit_proc_issued",
    "prep_process_time",
    "pending_session_queue_size",
    "time_waiting_empty_pool_in_commit_processor_read_ms",
    "commit_process_time",
    "dbinittime",
    "inflight_diff_count",
    "netty_queued_buffer_capacity",
    "election_time",
    "commit_commit_proc_req_queued",
    "sync_processor_batch_size",
    "node_children_watch_count",
    "write_batch_time_in_commit_processor",
    "read_commit_proc_issued",
    "concurrent_request_processing_in_commit_processor",
    "observer_sync_time",
    "node_changed_watch_count",
    "sync_process_time",
    "startup_snap_load_time",
];

/// `ServerMetrics` percentile summaries (plus p50/p95/p99/p999), in print order.
const PERCENTILE_SUMMARIES: [&str; 23] = [
    "prep_processor_queue_time_ms",
    "jvm_pause_time_ms",
    "close_session_prep_time",
    "read_commitproc_time_ms",
    "updatelatency",
    "local_write_committed_time_ms",
    "request_throttle_queue_time_ms",
    "readlatency",
    "quorum_ack_latency",
    "om_commit_process_time_ms",
    "read_final_proc_time_ms",
    "commit_propagation_latency",
    "dead_watchers_cleaner_latency",
    "write_final_proc_time_ms",
    "proposal_ack_creation_latency",
    "proposal_latency",
    "om_proposal_process_time_ms",
    "sync_processor_queue_and_flush_time_ms",
    "propagation_latency",
    "server_write_committed_time_ms",
    "sync_processor_queue_time_ms",
    "sync_processor_queue_flush_time_ms",
    "write_commitproc_time_ms",
];

pub(super) fn render_mntr(o: &mut String, info: &FourLwInfo) {
    let mut line = |k: &str, v: String| {
        let _ = writeln!(o, "zk_{k}\t{v}");
    };
    line("version", info.version.clone());
    line("server_state", info.server_state.clone());
    if let Some(ps) = &info.peer_state {
        line("peer_state", ps.clone());
    }
    if let Some(id) = info.observer_master_id {
        line("observer_master_id", id.to_string());
    }
    for (name, scope) in GAUGES {
        let present = match scope {
            GaugeScope::All => true,
            GaugeScope::Leader => info.leader.is_some(),
            GaugeScope::Quorum => info.quorum_size.is_some(),
            GaugeScope::SyncedObservers => info.synced_observers.is_some(),
        };
        if present {
            line(name, gauge_value(name, info));
        }
    }
    for name in COUNTERS {
        line(name, info.counters.get(name).copied().unwrap_or(0).to_string());
    }
    for name in SUMMARIES {
        let s = info.summaries.get(name).copied().unwrap_or_default();
        summary_lines(&mut line, name, &s);
    }
    for name in PERCENTILE_SUMMARIES {
        let p = info.percentile_summaries.get(name).copied().unwrap_or_default();
        summary_lines(&mut line, name, &p.summary);
        line(&format!("p50_{name}"), p.p50.to_string());
        line(&format!("p95_{name}"), p.p95.to_string());
        line(&format!("p99_{name}"), p.p99.to_string());
        line(&format!("p999_{name}"), p.p999.to_string());
    }
}

fn summary_lines(line: &mut impl FnMut(&str, String), name: &str, s: &Summary) {
    line(&format!("avg_{name}"), java_double(s.avg()));
    line(&format!("min_{name}"), s.min_or_zero().to_string());
    line(&format!("max_{name}"), s.max.to_string());
    line(&format!("cnt_{name}"), s.count.to_string());
    line(&format!("sum_{name}"), s.total.to_string());
}

fn gauge_value(name: &str, info: &FourLwInfo) -> String {
    let leader = info.leader.clone().unwrap_or_default();
    let v: i64 = match name {
        "avg_latency" => return java_double(info.latency.avg()),
        // getConnectionDropChance() is a double; ruzk never drops connections on purpose.
        "connection_drop_probability" => return java_double(0.0),
        "ephemerals_count" => info.ephemerals_count,
        "num_alive_connections" => info.num_alive_connections,
        "outstanding_requests" => info.outstanding_requests,
        "znode_count" => info.node_count,
        "global_sessions" => info.global_sessions,
        "local_sessions" => info.local_sessions,
        "last_client_response_size" => i64::from(info.client_response_sizes.last),
        "max_client_response_size" => i64::from(info.client_response_sizes.max),
        "min_client_response_size" => i64::from(info.client_response_sizes.min),
        "packets_sent" => info.packets_sent,
        "packets_received" => info.packets_received,
        "watch_count" => info.watch_count,
        "min_latency" => info.latency.min_or_zero(),
        "max_latency" => info.latency.max,
        "max_file_descriptor_count" => info.max_file_descriptor_count,
        "open_file_descriptor_count" => info.open_file_descriptor_count,
        "approximate_data_size" => info.approximate_data_size,
        "uptime" => info.uptime_ms,
        "min_proposal_size" => i64::from(leader.proposal_sizes.min),
        "max_proposal_size" => i64::from(leader.proposal_sizes.max),
        "last_proposal_size" => i64::from(leader.proposal_sizes.last),
        "synced_followers" => leader.synced_followers,
        "synced_non_voting_followers" => leader.synced_non_voting_followers,
        "pending_syncs" => leader.pending_syncs,
        "leader_uptime" => leader.leader_uptime_ms,
        "learners" => leader.learners,
        "synced_observers" => info.synced_observers.unwrap_or(0),
        "quorum_size" => info.quorum_size.unwrap_or(0),
        // auth_failed_count, non_mtls_*_conn_count, outstanding_tls_handshake: no TLS, no SASL.
        _ => 0,
    };
    v.to_string()
}
