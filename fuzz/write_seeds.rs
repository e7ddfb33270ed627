//! Writes the seed corpora of every fuzz target from bytes real servers wrote (the golden
//! client sessions, Java's txn logs and snapshots, the config test files) and from ruzk's own
//! encoders where no capture exists (quorum streams, election messages), so no corpus is
//! committed. Usage: `write_seeds REPO_ROOT OUT_DIR` (one folder per target under OUT_DIR).
// Linked for the coverage hooks the instrumented ruzk calls; its own `main` stays unused.
use libfuzzer_sys as _;
use ruzk::jute::txn::TxnEntry;
use ruzk::quorum::election::wire::{self, PeerAddress};
use ruzk::quorum::election::{Notification, ServerState};
use ruzk::quorum::packet::{kind, LearnerInfo, QuorumPacket, ZAB_PROTOCOL_VERSION};
use ruzk::types::{ServerId, Zxid};
use std::fs;
use std::path::{Path, PathBuf};

const QV: &str = "server.1=127.0.0.1:2888:3888:participant\nserver.2=127.0.0.1:2889:3889:participant\nversion=0";
const FOUR_LETTER_WORDS: [&str; 18] = [
    "ruok", "srvr", "stat", "mntr", "conf", "cons", "envi", "wchs", "wchc", "wchp", "dump", "isro", "dirs", "crst",
    "srst", "hash", "gtmk", "stmk",
];

struct Out(PathBuf);

impl Out {
    fn put(&self, target: &str, name: &str, bytes: &[u8]) {
        let dir = self.0.join(target);
        fs::create_dir_all(&dir).expect("create seed folder");
        fs::write(dir.join(name), bytes).expect("write seed");
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    v.sort();
    v
}

fn framed(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        out.extend_from_slice(&(f.len() as i32).to_be_bytes());
        out.extend_from_slice(f);
    }
    out
}

/// The entries of a Java txn log: a 16-byte header, then `crc(8) len(4) entry 0x42` records.
fn log_entries(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut entries = Vec::new();
    let mut pos = 16;
    while pos + 12 <= bytes.len() {
        let len = i32::from_be_bytes(bytes[pos + 8..pos + 12].try_into().unwrap());
        if len <= 0 || pos + 12 + len as usize > bytes.len() {
            break;
        }
        entries.push(bytes[pos + 12..pos + 12 + len as usize].to_vec());
        pos += 12 + len as usize + 1;
    }
    entries
}

fn stream(packets: &[QuorumPacket]) -> Vec<u8> {
    packets.iter().flat_map(|p| p.to_bytes()).collect()
}

fn with_zxid(entry: &[u8], zxid: Zxid) -> Option<Vec<u8>> {
    let mut e = TxnEntry::decode(entry).ok()?;
    e.header.zxid = zxid.0;
    Some(e.encode())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (root, out) = (PathBuf::from(&args[1]), Out(PathBuf::from(&args[2])));

    // Client connections: each golden session replayed as one stream, and each 4lw.
    let wire_dir = root.join("tests/data/golden/wire");
    let wire = files(&wire_dir);
    let sessions: std::collections::BTreeSet<String> = wire
        .iter()
        .filter_map(|p| p.file_name()?.to_str()?.split('.').next().map(str::to_string))
        .filter(|s| s.starts_with('c'))
        .collect();
    for s in &sessions {
        let mut frames = vec![fs::read(wire_dir.join(format!("{s}.connect.request.bin"))).unwrap_or_default()];
        for p in &wire {
            let name = p.file_name().unwrap().to_string_lossy();
            if name.starts_with(&format!("{s}.")) && name.ends_with(".request.bin") && !name.contains("connect") {
                frames.push(fs::read(p).unwrap());
                // Each request alone after the handshake too, so every opcode is a short seed.
                out.put("client_stream", &format!("{s}-{name}"), &framed(&[frames[0].clone(), fs::read(p).unwrap()]));
            }
        }
        out.put("client_stream", &format!("{s}-session"), &framed(&frames));
    }
    for w in FOUR_LETTER_WORDS {
        out.put("client_stream", w, w.as_bytes());
    }

    // Storage: Java's logs and snapshots as they are, and each logged entry alone.
    let mut entries = Vec::new();
    for dir in ["tests/data/storage/java-3.8.0", "tests/data/storage/java-3.8.0-compressed"] {
        for p in files(&root.join(dir)) {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let bytes = fs::read(&p).unwrap();
            if name.starts_with("log.") {
                out.put("txnlog_file", &name, &bytes);
                for (i, e) in log_entries(&bytes).into_iter().enumerate() {
                    out.put("txn_entry", &format!("{name}-{i}"), &e);
                    entries.push(e);
                }
            } else if name.starts_with("snapshot.") {
                out.put("snapshot", &name, &bytes);
            }
        }
    }

    // The leader's side of a sync, three ways (DIFF with proposals, SNAP, TRUNC), then broadcast.
    let e1 = Zxid::epoch_start(1);
    let leader_info = QuorumPacket::with_data(kind::LEADERINFO, e1, ZAB_PROTOCOL_VERSION.to_be_bytes().to_vec());
    let tail = |next: Zxid| -> Vec<QuorumPacket> {
        let mut v = vec![
            QuorumPacket::with_data(kind::NEWLEADER, e1, QV.as_bytes().to_vec()),
            QuorumPacket::bare(kind::UPTODATE, Zxid::NONE),
        ];
        if let Some(e) = entries.first().and_then(|e| with_zxid(e, next)) {
            v.push(QuorumPacket::with_data(kind::PROPOSAL, next, e));
            v.push(QuorumPacket::bare(kind::COMMIT, next));
        }
        v.push(QuorumPacket::bare(kind::PING, Zxid::NONE));
        v
    };
    let mut diff = vec![leader_info.clone(), QuorumPacket::bare(kind::DIFF, Zxid::NONE)];
    for (i, e) in entries.iter().take(8).enumerate() {
        let z = Zxid::new(0, i as u32 + 1);
        if let Some(e) = with_zxid(e, z) {
            diff.push(QuorumPacket::with_data(kind::PROPOSAL, z, e));
            diff.push(QuorumPacket::bare(kind::COMMIT, z));
        }
    }
    diff.extend(tail(Zxid::new(1, 1)));
    let tree = ruzk::tree::DataTree::new(false);
    let mut snap = vec![
        leader_info.clone(),
        QuorumPacket::with_data(kind::SNAP, Zxid::NONE, ruzk::quorum::snap::encode_body(&tree)),
    ];
    snap.extend(tail(Zxid::new(1, 1)));
    let mut trunc = vec![leader_info, QuorumPacket::bare(kind::TRUNC, Zxid::NONE)];
    trunc.extend(tail(Zxid::new(1, 1)));
    for (name, packets) in [("diff", &diff), ("snap", &snap), ("trunc", &trunc)] {
        out.put("follower", name, &stream(packets));
        out.put("quorum_packets", name, &[&[7u8][..], &stream(packets)].concat());
    }

    // A follower's side: FOLLOWERINFO, ACKEPOCH, the NEWLEADER ACK, then requests and pings.
    let info = LearnerInfo { server_id: ServerId(2), protocol_version: ZAB_PROTOCOL_VERSION, config_version: 0 };
    let mut request = Vec::new();
    request.extend_from_slice(&0x1234i64.to_be_bytes());
    request.extend_from_slice(&1i32.to_be_bytes());
    if let Some(create) = wire.iter().find(|p| p.to_string_lossy().ends_with("c0.01.create.request.bin")) {
        let body = fs::read(create).unwrap();
        request.extend_from_slice(&body[4..]);
    }
    let mut touch = Vec::new();
    touch.extend_from_slice(&0x1234i64.to_be_bytes());
    touch.extend_from_slice(&30000i32.to_be_bytes());
    let learner = vec![
        QuorumPacket::with_data(kind::FOLLOWERINFO, Zxid::NONE, info.to_bytes()),
        QuorumPacket::with_data(kind::ACKEPOCH, Zxid::NONE, 0i32.to_be_bytes().to_vec()),
        QuorumPacket::bare(kind::ACK, e1),
        QuorumPacket::with_data(kind::REQUEST, Zxid::NONE, request),
        QuorumPacket::with_data(kind::REVALIDATE, Zxid::NONE, touch.clone()),
        QuorumPacket::with_data(kind::PING, Zxid::NONE, touch),
        QuorumPacket::bare(kind::ACK, Zxid::new(1, 1)),
    ];
    out.put("leader", "sync", &stream(&learner));
    out.put("quorum_packets", "learner", &[&[3u8][..], &stream(&learner)].concat());

    // Election: initial messages and notifications of each state.
    let addr = [PeerAddress { host: "127.0.0.1".into(), port: 3888 }];
    out.put("election", "initial-v1", &wire::encode_initial_message(-65536, 2, &addr));
    out.put("election", "initial-v2", &wire::encode_initial_message(-65535, 2, &addr));
    for (i, state) in [ServerState::Looking, ServerState::Following, ServerState::Leading].into_iter().enumerate() {
        let n = Notification {
            state,
            leader: ServerId(2),
            zxid: Zxid::new(1, 5),
            election_epoch: 3,
            peer_epoch: 1,
            version: 2,
            config: QV.as_bytes().to_vec(),
        };
        out.put("election", &format!("notification-{i}"), &wire::encode_notification(&n));
    }

    // zoo.cfg: every config test file, with a -D and a myid.
    let mut cfgs = files(&root.join("tests/data/config"));
    cfgs.push(root.join("conf/zoo.cfg"));
    for p in cfgs.iter().filter(|p| p.extension().is_some_and(|e| e == "cfg")) {
        let text = fs::read(p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy();
        out.put(
            "config",
            &name,
            &[&text[..], b"\0zookeeper.4lw.commands.whitelist=*\nreadonlymode.enabled=true\0001"].concat(),
        );
    }
}
