//! Golden bytes for the election wire (the vectors are in `golden.rs`).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::quorum::election::golden::*;

fn n(state: ServerState, leader: i64, zxid: i64, ee: i64, pe: i64) -> Notification {
    Notification {
        state,
        leader: ServerId(leader),
        zxid: Zxid(zxid),
        election_epoch: ee,
        peer_epoch: pe,
        version: 2,
        config: JAVA_QV.as_bytes().to_vec(),
    }
}

#[test]
fn java_notifications_decode_and_reencode_byte_for_byte() {
    assert_eq!(JAVA_QV.len(), 0x8a);
    for (head, want) in [
        (JAVA_LOOKING_HEAD, n(ServerState::Looking, 2, 0, 1, 0)),
        (JAVA_FOLLOWING_HEAD, n(ServerState::Following, 2, 0, 1, 1)),
        (JAVA_LEADING_HEAD, n(ServerState::Leading, 2, 0, 1, 1)),
    ] {
        let bytes = java_frame(head);
        assert_eq!(bytes.len(), 182);
        assert_eq!(decode_notification(&bytes).unwrap(), want);
        assert_eq!(encode_notification(&want), bytes);
    }
}

#[test]
fn encode_always_writes_version_2_like_build_msg() {
    let mut old = n(ServerState::Observing, -9, 0x1_0000_0005, 7, 1);
    old.version = 0;
    old.config = Vec::new();
    assert_eq!(
        encode_notification(&old),
        unhex("00000003 fffffffffffffff7 0000000100000005 0000000000000007 0000000000000001 00000002 00000000")
    );
}

#[test]
fn legacy_28_byte_form_takes_peer_epoch_from_the_zxid() {
    let b = unhex("00000001 0000000000000005 0000000300000007 0000000000000009");
    assert_eq!(
        decode_notification(&b).unwrap(),
        Notification {
            state: ServerState::Following,
            leader: ServerId(5),
            zxid: Zxid(0x3_0000_0007),
            election_epoch: 9,
            peer_epoch: 3,
            version: 0,
            config: vec![],
        }
    );
}

#[test]
fn legacy_40_byte_form_ignores_its_version_field() {
    // 3.4's buildMsg(…) without config writes version 1 at bytes 36..40; Java's receiver
    // treats any 40-byte message as "no version".
    let b = unhex("00000000 0000000000000002 0000000000000010 0000000000000001 0000000000000004 00000001");
    let got = decode_notification(&b).unwrap();
    assert_eq!((got.version, got.peer_epoch, got.config.len()), (0, 4, 0));
}

#[test]
fn version_1_or_lower_carries_no_config_and_trailing_bytes_are_ignored() {
    let mut b = unhex("00000000 0000000000000002 0000000000000010 0000000000000001 0000000000000004 00000001");
    b.extend_from_slice(b"junk");
    let got = decode_notification(&b).unwrap();
    assert_eq!((got.version, got.config.len()), (1, 0));
    let mut b = java_frame(JAVA_LOOKING_HEAD);
    b.extend_from_slice(b"more");
    assert_eq!(decode_notification(&b).unwrap().config, JAVA_QV.as_bytes());
}

#[test]
fn malformed_notifications_are_rejected_without_panicking() {
    let full = java_frame(JAVA_LOOKING_HEAD);
    assert_eq!(decode_notification(&full[..27]), Err(NotificationError::Short(27)));
    assert_eq!(decode_notification(&[]), Err(NotificationError::Short(0)));
    // 29..=39 and 41..=43 end inside peerEpoch, version or configLength.
    for len in (29..=39).chain(41..=43) {
        assert_eq!(decode_notification(&full[..len]), Err(NotificationError::Truncated { len }), "len {len}");
    }
    // configLength larger than what is left, but not than the message: underflow.
    let mut b = full[..100].to_vec();
    b[40..44].copy_from_slice(&80i32.to_be_bytes());
    assert_eq!(decode_notification(&b), Err(NotificationError::Truncated { len: 100 }));
    // Larger than the message (the full frame cut to 100 bytes still says 138): Java's check.
    assert_eq!(
        decode_notification(&full[..100]),
        Err(NotificationError::BadConfigLength { config_len: 138, len: 100 })
    );
    // configLength larger than the message, or negative: Java's explicit check.
    let mut b = unhex(JAVA_LOOKING_HEAD);
    b[40..44].copy_from_slice(&1000i32.to_be_bytes());
    assert_eq!(decode_notification(&b), Err(NotificationError::BadConfigLength { config_len: 1000, len: 44 }));
    b[40..44].copy_from_slice(&(-1i32).to_be_bytes());
    assert_eq!(decode_notification(&b), Err(NotificationError::BadConfigLength { config_len: -1, len: 44 }));
    // An empty config is fine.
    b[40..44].copy_from_slice(&0i32.to_be_bytes());
    assert_eq!(decode_notification(&b).unwrap().config, Vec::<u8>::new());
}

#[test]
fn unknown_state_is_dropped_but_the_rest_is_still_readable() {
    let mut b = java_frame(JAVA_LOOKING_HEAD);
    b[0..4].copy_from_slice(&4i32.to_be_bytes());
    assert_eq!(decode_notification(&b), Err(NotificationError::UnknownState(4)));
    let raw = decode_notification_raw(&b).unwrap();
    assert_eq!((raw.state, raw.notification.leader), (4, ServerId(2)));
}

#[test]
fn decode_never_panics_on_arbitrary_prefixes_and_mutations() {
    let full = java_frame(JAVA_FOLLOWING_HEAD);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for len in 0..full.len() {
        let _ = decode_notification(&full[..len]);
    }
    for _ in 0..2000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut b = full.clone();
        let i = (seed % b.len() as u64) as usize;
        b[i] = (seed >> 32) as u8;
        b.truncate(((seed >> 40) % (b.len() as u64 + 1)) as usize);
        let _ = decode_notification(&b);
        let _ = decode_initial_message(&b);
    }
}

#[test]
fn initial_messages_from_java_decode_and_reencode() {
    for (hex, sid, port) in [(JAVA_HELLO, 1, 57933), (DOC_HELLO, 3, 23883)] {
        let bytes = unhex(hex);
        let addr = PeerAddress { host: "127.0.0.1".into(), port };
        let (msg, used) = decode_initial_message(&bytes).unwrap().unwrap();
        assert_eq!(msg, InitialMessage { protocol: Some(PROTOCOL_V1), sid, addresses: vec![addr.clone()] });
        assert_eq!(used, bytes.len());
        assert_eq!(encode_initial_message(PROTOCOL_V1, sid, &[addr]), bytes);
    }
}

#[test]
fn initial_message_needs_all_its_bytes_and_leaves_the_rest() {
    let mut bytes = unhex(JAVA_HELLO);
    for len in 0..bytes.len() {
        assert_eq!(decode_initial_message(&bytes[..len]), Ok(None), "len {len}");
    }
    bytes.extend_from_slice(&[0, 0, 0, 44]);
    assert_eq!(decode_initial_message(&bytes).unwrap().unwrap().1, 35);
}

#[test]
fn pre_3_5_peer_sends_a_bare_sid_and_observer_id_is_kept_for_the_manager() {
    assert_eq!(
        decode_initial_message(&7i64.to_be_bytes()),
        Ok(Some((InitialMessage { protocol: None, sid: 7, addresses: vec![] }, 8)))
    );
    let (msg, _) = decode_initial_message(&OBSERVER_ID.to_be_bytes()).unwrap().unwrap();
    assert_eq!(msg.sid, i64::MAX);
    let b = encode_initial_message(PROTOCOL_V1, OBSERVER_ID, &[PeerAddress { host: "10.0.0.1".into(), port: 3888 }]);
    assert_eq!(decode_initial_message(&b).unwrap().unwrap().0.sid, OBSERVER_ID);
}

#[test]
fn v2_carries_several_addresses_and_wildcards_are_dropped() {
    let a = PeerAddress { host: "10.0.0.1".into(), port: 3888 };
    let b6 = PeerAddress { host: "fe80:0:0:0:0:0:0:1".into(), port: 3889 };
    let bytes = encode_initial_message(PROTOCOL_V2, 4, &[a.clone(), b6.clone()]);
    assert_eq!(&bytes[20..], b"10.0.0.1:3888|[fe80:0:0:0:0:0:0:1]:3889");
    let (msg, _) = decode_initial_message(&bytes).unwrap().unwrap();
    assert_eq!(msg.addresses, vec![a.clone(), b6]);
    let raw = |s: &str| {
        let mut v = PROTOCOL_V2.to_be_bytes().to_vec();
        v.extend_from_slice(&4i64.to_be_bytes());
        v.extend_from_slice(&(s.len() as i32).to_be_bytes());
        v.extend_from_slice(s.as_bytes());
        v
    };
    let got = decode_initial_message(&raw("0.0.0.0:1|10.0.0.1:3888|[::]:2|")).unwrap().unwrap().0;
    assert_eq!(got.addresses, vec![a]);
    // Java's split drops trailing empties, so "host:port:" is two parts.
    assert_eq!(decode_initial_message(&raw("h:5:")).unwrap().unwrap().0.addresses[0].port, 5);
}

#[test]
fn bad_initial_messages_are_refused() {
    let with = |proto: i64, len: i32, body: &[u8]| {
        let mut v = proto.to_be_bytes().to_vec();
        v.extend_from_slice(&1i64.to_be_bytes());
        v.extend_from_slice(&len.to_be_bytes());
        v.extend_from_slice(body);
        v
    };
    use InitialMessageError::*;
    assert_eq!(decode_initial_message(&with(-5, 3, b"a:1")), Err(UnknownProtocol(-5)));
    assert_eq!(decode_initial_message(&(-1i64).to_be_bytes()), Err(UnknownProtocol(-1)));
    assert_eq!(decode_initial_message(&with(PROTOCOL_V1, 0, b"")), Err(BadLength(0)));
    assert_eq!(decode_initial_message(&with(PROTOCOL_V1, -3, b"")), Err(BadLength(-3)));
    assert_eq!(decode_initial_message(&with(PROTOCOL_V1, 2049, b"")), Err(BadLength(2049)));
    assert_eq!(decode_initial_message(&with(PROTOCOL_V1, 4, b"host")), Err(BadAddress("host".into())));
    assert_eq!(decode_initial_message(&with(PROTOCOL_V1, 5, b"a:1:2")), Err(BadAddress("a:1:2".into())));
    assert_eq!(decode_initial_message(&with(PROTOCOL_V1, 4, b"a:xy")), Err(BadPort("xy".into())));
    assert_eq!(decode_initial_message(&with(PROTOCOL_V1, 7, b"a:70000")), Err(BadPort("70000".into())));
    assert_eq!(decode_initial_message(&with(PROTOCOL_V1, 4, b"[h]:")), Err(BadAddress("[h]:".into())));
    assert_eq!(decode_initial_message(&with(PROTOCOL_V1, 3, b"[h:")), Err(BadAddress("[h:".into())));
    // 2048 bytes is still accepted.
    let long = format!("{}:1", "h".repeat(2046));
    assert!(decode_initial_message(&with(PROTOCOL_V1, 2048, long.as_bytes())).unwrap().is_some());
}
