//! Expected strings are Java 3.8.0's own `toString` output for the same QV text, printed with
//! `compat-tests/election/QvString.java`; the `HashMap` orders come from `java.util.HashMap`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::config::{Config, Props};
use std::path::Path;

fn acks(ids: &[i64]) -> BTreeSet<ServerId> {
    ids.iter().map(|i| ServerId(*i)).collect()
}

const MAJ_TEXT: &str = "server.1=127.0.0.1:2001:3001\nserver.2=127.0.0.1:2002:3002:observer\n\
                        server.3=127.0.0.1:2003:3003;127.0.0.1:2183\nversion=100000000";
const MAJ_JAVA: &str = "server.1=127.0.0.1:2001:3001:participant\nserver.2=127.0.0.1:2002:3002:observer\n\
                        server.3=127.0.0.1:2003:3003:participant;127.0.0.1:2183\nversion=100000000";

const HIER_TEXT: &str = "server.1=127.0.0.1:2001:3001\nserver.2=127.0.0.1:2002:3002\nserver.3=127.0.0.1:2003:3003\n\
     server.4=127.0.0.1:2004:3004\nserver.5=127.0.0.1:2005:3005\nserver.6=127.0.0.1:2006:3006\n\
     server.7=127.0.0.1:2007:3007:observer\ngroup.1=1:2:3\ngroup.2=4:5\ngroup.3=6\n\
     weight.1=1\nweight.2=1\nweight.3=0\nweight.4=2\nweight.5=1\nweight.6=0\nversion=0";
const HIER_JAVA: &str = "server.1=127.0.0.1:2001:3001:participant\nserver.2=127.0.0.1:2002:3002:participant\n\
     server.3=127.0.0.1:2003:3003:participant\nserver.4=127.0.0.1:2004:3004:participant\n\
     server.5=127.0.0.1:2005:3005:participant\nserver.6=127.0.0.1:2006:3006:participant\n\
     server.7=127.0.0.1:2007:3007:observer\ngroup.1=1:2:3\ngroup.2=4:5\ngroup.3=6\n\
     weight.1=1\nweight.2=1\nweight.3=0\nweight.4=2\nweight.5=1\nweight.6=0\nversion=0";

/// Sids that share hash buckets (1/17, 2/18; gids 7/23), and a weight only for 17.
const COLLIDE_TEXT: &str =
    "server.17=a:1:2\nserver.1=b:1:2\nserver.18=c:1:2\nserver.2=d:1:2\ngroup.7=17:1\ngroup.23=2:18\nweight.17=3\nversion=1";
const COLLIDE_JAVA: &str = "server.1=b:1:2:participant\nserver.17=a:1:2:participant\nserver.2=d:1:2:participant\n\
     server.18=c:1:2:participant\ngroup.7=17:1\ngroup.23=2:18\nweight.17=3\nweight.1=1\nweight.2=1\nweight.18=1\nversion=1";

#[test]
fn majority_renders_like_quorum_maj_and_counts_strict_majorities_of_voters() {
    let qv = QuorumVerifier::parse(MAJ_TEXT).unwrap();
    assert!(!qv.is_hierarchical());
    assert_eq!(qv.to_string(), MAJ_JAVA);
    assert_eq!(qv.version(), 0x1_0000_0000);
    assert_eq!(qv.voting_members().collect::<Vec<_>>(), vec![ServerId(1), ServerId(3)]);
    assert_eq!(qv.observers().collect::<Vec<_>>(), vec![ServerId(2)]);
    assert!(qv.is_voter(ServerId(3)) && !qv.is_voter(ServerId(2)) && !qv.is_voter(ServerId(9)));
    // Two voters: half = 1, a quorum needs 2. The observer never counts.
    assert!(!qv.contains_quorum(&acks(&[1])));
    assert!(!qv.contains_quorum(&acks(&[1, 2])));
    assert!(qv.contains_quorum(&acks(&[1, 3])));
    assert_eq!((qv.weight(ServerId(1)), qv.weight(ServerId(99))), (1, 1));
}

#[test]
fn majority_of_five_needs_three() {
    let text: String = (1..=5).map(|i| format!("server.{i}=h:{}:{}\n", 100 + i, 200 + i)).collect();
    let qv = QuorumVerifier::parse(&text).unwrap();
    assert!(!qv.contains_quorum(&acks(&[1, 2])));
    assert!(qv.contains_quorum(&acks(&[1, 4, 5])));
    assert!(!qv.contains_quorum(&acks(&[])));
}

#[test]
fn hierarchical_renders_like_quorum_hierarchical() {
    let qv = QuorumVerifier::parse(HIER_TEXT).unwrap();
    assert!(qv.is_hierarchical());
    assert_eq!(qv.to_string(), HIER_JAVA);
    let qv = QuorumVerifier::parse(COLLIDE_TEXT).unwrap();
    assert_eq!(qv.to_string(), COLLIDE_JAVA);
}

#[test]
fn hierarchical_quorum_is_a_majority_of_nonzero_groups_each_with_a_weight_majority() {
    // group 1 = {1,2,3} weights 1,1,0 (total 2); group 2 = {4,5} weights 2,1 (total 3); group 3
    // = {6} weight 0, which does not count, so a quorum needs both groups 1 and 2.
    let qv = QuorumVerifier::parse(HIER_TEXT).unwrap();
    assert_eq!(qv.weight(ServerId(3)), 0);
    assert_eq!(qv.weight(ServerId(4)), 2);
    assert_eq!(qv.weight(ServerId(7)), 0, "observer without a weight line");
    assert_eq!(qv.weight(ServerId(99)), 0, "unknown id");
    assert!(qv.contains_quorum(&acks(&[1, 2, 4])));
    assert!(qv.contains_quorum(&acks(&[1, 2, 4, 7])));
    assert!(!qv.contains_quorum(&acks(&[1, 2, 5])), "5 alone is 1 of 3 in group 2");
    assert!(!qv.contains_quorum(&acks(&[1, 3, 4, 5])), "3 weighs 0: group 1 has 1 of 2");
    assert!(!qv.contains_quorum(&acks(&[1, 2])));
    assert!(!qv.contains_quorum(&acks(&[1, 2, 3, 6, 7])));
    assert!(!qv.contains_quorum(&acks(&[])));
}

#[test]
fn three_groups_need_two() {
    let text = "server.1=h:1:2\nserver.2=h:3:4\nserver.3=h:5:6\nserver.4=h:7:8\nserver.5=h:9:10\nserver.6=h:11:12\n\
                group.1=1:2\ngroup.2=3:4\ngroup.3=5:6\n";
    let qv = QuorumVerifier::parse(text).unwrap();
    // Each group weighs 2: a group majority needs both of its members.
    assert!(!qv.contains_quorum(&acks(&[1, 3, 5])));
    assert!(!qv.contains_quorum(&acks(&[1, 2, 3])));
    assert!(qv.contains_quorum(&acks(&[1, 2, 5, 6])));
}

#[test]
fn built_from_zoo_cfg_it_matches_the_config_string_and_parses_back() {
    let cfg = "tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir=/nonexistent/ruzk\nclientPort=2181\n\
               server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890:observer\n";
    let myid = |p: &Path| p.ends_with("myid").then(|| "1\n".to_string());
    let c = Config::parse(Path::new("/nonexistent/zoo.cfg"), cfg, &Props::new(), &myid).unwrap();
    let qv = QuorumVerifier::from_config(&c).unwrap();
    assert_eq!(qv.to_string(), c.quorum_verifier_string());
    assert_eq!(
        qv.to_string(),
        "server.1=127.0.0.1:2888:3888:participant\nserver.2=127.0.0.1:2889:3889:participant\n\
         server.3=127.0.0.1:2890:3890:observer\nversion=0"
    );
    let back = QuorumVerifier::parse(&qv.to_string()).unwrap();
    assert_eq!(back.to_string(), qv.to_string());
    assert_eq!(back.voting_members().collect::<Vec<_>>(), qv.voting_members().collect::<Vec<_>>());

    let hier = format!("{cfg}group.1=1:2\nweight.2=0\n");
    let c = Config::parse(Path::new("/nonexistent/zoo.cfg"), &hier, &Props::new(), &myid).unwrap();
    let qv = QuorumVerifier::from_config(&c).unwrap();
    assert!(qv.is_hierarchical());
    assert_eq!((qv.weight(ServerId(1)), qv.weight(ServerId(2))), (1, 0));
    assert!(qv.to_string().ends_with("group.1=1:2\nweight.1=1\nweight.2=0\nversion=0"), "{qv}");
}

#[test]
fn parse_round_trips_both_kinds() {
    for text in [MAJ_TEXT, HIER_TEXT, COLLIDE_TEXT] {
        let qv = QuorumVerifier::parse(text).unwrap();
        assert_eq!(QuorumVerifier::parse(&qv.to_string()).unwrap(), qv);
    }
}

#[test]
fn bad_configurations_are_errors() {
    let e = |t: &str| QuorumVerifier::parse(t).unwrap_err().0;
    assert_eq!(e("server.1=h:1:2\nfoo=1"), "Unrecognised parameter: foo");
    assert_eq!(e("server.1=h:1:2\nserver.2=h:3:4\ngroup.1=1"), "Server 2is not in a group");
    assert_eq!(e("server.1=h:1:2\ngroup.1=1\ngroup.2=1"), "Server 1is in multiple groups");
    assert_eq!(e("server.1=h:1:2\ngroup.1=1:9"), "Server 9 of group 1 has no weight");
    assert_eq!(
        e("server.1=h:1:1"),
        "Client and election port must be different! Please update the configuration file on server.1"
    );
    assert_eq!(e("server.1=h:1:x"), "Address unresolved: h:x");
    assert_eq!(e("server.1=h:1:2:voter"), "Unrecognised peertype: voter");
    assert!(e("server.1=h:1").contains("does not have the form"));
    assert_eq!(e("server.x=h:1:2"), "For input string: \"x\"");
    assert_eq!(e("server.1=h:1:2\nversion=zz"), "For input string: \"zz\"");
}

#[test]
fn java_hashmap_order_matches_java_util_hashmap() {
    // Printed by java.util.HashMap.keySet() after put()s in this order.
    assert_eq!(
        java_hashmap_order([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 40]),
        vec![1, 2, 3, 4, 5, 6, 7, 8, 40, 9, 10, 11, 12, 13]
    );
    assert_eq!(
        java_hashmap_order([-1, -2, 5, 1 << 32, (1 << 32) + 1, 100_000]),
        vec![-1, (1 << 32) + 1, -2, 1 << 32, 100_000, 5]
    );
    assert_eq!(java_hashmap_order([5, 21, 16, 3, 37]), vec![16, 3, 5, 21, 37]);
}
