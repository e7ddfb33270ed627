//! The simulated client against a real standalone `server::Server`, with no network in
//! between: the client protocol, the workload and the client-side checks, before any
//! ensemble is involved.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::server::{self, Now, Server};
use crate::tree::DataTree;

fn server() -> Server {
    let mut opts = server::Options::default();
    opts.prep.extended_types = true;
    opts.max_client_cnxns = 0;
    let mut s = Server::new(opts, DataTree::new(true), Now { mono_ms: 0, wall_ms: 1_700_000_000_000 });
    s.start_standalone();
    s
}

/// Runs clients against one standalone server for `ms` of virtual time, 1 ms per step.
fn run(clients: &mut [Client], ms: u64, history: &mut History, trace: &mut Trace) -> Server {
    let mut srv = server();
    let mut next_conn: ConnId = 1;
    let mut owner: BTreeMap<ConnId, usize> = BTreeMap::new();
    for now in 0..ms {
        let t = Now { mono_ms: now, wall_ms: 1_700_000_000_000 + now as i64 };
        for (i, c) in clients.iter_mut().enumerate() {
            // tick is a no-op when nothing is due, so the test simply ticks every millisecond.
            c.tick(now, trace, history);
            for o in c.take_outputs() {
                match o {
                    ClientOut::Connect { .. } => {
                        let conn = next_conn;
                        next_conn += 1;
                        owner.insert(conn, i);
                        srv.handle(t, server::Input::Accepted { conn, addr: "127.0.0.1:40000".parse().unwrap() });
                        c.on_open(now, conn, history);
                    }
                    ClientOut::Send { conn, frame } => srv.handle(t, server::Input::Frame { conn, frame }),
                    ClientOut::Close { conn } => srv.handle(t, server::Input::Closed { conn }),
                }
            }
            for o in c.take_outputs() {
                if let ClientOut::Send { conn, frame } = o {
                    srv.handle(t, server::Input::Frame { conn, frame });
                }
            }
        }
        if srv.poll_timeout().is_some_and(|d| d <= now) {
            srv.handle_timeout(t);
        }
        while let Some(o) = srv.poll_output() {
            match o {
                server::Output::Append { zxid, .. } => srv.handle(t, server::Input::Durable { zxid }),
                server::Output::Send { conn, bytes } => {
                    if let Some(&i) = owner.get(&conn) {
                        clients[i].on_bytes(now, conn, &bytes, trace, history);
                    }
                }
                server::Output::Close { conn } => {
                    if let Some(i) = owner.remove(&conn) {
                        clients[i].on_closed(now, Some(conn), trace, history);
                    }
                }
                server::Output::Snapshot { .. }
                | server::Output::Forward { .. }
                | server::Output::Revalidate { .. } => {}
            }
        }
    }
    srv
}

#[test]
fn clients_run_every_op_against_a_standalone_server_without_violations() {
    let mut history = History::default();
    let mut trace = Trace::new(false, 50);
    let root = Rng::new(5);
    let mut clients: Vec<Client> =
        (0..3).map(|i| Client::new(i, Role::Worker, 1, Mix::default(), root.fork(&format!("c{i}")))).collect();
    let srv = run(&mut clients, 20_000, &mut history, &mut trace);
    assert!(history.violations.is_empty(), "{:?}\n{}", history.violations, trace.lines().join("\n"));
    let s = &history.stats;
    assert!(s.replies > 500, "{s:?}");
    assert!(s.writes_acked > 100, "{s:?}");
    assert!(s.watch_events > 5, "{s:?}");
    assert!(s.sessions_created >= 3, "{s:?}");
    assert!(s.errors.contains_key(&-110), "NODEEXISTS is drawn: {s:?}");
    // Every acknowledged write's zxid is a txn the server applied, acknowledged once.
    let mut zxids: Vec<i64> = history.acked.iter().map(|a| a.zxid.0).collect();
    zxids.sort_unstable();
    zxids.dedup();
    assert_eq!(zxids.len(), history.acked.len());
    assert!(zxids.iter().all(|z| *z <= srv.tree.last_zxid.0));
}

#[test]
fn a_reply_out_of_order_and_a_watch_event_without_a_watch_are_violations() {
    let mut history = History::default();
    let mut trace = Trace::new(false, 10);
    let mut c = Client::new(1, Role::Worker, 1, Mix::default(), Rng::new(1));
    c.tick(0, &mut trace, &mut history);
    c.take_outputs();
    c.on_open(0, 7, &mut history);
    let resp = ConnectResponse {
        protocol_version: 0,
        time_out: 6000,
        session_id: 0x42,
        passwd: Bytes::from_static(&[1; 16]),
        read_only: Some(false),
    };
    let frame = |body: Vec<u8>| {
        let mut f = (body.len() as u32).to_be_bytes().to_vec();
        f.extend(body);
        f
    };
    c.on_bytes(1, 7, &frame(resp.to_bytes()), &mut trace, &mut history);
    c.issuing = true;
    c.max_inflight = 2;
    c.tick(100, &mut trace, &mut history);
    c.next_op_ms = 0;
    c.tick(100, &mut trace, &mut history);
    assert_eq!(c.outstanding(), 2);
    let second = c.outstanding[1].xid;
    let mut reply = ReplyHeader { xid: second, zxid: 5, err: -101 }.to_bytes();
    reply.extend(Vec::<u8>::new());
    c.on_bytes(200, 7, &frame(reply), &mut trace, &mut history);
    let mut ev = ReplyHeader { xid: -1, zxid: -1, err: 0 }.to_bytes();
    ev.extend(WatcherEvent { type_: 3, state: 3, path: "/k1".into() }.to_bytes());
    c.on_bytes(201, 7, &frame(ev), &mut trace, &mut history);
    let names: Vec<&str> = history.violations.iter().map(|v| v.invariant).collect();
    assert_eq!(names, vec![inv::SESSION_FIFO, inv::WATCH_ONCE], "{:?}", history.violations);
}

#[test]
fn an_expired_session_is_replaced_by_a_new_one() {
    let mut history = History::default();
    let mut trace = Trace::new(false, 10);
    let mut c = Client::new(1, Role::Worker, 3, Mix::default(), Rng::new(2));
    c.session = Some(Session { id: 0x99, passwd: Bytes::from_static(&[0; 16]), timeout_ms: 6000 });
    c.tick(0, &mut trace, &mut history);
    let Some(ClientOut::Connect { .. }) = c.take_outputs().pop() else { panic!("connects first") };
    c.on_open(1, 3, &mut history);
    let sent = c.take_outputs();
    let Some(ClientOut::Send { frame, .. }) = sent.first() else { panic!("{sent:?}") };
    assert_eq!(ConnectRequest::from_slice(frame).unwrap().session_id, 0x99, "reconnects with its session");
    let expired = ConnectResponse {
        protocol_version: 0,
        time_out: 0,
        session_id: 0,
        passwd: Bytes::from_static(&[0; 16]),
        read_only: Some(false),
    }
    .to_bytes();
    let mut f = (expired.len() as u32).to_be_bytes().to_vec();
    f.extend(expired);
    c.on_bytes(2, 3, &f, &mut trace, &mut history);
    assert_eq!(c.session, None);
    assert_eq!(history.stats.sessions_expired, 1);
    assert_eq!(c.take_outputs(), vec![ClientOut::Close { conn: 3 }]);
}
