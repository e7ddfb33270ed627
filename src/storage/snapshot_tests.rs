//! Golden tests against snapshots written by Java 3.8.0 (tests/data/storage), plus the
//! corruption cases the loader must reject without panicking.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use super::*;
use crate::jute::records::{Acl, Id, StatPersisted};
use std::path::PathBuf;

fn data(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/storage").join(sub)
}

fn java_snapshots() -> Vec<(i64, PathBuf)> {
    let v = crate::storage::list_by_zxid(&data("java-3.8.0"), "snapshot").unwrap();
    assert!(v.len() >= 10, "captured snapshots missing: {v:?}");
    v
}

#[test]
fn every_java_snapshot_reencodes_byte_for_byte() {
    for (_, p) in java_snapshots() {
        let bytes = std::fs::read(&p).unwrap();
        let img = read_snapshot(&p).unwrap();
        assert_eq!(image_to_bytes(&img), bytes, "{}", p.display());
        assert!(is_valid_snapshot(&p));
    }
}

#[test]
fn fresh_java_snapshot_zero_has_the_documented_shape() {
    let img = read_snapshot(&data("java-3.8.0/snapshot.0")).unwrap();
    assert!(img.sessions.is_empty());
    let read_anyone = vec![Acl { perms: 1, id: Id { scheme: "world".into(), id: "anyone".into() } }];
    assert_eq!(img.acls, vec![(1, read_anyone)]);
    let paths: Vec<&str> = img.nodes.iter().map(|n| n.path.as_str()).collect();
    assert_eq!(paths, ["", "/zookeeper", "/zookeeper/config", "/zookeeper/quota"]);
    let config = &img.nodes[2];
    assert_eq!((config.acl, config.stat.aversion), (1, -1));
    assert_eq!(img.digest, Some(ZxidDigest { zxid: 0, version: 2, digest: 0 }));
}

#[test]
fn later_java_snapshot_holds_sessions_acls_and_special_owners() {
    let (_, newest) = java_snapshots().pop().unwrap();
    let img = read_snapshot(&newest).unwrap();
    // Sessions a and c were still open when the server was killed.
    assert_eq!(img.sessions.len(), 2, "{:?}", img.sessions);
    let find = |p: &str| img.nodes.iter().find(|n| n.path == p).unwrap_or_else(|| panic!("{p} missing"));
    assert_eq!(find("/cont").stat.ephemeral_owner, i64::MIN);
    assert_eq!(find("/ttl").stat.ephemeral_owner as u64, 0xFF00_0000_0000_0000 | 60000);
    let c = find("/c-eph").stat.ephemeral_owner;
    assert!(img.sessions.iter().any(|(id, _)| *id == c));
    // null vs empty data survive.
    assert_eq!(find("/readonly").data, None);
    assert_eq!(find("/n/3").data.as_deref(), Some(&b""[..]));
    // The digest ACL got its own id.
    let acl_id = find("/acl").acl;
    let list = &img.acls.iter().find(|(id, _)| *id == acl_id).unwrap().1;
    assert_eq!(list[0].id.scheme, "digest");
    let d = img.digest.unwrap();
    assert!(d.zxid > 0 && d.version == 2 && d.digest != 0);
}

#[test]
fn java_gz_and_snappy_snapshots_read() {
    for name in ["snapshot.67.gz", "snapshot.62.snappy", "snapshot.0.snappy"] {
        let p = data("java-3.8.0-compressed").join(name);
        assert!(is_valid_snapshot(&p), "{name}");
        let img = read_snapshot(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(img.nodes.len() >= 4);
        // Rewriting in each codec and reading back gives the same image.
        let d = tempfile::tempdir().unwrap();
        for c in [Compression::None, Compression::Gzip, Compression::Snappy] {
            let out = d.path().join(snapshot_name(0x62, c));
            write_snapshot(&out, &img, c).unwrap();
            assert!(is_valid_snapshot(&out));
            assert_eq!(read_snapshot(&out).unwrap(), img, "{name} via {c:?}");
        }
    }
}

#[test]
fn uncompressed_stream_of_a_java_snappy_file_matches_our_encoding() {
    use std::io::Read;
    let p = data("java-3.8.0-compressed/snapshot.62.snappy");
    let mut raw = Vec::new();
    crate::storage::snappy_stream::SnappyReader::new(std::fs::File::open(&p).unwrap())
        .unwrap()
        .read_to_end(&mut raw)
        .unwrap();
    assert_eq!(image_to_bytes(&read_snapshot(&p).unwrap()), raw);
}

#[test]
fn any_flipped_byte_before_the_first_seal_is_rejected() {
    let p = data("java-3.8.0/snapshot.5");
    let bytes = std::fs::read(&p).unwrap();
    let img = read_snapshot(&p).unwrap();
    let first_seal = {
        let mut no_digest = img.clone();
        no_digest.digest = None;
        image_to_bytes(&no_digest).len() - 13
    };
    for i in 0..first_seal + 8 {
        let mut b = bytes.clone();
        b[i] ^= 0x5a;
        let r = decode_image(&b[..], &p);
        assert!(r.is_err(), "flip at {i} accepted");
    }
}

#[test]
fn truncated_snapshots_are_errors_and_invalid() {
    let p = java_snapshots()[2].1.clone();
    let bytes = std::fs::read(&p).unwrap();
    let d = tempfile::tempdir().unwrap();
    for cut in 0..bytes.len() {
        // The digest section is optional: cutting exactly after the first seal is a valid
        // older-format snapshot.
        let r = decode_image(&bytes[..cut], &p);
        if let Ok(img) = r {
            // digest section: zxid 8 + version 4 + digest 8, then a 13-byte seal.
            assert_eq!(cut, bytes.len() - 33, "cut at {cut} accepted");
            assert_eq!(img.digest, None);
        }
    }
    let torn = d.path().join(p.file_name().unwrap());
    std::fs::write(&torn, &bytes[..bytes.len() - 3]).unwrap();
    assert!(!is_valid_snapshot(&torn));
    std::fs::write(&torn, &bytes[..4]).unwrap();
    assert!(!is_valid_snapshot(&torn));
}

#[test]
fn wrong_magic_is_reported_as_such() {
    let p = data("java-3.8.0/log.1");
    match read_snapshot(&p) {
        Err(StorageError::BadMagic { kind: "snapshot", .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn orphan_node_is_rejected() {
    let stat = StatPersisted::default();
    let img = SnapshotImage {
        nodes: vec![
            SnapNode { path: "".into(), data: None, acl: -1, stat: stat.clone() },
            SnapNode { path: "/a/b".into(), data: None, acl: -1, stat },
        ],
        ..Default::default()
    };
    let b = image_to_bytes(&img);
    let err = decode_image(&b[..], Path::new("x")).unwrap_err().to_string();
    assert!(err.contains("unable to find parent /a"), "{err}");
}

#[test]
fn image_without_digest_has_one_seal() {
    let img = SnapshotImage {
        sessions: vec![(0x100, 30000)],
        nodes: vec![SnapNode {
            path: "".into(),
            data: Some(Bytes::from_static(b"")),
            acl: -1,
            stat: StatPersisted::default(),
        }],
        ..Default::default()
    };
    let b = image_to_bytes(&img);
    assert_eq!(&b[b.len() - 5..], &[0, 0, 0, 1, b'/']);
    assert_eq!(decode_image(&b[..], Path::new("x")).unwrap(), img);
    let seal = i64::from_be_bytes(b[b.len() - 13..b.len() - 5].try_into().unwrap());
    assert_eq!(seal, i64::from(adler32::RollingAdler32::from_buffer(&b[..b.len() - 13]).hash()));
}

#[test]
fn find_valid_snapshots_is_newest_first_and_skips_torn() {
    let d = tempfile::tempdir().unwrap();
    let snaps = java_snapshots();
    for (_, p) in &snaps[..3] {
        std::fs::copy(p, d.path().join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(d.path().join("snapshot.70"), b"partial").unwrap();
    std::fs::write(d.path().join("snapshot.71.gz"), b"nope").unwrap();
    std::fs::write(d.path().join("other.80"), b"x").unwrap();
    let found: Vec<i64> = find_valid_snapshots(d.path()).unwrap().into_iter().map(|(z, _)| z).collect();
    assert_eq!(found, vec![snaps[2].0, snaps[1].0, snaps[0].0]);
}

#[test]
fn compression_by_suffix_like_java() {
    assert_eq!(Compression::from_file_name("snapshot.1a"), Compression::None);
    assert_eq!(Compression::from_file_name("snapshot.1a.gz"), Compression::Gzip);
    assert_eq!(Compression::from_file_name("snapshot.1a.SNAPPY"), Compression::Snappy);
    assert_eq!(Compression::from_property("gz"), Compression::Gzip);
    assert_eq!(Compression::from_property(""), Compression::None);
    assert_eq!(snapshot_name(0x1a, Compression::Snappy), "snapshot.1a.snappy");
}

/// Random damage to real files (plain, gz, snappy) must give errors or images, never panics.
#[test]
fn random_damage_never_panics() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let files = [
        java_snapshots().pop().unwrap().1,
        data("java-3.8.0-compressed/snapshot.67.gz"),
        data("java-3.8.0-compressed/snapshot.62.snappy"),
    ];
    let d = tempfile::tempdir().unwrap();
    for f in &files {
        let orig = std::fs::read(f).unwrap();
        let target = d.path().join(f.file_name().unwrap());
        for _ in 0..300 {
            let mut b = orig.clone();
            for _ in 0..rng.gen_range(1..4) {
                let i = rng.gen_range(0..b.len());
                b[i] = rng.gen();
            }
            if rng.gen_bool(0.3) {
                b.truncate(rng.gen_range(0..b.len()));
            }
            std::fs::write(&target, &b).unwrap();
            let _ = read_snapshot(&target);
            let _ = is_valid_snapshot(&target);
        }
    }
}
