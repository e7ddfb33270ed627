//! The parser against Java 3.8.0's behaviour, file by file.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;

fn no_files(_: &Path) -> Option<String> {
    None
}

fn parse(text: &str) -> Result<Config> {
    Config::parse(Path::new("zoo.cfg"), text, &Props::new(), &no_files)
}

fn parse_with(text: &str, props: &Props, myid: Option<&str>) -> Result<Config> {
    let myid = myid.map(str::to_string);
    let reader = move |p: &Path| {
        if p.ends_with("myid") {
            myid.clone()
        } else {
            None
        }
    };
    Config::parse(Path::new("zoo.cfg"), text, props, &reader)
}

const ENSEMBLE: &str = "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/d\nclientPort=2181\n\
    server.1=10.0.0.1:2888:3888\nserver.2=10.0.0.2:2888:3888\nserver.3=10.0.0.3:2888:3888\n";

#[test]
fn minimal_standalone_gets_java_defaults() {
    let c = parse("dataDir=/var/zk\nclientPort=2181\n").unwrap();
    assert_eq!(c.tick_time_ms, 3000);
    assert_eq!(c.data_dir, PathBuf::from("/var/zk"));
    assert_eq!(c.data_log_dir, PathBuf::from("/var/zk"));
    assert_eq!(c.client_port, Some(2181));
    assert_eq!(c.client_port_address, None);
    assert_eq!(c.secure_client_port, None);
    assert_eq!(c.max_client_cnxns, 60);
    assert_eq!((c.min_session_timeout_ms, c.max_session_timeout_ms), (6000, 60000));
    assert_eq!(c.autopurge_snap_retain_count, 3);
    assert_eq!(c.autopurge_purge_interval_hours, 0);
    assert!(c.standalone_enabled && !c.reconfig_enabled && !c.is_distributed());
    assert_eq!(c.snap_count, 100000);
    assert_eq!(c.pre_alloc_size_kb, 65536);
    assert_eq!(c.txn_log_size_limit_kb, -1);
    assert_eq!(c.snap_size_limit_kb, 4194304);
    assert!(c.force_sync && c.digest_enabled && c.close_session_txn_enabled && c.admin_enable_server);
    assert!(!c.extended_types_enabled && !c.skip_acl && !c.readonly_mode && !c.local_sessions_enabled);
    assert_eq!(c.fsync_warning_threshold_ms, 1000);
    assert_eq!(c.jute_maxbuffer, 0xfffff);
    assert_eq!(c.snapshot_compression, SnapshotCompression::Checked);
    assert_eq!(c.container_check_interval_ms, 60000);
    assert_eq!(c.admin_server_port, 8080);
    assert_eq!(c.server_id, None);
    assert_eq!(c.effective_server_id(), 0);
    assert!(c.four_letter_whitelist.allows("srvr"));
    assert!(!c.four_letter_whitelist.allows("mntr") && !c.four_letter_whitelist.allows("isro"));
    assert_eq!(c.quorum_verifier_string(), "version=0");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn every_typed_key_is_read() {
    let text = "tickTime=100\ndataDir=/a\ndataLogDir=/b\nclientPort=1\nclientPortAddress=::1\n\
        secureClientPort=2\nsecureClientPortAddress=127.0.0.2\nobserverMasterPort=3\nclientPortListenBacklog=4\n\
        maxClientCnxns=5\nminSessionTimeout=6\nmaxSessionTimeout=7\ninitLimit=8\nsyncLimit=9\n\
        connectToLearnerMasterLimit=10\nelectionAlg=3\nquorumListenOnAllIPs=true\npeerType=participant\n\
        syncEnabled=false\nautopurge.snapRetainCount=11\nautopurge.purgeInterval=12\nstandaloneEnabled=true\n\
        reconfigEnabled=TRUE\nsslQuorum=true\nportUnification=true\nsslQuorumReloadCertFiles=true\n\
        localSessionsEnabled=true\nlocalSessionsUpgradingEnabled=true\nquorum.auth.enableSasl=true\n\
        quorum.auth.learnerRequireSasl=true\nquorum.auth.serverRequireSasl=true\n\
        quorum.auth.learner.saslLoginContext=L\nquorum.auth.server.saslLoginContext=S\n\
        quorum.auth.kerberos.servicePrincipal=P\nquorum.cnxn.threads.size=13\njvm.pause.monitor=true\n\
        jvm.pause.info-threshold.ms=14\njvm.pause.warn-threshold.ms=15\njvm.pause.sleep.time.ms=16\n\
        metricsProvider.className=org.apache.zookeeper.metrics.impl.DefaultMetricsProvider\n\
        metricsProvider.exportJvmInfo=false\nmultiAddress.reachabilityCheckTimeoutMs=17\n\
        multiAddress.reachabilityCheckEnabled=false\noraclePath=/o\n\
        snapCount=18\npreAllocSize=19\ntxnLogSizeLimitInKb=20\nsnapSizeLimitInKb=21\nforceSync=no\n\
        fsync.warningthresholdms=22\nextendedTypesEnabled=true\nemulate353TTLNodes=true\n\
        DigestAuthenticationProvider.superDigest=super:x\nskipACL=yes\ndigest.enabled=false\n\
        closeSessionTxn.enabled=false\nsnapshot.compression.method=SNAPPY\nsnapshot.trust.empty=true\n\
        db.autocreate=false\ncommitLogCount=23\nsnapshotSizeFactor=0.5\nmaxCnxns=24\n\
        globalOutstandingLimit=25\nleaderServes=no\nenforceQuota=true\n4lw.commands.whitelist=*\n\
        admin.enableServer=false\nadmin.serverPort=26\nadmin.serverAddress=127.0.0.3\nadmin.commandURL=/c\n\
        jute.maxbuffer.extrasize=27\n";
    let c = parse(text).unwrap();
    assert_eq!(c.tick_time_ms, 100);
    assert_eq!((c.data_dir.as_path(), c.data_log_dir.as_path()), (Path::new("/a"), Path::new("/b")));
    assert_eq!((c.client_port, c.client_port_address.as_deref()), (Some(1), Some("0:0:0:0:0:0:0:1")));
    assert_eq!((c.secure_client_port, c.secure_client_port_address.as_deref()), (Some(2), Some("127.0.0.2")));
    assert_eq!((c.observer_master_port, c.client_port_listen_backlog), (Some(3), 4));
    assert_eq!((c.max_client_cnxns, c.min_session_timeout_ms, c.max_session_timeout_ms), (5, 6, 7));
    assert_eq!((c.init_limit, c.sync_limit, c.connect_to_learner_master_limit), (8, 9, 10));
    assert!(c.quorum_listen_on_all_ips && !c.sync_enabled && c.reconfig_enabled);
    assert_eq!((c.autopurge_snap_retain_count, c.autopurge_purge_interval_hours), (11, 12));
    assert!(c.ssl_quorum && c.port_unification && c.ssl_quorum_reload_cert_files);
    assert!(c.local_sessions_enabled && c.local_sessions_upgrading_enabled);
    assert!(c.quorum_enable_sasl && c.quorum_learner_require_sasl && c.quorum_server_require_sasl);
    assert_eq!((c.quorum_learner_login_context.as_str(), c.quorum_server_login_context.as_str()), ("L", "S"));
    assert_eq!((c.quorum_service_principal.as_str(), c.quorum_cnxn_threads_size), ("P", 13));
    assert!(c.jvm_pause_monitor);
    assert_eq!((c.jvm_pause_info_threshold_ms, c.jvm_pause_warn_threshold_ms, c.jvm_pause_sleep_time_ms), (14, 15, 16));
    assert_eq!(c.metrics_provider_config.get("exportJvmInfo").map(String::as_str), Some("false"));
    assert!(!c.metrics_provider_config.contains_key("className"));
    assert_eq!(c.multi_address_reachability_check_timeout_ms, 17);
    assert!(!c.multi_address_reachability_check_enabled);
    assert_eq!(c.oracle_path.as_deref(), Some("/o"));
    assert_eq!((c.snap_count, c.pre_alloc_size_kb, c.txn_log_size_limit_kb, c.snap_size_limit_kb), (18, 19, 20, 21));
    assert!(!c.force_sync);
    assert_eq!(c.fsync_warning_threshold_ms, 22);
    assert!(c.extended_types_enabled && c.emulate_353_ttl_nodes && c.skip_acl);
    assert_eq!(c.super_digest.as_deref(), Some("super:x"));
    assert!(!c.digest_enabled && !c.close_session_txn_enabled);
    assert_eq!(c.snapshot_compression, SnapshotCompression::Snappy);
    assert!(c.snapshot_trust_empty && !c.db_autocreate);
    assert_eq!((c.commit_log_count, c.snapshot_size_factor), (23, 0.5));
    assert_eq!((c.max_cnxns, c.global_outstanding_limit), (24, 25));
    assert!(!c.leader_serves && c.enforce_quota);
    assert_eq!(c.four_letter_whitelist, FourLetterWhitelist::All);
    assert!(!c.admin_enable_server);
    assert_eq!(
        (c.admin_server_port, c.admin_server_address.as_str(), c.admin_command_url.as_str()),
        (26, "127.0.0.3", "/c")
    );
    assert_eq!(c.jute_maxbuffer_extrasize, 27);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn keys_without_zookeeper_prefix_cannot_come_from_zoo_cfg() {
    // Java sets zookeeper.<key>; these properties are read without the prefix.
    let c =
        parse("dataDir=/d\njute.maxbuffer=10\nreadonlymode.enabled=true\nznode.container.checkIntervalMs=5\n").unwrap();
    assert_eq!(c.jute_maxbuffer, 0xfffff);
    assert!(!c.readonly_mode);
    assert_eq!(c.container_check_interval_ms, 60000);
    assert_eq!(c.props.get("zookeeper.jute.maxbuffer"), Some("10"));
    let p = Props::from_args_and_env(
        &["jute.maxbuffer=10".into(), "readonlymode.enabled=true".into(), "znode.container.checkIntervalMs=5".into()],
        None,
        None,
    );
    let c = parse_with("dataDir=/d\n", &p, None).unwrap();
    assert_eq!((c.jute_maxbuffer, c.container_check_interval_ms), (10, 5));
    assert!(c.readonly_mode && c.four_letter_whitelist.allows("isro"));
}

#[test]
fn jvmflags_strings_are_split_like_the_shell_does() {
    let p = Props::from_args_and_env(
        &["zookeeper.snapCount=3".into(), "-Dx.y=1=2".into()],
        Some("-Xmx512m -Dzookeeper.snapCount=1 -Da=server  -Dflag"),
        Some("-XX:+UseG1GC -Dzookeeper.snapCount=2 -Da=jvm -Dempty="),
    );
    assert_eq!(p.get("zookeeper.snapCount"), Some("3"));
    assert_eq!(p.get("a"), Some("jvm"));
    assert_eq!(p.get("flag"), Some(""));
    assert_eq!(p.get("empty"), Some(""));
    assert_eq!(p.get("x.y"), Some("1=2"));
    assert_eq!(p.get("-Xmx512m"), None);
    assert_eq!(p.iter().count(), 5);
}

#[test]
fn zoo_cfg_key_overrides_the_same_minus_d_property() {
    let p = Props::from_args_and_env(&["zookeeper.snapCount=111".into(), "zookeeper.forceSync=no".into()], None, None);
    let c = parse_with("dataDir=/d\nsnapCount=222\n", &p, None).unwrap();
    assert_eq!(c.snap_count, 222);
    assert!(!c.force_sync);
    assert_eq!(c.props.get("zookeeper.snapCount"), Some("222"));
}

#[test]
fn system_property_readers_follow_java_number_rules() {
    let p = Props::from_args_and_env(
        &["zookeeper.snapCount=0x10".into(), "zookeeper.commitLogCount=010".into(), "zookeeper.maxCnxns=abc".into()],
        None,
        None,
    );
    let c = parse_with("dataDir=/d\n", &p, None).unwrap();
    assert_eq!(c.snap_count, 16);
    assert_eq!(c.commit_log_count, 8);
    assert_eq!(c.max_cnxns, 0);
    assert!(c.warnings.iter().any(|w| w.contains("zookeeper.maxCnxns")), "{:?}", c.warnings);
    let c = parse("dataDir=/d\nsnapCount=1\npreAllocSize=0x10\n").unwrap();
    assert_eq!(c.snap_count, 2, "Java raises snapCount below 2 to 2");
    assert_eq!(c.pre_alloc_size_kb, 65536, "preAllocSize is parseLong, not decode");
    assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
    assert_eq!(java_decode_long("-0x8000000000000000"), Some(i64::MIN));
    assert_eq!(java_decode_long("#ff"), Some(255));
    assert_eq!(java_decode_long("0"), Some(0));
    assert_eq!(java_decode_long("0x"), None);
    assert_eq!(java_decode_long("--1"), None);
    assert_eq!(java_parse_int("+7"), Some(7));
    assert_eq!(java_parse_int("2147483648"), None);
    assert_eq!(java_parse_int(" 7"), None);
}

#[test]
fn a_bad_value_names_the_file_line_and_key() {
    let e = parse("# comment\ndataDir=/d\ntickTime=abc\n").unwrap_err();
    assert_eq!(e.to_string(), "zoo.cfg line 3: tickTime: invalid number \"abc\"");
    let e = parse("dataDir=/d\n\n\nstandaloneEnabled=yes\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "zoo.cfg line 4: standaloneEnabled: Invalid option yes for standaloneEnabled. Choose 'true' or 'false.'"
    );
    let e = parse("dataDir=/d\nclientPort=70000\n").unwrap_err();
    assert_eq!(e.to_string(), "zoo.cfg line 2: clientPort: port out of range:70000");
    let e = parse("dataDir=/d\nserver.1=a:1:1\nserver.2=b:1:2\n").unwrap_err();
    assert!(matches!(&e, ConfigError::Key { line: 2, key, .. } if key == "server.1"), "{e}");
    let e = parse("dataDir=/d\nserver.x=a:1:2\n").unwrap_err();
    assert!(e.to_string().starts_with("zoo.cfg line 2: server.x: invalid server id"), "{e}");
    let e = parse("dataDir=/d\nserver.1=a:1:2:witness\nserver.2=b:1:2\n").unwrap_err();
    assert!(e.to_string().ends_with("Unrecognised peertype: witness"), "{e}");
    let e = parse("dataDir=/d\nserver.1=a:1\n").unwrap_err();
    assert!(e.to_string().contains("does not have the form server_config"), "{e}");
    let e = parse("dataDir=/d\nelectionAlg=0\n").unwrap_err();
    assert!(e.to_string().ends_with("Invalid electionAlg value. Only 3 is supported."), "{e}");
    let e = parse("dataDir=/d\npeerType=spectator\n").unwrap_err();
    assert!(e.to_string().ends_with("Unrecognised peertype: spectator"), "{e}");
}

#[test]
fn whole_file_rules_use_java_wording() {
    let msg = |t: &str| parse(t).unwrap_err().to_string();
    assert_eq!(msg("clientPort=2181\n"), "zoo.cfg: dataDir is not set");
    assert_eq!(
        msg("dataDir=/d\nclientPortAddress=1.2.3.4\n"),
        "zoo.cfg: clientPortAddress is set but clientPort is not set"
    );
    assert_eq!(
        msg("dataDir=/d\nsecureClientPortAddress=1.2.3.4\n"),
        "zoo.cfg: secureClientPortAddress is set but secureClientPort is not set"
    );
    assert_eq!(msg("dataDir=/d\ntickTime=0\n"), "zoo.cfg: tickTime is not set");
    assert_eq!(
        msg("dataDir=/d\nminSessionTimeout=10\nmaxSessionTimeout=5\n"),
        "zoo.cfg: minSessionTimeout must not be larger than maxSessionTimeout"
    );
    assert_eq!(msg(ENSEMBLE), "zoo.cfg: myid file is missing");
    assert_eq!(
        msg("dataDir=/d\nserver.1=a:1:2:observer\n"),
        "zoo.cfg: Observers w/o participants is an invalid configuration"
    );
    assert_eq!(
        msg("dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2:observer\n"),
        "zoo.cfg: Observers w/o quorum is an invalid configuration"
    );
    assert_eq!(
        msg("dataDir=/d\nstandaloneEnabled=false\n"),
        "zoo.cfg: standaloneEnabled = false then number of participants should be >0"
    );
}

#[test]
fn ensemble_with_myid_parses_servers_and_roles() {
    let text = format!("{ENSEMBLE}server.4=10.0.0.4:2888:3888:observer;10.0.0.4:2190\nserver.5=[fe80::1]:1:2;3\n");
    let c = parse_with(&text, &Props::new(), Some("2\n")).unwrap();
    assert_eq!(c.server_id, Some(2));
    assert_eq!(c.effective_server_id(), 2);
    assert!(c.is_distributed());
    assert_eq!(c.voting_members().count(), 4);
    let s4 = &c.servers[&4];
    assert_eq!(s4.peer_type, PeerType::Observer);
    assert_eq!(s4.client_addr, Some(HostPort { host: "10.0.0.4".into(), port: 2190 }));
    let s5 = &c.servers[&5];
    assert_eq!(s5.addrs, vec![ServerAddr { host: "fe80:0:0:0:0:0:0:1".into(), quorum_port: 1, election_port: 2 }]);
    assert_eq!(s5.client_addr, Some(HostPort { host: "0.0.0.0".into(), port: 3 }));
    // This server's client address came from clientPort, so the QV string leaves it out.
    assert!(c.servers[&2].client_addr_from_static);
    assert_eq!(
        c.quorum_verifier_string(),
        "server.1=10.0.0.1:2888:3888:participant\nserver.2=10.0.0.2:2888:3888:participant\n\
         server.3=10.0.0.3:2888:3888:participant\nserver.4=10.0.0.4:2888:3888:observer;10.0.0.4:2190\n\
         server.5=[fe80:0:0:0:0:0:0:1]:1:2:participant;0.0.0.0:3\nversion=0"
    );
    assert!(c.warnings.iter().any(|w| w.contains("odd number")), "{:?}", c.warnings);
}

#[test]
fn own_server_line_supplies_the_client_port_and_peer_type() {
    let text = "initLimit=1\nsyncLimit=1\ndataDir=/d\npeerType=participant\n\
        server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2:observer;127.0.0.1:2183\n";
    let c = parse_with(text, &Props::new(), Some("3")).unwrap();
    assert_eq!((c.client_port, c.client_port_address.as_deref()), (Some(2183), Some("127.0.0.1")));
    assert_eq!(c.peer_type, PeerType::Observer);
    assert_eq!(c.peer_type.ordinal(), 1);
    assert!(c.warnings.iter().any(|w| w.contains("Peer type from servers list")), "{:?}", c.warnings);
    let clash = format!("clientPortAddress=127.0.0.1\nclientPort=2999\n{text}");
    let e = parse_with(&clash, &Props::new(), Some("3")).unwrap_err();
    assert!(e.to_string().contains("is different from client address found in dynamic file"), "{e}");
    // A wildcard static address only has to agree on the port.
    let same_port = format!("clientPort=2183\n{text}");
    assert!(parse_with(&same_port, &Props::new(), Some("3")).is_ok());
}

#[test]
fn one_voting_server_is_standalone_unless_standalone_is_disabled() {
    let text = "dataDir=/d\nclientPort=1\nserver.1=a:1:2\n";
    let c = parse_with(text, &Props::new(), Some("1")).unwrap();
    assert!(!c.is_distributed());
    assert_eq!(c.server_id, Some(1));
    assert_eq!(c.effective_server_id(), 0, "Java's standalone server reports serverId=0");
    assert!(c.warnings.iter().any(|w| w.contains("only one server")));
    let e = parse_with(&format!("standaloneEnabled=false\n{text}"), &Props::new(), Some("1")).unwrap_err();
    assert_eq!(e.to_string(), "zoo.cfg: initLimit is not set");
    let c = parse_with(&format!("standaloneEnabled=false\ninitLimit=1\nsyncLimit=1\n{text}"), &Props::new(), Some("1"))
        .unwrap();
    assert!(c.is_distributed());
}

#[test]
fn myid_is_the_first_line_parsed_as_a_java_long() {
    let ok = |m: &str| parse_with(ENSEMBLE, &Props::new(), Some(m)).map(|c| c.server_id);
    assert_eq!(ok("7"), Ok(Some(7)));
    assert_eq!(ok("7\r\nignored"), Ok(Some(7)));
    assert_eq!(ok("-1\n"), Ok(Some(-1)));
    let e = ok(" 7\n").unwrap_err();
    assert_eq!(e.to_string(), "/d/myid: serverid  7 is not a number");
    let e = ok("").unwrap_err();
    assert_eq!(e.to_string(), "/d/myid: serverid null is not a number");
}

#[test]
fn multiple_addresses_need_the_system_property() {
    let text = "initLimit=1\nsyncLimit=1\ndataDir=/d\nclientPort=1\nserver.1=b:1:2|a:3:4\nserver.2=c:1:2\n";
    let e = parse_with(&format!("multiAddress.enabled=true\n{text}"), &Props::new(), Some("1")).unwrap_err();
    assert!(e.to_string().contains("Multiple address feature is disabled"), "{e}");
    let p = Props::from_args_and_env(&["zookeeper.multiAddress.enabled=true".into()], None, None);
    let c = parse_with(text, &p, Some("1")).unwrap();
    assert!(c.multi_address_enabled);
    assert_eq!(c.servers[&1].to_java_string(), "a:3:4|b:1:2:participant");
}

#[test]
fn properties_syntax_matches_java_properties_load() {
    let text = "  # c\n! c\nk1 = v1  \nk2:v2\nk3 v3\nk4=a\\\n    b\\\\\nk5=\\u0041\\t\\=\nk1=again\n\\ k6=x\nk7\n";
    let lines = parse_properties(text).unwrap();
    let got: Vec<(&str, &str, usize)> = lines.iter().map(|l| (l.key.as_str(), l.value.as_str(), l.line)).collect();
    assert_eq!(
        got,
        vec![
            ("k1", "again", 9),
            ("k2", "v2", 4),
            ("k3", "v3", 5),
            ("k4", "ab\\", 6),
            ("k5", "A\t=", 8),
            (" k6", "x", 10),
            ("k7", "", 11),
        ]
    );
    assert!(parse_properties("k=\\u00zz\n").is_err());
    assert_eq!(
        parse_properties("a=1\r\n\r\nb=2\rc=3").unwrap().iter().map(|l| l.line).collect::<Vec<_>>(),
        vec![1, 3, 4]
    );
    // A comment line does not continue, even when it ends in a backslash.
    assert_eq!(parse_properties("#x\\\ny=1\n").unwrap().len(), 1);
}

#[test]
fn unknown_keys_warn_but_still_become_properties() {
    let c = parse("dataDir=/d\ntickTim=2000\nsnapCount=5\n").unwrap();
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("tickTim"));
    assert_eq!(c.props.get("zookeeper.tickTim"), Some("2000"));
}

#[test]
fn whitelist_parsing_follows_four_letter_commands_is_enabled() {
    let w = FourLetterWhitelist::from_property(Some(" mntr , ,conf"), None);
    assert!(w.allows("mntr") && w.allows("conf") && w.allows("srvr"));
    assert!(!w.allows("ruok") && !w.allows("") && !w.allows("isro"));
    assert_eq!(FourLetterWhitelist::from_property(Some("ruok, *"), None), FourLetterWhitelist::All);
    assert!(FourLetterWhitelist::from_property(None, Some("true")).allows("isro"));
    assert!(!FourLetterWhitelist::from_property(None, Some("TRUE")).allows("isro"));
}

#[test]
fn dynamic_config_file_supplies_the_membership() {
    let text = "initLimit=1\nsyncLimit=1\ndataDir=/d\nclientPort=2185\ndynamicConfigFile=/c/zoo.cfg.dynamic.1f\n";
    let dynamic = "server.1=a:1:2;2185\nserver.2=b:1:2;2186\nserver.3=c:1:2;2187\n";
    let reader = |p: &Path| match p.to_str() {
        Some("/d/myid") => Some("1".to_string()),
        Some("/c/zoo.cfg.dynamic.1f") => Some(dynamic.to_string()),
        _ => None,
    };
    let c = Config::parse(Path::new("zoo.cfg"), text, &Props::new(), &reader).unwrap();
    assert_eq!(c.quorum_version, 0x1f);
    assert_eq!(c.servers.len(), 3);
    assert!(c.quorum_verifier_string().ends_with("server.3=c:1:2:participant;0.0.0.0:2187\nversion=1f"));
    let with_server = format!("{text}server.9=z:1:2\n");
    let e = Config::parse(Path::new("zoo.cfg"), &with_server, &Props::new(), &reader).unwrap_err();
    assert!(e.to_string().ends_with("parameter: server.9 must be in a separate dynamic config file"), "{e}");
    let bad = |p: &Path| {
        if p.ends_with("zoo.cfg.dynamic.1f") {
            Some("server.1=a:1:2\ntickTime=5\n".into())
        } else {
            None
        }
    };
    let e = Config::parse(Path::new("zoo.cfg"), text, &Props::new(), &bad).unwrap_err();
    assert!(e.to_string().ends_with("Unrecognised parameter: tickTime"), "{e}");
}

#[test]
fn default_standalone_listens_on_loopback_2181() {
    let c = Config::default_standalone(Path::new("/tmp/x"));
    assert_eq!((c.client_port, c.client_port_address.as_deref()), (Some(2181), Some("127.0.0.1")));
    assert_eq!(c.tick_time_ms, 2000);
    assert_eq!((c.min_session_timeout_ms, c.max_session_timeout_ms), (4000, 40000));
    assert_eq!(c.data_log_dir, PathBuf::from("/tmp/x"));
    assert!(!c.is_distributed());
}

#[test]
fn load_reads_latin1_files_and_myid_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("myid"), "2\n").unwrap();
    let cfg_path = dir.path().join("zoo.cfg");
    let mut text = format!(
        "# caf\u{e9}\ninitLimit=5\nsyncLimit=2\ndataDir={}\nclientPort=2181\n\
         server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890\n",
        data.display()
    )
    .into_bytes();
    // A raw 0xE9 byte: Properties.load(InputStream) reads ISO-8859-1, so this is 'é'.
    text.extend_from_slice(b"superUser=caf\xe9\n");
    std::fs::write(&cfg_path, text).unwrap();
    let c = Config::load(&cfg_path, &Props::new()).unwrap();
    assert_eq!(c.server_id, Some(2));
    assert!(c.is_distributed());
    assert_eq!(c.props.get("zookeeper.superUser"), Some("caf\u{e9}"));
    let e = Config::load(&dir.path().join("missing.cfg"), &Props::new()).unwrap_err();
    assert!(matches!(e, ConfigError::Io { .. }), "{e}");
}

#[test]
fn listen_address_and_unsupported_settings() {
    let c = parse("dataDir=/d\nclientPort=2181\n").unwrap();
    assert_eq!(c.client_listen_address().as_deref(), Some("0.0.0.0:2181"));
    assert!(c.unsupported().is_empty());
    let c =
        parse("dataDir=/d\nclientPort=2181\nclientPortAddress=::1\nsecureClientPort=2281\nsslQuorum=true\n").unwrap();
    assert_eq!(c.client_listen_address().as_deref(), Some("[0:0:0:0:0:0:0:1]:2181"));
    assert_eq!(c.secure_client_port, Some(2281));
    assert_eq!(c.unsupported().len(), 2, "{:?}", c.unsupported());
    assert!(c.unsupported()[0].starts_with("secureClientPort=2281"));
    assert_eq!(parse("dataDir=/d\n").unwrap().client_listen_address(), None);
}

#[test]
fn the_shipped_sample_config_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/zoo.cfg");
    let text = std::fs::read_to_string(&path).unwrap();
    // No file reader: the host's own dataDir/myid must not leak into the test.
    let c = Config::parse(&path, &text, &Props::new(), &no_files).unwrap();
    assert_eq!((c.tick_time_ms, c.client_port), (2000, Some(2181)));
    assert!(!c.admin_enable_server && c.four_letter_whitelist.allows("mntr"));
    assert!(!c.is_distributed());
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

/// The same report `compat-tests/java/ParseConfig.java` prints for Java's QuorumPeerConfig.
fn compat_report(c: &Config) -> String {
    let addr = |port: Option<u16>, host: &Option<String>| match port {
        Some(p) => format!("{}:{p}", host.as_deref().unwrap_or("0.0.0.0")),
        None => "none".to_string(),
    };
    let mut o = String::from("result=ok\n");
    o += &format!("dataDir={}\n", c.data_dir.display());
    o += &format!("dataLogDir={}\n", c.data_log_dir.display());
    o += &format!("clientPortAddress={}\n", addr(c.client_port, &c.client_port_address));
    o += &format!("secureClientPortAddress={}\n", addr(c.secure_client_port, &c.secure_client_port_address));
    o += &format!("tickTime={}\nmaxClientCnxns={}\n", c.tick_time_ms, c.max_client_cnxns);
    o += &format!("minSessionTimeout={}\nmaxSessionTimeout={}\n", c.min_session_timeout_ms, c.max_session_timeout_ms);
    o += &format!("initLimit={}\nsyncLimit={}\npeerType={}\n", c.init_limit, c.sync_limit, c.peer_type.ordinal());
    o += &format!(
        "snapRetainCount={}\npurgeInterval={}\n",
        c.autopurge_snap_retain_count, c.autopurge_purge_interval_hours
    );
    o += &format!("serverId={}\ndistributed={}\n", c.server_id.unwrap_or(-1), c.is_distributed());
    o += &format!("standaloneEnabled={}\nreconfigEnabled={}\n", c.standalone_enabled, c.reconfig_enabled);
    o += &format!("localSessionsEnabled={}\n", c.local_sessions_enabled);
    o += &format!("clientPortListenBacklog={}\n", c.client_port_listen_backlog);
    let mp: Vec<String> = c.metrics_provider_config.iter().map(|(k, v)| format!("{k}={v}")).collect();
    o += &format!("metricsProvider={{{}}}\n", mp.join(", "));
    o += &format!("qv={}\n", c.quorum_verifier_string().replace('\n', "\\n"));
    for p in [
        "zookeeper.snapCount",
        "zookeeper.preAllocSize",
        "zookeeper.forceSync",
        "zookeeper.4lw.commands.whitelist",
        "zookeeper.extendedTypesEnabled",
        "zookeeper.digest.enabled",
        "zookeeper.admin.enableServer",
        "zookeeper.admin.serverPort",
        "zookeeper.skipACL",
        "jute.maxbuffer",
        "zookeeper.jute.maxbuffer",
        "readonlymode.enabled",
        "zookeeper.readonlymode.enabled",
    ] {
        o += &format!("prop.{p}={}\n", c.props.get(p).unwrap_or("<unset>"));
    }
    o
}

/// Every `tests/data/config/*.cfg` must be accepted or rejected exactly as Java 3.8.0's
/// QuorumPeerConfig does, and an accepted one must come out the same (expected files are
/// generated by `tests/data/config/regen.sh`).
#[test]
fn sample_configs_match_java_quorum_peer_config() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/config");
    let mut cfgs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cfg"))
        .collect();
    cfgs.sort();
    assert!(cfgs.len() >= 25, "test data missing: {}", cfgs.len());
    let mut failures = Vec::new();
    for cfg in &cfgs {
        let text = std::fs::read_to_string(cfg).unwrap();
        let flags = text.lines().next().and_then(|l| l.strip_prefix("# jvmflags: ")).map(str::to_string);
        let props = Props::from_args_and_env(&[], flags.as_deref(), None);
        let base = dir.clone();
        let reader = move |p: &Path| {
            let full = base.join(p);
            if full.is_file() {
                std::fs::read_to_string(full).ok()
            } else {
                None
            }
        };
        let name = cfg.file_name().unwrap().to_str().unwrap();
        let got = match Config::parse(Path::new(name), &text, &props, &reader) {
            Ok(c) => compat_report(&c),
            Err(_) => "result=error\n".to_string(),
        };
        let expected_all = std::fs::read_to_string(cfg.with_extension("expected")).unwrap();
        let expected: String =
            expected_all.lines().filter(|l| !l.starts_with("java_error=")).map(|l| format!("{l}\n")).collect();
        if got != expected {
            failures.push(format!("{name}:\n--- java\n{expected}--- ruzk\n{got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
