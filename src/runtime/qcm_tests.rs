//! The connection manager against real loopback sockets: two managers, and raw sockets playing
//! Java peers (or bad ones). Every wait has a timeout that names what it waited for.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::quorum::election::ServerState;
use crate::types::Zxid;

const WAIT: Duration = Duration::from_secs(5);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn addr(port: u16) -> PeerAddress {
    PeerAddress { host: "127.0.0.1".into(), port }
}

fn cfg(my_id: i64, ports: &BTreeMap<i64, u16>) -> QcmConfig {
    let me = ports[&my_id];
    QcmConfig {
        my_id,
        listen: vec![SocketAddr::from(([127, 0, 0, 1], me))],
        advertise: vec![addr(me)],
        protocol: PROTOCOL_V1,
        peers: ports.iter().filter(|(id, _)| **id != my_id).map(|(id, p)| (*id, vec![addr(*p)])).collect(),
        cnx_timeout: Duration::from_secs(2),
        handshake_timeout: Duration::from_secs(2),
        bind_retry: 1,
        tcp_keep_alive: false,
    }
}

fn note(leader: i64, ee: i64) -> Notification {
    Notification {
        state: ServerState::Looking,
        leader: ServerId(leader),
        zxid: Zxid(0),
        election_epoch: ee,
        peer_epoch: 0,
        version: 2,
        config: b"version=0".to_vec(),
    }
}

async fn recv(rx: &mut mpsc::Receiver<(ServerId, Notification)>, what: &str) -> (ServerId, Notification) {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap_or_else(|_| panic!("timed out after {WAIT:?} waiting for {what}"))
        .unwrap_or_else(|| panic!("inbound channel closed while waiting for {what}"))
}

async fn read_frame(s: &mut TcpStream, what: &str) -> Vec<u8> {
    let fut = async {
        let len = s.read_i32().await?;
        let mut b = vec![0; len as usize];
        s.read_exact(&mut b).await?;
        Ok::<_, std::io::Error>(b)
    };
    tokio::time::timeout(WAIT, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
        .unwrap_or_else(|e| panic!("socket error waiting for {what}: {e}"))
}

async fn write_frame(s: &mut TcpStream, body: &[u8]) {
    s.write_all(&(body.len() as i32).to_be_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
}

/// True once the peer has closed `s` (EOF or reset) within the wait.
async fn closed_by_peer(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 64];
    matches!(tokio::time::timeout(WAIT, s.read(&mut b)).await, Ok(Ok(0)) | Ok(Err(_)))
}

async fn connect_as(port: u16, sid: i64, my_port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(&wire::encode_initial_message(PROTOCOL_V1, sid, &[addr(my_port)])).await.unwrap();
    s
}

#[tokio::test]
async fn two_managers_connect_once_and_deliver_both_ways() {
    let ports: BTreeMap<i64, u16> = [(1, free_port()), (2, free_port())].into();
    let (h1, mut rx1) = start(cfg(1, &ports)).await.unwrap();
    let (h2, mut rx2) = start(cfg(2, &ports)).await.unwrap();
    // 1 dials 2 and loses the challenge; 2 dials back, and 1's queued message then goes out.
    h1.send(ServerId(2), &note(1, 1));
    assert_eq!(recv(&mut rx2, "1's notification at 2").await, (ServerId(1), note(1, 1)));
    h2.send(ServerId(1), &note(2, 1));
    assert_eq!(recv(&mut rx1, "2's notification at 1").await, (ServerId(2), note(2, 1)));
    for i in 0..20 {
        h1.send(ServerId(2), &note(1, 10 + i));
        assert_eq!(recv(&mut rx2, "a later notification").await.1.election_epoch, 10 + i);
    }
    // Loopback.
    h1.send(ServerId(1), &note(1, 3));
    assert_eq!(recv(&mut rx1, "loopback").await, (ServerId(1), note(1, 3)));
    h1.shutdown();
    h2.shutdown();
}

#[tokio::test]
async fn larger_sid_keeps_its_connection_and_gets_replies_on_it() {
    let ports: BTreeMap<i64, u16> = [(3, free_port()), (5, free_port())].into();
    let (h3, mut rx3) = start(cfg(3, &ports)).await.unwrap();
    let mut s = connect_as(ports[&3], 5, ports[&5]).await;
    write_frame(&mut s, &wire::encode_notification(&note(5, 1))).await;
    assert_eq!(recv(&mut rx3, "5's notification").await, (ServerId(5), note(5, 1)));
    h3.send(ServerId(5), &note(3, 1));
    assert_eq!(wire::decode_notification(&read_frame(&mut s, "3's reply on 5's socket").await).unwrap(), note(3, 1));
    // A newer connection from the same sid replaces the old one, and the last message is
    // repeated first on it.
    let mut s2 = connect_as(ports[&3], 5, ports[&5]).await;
    assert_eq!(wire::decode_notification(&read_frame(&mut s2, "the repeated last message").await).unwrap(), note(3, 1));
    assert!(closed_by_peer(&mut s).await, "the old connection is closed");
    h3.send(ServerId(5), &note(3, 2));
    assert_eq!(wire::decode_notification(&read_frame(&mut s2, "a new message").await).unwrap(), note(3, 2));
    h3.shutdown();
}

#[tokio::test]
async fn smaller_sid_is_dropped_and_dialled_back_with_a_v1_hello() {
    let ports: BTreeMap<i64, u16> = [(1, free_port()), (4, free_port())].into();
    let fake1 = TcpListener::bind(("127.0.0.1", ports[&1])).await.unwrap();
    let (h4, _rx4) = start(cfg(4, &ports)).await.unwrap();
    let mut s = connect_as(ports[&4], 1, ports[&1]).await;
    assert!(closed_by_peer(&mut s).await, "4 closes the connection from the smaller sid");
    let (mut back, _) = tokio::time::timeout(WAIT, fake1.accept()).await.expect("4 dialling back").unwrap();
    let mut hello = vec![0u8; 35];
    tokio::time::timeout(WAIT, back.read_exact(&mut hello)).await.expect("4's initial message").unwrap();
    assert_eq!(hello, wire::encode_initial_message(PROTOCOL_V1, 4, &[addr(ports[&4])]));
    assert_eq!(&hello[..8], &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0]);
    h4.shutdown();
}

#[tokio::test]
async fn queue_holds_one_message_until_a_connection_exists() {
    let ports: BTreeMap<i64, u16> = [(1, free_port()), (2, free_port())].into();
    let (h2, _rx2) = start(cfg(2, &ports)).await.unwrap();
    // 1 is down: three sends, only the newest stays queued.
    for ee in 1..=3 {
        h2.send(ServerId(1), &note(2, ee));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // "Server 1" comes up; 2 redials it (with backoff) because a message is waiting.
    let fake1 = TcpListener::bind(("127.0.0.1", ports[&1])).await.unwrap();
    let (mut back, _) = tokio::time::timeout(WAIT, fake1.accept()).await.expect("2 redialling 1").unwrap();
    let mut hello = vec![0u8; 35];
    back.read_exact(&mut hello).await.unwrap();
    assert_eq!(hello, wire::encode_initial_message(PROTOCOL_V1, 2, &[addr(ports[&2])]));
    let got = wire::decode_notification(&read_frame(&mut back, "the queued message").await).unwrap();
    assert_eq!(got.election_epoch, 3);
    // Nothing else was queued, and the connection stays up.
    let mut b = [0u8; 1];
    assert!(tokio::time::timeout(Duration::from_millis(300), back.read(&mut b)).await.is_err());
    h2.shutdown();
}

#[tokio::test]
async fn bad_peers_are_dropped_without_disturbing_others() {
    let ports: BTreeMap<i64, u16> = [(2, free_port()), (7, free_port())].into();
    let (h2, mut rx2) = start(cfg(2, &ports)).await.unwrap();
    let mut good = connect_as(ports[&2], 7, ports[&7]).await;
    let mut bad = Vec::new();
    // Garbage, an unknown protocol, an address too long, a bad port, a huge frame, a zero frame.
    let mut g = TcpStream::connect(("127.0.0.1", ports[&2])).await.unwrap();
    g.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    bad.push(("http", g));
    let mut g = TcpStream::connect(("127.0.0.1", ports[&2])).await.unwrap();
    g.write_all(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 9]).await.unwrap();
    bad.push(("protocol", g));
    let mut g = TcpStream::connect(("127.0.0.1", ports[&2])).await.unwrap();
    let mut m = PROTOCOL_V1.to_be_bytes().to_vec();
    m.extend_from_slice(&9i64.to_be_bytes());
    m.extend_from_slice(&5000i32.to_be_bytes());
    g.write_all(&m).await.unwrap();
    bad.push(("length", g));
    let mut g = TcpStream::connect(("127.0.0.1", ports[&2])).await.unwrap();
    let mut m = PROTOCOL_V1.to_be_bytes().to_vec();
    m.extend_from_slice(&9i64.to_be_bytes());
    m.extend_from_slice(&7i32.to_be_bytes());
    m.extend_from_slice(b"h:99999");
    g.write_all(&m).await.unwrap();
    bad.push(("port", g));
    let mut g = connect_as(ports[&2], 8, ports[&7]).await;
    g.write_all(&(600_000i32).to_be_bytes()).await.unwrap();
    bad.push(("huge frame", g));
    let mut g = connect_as(ports[&2], 9, ports[&7]).await;
    g.write_all(&0i32.to_be_bytes()).await.unwrap();
    bad.push(("empty frame", g));
    // The anonymous observer id becomes a negative id, smaller than 2: dropped, no dial-back.
    let g = connect_as(ports[&2], OBSERVER_ID, ports[&7]).await;
    bad.push(("anonymous observer", g));
    for (what, mut s) in bad {
        assert!(closed_by_peer(&mut s).await, "{what} connection closed");
    }
    // The good connection still works both ways; a malformed frame on it is skipped.
    write_frame(&mut good, &[0u8; 10]).await;
    write_frame(&mut good, &wire::encode_notification(&note(7, 4))).await;
    assert_eq!(recv(&mut rx2, "7's notification after the bad peers").await, (ServerId(7), note(7, 4)));
    h2.send(ServerId(7), &note(2, 4));
    assert_eq!(wire::decode_notification(&read_frame(&mut good, "2's reply").await).unwrap(), note(2, 4));
    h2.shutdown();
}

#[tokio::test]
async fn unknown_larger_sid_is_kept_like_java_does() {
    let ports: BTreeMap<i64, u16> = [(1, free_port()), (2, free_port())].into();
    let (h2, mut rx2) = start(cfg(2, &ports)).await.unwrap();
    let mut s = connect_as(ports[&2], 42, 1).await;
    write_frame(&mut s, &wire::encode_notification(&note(42, 1))).await;
    assert_eq!(recv(&mut rx2, "the unknown server's notification").await.0, ServerId(42));
    h2.send(ServerId(42), &note(2, 1));
    assert_eq!(wire::decode_notification(&read_frame(&mut s, "the answer").await).unwrap(), note(2, 1));
    h2.shutdown();
}

#[tokio::test]
async fn silent_connection_is_closed_after_the_handshake_timeout() {
    let ports: BTreeMap<i64, u16> = [(1, free_port()), (2, free_port())].into();
    let mut c = cfg(2, &ports);
    c.handshake_timeout = Duration::from_millis(200);
    let (h2, _rx2) = start(c).await.unwrap();
    let mut s = TcpStream::connect(("127.0.0.1", ports[&2])).await.unwrap();
    s.write_all(&PROTOCOL_V1.to_be_bytes()).await.unwrap();
    assert!(closed_by_peer(&mut s).await);
    h2.shutdown();
}

#[tokio::test]
async fn bind_conflict_fails_after_the_retries() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let ports: BTreeMap<i64, u16> = [(1, port), (2, free_port())].into();
    let e = match start(cfg(1, &ports)).await {
        Ok(_) => panic!("bound a port that is in use"),
        Err(e) => format!("{e:#}"),
    };
    assert!(e.contains("after 1 errors"), "{e}");
}
