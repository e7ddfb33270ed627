//! Entry points for the fuzz targets (`fuzz/`), the property tests and `tests/fuzz_regressions.rs`:
//! one function per decoder that takes bytes from outside, each driving the same code the
//! server runs on those bytes (the client framing and request pipeline, the learner and leader
//! state machines, the storage readers), so a panic found through them is a real bug.
//!
//! Each function takes arbitrary bytes and must return without panicking, hanging or
//! allocating beyond the input's size; where a decoder has an encoder, it also checks that
//! what decodes re-encodes to something that decodes to the same value. Kept here, rather
//! than by making the internals public, so the targets see only these thin wrappers.
#![doc(hidden)]
#![allow(clippy::panic)]

use crate::config::{Config, Props};
use crate::jute::txn::TxnEntry;
use crate::quorum::election::{wire, Notification, ServerState};
use crate::quorum::io::{Input as PeerInput, Output as PeerOutput};
use crate::quorum::packet::{kind, LearnerInfo, PacketError, QuorumPacket};
use crate::quorum::peer::{ElectionEvent, Elector, Majority, Peer, PeerOptions};
use crate::runtime::quorum_net::StreamDecoder;
use crate::server::{Input, Now, Options, Output, Server};
use crate::storage::snapshot;
use crate::tree::DataTree;
use crate::types::{ServerId, Zxid};
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

/// Java's default `jute.maxbuffer` (0xfffff), as the runtime caps client frames.
const MAX_FRAME: usize = 0xfffff;
/// The quorum cap the runtime derives from it.
const MAX_PACKET: usize = 1 << 20;
/// A bound on the requests one input may drive, so a long input cannot look like a hang.
const MAX_STEPS: usize = 2_000;

fn now(step: usize) -> Now {
    Now { mono_ms: 1_000_000 + step as u64 * 10, wall_ms: 1_700_000_000_000 + step as i64 * 10 }
}

/// A client connection as `runtime::conn` reads it, through the same codec: a four-letter
/// word as the first four bytes, otherwise length-prefixed frames (a bad length closes the
/// connection), each handed to a standalone server whose log is durable at once, so writes
/// are applied and answered.
pub fn client_stream(data: &[u8]) {
    use crate::runtime::codec::{Frame, ZkCodec};
    use tokio_util::codec::Decoder;
    let mut srv = Server::new(Options::default(), DataTree::new(false), now(0));
    let conn = 1;
    srv.handle(now(0), Input::Accepted { conn, addr: ([127, 0, 0, 1], 40000).into() });
    let mut codec = ZkCodec::new(MAX_FRAME);
    let mut buf = bytes::BytesMut::from(data);
    for step in 1..MAX_STEPS {
        match codec.decode_eof(&mut buf) {
            Ok(Some(Frame::FourLetter(word))) => {
                srv.handle(now(step), Input::FourLetter { conn, word, io: Default::default() });
                drain_server(&mut srv, step);
                return;
            }
            Ok(Some(Frame::Request(frame))) => {
                srv.handle(now(step), Input::Frame { conn, frame });
                if drain_server(&mut srv, step) {
                    break;
                }
                if step % 64 == 0 {
                    srv.handle_timeout(now(step));
                }
            }
            Ok(None) | Err(_) => break,
        }
    }
    srv.handle(now(MAX_STEPS), Input::Closed { conn });
    drain_server(&mut srv, MAX_STEPS);
}

/// Runs the server's outputs as the runtime would; true once it closed the connection.
fn drain_server(srv: &mut Server, step: usize) -> bool {
    let mut closed = false;
    while let Some(out) = srv.poll_output() {
        match out {
            Output::Append { zxid, .. } => srv.handle(now(step), Input::Durable { zxid }),
            Output::Close { .. } => closed = true,
            _ => {}
        }
    }
    closed
}

/// A txn as it comes from a log, a proposal or a DIFF; what decodes must re-encode stably.
pub fn txn_entry(data: &[u8]) {
    if let Ok(e) = TxnEntry::decode(data) {
        let bytes = e.encode();
        let again = TxnEntry::decode(&bytes).unwrap_or_else(|err| panic!("re-encoded {e:?} fails: {err}"));
        if exact_strings(&bytes) {
            assert_eq!(again, e, "txn entry does not survive encode/decode");
        } else {
            let third = TxnEntry::decode(&again.encode()).unwrap_or_else(|err| panic!("{again:?} fails: {err}"));
            assert_eq!(third, again, "txn entry does not settle after one encode/decode");
        }
    }
}

/// Whether strings in `encoded` survive decoding exactly. Java writes a character beyond
/// U+FFFF as two 3-byte surrogate sequences (CESU-8) but reads strings as UTF-8, where those
/// are malformed and become U+FFFD; ruzk does both the same way, so such a string changes once
/// and is stable after that.
pub fn exact_strings(encoded: &[u8]) -> bool {
    !encoded.windows(2).any(|w| w[0] == 0xed && (0xa0..=0xbf).contains(&w[1]))
}

/// A txn-log file read as on restore: header, records, CRCs, each entry decoded.
pub fn txnlog_file(data: &[u8]) {
    let path = scratch_file("log.1");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok((entries, _end)) = crate::storage::txnlog::read_file(&path) {
        for e in entries {
            let _ = e.decode(&path);
        }
    }
    if let Ok(mut r) = crate::storage::txnlog::LogFileReader::open(&path) {
        while let Ok(Some(_)) = r.next_record() {}
    }
    let _ = std::fs::remove_file(&path);
}

/// One scratch file per thread (libFuzzer runs inputs one after another; tests run in threads).
fn scratch_file(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ruzk-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let thread = format!("{:?}", std::thread::current().id());
    dir.join(format!("{}-{name}", thread.trim_matches(|c: char| !c.is_ascii_digit())))
}

/// A snapshot file's bytes read as plain, gzip and snappy (the three readers of
/// `storage::snapshot`), and the digest-free image re-encoded and read back.
pub fn snapshot(data: &[u8]) {
    let path = Path::new("snapshot.1");
    if let Ok(img) = snapshot::decode_image(data, path) {
        let bytes = snapshot::image_to_bytes(&img);
        let again = snapshot::decode_image(&bytes[..], path).unwrap_or_else(|e| panic!("re-encoded image fails: {e}"));
        if exact_strings(&bytes) {
            assert_eq!(again.nodes, img.nodes, "snapshot nodes do not survive encode/decode");
        }
        assert_eq!(again.sessions, img.sessions, "snapshot sessions do not survive encode/decode");
    }
    let gz = BufReader::new(flate2::bufread::GzDecoder::new(data));
    let _ = snapshot::decode_image(BufReader::new(gz.take(64 << 20)), path);
    if let Ok(r) = crate::storage::snappy_stream::SnappyReader::new(data) {
        let _ = snapshot::decode_image(BufReader::new(r.take(64 << 20)), path);
    }
}

/// The quorum stream as `runtime::quorum_net` splits it, fed in the pieces the input's first
/// byte chooses, and each packet's payload through the decoders a learner or leader runs.
pub fn quorum_packets(data: &[u8]) {
    let Some((&chunk, data)) = data.split_first() else { return };
    let mut dec = StreamDecoder::default();
    for piece in data.chunks(usize::from(chunk).max(1)) {
        dec.buffer().extend_from_slice(piece);
        loop {
            match dec.next(MAX_PACKET) {
                Ok(Some(p)) => packet_payloads(&p),
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    if let Ok((p, used)) = QuorumPacket::decode_prefix(data, MAX_PACKET) {
        let bytes = p.to_bytes();
        let (again, n) =
            QuorumPacket::decode_prefix(&bytes, MAX_PACKET).unwrap_or_else(|e| panic!("re-encoded {p:?} fails: {e}"));
        assert_eq!(n, bytes.len(), "re-encoded packet {p:?} used {n} of {} bytes (first used {used})", bytes.len());
        if exact_strings(&bytes) {
            assert_eq!(again, p, "packet does not survive encode/decode");
        }
    }
}

fn packet_payloads(p: &QuorumPacket) {
    let body = p.body();
    match p.type_ {
        kind::PROPOSAL | kind::INFORM | kind::INFORMANDACTIVATE => txn_entry(body),
        kind::FOLLOWERINFO | kind::OBSERVERINFO => {
            let _ = LearnerInfo::from_slice(body);
        }
        kind::NEWLEADER | kind::COMMITANDACTIVATE => {
            let _ = crate::quorum::verifier::QuorumVerifier::parse(&String::from_utf8_lossy(body));
        }
        kind::SNAP => {
            let _ = crate::quorum::snap::decode_body(body, p.zxid, false);
        }
        _ => {}
    }
}

/// An election that has already decided, so the peer goes straight to its role.
#[derive(Debug)]
struct Decided(Option<ElectionEvent>);

impl Elector for Decided {
    fn start(&mut self, _: u64, _: Zxid, _: i64) {}
    fn handle(&mut self, _: u64, _: ServerId, _: Notification) {}
    fn handle_timeout(&mut self, _: u64) {}
    fn poll_timeout(&self) -> Option<u64> {
        None
    }
    fn poll_event(&mut self) -> Option<ElectionEvent> {
        self.0.take()
    }
    fn update_vote_epoch(&mut self, _: i64) {}
}

fn peer(me: i64, leader: i64) -> Peer {
    let mut sopts = Options { server_id: ServerId(me), ..Options::default() };
    sopts.local_sessions = false;
    let mut opts = PeerOptions::standalone(&sopts);
    opts.standalone = false;
    opts.quorum = Arc::new(Majority::of([ServerId(1), ServerId(2)]));
    opts.qv_string =
        "server.1=127.0.0.1:2888:3888:participant\nserver.2=127.0.0.1:2889:3889:participant\nversion=0".into();
    opts.txnlog_sync = true;
    let state = if me == leader { ServerState::Leading } else { ServerState::Following };
    let elector = Decided(Some(ElectionEvent::Decided { leader: ServerId(leader), state }));
    let srv = Server::new(sopts, DataTree::new(false), now(0));
    let mut p = Peer::new(opts, srv, (0, 0), Vec::new(), Box::new(elector), now(0));
    p.handle_timeout(now(0));
    p
}

/// Answers a peer's disk and log requests as the runtime does (every write durable at once);
/// returns true once the peer closed the link under test.
fn drain_peer(p: &mut Peer, step: usize) -> bool {
    let mut closed = false;
    for _ in 0..MAX_STEPS {
        let Some(out) = p.poll_output() else { break };
        let input = match out {
            PeerOutput::Append { zxid, .. } => PeerInput::Durable { zxid },
            PeerOutput::Snapshot { zxid, notify: true, .. } => PeerInput::SnapshotWritten { zxid },
            PeerOutput::Reload => PeerInput::Reloaded { tree: Box::new(DataTree::new(false)), replayed: Vec::new() },
            PeerOutput::ReadLog { link, .. } => PeerInput::LogRead { link, entries: None },
            PeerOutput::CloseLeader | PeerOutput::CloseLearner { .. } => {
                closed = true;
                continue;
            }
            _ => continue,
        };
        p.handle(now(step), input);
    }
    closed
}

/// Splits `data` into packets as `runtime::quorum_net` does and feeds each to `deliver`
/// until the stream is bad or the peer closes the link.
fn feed_packets(p: &mut Peer, data: &[u8], deliver: impl Fn(QuorumPacket) -> PeerInput) {
    let mut dec = StreamDecoder::default();
    dec.buffer().extend_from_slice(data);
    for step in 1..MAX_STEPS {
        match dec.next(MAX_PACKET) {
            Ok(Some(packet)) => {
                p.handle(now(step), deliver(packet));
                if drain_peer(p, step) {
                    return;
                }
                if step % 16 == 0 {
                    p.handle_timeout(now(step));
                }
            }
            Ok(None) | Err(PacketError::Incomplete) | Err(PacketError::Bad(_)) => return,
        }
    }
}

/// A follower (id 1) of leader 2 fed the leader's side of the stream: LEADERINFO,
/// DIFF/SNAP/TRUNC, proposals, NEWLEADER with its config, commits, pings.
pub fn follower(data: &[u8]) {
    let mut p = peer(1, 2);
    drain_peer(&mut p, 0);
    p.handle(now(0), PeerInput::LeaderConnected);
    drain_peer(&mut p, 0);
    feed_packets(&mut p, data, PeerInput::FromLeader);
}

/// A leader (id 1) fed one learner's side of the stream: FOLLOWERINFO, ACKEPOCH, ACKs,
/// forwarded requests, revalidations, pings.
pub fn leader(data: &[u8]) {
    let mut p = peer(1, 1);
    drain_peer(&mut p, 0);
    p.handle(now(0), PeerInput::LearnerConnected { link: 7 });
    drain_peer(&mut p, 0);
    feed_packets(&mut p, data, |packet| PeerInput::FromLearner { link: 7, packet });
}

/// The election port: the connection's initial message, then a notification frame body.
pub fn election(data: &[u8]) {
    if let Ok(Some((_msg, used))) = wire::decode_initial_message(data) {
        assert!(used <= data.len(), "initial message used {used} of {} bytes", data.len());
    }
    if let Ok(n) = wire::decode_notification(data) {
        let bytes = wire::encode_notification(&n);
        let again = wire::decode_notification(&bytes).unwrap_or_else(|e| panic!("re-encoded {n:?} fails: {e}"));
        // Java's buildMsg always writes version 2; an older one decodes without a config.
        assert_eq!(again, Notification { version: 2, ..n }, "notification does not survive encode/decode");
    }
}

/// zoo.cfg text, then after a NUL the `-D` definitions (one a line), then after another NUL
/// what `myid` or a dynamic config file holds.
pub fn config(data: &[u8]) {
    let mut parts = data.splitn(3, |&b| b == 0);
    let text: String = parts.next().unwrap_or_default().iter().map(|&b| char::from(b)).collect();
    let defs = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let file = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let args: Vec<String> = defs.lines().map(str::to_string).collect();
    let props = Props::from_args_and_env(&args, None, None);
    let _ = Config::parse(Path::new("/fuzz/conf/zoo.cfg"), &text, &props, &|_| Some(file.clone()));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn a_four_letter_word_is_answered_and_the_connection_closed() {
        // Smoke check of the harness itself: the targets must reach the code they name.
        let mut srv = super::Server::new(super::Options::default(), super::DataTree::new(false), super::now(0));
        srv.handle(super::now(0), super::Input::Accepted { conn: 1, addr: ([127, 0, 0, 1], 1).into() });
        assert!(crate::runtime::codec::FOUR_LETTER_WORDS.contains(&b"ruok"));
        assert!(!crate::runtime::codec::FOUR_LETTER_WORDS.contains(&b"\0\0\0\x2c"));
        // `srvr` is the one word Java's default whitelist allows.
        srv.handle(super::now(0), super::Input::FourLetter { conn: 1, word: *b"srvr", io: Default::default() });
        let Some(super::Output::Send { conn: 1, bytes }) = srv.poll_output() else { panic!("no answer") };
        assert!(bytes.starts_with(b"Zookeeper version: 3.8.0-ruzk-"), "{bytes:?}");
        assert_eq!(srv.poll_output(), Some(super::Output::Close { conn: 1 }));
    }
}
