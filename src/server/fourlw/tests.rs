//! The renderers against replies captured from Java 3.8.0 (`tests/data/4lw/`).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::java_fmt::{java_date, java_socket_addr, round_half_up_4};
use super::*;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

const JAVA_VERSION: &str = "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC";
const S0: i64 = 0x10000055f280000;
const S1: i64 = 0x10000055f280001;

fn captured(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/4lw").join(name);
    std::fs::read_to_string(p).unwrap()
}

fn config(text: &str, myid: Option<&str>) -> Config {
    let myid = myid.map(str::to_string);
    let reader = move |p: &Path| {
        if p.ends_with("myid") {
            myid.clone()
        } else {
            None
        }
    };
    Config::parse(Path::new("zoo.cfg"), text, &crate::config::Props::new(), &reader).unwrap()
}

/// The standalone server the captures in tests/data/4lw came from.
fn standalone_config() -> Config {
    config(
        "tickTime=2000\ndataDir=/tmp/cfgwork/j1/data\nclientPort=21101\nclientPortAddress=127.0.0.1\n\
         4lw.commands.whitelist=*\nadmin.enableServer=false\n",
        None,
    )
}

fn latency(count: i64, total: i64, min: i64, max: i64) -> Summary {
    Summary { count, total, min, max }
}

fn conn(port: u16, ops: i32, recved: i64, sent: i64) -> ConnectionInfo {
    ConnectionInfo {
        remote: SocketAddr::from(([127, 0, 0, 1], port)),
        interest_ops: ops,
        outstanding: 0,
        packets_received: recved,
        packets_sent: sent,
        session_id: 0,
        last_op: "NA".into(),
        established_ms: 0,
        session_timeout_ms: 0,
        last_cxid: -1,
        last_zxid: -1,
        last_response_time_ms: 0,
        last_latency_ms: 0,
        latency: Summary::default(),
    }
}

/// State matching the standalone capture: two sessions, two ephemerals, three data watches.
fn standalone_info() -> FourLwInfo {
    FourLwInfo {
        version: JAVA_VERSION.into(),
        serving: true,
        server_state: "standalone".into(),
        last_zxid: 5,
        node_count: 8,
        num_alive_connections: 3,
        data_watches: vec![(S1, vec!["/a".into()]), (S0, vec!["/a".into(), "/a/e1".into()])],
        watch_count: 4,
        ephemerals: vec![(S1, vec!["/a/e1".into()]), (S0, vec!["/a/e2".into()])],
        data_dir_size: 67109337,
        log_dir_size: 67109337,
        snap_dir: PathBuf::from("/tmp/cfgwork/j1/data/version-2"),
        log_dir: PathBuf::from("/tmp/cfgwork/j1/data/version-2"),
        client_port: 21101,
        server_id: 0,
        trace_mask: 306,
        ..FourLwInfo::default()
    }
}

#[test]
fn command_ints_are_the_ascii_bytes_big_endian() {
    assert_eq!(command_from_int(0x72756f6b), Some(FourLw::Ruok));
    assert_eq!(command_from_int(0x6d6e7472), Some(FourLw::Mntr));
    assert_eq!(command_from_int(0x73746d6b), Some(FourLw::Stmk));
    assert_eq!(command_from_int(0xfff4fffd_u32 as i32), Some(FourLw::TelnetClose));
    assert_eq!(command_from_int(0x78787878), None);
    assert_eq!(command_from_int(45), None, "an ordinary frame length is not a command");
    for c in ALL {
        assert_eq!(command_from_int(c.code()), Some(c));
    }
}

#[test]
fn default_whitelist_allows_only_srvr() {
    let cfg = config("dataDir=/d\nclientPort=1\n", None);
    let info = standalone_info();
    assert_eq!(render(FourLw::Mntr, &info, &cfg), "mntr is not executed because it is not in the whitelist.\n");
    assert_eq!(render(FourLw::Ruok, &info, &cfg), "ruok is not executed because it is not in the whitelist.\n");
    assert!(render(FourLw::Srvr, &info, &cfg).starts_with("Zookeeper version: "));
    assert_eq!(side_effect(FourLw::Srst, &info, &cfg), None);
    assert!(!is_allowed(FourLw::TelnetClose, &cfg.four_letter_whitelist));
    assert!(!needs_mask_bytes(FourLw::Stmk, &cfg.four_letter_whitelist));
    assert!(needs_mask_bytes(FourLw::Stmk, &standalone_config().four_letter_whitelist));
    assert!(!needs_mask_bytes(FourLw::Gtmk, &standalone_config().four_letter_whitelist));
}

#[test]
fn from_config_fills_what_the_configuration_decides() {
    let info = FourLwInfo::from_config(&config("dataDir=data\nclientPort=21101\n", Some("4")), Path::new("/srv"));
    assert_eq!(info.snap_dir, PathBuf::from("/srv/data/version-2"));
    assert_eq!(info.log_dir, PathBuf::from("/srv/data/version-2"));
    assert_eq!((info.client_port, info.server_id, info.trace_mask), (21101, 0, 306));
    assert_eq!((info.server_state.as_str(), info.quorum_size, info.serving), ("standalone", None, false));
    let ens = config(
        "initLimit=1\nsyncLimit=1\ndataDir=/d\ndataLogDir=/l\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2:observer\n",
        Some("2"),
    );
    let info = FourLwInfo::from_config(&ens, Path::new("/srv"));
    assert_eq!((info.client_port, info.server_id, info.quorum_size), (-1, 2, Some(2)));
    assert_eq!(info.log_dir, PathBuf::from("/l/version-2"));
}

#[test]
fn hash_and_whitelist_texts_match_a_second_capture() {
    // Java 3.8.0 with `4lw.commands.whitelist=hash, srvr ,ruok` after 300 creates.
    let cfg = config("dataDir=/d\nclientPort=1\n4lw.commands.whitelist=hash, srvr ,ruok\n", None);
    let info = FourLwInfo { digest_log: vec![(0x80, 278142866775), (0x100, 536230571305)], ..standalone_info() };
    assert_eq!(render(FourLw::Hash, &info, &cfg), captured("hash_300.txt"));
    assert_eq!(render(FourLw::Mntr, &info, &cfg), captured("not_whitelisted_mntr.txt"));
    assert_eq!(
        render(FourLw::TelnetClose, &info, &cfg),
        "telnet close is not executed because it is not in the whitelist.\n"
    );
    let negative = FourLwInfo { digest_log: vec![(0x180, -5)], ..standalone_info() };
    assert_eq!(render(FourLw::Hash, &negative, &cfg), "180: -5\n");
}

#[test]
fn not_serving_text_where_java_checks() {
    let cfg = standalone_config();
    let info = FourLwInfo { serving: false, trace_mask: 306, ..standalone_info() };
    assert_eq!(render(FourLw::Srvr, &info, &cfg), format!("{ZK_NOT_SERVING}\n"));
    assert_eq!(render(FourLw::Mntr, &info, &cfg), format!("{ZK_NOT_SERVING}\n"));
    assert_eq!(render(FourLw::Hash, &info, &cfg), ZK_NOT_SERVING, "DigestCommand uses print");
    assert_eq!(render(FourLw::Isro, &info, &cfg), "null");
    assert_eq!(render(FourLw::Ruok, &info, &cfg), "imok");
    assert_eq!(render(FourLw::Gtmk, &info, &cfg), "306");
    assert!(render(FourLw::Envi, &info, &cfg).starts_with("Environment:\n"));
    assert_eq!(side_effect(FourLw::Crst, &info, &cfg), None);
    assert_eq!(side_effect(FourLw::Stmk, &info, &cfg), Some(SideEffect::SetTraceMask));
}

#[test]
fn simple_commands_match_the_capture() {
    let cfg = standalone_config();
    let info = standalone_info();
    assert_eq!(render(FourLw::Ruok, &info, &cfg), captured("ruok.txt"));
    assert_eq!(render(FourLw::Isro, &info, &cfg), captured("isro.txt"));
    assert_eq!(render(FourLw::Gtmk, &info, &cfg), captured("gtmk.txt"));
    assert_eq!(render(FourLw::Dirs, &info, &cfg), captured("dirs.txt"));
    assert_eq!(render(FourLw::Crst, &info, &cfg), captured("crst.txt"));
    assert_eq!(render(FourLw::Srst, &info, &cfg), captured("srst.txt"));
    assert_eq!(render(FourLw::Hash, &info, &cfg), captured("hash.txt"));
    let stmk = FourLwInfo { trace_mask: 15, ..standalone_info() };
    assert_eq!(render(FourLw::Stmk, &stmk, &cfg), captured("stmk.txt"));
    assert_eq!(side_effect(FourLw::Crst, &info, &cfg), Some(SideEffect::ResetConnectionStats));
    assert_eq!(side_effect(FourLw::TelnetClose, &info, &cfg), Some(SideEffect::Close));
    assert_eq!(render(FourLw::TelnetClose, &info, &cfg), "");
    let ro = FourLwInfo { read_only: true, ..standalone_info() };
    assert_eq!(render(FourLw::Isro, &ro, &cfg), "ro");
}

#[test]
fn srvr_and_stat_match_the_capture() {
    let cfg = standalone_config();
    let info =
        FourLwInfo { latency: latency(30, 29, 0, 10), packets_received: 34, packets_sent: 33, ..standalone_info() };
    assert_eq!(render(FourLw::Srvr, &info, &cfg), captured("srvr.txt"));
    let info = FourLwInfo {
        latency: latency(31, 29, 0, 10),
        packets_received: 36,
        packets_sent: 35,
        connections: vec![conn(54528, 0, 1, 0), conn(60636, 1, 25, 25), conn(60634, 1, 6, 6)],
        ..standalone_info()
    };
    assert_eq!(render(FourLw::Stat, &info, &cfg), captured("stat.txt"));
    let ro = FourLwInfo { read_only: true, server_state: "read-only".into(), ..standalone_info() };
    let text = render(FourLw::Srvr, &ro, &cfg);
    assert!(text.contains(", built on 2024-12-29 17:54 UTC\nREAD-ONLY mode; serving only read-only clients\n"));
    assert!(text.contains("Mode: read-only\n"));
}

#[test]
fn cons_matches_the_capture_including_a_connection_without_session() {
    let cfg = standalone_config();
    let mut c1 = conn(60636, 1, 26, 26);
    c1.session_id = S1;
    c1.last_op = "PING".into();
    c1.established_ms = 1795603076121;
    c1.session_timeout_ms = 30000;
    c1.last_cxid = 0x18;
    c1.last_zxid = 5;
    c1.last_response_time_ms = 377213;
    c1.last_latency_ms = 1;
    c1.latency = latency(26, 13, 0, 10);
    let mut c0 = conn(60634, 1, 7, 7);
    c0.session_id = S0;
    c0.last_op = "PING".into();
    c0.established_ms = 1795603076121;
    c0.session_timeout_ms = 10000;
    c0.last_cxid = 3;
    c0.last_zxid = 5;
    c0.last_response_time_ms = 377189;
    c0.latency = latency(7, 7, 0, 5);
    let info = FourLwInfo { connections: vec![conn(54560, 0, 1, 0), c1, c0], ..standalone_info() };
    assert_eq!(render(FourLw::Cons, &info, &cfg), captured("cons.txt"));
    // After crst Java prints no lcxid (-1); lzxid -1 would print as 64 bits of hex.
    let mut reset = conn(1, 1, 0, 0);
    reset.session_id = 1;
    let text = render(FourLw::Cons, &FourLwInfo { connections: vec![reset], ..standalone_info() }, &cfg);
    assert!(text.contains(",to=0,lzxid=0xffffffffffffffff,lresp=0,"), "{text}");
}

#[test]
fn conf_matches_standalone_and_leader_captures() {
    assert_eq!(render(FourLw::Conf, &standalone_info(), &standalone_config()), captured("conf.txt"));
    let cfg = config(
        "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/tmp/cfgwork/q3/data\nclientPort=21113\n\
         clientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nadmin.enableServer=false\n\
         server.1=127.0.0.1:21121:21131\nserver.2=127.0.0.1:21122:21132\n\
         server.3=127.0.0.1:21123:21133;127.0.0.1:21113\n",
        Some("3"),
    );
    let info = FourLwInfo {
        data_dir_size: 613,
        log_dir_size: 613,
        snap_dir: PathBuf::from("/tmp/cfgwork/q3/data/version-2"),
        log_dir: PathBuf::from("/tmp/cfgwork/q3/data/version-2"),
        client_port: 21113,
        server_id: cfg.effective_server_id(),
        server_state: "leader".into(),
        ..standalone_info()
    };
    assert_eq!(render(FourLw::Conf, &info, &cfg), captured("leader_conf.txt"));
}

#[test]
fn watch_commands_match_the_capture() {
    let cfg = standalone_config();
    let info = standalone_info();
    assert_eq!(render(FourLw::Wchs, &info, &cfg), captured("wchs.txt"));
    assert_eq!(render(FourLw::Wchc, &info, &cfg), captured("wchc.txt"));
    assert_eq!(render(FourLw::Wchp, &info, &cfg), captured("wchp.txt"));
}

#[test]
fn dump_matches_the_capture() {
    let cfg = standalone_config();
    let b = |t: i64, entries: Vec<i64>| ExpiryBucket { expire_at_ms: t, entries };
    let cref =
        |port: u16, session_id: i64| ConnectionRef { remote: SocketAddr::from(([127, 0, 0, 1], port)), session_id };
    let info = FourLwInfo {
        sessions: SessionDump::Expiry {
            local: None,
            global: vec![
                b(1795603107000, vec![]),
                b(1795603093000, vec![]),
                b(1795603097000, vec![]),
                b(1795603101000, vec![S0]),
                b(1795603117000, vec![S1]),
            ],
        },
        connection_expiry: vec![
            ExpiryBucket { expire_at_ms: 1795603099000, entries: vec![] },
            ExpiryBucket { expire_at_ms: 1795603109000, entries: vec![cref(50756, 0), cref(60634, S0)] },
            ExpiryBucket { expire_at_ms: 1795603119000, entries: vec![cref(60636, S1)] },
        ],
        ..standalone_info()
    };
    assert_eq!(render(FourLw::Dump, &info, &cfg), captured("dump.txt"));
    let learner =
        FourLwInfo { sessions: SessionDump::Learner { local: None, global: vec![(S1, 30000), (S0, 10000)] }, ..info };
    let text = render(FourLw::Dump, &learner, &cfg);
    assert!(text.starts_with(&format!(
        "SessionTracker dump:\nGlobal Sessions(2):\n0x{S0:x}\t10000ms\n0x{S1:x}\t30000ms\nephemeral nodes dump:\n"
    )));
}

#[test]
fn envi_has_javas_keys_in_order() {
    let cfg = standalone_config();
    let info = FourLwInfo {
        env: EnvInfo { host_name: Some("localhost".into()), memory_max_mb: 256, ..EnvInfo::default() },
        ..standalone_info()
    };
    let got = render(FourLw::Envi, &info, &cfg);
    let keys = |t: &str| t.lines().map(|l| l.split('=').next().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(keys(&got), keys(&captured("envi.txt")));
    assert!(got.contains("\nhost.name=localhost\njava.version=<NA>\n"));
    assert!(got.ends_with("os.memory.max=256MB\nos.memory.total=0MB\n"));
    assert!(got.starts_with(&format!("Environment:\nzookeeper.version={JAVA_VERSION}\n")));
}

fn mntr_keys(text: &str) -> Vec<String> {
    text.lines().map(|l| l.split('\t').next().unwrap().to_string()).collect()
}

/// Java's per-namespace and per-learner metric sets appear only with traffic; ruzk leaves
/// them out.
fn without_dynamic_sets(keys: Vec<String>) -> Vec<String> {
    keys.into_iter().filter(|k| !k.ends_with("_per_namespace") && !k.contains("_learner_handler_qp_")).collect()
}

#[test]
fn mntr_standalone_has_javas_keys_in_javas_order() {
    let cfg = standalone_config();
    let mut info = standalone_info();
    info.latency = latency(31, 29, 0, 10);
    info.counters.insert("digest_mismatches_count".into(), 7);
    info.summaries.insert("fsynctime".into(), latency(4, 5, 1, 2));
    info.percentile_summaries.insert(
        "readlatency".into(),
        PercentileSummary { summary: latency(26, 6, 0, 1), p50: 0, p95: 1, p99: 1, p999: 1 },
    );
    let got = render(FourLw::Mntr, &info, &cfg);
    assert_eq!(mntr_keys(&got), without_dynamic_sets(mntr_keys(&captured("mntr.txt"))));
    assert!(got.starts_with(&format!("zk_version\t{JAVA_VERSION}\nzk_server_state\tstandalone\n")));
    for line in [
        "zk_avg_latency\t0.9355",
        "zk_znode_count\t8",
        "zk_watch_count\t4",
        "zk_connection_drop_probability\t0.0",
        "zk_digest_mismatches_count\t7",
        "zk_avg_fsynctime\t1.25",
        "zk_min_fsynctime\t1",
        "zk_sum_fsynctime\t5",
        "zk_avg_readlatency\t0.2308",
        "zk_p95_readlatency\t1",
        "zk_avg_snapshottime\t0.0",
        "zk_min_snapshottime\t0",
        "zk_last_client_response_size\t-1",
    ] {
        assert!(got.contains(&format!("\n{line}\n")), "missing {line:?}");
    }
}

#[test]
fn mntr_leader_and_follower_keys_match_the_captures() {
    let cfg = standalone_config();
    let leader = FourLwInfo {
        server_state: "leader".into(),
        peer_state: Some("leading - broadcast".into()),
        leader: Some(LeaderInfo { learners: 2, synced_followers: 2, ..LeaderInfo::default() }),
        synced_observers: Some(0),
        quorum_size: Some(3),
        ..standalone_info()
    };
    let got = render(FourLw::Mntr, &leader, &cfg);
    assert_eq!(mntr_keys(&got), without_dynamic_sets(mntr_keys(&captured("leader_mntr.txt"))));
    assert!(got.contains("\nzk_peer_state\tleading - broadcast\n"));
    assert!(got.contains("\nzk_min_proposal_size\t-1\n"));
    assert!(got.contains("\nzk_synced_followers\t2\n"));
    let srvr = render(FourLw::Srvr, &leader, &cfg);
    assert!(srvr.ends_with("Mode: leader\nNode count: 8\nProposal sizes last/min/max: -1/-1/-1\n"));
    let follower = FourLwInfo {
        server_state: "follower".into(),
        peer_state: Some("following - broadcast".into()),
        quorum_size: Some(3),
        ..standalone_info()
    };
    let got = render(FourLw::Mntr, &follower, &cfg);
    assert_eq!(mntr_keys(&got), without_dynamic_sets(mntr_keys(&captured("follower_mntr.txt"))));
}

#[test]
fn averages_round_half_up_on_the_exact_binary_value() {
    assert_eq!(latency(31, 29, 0, 0).avg(), 0.9355);
    assert_eq!(latency(3, 2, 0, 0).avg(), 0.6667);
    assert_eq!(latency(0, 0, 0, 0).avg(), 0.0);
    assert_eq!(round_half_up_4(2.00005), 2.0, "2.00005 is stored just below the half");
    assert_eq!(round_half_up_4(1.00005), 1.0001, "1.00005 is stored just above the half");
    assert_eq!(round_half_up_4(0.00015), 0.0001);
    assert_eq!(round_half_up_4(9.99996), 10.0);
    assert_eq!(round_half_up_4(-0.12346), -0.1235);
}

#[test]
fn doubles_print_like_java() {
    assert_eq!(java_double(0.0), "0.0");
    assert_eq!(java_double(1.0), "1.0");
    assert_eq!(java_double(0.9355), "0.9355");
    assert_eq!(java_double(74.875), "74.875");
    assert_eq!(java_double(6.3333), "6.3333");
    assert_eq!(java_double(0.001), "0.001");
    assert_eq!(java_double(0.0001), "1.0E-4");
    assert_eq!(java_double(0.00015), "1.5E-4");
    assert_eq!(java_double(1e7), "1.0E7");
    assert_eq!(java_double(12345678.9), "1.23456789E7");
    assert_eq!(java_double(-2.5), "-2.5");
}

#[test]
fn dates_and_addresses_print_like_java() {
    assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
    assert_eq!(java_date(1795603093000), "Wed Nov 25 10:38:13 UTC 2026");
    assert_eq!(java_date(951782400000), "Tue Feb 29 00:00:00 UTC 2000");
    assert_eq!(java_socket_addr(&"[::1]:5".parse().unwrap()), "/[0:0:0:0:0:0:0:1]:5");
    assert_eq!(java_socket_addr(&"10.1.2.3:2181".parse().unwrap()), "/10.1.2.3:2181");
}

#[test]
fn version_keeps_the_parts_scripts_split_on() {
    let v = version_string();
    assert!(v.starts_with("3.8.0-ruzk-"), "{v}");
    assert!(v.contains(", built on "), "{v}");
}
