//! 100 clients that flood requests and barely read their replies share a release `ruzk server`
//! with 100 normal clients: the normal clients' p99 stays within a bound and the server's RSS
//! stays bounded (issue 14's backpressure). Ignored by default because it needs a release
//! binary and ~40 s; CI runs it as its own step:
//! `RUZK_BIN=target/release/ruzk cargo test --release --test slow_readers -- --ignored`.

use bytes::Bytes;
use ruzk::bench::client::{frame_request, Conn};
use ruzk::jute::opcode::op;
use ruzk::jute::records::{Acl, ConnectRequest, CreateRequest, GetDataRequest, Id};
use ruzk::jute::Jute;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SLOW: usize = 100;
const NORMAL: usize = 100;
/// Each slow reader pipelines this many getData requests for a node of `BIG` bytes: 20 MB
/// of replies per slow reader, 2 GB in all if the server buffered them.
const FLOOD: usize = 2000;
const BIG: usize = 10_000;
/// A slow reader takes this much every `SLOW_TICK`.
const SLOW_READ: usize = 4096;
const SLOW_TICK: Duration = Duration::from_millis(100);
/// Stated bounds: the normal clients' p99 with slow readers present stays under
/// max(P99_FLOOR, P99_FACTOR x their p99 alone), and the server grows by at most
/// RSS_PER_SLOW per slow reader (conn.rs states ~1 MiB per paused connection with these sizes:
/// 256 KiB pause threshold, one batch of 64 replies of 10 KB, a 256 KiB write buffer).
const P99_FLOOR: Duration = Duration::from_millis(250);
const P99_FACTOR: u32 = 5;
const RSS_PER_SLOW: u64 = 3 << 20;

struct Server {
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("binding an ephemeral port");
    l.local_addr().expect("local addr").port()
}

fn start_server() -> (Server, String) {
    let bin = std::env::var("RUZK_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_ruzk").to_string());
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let cfg = dir.path().join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\n",
            dir.path().join("data").display()
        ),
    )
    .expect("writing zoo.cfg");
    let log = std::fs::File::create(dir.path().join("server.log")).expect("server log");
    let child = Command::new(&bin)
        .arg("server")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {bin}: {e}"));
    (Server { child, dir }, format!("127.0.0.1:{port}"))
}

fn rss_bytes(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn p99(mut v: Vec<Duration>) -> Duration {
    assert!(!v.is_empty(), "no latencies recorded");
    v.sort();
    let i = ((v.len() as f64) * 0.99).ceil() as usize - 1;
    v[i.min(v.len() - 1)]
}

/// `NORMAL` clients each issuing one getData at a time for `dur`; all latencies.
async fn normal_load(addr: &str, dur: Duration) -> Vec<Duration> {
    let mut tasks = Vec::new();
    for _ in 0..NORMAL {
        let addr = addr.to_string();
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::connect(&addr, 30_000)
                .await
                .unwrap_or_else(|e| panic!("normal client: connecting to {addr}: {e}"));
            let mut lat = Vec::new();
            let end = Instant::now() + dur;
            while Instant::now() < end {
                let t = Instant::now();
                let (h, _) = c
                    .call(op::GET_DATA, &GetDataRequest { path: "/small".into(), watch: false })
                    .await
                    .unwrap_or_else(|e| panic!("normal client: getData /small on {addr}: {e}"));
                assert_eq!(h.err, 0, "normal client: getData /small error");
                lat.push(t.elapsed());
                // a think time, so 100 clients load the server without saturating 2 cores
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            c.close().await;
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("normal client task"));
    }
    all
}

/// Connects, then pipelines `FLOOD` getData requests for /big and reads `SLOW_READ` bytes per
/// `SLOW_TICK` until `stop`. Returns the bytes it read.
async fn slow_reader(addr: String, stop: Instant) -> usize {
    let mut s = TcpStream::connect(&addr).await.unwrap_or_else(|e| panic!("slow reader: connecting to {addr}: {e}"));
    let req = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        time_out: 30_000,
        session_id: 0,
        passwd: Some(Bytes::from_static(&[0; 16])),
        read_only: Some(false),
    };
    let body = req.to_bytes();
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    for xid in 1..=FLOOD as i32 {
        frame_request(&mut out, xid, op::GET_DATA, &GetDataRequest { path: "/big".into(), watch: false });
    }
    let (mut r, mut w) = s.split();
    let write = async {
        // Blocks once the server stops reading us; that is the point.
        let _ = w.write_all(&out).await;
        std::future::pending::<()>().await
    };
    let read = async {
        let mut got = 0usize;
        let mut buf = vec![0u8; SLOW_READ];
        while Instant::now() < stop {
            match tokio::time::timeout(SLOW_TICK, r.read(&mut buf)).await {
                Ok(Ok(0)) => panic!("slow reader: {addr} closed the connection after {got} bytes"),
                Ok(Ok(n)) => got += n,
                Ok(Err(e)) => panic!("slow reader: reading from {addr}: {e}"),
                Err(_) => {}
            }
            tokio::time::sleep(SLOW_TICK).await;
        }
        got
    };
    tokio::select! {
        _ = write => unreachable!(),
        n = read => n,
    }
}

#[test]
#[ignore = "needs a release server (RUZK_BIN) and ~40 s; CI runs it as the slow-readers step"]
fn slow_readers_do_not_slow_others_and_memory_stays_bounded() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let (server, addr) = start_server();
    let pid = server.child.id();
    rt.block_on(async {
        let t0 = Instant::now();
        let mut setup = loop {
            match Conn::connect(&addr, 30_000).await {
                Ok(c) => break c,
                Err(e) if t0.elapsed() < Duration::from_secs(30) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => panic!(
                    "server {addr} (log {}) did not accept a session within 30 s: {e}",
                    server.dir.path().join("server.log").display()
                ),
            }
        };
        let acl = vec![Acl { perms: 31, id: Id { scheme: "world".into(), id: "anyone".into() } }];
        for (path, size) in [("/small", 100), ("/big", BIG)] {
            let req = CreateRequest {
                path: path.into(),
                data: Some(Bytes::from(vec![b'x'; size])),
                acl: Some(acl.clone()),
                flags: 0,
            };
            let (h, _) = setup.call(op::CREATE, &req).await.unwrap_or_else(|e| panic!("setup: create {path}: {e}"));
            assert_eq!(h.err, 0, "setup: create {path}");
        }
        setup.close().await;

        let alone = p99(normal_load(&addr, Duration::from_secs(4)).await);
        let rss_before = rss_bytes(pid);

        let stop = Instant::now() + Duration::from_secs(14);
        let slow: Vec<_> = (0..SLOW).map(|_| tokio::spawn(slow_reader(addr.clone(), stop))).collect();
        let sampler = tokio::spawn(async move {
            let mut max = 0;
            while Instant::now() < stop {
                max = max.max(rss_bytes(pid));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            max
        });
        // Let the slow readers fill everything they can before measuring.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let shared = p99(normal_load(&addr, Duration::from_secs(8)).await);
        let rss_max = sampler.await.expect("rss sampler");
        let mut read_by_slow = 0;
        for s in slow {
            read_by_slow += s.await.expect("slow reader task");
        }

        let bound = P99_FLOOR.max(alone * P99_FACTOR);
        let grown = rss_max.saturating_sub(rss_before);
        println!(
            "normal clients' p99: {:.2} ms alone, {:.2} ms beside {SLOW} slow readers (bound {:.0} ms); \
             server RSS {} MiB before, max {} MiB with them (+{} MiB, bound +{} MiB); slow readers read {} KiB in all",
            alone.as_secs_f64() * 1e3,
            shared.as_secs_f64() * 1e3,
            bound.as_secs_f64() * 1e3,
            rss_before >> 20,
            rss_max >> 20,
            grown >> 20,
            (RSS_PER_SLOW * SLOW as u64) >> 20,
            read_by_slow >> 10,
        );
        assert!(shared <= bound, "normal clients' p99 {shared:?} beside slow readers is over {bound:?}");
        assert!(grown <= RSS_PER_SLOW * SLOW as u64, "server RSS grew by {} MiB with {SLOW} slow readers", grown >> 20);
        assert!(read_by_slow > 0, "the slow readers got no replies at all");
    });
}
