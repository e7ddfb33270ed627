//! Drives `Server` through inputs and checks the exact outputs, without sockets or clocks.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::jute::records::CreateRequest;

fn now(ms: u64) -> Now {
    Now { mono_ms: ms, wall_ms: 1_700_000_000_000 + ms as i64 }
}

fn addr() -> SocketAddr {
    "127.0.0.1:5000".parse().unwrap()
}

/// Runs outputs: acknowledges appends at once, collects bytes per connection.
fn pump(s: &mut Server, t: u64) -> Vec<(ConnId, Bytes)> {
    let mut sent = Vec::new();
    loop {
        let mut appended = None;
        while let Some(o) = s.poll_output() {
            match o {
                Output::Send { conn, bytes } => sent.push((conn, bytes)),
                Output::Append { zxid, .. } => appended = Some(zxid),
                Output::Close { .. } | Output::Snapshot { .. } => {}
                Output::Forward { .. } | Output::Revalidate { .. } => panic!("a standalone server forwards nothing"),
            }
        }
        match appended {
            Some(z) => s.handle(now(t), Input::Durable { zxid: z }),
            None => return sent,
        }
    }
}

fn connect(s: &mut Server, conn: ConnId) -> i64 {
    s.handle(now(0), Input::Accepted { conn, addr: addr() });
    let req = ConnectRequest {
        time_out: 30000,
        passwd: Some(Bytes::from(vec![0u8; 16])),
        read_only: Some(false),
        ..Default::default()
    };
    s.handle(now(0), Input::Frame { conn, frame: Bytes::from(req.to_bytes()) });
    let out = pump(s, 0);
    assert_eq!(out.len(), 1);
    let resp = ConnectResponse::from_slice(&out[0].1[4..]).unwrap();
    assert_eq!(out[0].1.len(), 41, "4-byte length + 37 with the readOnly byte");
    assert_eq!(resp.time_out, 30000);
    resp.session_id
}

fn request(s: &mut Server, conn: ConnId, xid: i32, op_code: i32, body: &[u8]) -> Vec<(ConnId, Bytes)> {
    let mut f = RequestHeader { xid, type_: op_code }.to_bytes();
    f.extend_from_slice(body);
    s.handle(now(10), Input::Frame { conn, frame: Bytes::from(f) });
    pump(s, 10)
}

fn header(b: &Bytes) -> ReplyHeader {
    ReplyHeader::from_slice(&b[4..]).unwrap()
}

#[test]
fn create_then_get_with_watch_then_set_notifies_before_reply() {
    let mut s = Server::new(Options::default(), DataTree::new(false), now(0));
    connect(&mut s, 1);
    let c = CreateRequest {
        path: "/a".into(),
        data: Some(Bytes::from_static(b"x")),
        acl: Some(acl::open_acl_unsafe()),
        flags: 0,
    };
    let out = request(&mut s, 1, 1, op::CREATE, &c.to_bytes());
    assert_eq!(header(&out[0].1), ReplyHeader { xid: 1, zxid: 2, err: 0 });
    let g = GetDataRequest { path: "/a".into(), watch: true };
    let out = request(&mut s, 1, 2, op::GET_DATA, &g.to_bytes());
    let r = GetDataResponse::from_slice(&out[0].1[20..]).unwrap();
    assert_eq!(r.data.as_deref(), Some(&b"x"[..]));
    let sd = SetDataRequest { path: "/a".into(), data: None, version: 0 };
    let out = request(&mut s, 1, 3, op::SET_DATA, &sd.to_bytes());
    assert_eq!(out.len(), 2);
    assert_eq!(header(&out[0].1).xid, -1);
    assert_eq!(header(&out[1].1), ReplyHeader { xid: 3, zxid: 3, err: 0 });
    let st = Stat::from_slice(&out[1].1[20..]).unwrap();
    assert_eq!((st.version, st.data_length), (1, 0));
}

#[test]
fn failed_write_consumes_a_zxid_and_unknown_op_closes() {
    let mut s = Server::new(Options::default(), DataTree::new(false), now(0));
    connect(&mut s, 1);
    let d = DeleteRequest { path: "/missing".into(), version: -1 };
    let out = request(&mut s, 1, 1, op::DELETE, &d.to_bytes());
    assert_eq!(header(&out[0].1), ReplyHeader { xid: 1, zxid: 2, err: NO_NODE });
    s.handle(now(10), Input::Frame { conn: 1, frame: Bytes::from(RequestHeader { xid: 2, type_: 999 }.to_bytes()) });
    let mut outs = Vec::new();
    while let Some(o) = s.poll_output() {
        outs.push(o);
    }
    assert!(matches!(outs.last(), Some(Output::Close { conn: 1 })));
}

#[test]
fn session_expiry_deletes_ephemerals() {
    let mut s = Server::new(Options::default(), DataTree::new(false), now(0));
    let sid = connect(&mut s, 1);
    let c = CreateRequest { path: "/e".into(), data: None, acl: Some(acl::open_acl_unsafe()), flags: 1 };
    request(&mut s, 1, 1, op::CREATE, &c.to_bytes());
    assert_eq!(s.tree.stat("/e").unwrap().ephemeral_owner, sid);
    s.handle(now(20), Input::Closed { conn: 1 });
    let t = s.poll_timeout().unwrap();
    s.handle_timeout(now(t));
    pump(&mut s, t);
    assert!(s.tree.get("/e").is_none());
    assert!(!s.tree.sessions.contains_key(&sid));
}

#[test]
fn reconnect_with_wrong_password_is_refused() {
    let mut s = Server::new(Options::default(), DataTree::new(false), now(0));
    let sid = connect(&mut s, 1);
    s.handle(now(1), Input::Accepted { conn: 2, addr: addr() });
    let req = ConnectRequest {
        time_out: 30000,
        session_id: sid,
        passwd: Some(Bytes::from(vec![1u8; 16])),
        ..Default::default()
    };
    s.handle(now(1), Input::Frame { conn: 2, frame: Bytes::from(req.to_bytes()) });
    let out = pump(&mut s, 1);
    let r = ConnectResponse::from_slice(&out[0].1[4..]).unwrap();
    assert_eq!((r.time_out, r.session_id), (0, 0));
    assert_eq!(out[0].1.len(), 40, "no readOnly byte when the request had none");
}
