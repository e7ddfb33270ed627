//! Every input the fuzz targets (`fuzz/`, `scripts/fuzz.sh`) found to crash, hang or blow up,
//! with its exact bytes, replayed through the same `ruzk::fuzzing` entry point and checked for
//! the answer Java gives (an error, a closed connection), so a fixed bug stays fixed.
#![allow(clippy::unwrap_used)]

use ruzk::jute::txn::{Txn, TxnEntry};

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// txn_entry crash-04655ea1: a createContainer txn whose path holds a valid 4-byte UTF-8
/// sequence (f2 9e 91 86) among malformed bytes. Not a ruzk bug but the target's own check:
/// Java (and ruzk) write U+9E446 back as CESU-8 surrogates, which a UTF-8 reader turns into
/// U+FFFD, so the path changes once and then stays. The target now expects exactly that.
#[test]
fn a_supplementary_character_in_a_txn_path_settles_to_replacement_characters() {
    let input = unhex(concat!(
        "0100000c25c40000000000050000000000000206000001a2124f21ae0000001300000070707070ffffffffffffffffff",
        "ffffffffffffffffffffffffffffff000000000015000001a2124f22070000000e00000003000000010000002b000000",
        "022f000000000000000000010000001f00000005776f726c64000000f29e91866f6e65000000000affffffff00000004",
        "ffffff9bffffffff00000004ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffff12704f",
    ));
    let e = TxnEntry::decode(&input).unwrap();
    let Txn::CreateContainer(t) = &e.txn else { panic!("decoded {e:?}") };
    assert!(t.path.contains('\u{9e446}'), "{:?}", t.path);
    let bytes = e.encode();
    assert!(!ruzk::fuzzing::exact_strings(&bytes));
    let again = TxnEntry::decode(&bytes).unwrap();
    let Txn::CreateContainer(a) = &again.txn else { panic!("decoded {again:?}") };
    assert!(!a.path.contains('\u{9e446}') && a.path.contains('\u{fffd}'), "{:?}", a.path);
    assert_eq!(TxnEntry::decode(&again.encode()).unwrap(), again);
    ruzk::fuzzing::txn_entry(&input);
}

/// A multi txn nested in a multi txn, 100,000 deep (1.2 MB, about what a proposal or log
/// record may hold). Decoding recursed once per level, copying the rest each time, so such a
/// record from a peer or a log overflowed the stack. Java reads a multi's sub-txns as opaque
/// (type, bytes) pairs and refuses a nested multi when applying it ("Invalid type of op"); ruzk
/// now refuses it while decoding.
#[test]
fn a_multi_txn_nested_in_a_multi_txn_is_refused_not_recursed() {
    const MULTI: i32 = 14;
    const DEPTH: i32 = 100_000;
    // Level k holds one sub-txn: count 1, type multi, then level k-1 (12 bytes a level, and
    // the innermost multi is just a count of 0).
    let mut body = Vec::with_capacity(12 * DEPTH as usize + 4);
    for k in (1..=DEPTH).rev() {
        body.extend_from_slice(&1i32.to_be_bytes());
        body.extend_from_slice(&MULTI.to_be_bytes());
        body.extend_from_slice(&(12 * (k - 1) + 4).to_be_bytes());
    }
    body.extend_from_slice(&0i32.to_be_bytes());
    let mut input = Vec::new();
    input.extend_from_slice(&0x1234i64.to_be_bytes()); // client id
    input.extend_from_slice(&1i32.to_be_bytes()); // cxid
    input.extend_from_slice(&0x1_0000_0001i64.to_be_bytes()); // zxid
    input.extend_from_slice(&0i64.to_be_bytes()); // time
    input.extend_from_slice(&MULTI.to_be_bytes());
    input.extend_from_slice(&body);
    assert_eq!(TxnEntry::decode(&input), Err(ruzk::jute::DecodeError::UnknownType(MULTI)));
    ruzk::fuzzing::txn_entry(&input);
}

/// election crash-f72b3a3a: a notification carrying version 0x02000000 negative (-16777216),
/// so no config. Not a ruzk bug but the target's own check: Java's buildMsg (and ruzk) always
/// write version 2, so such a message re-encodes as version 2 with an empty config.
#[test]
fn a_notification_of_an_unknown_version_re_encodes_as_version_2() {
    let input = unhex(concat!(
        "0000000002000000000000000200f8ffffff000000010102000000000000000200f8ffffff00000001010000722e3130",
        "2e313938383a323a333838393a70617274696369706e3d30",
    ));
    let n = ruzk::quorum::election::wire::decode_notification(&input).unwrap();
    assert_eq!((n.version, n.config.len()), (-16777216, 0));
    let again =
        ruzk::quorum::election::wire::decode_notification(&ruzk::quorum::election::wire::encode_notification(&n));
    assert_eq!(again.unwrap(), ruzk::quorum::election::Notification { version: 2, ..n });
    ruzk::fuzzing::election(&input);
}
