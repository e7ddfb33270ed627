//! Election bytes recorded from real Java 3.8.0 servers, shared by the wire and election tests.
//! The `JAVA_*` vectors come from two Java servers electing on loopback while
//! `compat-tests/election/capture.py` played server 3 (the full recording is
//! `compat-tests/election/captured-java-3.8.0.jsonl`); `DOC_HELLO` is protocol.md §6.2's capture.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

pub fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// The QV string both Java servers sent (the loopback ports of that run).
pub const JAVA_QV: &str = "server.1=127.0.0.1:43617:57933:participant\nserver.2=127.0.0.1:43319:60137:participant\n\
                           server.3=127.0.0.1:35781:56071:participant\nversion=0";

/// Server 1 while LOOKING, already backing server 2: state 0, leader 2, zxid 0, round 1,
/// peerEpoch 0, version 2, 138 config bytes (the first frame it sent to server 3).
pub const JAVA_LOOKING_HEAD: &str =
    "00000000 0000000000000002 0000000000000000 0000000000000001 0000000000000000 00000002 0000008a";
/// Server 1's receive-thread reply to a LOOKING vote once it follows 2: state 1 and the
/// peerEpoch already raised to the new epoch by `updateElectionVote`. The same frame was also
/// the first one on a new connection (the last message sent, repeated).
pub const JAVA_FOLLOWING_HEAD: &str =
    "00000001 0000000000000002 0000000000000000 0000000000000001 0000000000000001 00000002 0000008a";
/// The leader's (server 2) reply: state 2.
pub const JAVA_LEADING_HEAD: &str =
    "00000002 0000000000000002 0000000000000000 0000000000000001 0000000000000001 00000002 0000008a";
/// What server 3 (the recorder) sent to get those replies: LOOKING, leader 3, zxid 0, round 1.
pub const PROBE_LOOKING_HEAD: &str =
    "00000000 0000000000000003 0000000000000000 0000000000000001 0000000000000000 00000002 0000008a";
/// Server 1 dialling server 3: V1, sid 1, "127.0.0.1:57933".
pub const JAVA_HELLO: &str = "ffffffffffff0000 0000000000000001 0000000f 3132372e302e302e313a3537393333";
pub const DOC_HELLO: &str = "ffffffffffff0000 0000000000000003 0000000f 3132372e302e302e313a3233383833";

/// A whole captured frame: header plus the QV string.
pub fn java_frame(head: &str) -> Vec<u8> {
    let mut b = unhex(head);
    b.extend_from_slice(JAVA_QV.as_bytes());
    b
}
