//! The text of the commands with more than a line to say: `envi`, `srvr`/`stat`, `cons`,
//! `conf`, `wchs`/`wchp`, `dump`, each as its Java command class prints it.

use super::info::*;
use super::java_fmt::{java_date, java_double, java_socket_addr};
use crate::config::Config;
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub(super) fn render_envi(o: &mut String, info: &FourLwInfo) {
    let e = &info.env;
    let na = |v: &Option<String>| v.clone().unwrap_or_else(|| "<NA>".to_string());
    o.push_str("Environment:\n");
    let rows: [(&str, String); 18] = [
        ("zookeeper.version", info.version.clone()),
        ("host.name", na(&e.host_name)),
        ("java.version", na(&e.java_version)),
        ("java.vendor", na(&e.java_vendor)),
        ("java.home", na(&e.java_home)),
        ("java.class.path", na(&e.java_class_path)),
        ("java.library.path", na(&e.java_library_path)),
        ("java.io.tmpdir", na(&e.java_io_tmpdir)),
        ("java.compiler", na(&e.java_compiler)),
        ("os.name", na(&e.os_name)),
        ("os.arch", na(&e.os_arch)),
        ("os.version", na(&e.os_version)),
        ("user.name", na(&e.user_name)),
        ("user.home", na(&e.user_home)),
        ("user.dir", na(&e.user_dir)),
        ("os.memory.free", format!("{}MB", e.memory_free_mb)),
        ("os.memory.max", format!("{}MB", e.memory_max_mb)),
        ("os.memory.total", format!("{}MB", e.memory_total_mb)),
    ];
    for (k, v) in &rows {
        let _ = writeln!(o, "{k}={v}");
    }
}

pub(super) fn render_stat(o: &mut String, info: &FourLwInfo, with_clients: bool) {
    let _ = writeln!(o, "Zookeeper version: {}", info.version);
    if info.read_only {
        o.push_str("READ-ONLY mode; serving only read-only clients\n");
    }
    if with_clients {
        o.push_str("Clients:\n");
        for c in &info.connections {
            render_connection(o, c, true);
            o.push('\n');
        }
        o.push('\n');
    }
    let _ = writeln!(
        o,
        "Latency min/avg/max: {}/{}/{}",
        info.latency.min_or_zero(),
        java_double(info.latency.avg()),
        info.latency.max
    );
    let _ = writeln!(o, "Received: {}", info.packets_received);
    let _ = writeln!(o, "Sent: {}", info.packets_sent);
    let _ = writeln!(o, "Connections: {}", info.num_alive_connections);
    let _ = writeln!(o, "Outstanding: {}", info.outstanding_requests);
    let _ = writeln!(o, "Zxid: 0x{:x}", info.last_zxid);
    let _ = writeln!(o, "Mode: {}", info.server_state);
    let _ = writeln!(o, "Node count: {}", info.node_count);
    if info.server_state == "leader" {
        let p = info.leader.as_ref().map(|l| l.proposal_sizes).unwrap_or_default();
        let _ = writeln!(o, "Proposal sizes last/min/max: {}/{}/{}", p.last, p.min, p.max);
    }
}

/// `ServerCnxn.dumpConnectionInfo`.
pub(super) fn render_connection(o: &mut String, c: &ConnectionInfo, brief: bool) {
    let ops = if c.interest_ops == 0 { "0".to_string() } else { format!("{:x}", c.interest_ops) };
    let _ = write!(
        o,
        " {}[{ops}](queued={},recved={},sent={}",
        java_socket_addr(&c.remote),
        c.outstanding,
        c.packets_received,
        c.packets_sent
    );
    if !brief && c.session_id != 0 {
        let _ = write!(
            o,
            ",sid=0x{:x},lop={},est={},to={}",
            c.session_id, c.last_op, c.established_ms, c.session_timeout_ms
        );
        if c.last_cxid >= 0 {
            let _ = write!(o, ",lcxid=0x{:x}", c.last_cxid);
        }
        let avg = if c.latency.count == 0 { 0 } else { c.latency.total / c.latency.count };
        let _ = write!(
            o,
            ",lzxid=0x{:x},lresp={},llat={},minlat={},avglat={avg},maxlat={}",
            c.last_zxid,
            c.last_response_time_ms,
            c.last_latency_ms,
            c.latency.min_or_zero(),
            c.latency.max
        );
    }
    o.push(')');
}

/// `ZooKeeperServer.dumpConf` (+ `QuorumZooKeeperServer.dumpConf` in an ensemble).
pub(super) fn render_conf(o: &mut String, info: &FourLwInfo, config: &Config) {
    let _ = writeln!(o, "clientPort={}", info.client_port);
    // ruzk has no TLS listener, so Java's getSecureClientPort() would be -1.
    o.push_str("secureClientPort=-1\n");
    let _ = writeln!(o, "dataDir={}", info.snap_dir.display());
    let _ = writeln!(o, "dataDirSize={}", info.data_dir_size);
    let _ = writeln!(o, "dataLogDir={}", info.log_dir.display());
    let _ = writeln!(o, "dataLogSize={}", info.log_dir_size);
    let _ = writeln!(o, "tickTime={}", config.tick_time_ms);
    let _ = writeln!(o, "maxClientCnxns={}", config.max_client_cnxns);
    let _ = writeln!(o, "minSessionTimeout={}", config.min_session_timeout_ms);
    let _ = writeln!(o, "maxSessionTimeout={}", config.max_session_timeout_ms);
    let _ = writeln!(o, "clientPortListenBacklog={}", config.client_port_listen_backlog);
    let _ = writeln!(o, "serverId={}", info.server_id);
    if !config.is_distributed() {
        return;
    }
    let _ = writeln!(o, "initLimit={}", config.init_limit);
    let _ = writeln!(o, "syncLimit={}", config.sync_limit);
    let _ = writeln!(o, "electionAlg={}", config.election_alg);
    let me = config.this_server();
    let ports = |f: fn(&crate::config::ServerAddr) -> u16| {
        me.map(|s| s.addrs.iter().map(|a| f(a).to_string()).collect::<Vec<_>>().join("|")).unwrap_or_default()
    };
    let _ = writeln!(o, "electionPort={}", ports(|a| a.election_port));
    let _ = writeln!(o, "quorumPort={}", ports(|a| a.quorum_port));
    let _ = writeln!(o, "peerType={}", config.peer_type.ordinal());
    o.push_str("membership: \n");
    match &info.quorum_verifier {
        Some(qv) => o.push_str(qv),
        None => o.push_str(&config.quorum_verifier_string()),
    }
}

/// `WatchManager.toString` (data watches only), then WatchCommand's println.
pub(super) fn render_wchs(o: &mut String, info: &FourLwInfo) {
    let paths = watches_by_path(&info.data_watches).len();
    let total: usize = info.data_watches.iter().map(|(_, p)| p.len()).sum();
    let _ = writeln!(o, "{} connections watching {paths} paths", info.data_watches.len());
    let _ = writeln!(o, "Total watches:{total}");
}

/// Java iterates hash maps here, so the order is unspecified; sorted output is as valid.
pub(super) fn watches_by_path(by_session: &[(i64, Vec<String>)]) -> BTreeMap<&str, Vec<i64>> {
    let mut m: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (sid, paths) in by_session {
        for p in paths {
            m.entry(p.as_str()).or_default().push(*sid);
        }
    }
    for sids in m.values_mut() {
        sids.sort_unstable();
        sids.dedup();
    }
    m
}

pub(super) fn render_dump(o: &mut String, info: &FourLwInfo) {
    o.push_str("SessionTracker dump:\n");
    match &info.sessions {
        SessionDump::Expiry { local, global } => {
            if let Some(l) = local {
                o.push_str("Local Session ");
                dump_expiry(o, l, |o, sid| {
                    let _ = write!(o, "0x{sid:x}");
                });
                o.push_str("Global ");
            }
            o.push_str("Session ");
            dump_expiry(o, global, |o, sid| {
                let _ = write!(o, "0x{sid:x}");
            });
        }
        SessionDump::Learner { local, global } => {
            if let Some(l) = local {
                o.push_str("Local Session ");
                dump_expiry(o, l, |o, sid| {
                    let _ = write!(o, "0x{sid:x}");
                });
            }
            let mut g = global.clone();
            g.sort();
            let _ = writeln!(o, "Global Sessions({}):", g.len());
            for (sid, to) in g {
                let _ = writeln!(o, "0x{sid:x}\t{to}ms");
            }
        }
    }
    o.push_str("ephemeral nodes dump:\n");
    let _ = writeln!(o, "Sessions with Ephemerals ({}):", info.ephemerals.len());
    for (sid, paths) in &info.ephemerals {
        let _ = writeln!(o, "0x{sid:x}:");
        for p in paths {
            let _ = writeln!(o, "\t{p}");
        }
    }
    o.push_str("Connections dump:\n");
    o.push_str("Connections ");
    dump_expiry(o, &info.connection_expiry, |o, c| {
        let _ = write!(o, "ip: {} sessionId: 0x{:x}", java_socket_addr(&c.remote), c.session_id);
    });
}

/// `ExpiryQueue.dump`: `Sets (buckets)/(members):`, then buckets in time order.
fn dump_expiry<T>(o: &mut String, buckets: &[ExpiryBucket<T>], entry: impl Fn(&mut String, &T)) {
    let members: usize = buckets.iter().map(|b| b.entries.len()).sum();
    let _ = writeln!(o, "Sets ({})/({members}):", buckets.len());
    let mut sorted: Vec<&ExpiryBucket<T>> = buckets.iter().collect();
    sorted.sort_by_key(|b| b.expire_at_ms);
    for b in sorted {
        let _ = writeln!(o, "{} expire at {}:", b.entries.len(), java_date(b.expire_at_ms));
        for e in &b.entries {
            o.push('\t');
            entry(o, e);
            o.push('\n');
        }
    }
}
