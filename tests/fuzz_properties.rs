//! Cheap property tests beside the fuzz targets (`fuzz/`): records and packets built from
//! random values survive encode → decode exactly, and the decoders the fuzz targets drive never
//! panic on random bytes (each `ruzk::fuzzing` entry point also checks that whatever decodes
//! re-encodes to the same value). The case counts keep this to a few seconds of `cargo test`.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use ruzk::jute::records::*;
use ruzk::jute::Jute;
use ruzk::quorum::election::{wire, Notification, ServerState};
use ruzk::quorum::packet::QuorumPacket;
use ruzk::types::{ServerId, Zxid};

fn bytes() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..64).prop_map(Bytes::from)
}

/// Strings of the Basic Multilingual Plane: Java writes a character beyond it as CESU-8 and reads
/// it back as U+FFFD (see `ruzk::fuzzing::exact_strings`), so only these survive a round trip.
fn text() -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..16).prop_map(|v| v.into_iter().map(|c| if u32::from(c) > 0xffff { 'x' } else { c }).collect())
}

fn id() -> impl Strategy<Value = Id> {
    (text(), text()).prop_map(|(scheme, id)| Id { scheme, id })
}

fn acl() -> impl Strategy<Value = Acl> {
    (any::<i32>(), id()).prop_map(|(perms, id)| Acl { perms, id })
}

fn round_trip<T: Jute + PartialEq + std::fmt::Debug>(v: &T) {
    let bytes = v.to_bytes();
    let mut src = &bytes[..];
    let back = T::decode(&mut src).unwrap();
    assert_eq!(&back, v);
    assert!(src.is_empty(), "{} bytes left after decoding {v:?}", src.len());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn connect_requests_round_trip(
        protocol_version in any::<i32>(), last_zxid_seen in any::<i64>(), time_out in any::<i32>(),
        session_id in any::<i64>(), passwd in option::of(bytes()), read_only in option::of(any::<bool>()),
    ) {
        round_trip(&ConnectRequest { protocol_version, last_zxid_seen, time_out, session_id, passwd, read_only });
    }

    #[test]
    fn create_requests_round_trip(
        path in text(), data in option::of(bytes()), acl in option::of(vec(acl(), 0..4)), flags in any::<i32>(),
    ) {
        round_trip(&CreateRequest { path, data, acl, flags });
    }

    #[test]
    fn request_records_round_trip(
        path in text(), data in option::of(bytes()), version in any::<i32>(), watch in any::<bool>(),
        xid in any::<i32>(), type_ in any::<i32>(), auth in bytes(),
    ) {
        round_trip(&RequestHeader { xid, type_ });
        round_trip(&SetDataRequest { path: path.clone(), data, version });
        round_trip(&GetDataRequest { path: path.clone(), watch });
        round_trip(&DeleteRequest { path, version });
        round_trip(&AuthPacket { type_, scheme: String::from("digest"), auth });
    }

    #[test]
    fn quorum_packets_round_trip(
        type_ in any::<i32>(), zxid in any::<i64>(), data in option::of(bytes()), authinfo in option::of(vec(id(), 0..3)),
    ) {
        let p = QuorumPacket { type_, zxid: Zxid(zxid), data, authinfo };
        let bytes = p.to_bytes();
        let (back, used) = QuorumPacket::decode_prefix(&bytes, 1 << 20).unwrap();
        prop_assert_eq!(back, p);
        prop_assert_eq!(used, bytes.len());
    }

    #[test]
    fn notifications_round_trip(
        state in 0usize..4, leader in any::<i64>(), zxid in any::<i64>(), election_epoch in any::<i64>(),
        peer_epoch in any::<i64>(), config in vec(any::<u8>(), 0..200),
    ) {
        let state = [ServerState::Looking, ServerState::Following, ServerState::Leading, ServerState::Observing][state];
        let n = Notification {
            state, leader: ServerId(leader), zxid: Zxid(zxid), election_epoch, peer_epoch, version: 2, config,
        };
        prop_assert_eq!(wire::decode_notification(&wire::encode_notification(&n)).unwrap(), n);
    }

    #[test]
    fn decoders_never_panic_on_random_bytes(data in vec(any::<u8>(), 0..512)) {
        ruzk::fuzzing::txn_entry(&data);
        ruzk::fuzzing::snapshot(&data);
        ruzk::fuzzing::election(&data);
        ruzk::fuzzing::config(&data);
        ruzk::fuzzing::quorum_packets(&data);
    }

    #[test]
    fn stateful_targets_never_panic_on_random_bytes(data in vec(any::<u8>(), 0..256)) {
        ruzk::fuzzing::client_stream(&data);
        ruzk::fuzzing::follower(&data);
        ruzk::fuzzing::leader(&data);
        ruzk::fuzzing::txnlog_file(&data);
    }
}

/// Random bytes rarely get past a length prefix, so each stateful target also gets random
/// request bodies behind a valid prefix: a handshake then one request of every opcode.
#[test]
fn every_opcode_with_random_bodies_is_answered_without_a_panic() {
    use proptest::test_runner::{Config, TestRunner};
    let connect = ConnectRequest { time_out: 30000, passwd: Some(Bytes::from(vec![0u8; 16])), ..Default::default() };
    let mut runner = TestRunner::new(Config { cases: 64, failure_persistence: None, ..Config::default() });
    runner
        .run(&(-11i32..=110, vec(any::<u8>(), 0..128)), |(op, body)| {
            let mut stream = Vec::new();
            for frame in [connect.to_bytes(), [&RequestHeader { xid: 1, type_: op }.to_bytes()[..], &body].concat()] {
                stream.extend_from_slice(&(frame.len() as i32).to_be_bytes());
                stream.extend_from_slice(&frame);
            }
            ruzk::fuzzing::client_stream(&stream);
            Ok(())
        })
        .unwrap();
}
