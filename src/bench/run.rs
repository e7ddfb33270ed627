//! Runs one `ruzk bench` invocation: opens the sessions, optionally creates the keys, drives
//! the workload on every connection concurrently and assembles the report. `compare` calls
//! [`execute`] in-process, so both servers see exactly this code.

use super::client::{drive, Conn, Drive, Shared};
use super::stats::{ConnStats, PhaseReport, Report};
use super::workload::{create_body, key_path, open_acl, Generator, Kind, Mix, MixGen, Workload, EPHEMERAL, PERSISTENT};
use super::LoadArgs;
use crate::jute::error_code::NODE_EXISTS;
use crate::jute::opcode::op;
use crate::jute::records::{CreateRequest, DeleteRequest, ExistsRequest, GetDataRequest, SetDataRequest};
use crate::jute::Jute;
use anyhow::{bail, Context};
use bytes::Bytes;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

pub fn main(a: LoadArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = rt.block_on(execute(&a))?;
    let json = serde_json::to_string_pretty(&report)?;
    if let Some(p) = &a.json_out {
        std::fs::write(p, &json).with_context(|| format!("writing {}", p.display()))?;
    }
    if a.json {
        println!("{json}");
    } else {
        print!("{}", report.table());
    }
    if report.ops + report.phases.iter().map(|p| p.ops).sum::<u64>() == 0 {
        bail!("no request completed");
    }
    let errors = report.errors + report.phases.iter().map(|p| p.errors).sum::<u64>();
    if a.fail_on_error && errors > 0 {
        bail!("{errors} requests got an error reply (see the table)");
    }
    Ok(())
}

/// Runs the workload described by `a` and returns its report.
pub async fn execute(a: &LoadArgs) -> anyhow::Result<Report> {
    let workload = match (&a.workload, &a.mix) {
        (Some(w), _) => Workload::parse(w)?,
        (None, Some(m)) => Workload::Mix { mix: Mix::parse(m)?, value_size: None },
        (None, None) => Workload::Mix { mix: Mix::parse("get=100")?, value_size: None },
    };
    let value_size = match &workload {
        Workload::Mix { value_size: Some(v), .. } => a.value_size.unwrap_or(*v),
        _ => a.value_size.unwrap_or(100),
    };
    let value = Bytes::from(vec![b'v'; value_size]);
    let conns = a.conns.max(1);
    let mut report = Report {
        workload: a.workload.clone().unwrap_or_else(|| match &workload {
            Workload::Mix { mix, .. } => mix.to_string(),
            _ => String::new(),
        }),
        server: a.server.clone(),
        conns,
        inflight: a.inflight,
        value_size,
        keys: a.keys,
        target_rate: a.rate,
        ..Report::default()
    };
    let mut sessions = connect_all(&a.server, conns, a.session_timeout).await?;
    let keys: Arc<Vec<String>> = Arc::new((0..a.keys).map(|i| key_path(&a.root, i)).collect());
    if a.setup || matches!(workload, Workload::Load(_) | Workload::ZkLatencies) {
        ensure_node(&mut sessions, &a.root).await?;
    }
    if a.setup && matches!(workload, Workload::Mix { .. }) {
        let (s, phase) = setup_keys(sessions, &keys, &value, a).await?;
        sessions = s;
        eprintln!("setup: {} keys ({} requests) in {:.2} s", keys.len(), phase.ops, phase.seconds);
    }
    match workload {
        Workload::Mix { mix, .. } => {
            sessions = run_mix(sessions, mix, keys, value, a, &mut report).await?;
        }
        Workload::Load(n) => {
            let parent = format!("{}/load", a.root);
            ensure_node(&mut sessions, &parent).await?;
            let (s, p) = phase_load(sessions, &parent, n, &value, a).await?;
            sessions = s;
            report.phases.push(p);
        }
        Workload::ZkLatencies => {
            sessions = zk_latencies(sessions, &value, a, &mut report).await?;
        }
    }
    for s in sessions {
        s.close().await;
    }
    Ok(report)
}

/// `n` sessions, the i-th on the i-th address of the comma-separated list, round robin.
async fn connect_all(addrs: &str, n: usize, timeout_ms: i32) -> anyhow::Result<Vec<Conn>> {
    let list: Vec<&str> = addrs.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if list.is_empty() {
        bail!("no server address in {addrs:?}");
    }
    let futs = list.iter().cycle().take(n).map(|addr| Conn::connect(addr, timeout_ms));
    futures::future::try_join_all(futs).await
}

async fn ensure_node(sessions: &mut [Conn], path: &str) -> anyhow::Result<()> {
    let Some(c) = sessions.first_mut() else { bail!("no session") };
    let req =
        CreateRequest { path: path.to_string(), data: Some(Bytes::new()), acl: Some(open_acl()), flags: PERSISTENT };
    let (h, _) = c.call(op::CREATE, &req).await?;
    if h.err != 0 && h.err != NODE_EXISTS {
        bail!("creating {path}: error {}", super::stats::code_name(h.err));
    }
    Ok(())
}

/// Drives one generator per connection concurrently until all are done; returns the
/// sessions, merged stats and the wall time of the phase.
async fn phase(
    sessions: Vec<Conn>,
    mut make: impl FnMut(usize) -> Box<dyn Generator>,
    cfg: impl Fn(usize) -> Drive,
    shared: Arc<Shared>,
    progress: Option<(ProgressBar, ByTime)>,
) -> anyhow::Result<(Vec<Conn>, ConnStats, Instant)> {
    let t0 = Instant::now();
    let handles: Vec<_> = sessions
        .into_iter()
        .enumerate()
        .map(|(i, c)| tokio::spawn(drive(c, make(i), cfg(i), shared.clone())))
        .collect();
    let bar = progress.as_ref().map(|(pb, _)| pb.clone());
    let ticker = progress.map(|(pb, by_time)| {
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut last = (Instant::now(), 0u64);
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let n = shared.completed.load(Ordering::Relaxed);
                let now = Instant::now();
                let rate = (n - last.1) as f64 / now.duration_since(last.0).as_secs_f64().max(1e-3);
                last = (now, n);
                pb.set_position(if by_time.0 { now.duration_since(t0).as_millis() as u64 } else { n });
                pb.set_message(format!("{n} ops, {rate:.0} ops/s"));
            }
        })
    });
    let mut out = Vec::new();
    let mut stats = ConnStats::new();
    let mut first_err = None;
    for h in handles {
        match h.await {
            Ok(Ok((c, s))) => {
                stats.merge(&s);
                out.push(c);
            }
            Ok(Err(e)) => first_err = first_err.or(Some(e)),
            Err(e) => first_err = first_err.or(Some(e.into())),
        }
    }
    let end = Instant::now();
    if let Some(t) = ticker {
        t.abort();
    }
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    if let Some(e) = first_err {
        return Err(e.context("a bench connection failed"));
    }
    Ok((out, stats, end))
}

/// Whether a progress bar counts elapsed milliseconds (duration runs) or ops.
#[derive(Clone, Copy)]
struct ByTime(bool);

fn progress_bar(a: &LoadArgs, len: u64, what: &str, by_time: bool) -> Option<(ProgressBar, ByTime)> {
    if a.no_progress || a.json || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = ProgressBar::new(len);
    let template = if by_time {
        "{prefix} [{elapsed_precise}] {bar:30} {msg}"
    } else {
        "{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}"
    };
    pb.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    pb.set_prefix(what.to_string());
    Some((pb, ByTime(by_time)))
}

fn unbounded(inflight: usize) -> Drive {
    Drive {
        inflight,
        record_from: Instant::now(),
        deadline: None,
        interval: None,
        expect_notifications: 0,
        verify_get_len: None,
    }
}

async fn setup_keys(
    sessions: Vec<Conn>,
    keys: &Arc<Vec<String>>,
    value: &Bytes,
    a: &LoadArgs,
) -> anyhow::Result<(Vec<Conn>, PhaseReport)> {
    let n = sessions.len();
    let t0 = Instant::now();
    let shared = Shared::new(None);
    let pb = progress_bar(a, 2 * keys.len() as u64, "setup", false);
    let (s, st, end) = phase(
        sessions,
        |c| {
            let keys = keys.clone();
            let value = value.clone();
            let mut i = c;
            let mut created = false;
            Box::new(move |body: &mut Vec<u8>| {
                let path = keys.get(i)?.clone();
                if created {
                    // Set too, so a key left by a run with another value size is resized.
                    SetDataRequest { path, data: Some(value.clone()), version: -1 }.encode(body);
                    created = false;
                    i += n;
                    Some((Kind::Set, op::SET_DATA))
                } else {
                    create_body(body, path, &value, PERSISTENT);
                    created = true;
                    Some((Kind::Create, op::CREATE))
                }
            }) as Box<dyn Generator>
        },
        |_| unbounded(a.inflight.max(1)),
        shared,
        pb,
    )
    .await?;
    let bad: u64 = st.codes.iter().filter(|((_, c), _)| *c != 0 && *c != NODE_EXISTS).map(|(_, n)| n).sum();
    if bad > 0 {
        bail!("setup: {bad} requests failed: {:?}", st.codes);
    }
    Ok((s, PhaseReport::from_stats("setup", &st, end.duration_since(t0).as_secs_f64())))
}

async fn run_mix(
    sessions: Vec<Conn>,
    mix: Mix,
    keys: Arc<Vec<String>>,
    value: Bytes,
    a: &LoadArgs,
    report: &mut Report,
) -> anyhow::Result<Vec<Conn>> {
    let n = sessions.len();
    let start = Instant::now();
    let warmup = Duration::from_secs_f64(a.warmup.max(0.0));
    let record_from = start + warmup;
    let deadline = match a.ops {
        Some(_) => None,
        None => Some(record_from + Duration::from_secs_f64(a.duration.max(0.0))),
    };
    let interval = match a.rate {
        Some(r) if r > 0.0 => Some(Duration::from_secs_f64(n as f64 / r)),
        Some(_) => bail!("--rate must be positive"),
        None => None,
    };
    let cfg = Drive {
        inflight: a.inflight.max(1),
        record_from,
        deadline,
        interval,
        expect_notifications: 0,
        verify_get_len: a.verify.then_some(value.len()),
    };
    let shared = Shared::new(a.ops);
    let nonce: u32 = rand::random();
    let pb = match a.ops {
        Some(o) => progress_bar(a, o, "ops", false),
        None => progress_bar(a, ((a.warmup + a.duration) * 1000.0) as u64, "run", true),
    };
    let (s, st, end) = phase(
        sessions,
        |c| {
            let prefix = format!("{}/c{nonce:08x}-{c}-", a.root);
            let seed = a.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(c as u64);
            Box::new(MixGen::new(mix.clone(), keys.clone(), value.clone(), prefix, seed)) as Box<dyn Generator>
        },
        |_| cfg,
        shared,
        pb,
    )
    .await?;
    report.fill(&st, end.saturating_duration_since(record_from).as_secs_f64());
    Ok(s)
}

async fn phase_load(
    sessions: Vec<Conn>,
    parent: &str,
    count: u64,
    value: &Bytes,
    a: &LoadArgs,
) -> anyhow::Result<(Vec<Conn>, PhaseReport)> {
    let n = sessions.len() as u64;
    let t0 = Instant::now();
    let pb = progress_bar(a, count, "load", false);
    let (s, st, end) = phase(
        sessions,
        |c| {
            let parent = parent.to_string();
            let value = value.clone();
            super::workload::strided(c as u64, n, count, move |i, body| {
                create_body(body, format!("{parent}/n{i:010}"), &value, PERSISTENT);
                (Kind::Create, op::CREATE)
            })
        },
        |_| unbounded(a.inflight.max(1)),
        Shared::new(None),
        pb,
    )
    .await?;
    Ok((s, PhaseReport::from_stats(&format!("load {count}"), &st, end.duration_since(t0).as_secs_f64())))
}

/// phunt's zk-latencies, one phase after another: create, set, get, delete permanent
/// znodes, then create ephemerals, watch each, and delete them, counting notifications.
async fn zk_latencies(
    mut sessions: Vec<Conn>,
    value: &Bytes,
    a: &LoadArgs,
    report: &mut Report,
) -> anyhow::Result<Vec<Conn>> {
    let n = sessions.len() as u64;
    let count = a.count;
    let nonce: u32 = rand::random();
    let base = format!("{}/zkl{nonce:08x}", a.root);
    ensure_node(&mut sessions, &base).await?;
    let phases: [(&str, Kind); 7] = [
        ("create", Kind::Create),
        ("set", Kind::Set),
        ("get", Kind::Get),
        ("delete", Kind::Delete),
        ("create-ephemeral", Kind::Create),
        ("watch", Kind::Exists),
        ("delete-ephemeral", Kind::Delete),
    ];
    for (pi, (name, kind)) in phases.iter().enumerate() {
        let kind = *kind;
        let ephemeral = pi >= 4;
        let t0 = Instant::now();
        let watch_fires = *name == "delete-ephemeral";
        let cfg = |c: usize| Drive {
            // Each session watches and deletes its own nodes (indices c, c+n, …), so it
            // gets one notification per node it deletes.
            expect_notifications: if watch_fires { count.saturating_sub(c as u64).div_ceil(n) } else { 0 },
            ..unbounded(a.inflight.max(1))
        };
        let pb = progress_bar(a, count, name, false);
        let (s, st, end) = phase(
            sessions,
            |c| {
                let base = base.clone();
                let value = value.clone();
                super::workload::strided(c as u64, n, count, move |i, body| {
                    let path = if ephemeral { format!("{base}/e{i:010}") } else { format!("{base}/p{i:010}") };
                    match kind {
                        Kind::Create => {
                            create_body(body, path, &value, if ephemeral { EPHEMERAL } else { PERSISTENT });
                            (kind, op::CREATE)
                        }
                        Kind::Set => {
                            SetDataRequest { path, data: Some(value.clone()), version: -1 }.encode(body);
                            (kind, op::SET_DATA)
                        }
                        Kind::Get => {
                            GetDataRequest { path, watch: false }.encode(body);
                            (kind, op::GET_DATA)
                        }
                        Kind::Exists => {
                            ExistsRequest { path, watch: true }.encode(body);
                            (kind, op::EXISTS)
                        }
                        _ => {
                            DeleteRequest { path, version: -1 }.encode(body);
                            (Kind::Delete, op::DELETE)
                        }
                    }
                })
            },
            cfg,
            Shared::new(None),
            pb,
        )
        .await?;
        sessions = s;
        report.phases.push(PhaseReport::from_stats(name, &st, end.duration_since(t0).as_secs_f64()));
    }
    if let Some(c) = sessions.first_mut() {
        let _ = c.call(op::DELETE, &DeleteRequest { path: base, version: -1 }).await;
    }
    Ok(sessions)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::jute::records::{ConnectRequest, ConnectResponse, GetDataResponse, ReplyHeader, RequestHeader};
    use clap::Parser;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[derive(Parser)]
    struct W {
        #[command(flatten)]
        l: LoadArgs,
    }

    fn load_args(argv: &[&str]) -> LoadArgs {
        let mut v = vec!["bench"];
        v.extend_from_slice(argv);
        W::try_parse_from(v).unwrap_or_else(|e| panic!("{e}")).l
    }

    async fn frame(s: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
        let len = s.read_u32().await.ok()? as usize;
        let mut v = vec![0; len];
        s.read_exact(&mut v).await.ok()?;
        Some(v)
    }

    /// A stand-in server: accepts sessions and answers every request in order with err 0;
    /// getData gets `data_len` bytes.
    async fn fake_server(data_len: usize) -> String {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let addr = l.local_addr().unwrap_or_else(|e| panic!("{e}")).to_string();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let Some(c) = frame(&mut s).await else { return };
                    let Ok(req) = ConnectRequest::from_slice(&c) else { return };
                    let resp = ConnectResponse {
                        time_out: req.time_out,
                        session_id: 7,
                        passwd: Bytes::from_static(&[0; 16]),
                        ..Default::default()
                    };
                    let mut out = Vec::new();
                    let b = resp.to_bytes();
                    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
                    out.extend_from_slice(&b);
                    if s.write_all(&out).await.is_err() {
                        return;
                    }
                    out.clear();
                    while let Some(f) = frame(&mut s).await {
                        let Ok(h) = RequestHeader::from_slice(&f) else { return };
                        let mut body = ReplyHeader { xid: h.xid, zxid: 1, err: 0 }.to_bytes();
                        if h.type_ == op::GET_DATA {
                            let d = Some(Bytes::from(vec![1u8; data_len]));
                            GetDataResponse { data: d, stat: Default::default() }.encode(&mut body);
                        }
                        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
                        out.extend_from_slice(&body);
                        if s.write_all(&out).await.is_err() {
                            return;
                        }
                        out.clear();
                    }
                });
            }
        });
        addr
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pipelined_run_counts_every_reply_and_verifies_data() {
        let addr = fake_server(100).await;
        let a = load_args(&["--server", &addr, "--mix", "get=3,set=1", "--ops", "2000", "--warmup", "0", "--verify"]);
        let r = execute(&a).await.unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(r.ops, 2000);
        assert_eq!(r.errors, 0, "{:?}", r.errors_by_code);
        assert!(r.per_op["get"].count > 1000 && r.per_op["set"].count > 100, "{:?}", r.per_op.keys());

        let a = load_args(&[
            "--server",
            &addr,
            "--mix",
            "get=1",
            "--ops",
            "300",
            "--warmup",
            "0",
            "--verify",
            "--value-size",
            "99",
        ]);
        let r = execute(&a).await.unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(r.errors, 300, "every short getData reply is caught");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fixed_rate_run_keeps_to_its_rate() {
        let addr = fake_server(10).await;
        let a = load_args(&["--server", &addr, "--rate", "2000", "--duration", "1", "--warmup", "0", "--conns", "2"]);
        let r = execute(&a).await.unwrap_or_else(|e| panic!("{e:#}"));
        assert!((1500..=2010).contains(&r.ops), "{} ops in 1 s at 2000/s", r.ops);
    }
}
