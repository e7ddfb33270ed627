//! The ensemble phase of `ruzk bench compare`: three members of one kind (all Java or all
//! ruzk) on loopback with the same zoo.cfg shape, then (1) write throughput with fsync,
//! sessions spread over every member so followers forward, and (2) leader failover: kill -9
//! of the leader, timed until a write succeeds on a survivor, repeated with the killed
//! member restarted in between. Kept apart from the standalone phases because it owns
//! several processes and their ports.

use super::client::{probe, Conn};
use super::compare::{args, bench_at, cpu_secs, spawn, srvr_text, stop, tail, Ctx, Impl, Server};
use super::results::ServerResult;
use crate::jute::error_code::NODE_EXISTS;
use crate::jute::opcode::op;
use crate::jute::records::{CreateRequest, SetDataRequest};
use anyhow::{bail, Context};
use bytes::Bytes;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MEMBERS: u64 = 3;
/// The znode every failover write sets (created before the first kill).
const FAILOVER_NODE: &str = "/ruzk-bench-failover";

/// Ports of member `id` (1-based): client, quorum, election; clear of the standalone port.
fn ports(base: u16, id: u64) -> (u16, u16, u16) {
    let id = id as u16;
    (base + 100 + id, base + 200 + id, base + 300 + id)
}

/// The zoo.cfg of member `id`: the standalone phases' settings plus the member list.
pub(super) fn ens_cfg(data: &Path, base: u16, id: u64) -> String {
    let (client, _, _) = ports(base, id);
    let mut c = format!(
        "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={client}\nclientPortAddress=127.0.0.1\n\
         maxClientCnxns=0\nforceSync=yes\nadmin.enableServer=false\n4lw.commands.whitelist=*\n",
        data.display()
    );
    for m in 1..=MEMBERS {
        let (_, q, e) = ports(base, m);
        c.push_str(&format!("server.{m}=127.0.0.1:{q}:{e}\n"));
    }
    c
}

struct Member {
    id: u64,
    addr: String,
    dir: PathBuf,
    srv: Option<Server>,
}

/// The `Mode:` line of `srvr` ("leader", "follower", ...), or None if it does not answer.
async fn mode(addr: &str) -> Option<String> {
    srvr_text(addr).await?.lines().find_map(|l| l.strip_prefix("Mode: ").map(|m| m.trim().to_string()))
}

/// Waits until every running member serves `/` and exactly one of them is the leader;
/// returns the leader's index in `ms`.
async fn settled(ms: &mut [Member], limit: Duration) -> anyhow::Result<usize> {
    let t0 = Instant::now();
    loop {
        let mut modes = Vec::new();
        for m in ms.iter_mut() {
            if let Some(s) = m.srv.as_mut() {
                if let Ok(Some(st)) = s.child.try_wait() {
                    bail!("member {} exited with {st}; log tail:\n{}", m.id, tail(&s.log));
                }
                let serving = probe(&m.addr, "/", Duration::from_secs(3)).await;
                modes.push((m.id, serving, mode(&m.addr).await));
            }
        }
        let leaders: Vec<u64> =
            modes.iter().filter(|(_, _, md)| md.as_deref() == Some("leader")).map(|x| x.0).collect();
        let all_serving = modes.iter().all(|(_, ok, md)| *ok && matches!(md.as_deref(), Some("leader" | "follower")));
        if all_serving && leaders.len() == 1 {
            if let Some(i) = ms.iter().position(|m| Some(&m.id) == leaders.first()) {
                return Ok(i);
            }
        }
        if t0.elapsed() > limit {
            bail!("the ensemble did not settle within {limit:?}: waited for every member to serve / and one leader; saw (id, serving, mode) {modes:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One attempt: a fresh session on `addr` and a setData of [`FAILOVER_NODE`].
async fn write_once(addr: &str) -> bool {
    let go = async {
        let mut c = Conn::connect(addr, 10_000).await?;
        let req = SetDataRequest { path: FAILOVER_NODE.into(), data: Some(Bytes::from_static(b"x")), version: -1 };
        let (h, _) = c.call(op::SET_DATA, &req).await?;
        c.close().await;
        anyhow::Ok(h.err == 0)
    };
    matches!(tokio::time::timeout(Duration::from_secs(5), go).await, Ok(Ok(true)))
}

/// Seconds from `t0` until a write succeeds on one of `addrs`. A new attempt starts every
/// 20 ms, each on its own session, so one attempt stuck behind the dead leader does not
/// hide the moment the survivors serve again.
async fn until_write(addrs: &[String], t0: Instant, limit: Duration) -> anyhow::Result<f64> {
    let mut attempts = tokio::task::JoinSet::new();
    let mut n = 0usize;
    loop {
        if attempts.len() < 64 {
            if let Some(a) = addrs.get(n % addrs.len().max(1)) {
                let a = a.clone();
                attempts.spawn(async move { write_once(&a).await });
            }
            n += 1;
        }
        let tick = tokio::time::sleep(Duration::from_millis(20));
        tokio::pin!(tick);
        loop {
            tokio::select! {
                Some(r) = attempts.join_next() => {
                    if matches!(r, Ok(true)) {
                        attempts.abort_all();
                        return Ok(t0.elapsed().as_secs_f64());
                    }
                }
                _ = &mut tick => break,
            }
        }
        if t0.elapsed() > limit {
            attempts.abort_all();
            bail!("no write succeeded on {addrs:?} within {limit:?} of killing the leader");
        }
    }
}

pub(super) async fn phase_ensemble(ctx: &Ctx, imp: Impl, sr: &mut ServerResult) -> anyhow::Result<()> {
    let root =
        std::env::current_dir().unwrap_or_default().join(&ctx.a.data_root).join(format!("{}-ensemble", imp.name()));
    let _ = std::fs::remove_dir_all(&root);
    let mut ms = Vec::new();
    for id in 1..=MEMBERS {
        let dir = root.join(format!("m{id}"));
        let data = dir.join("data");
        std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
        std::fs::write(data.join("myid"), format!("{id}\n"))?;
        std::fs::write(dir.join("zoo.cfg"), ens_cfg(&data, ctx.a.port, id))?;
        let (client, _, _) = ports(ctx.a.port, id);
        ms.push(Member { id, addr: format!("127.0.0.1:{client}"), dir, srv: None });
    }
    for m in ms.iter() {
        if probe(&m.addr, "/", Duration::from_millis(300)).await {
            bail!("something already serves on {} (member {}); pick another --port", m.addr, m.id);
        }
    }
    let result = measure(ctx, imp, sr, &mut ms).await;
    for m in ms.iter_mut() {
        if let Some(mut s) = m.srv.take() {
            stop(&mut s).await;
        }
    }
    result
}

async fn measure(ctx: &Ctx, imp: Impl, sr: &mut ServerResult, ms: &mut [Member]) -> anyhow::Result<()> {
    let z = &ctx.sizes;
    for i in 0..ms.len() {
        let srv = ms.get(i).map(|m| spawn(ctx, imp, &m.dir)).context("member index")??;
        if let Some(m) = ms.get_mut(i) {
            m.srv = Some(srv);
        }
    }
    let leader = settled(ms, Duration::from_secs(180)).await?;
    let all: Vec<String> = ms.iter().map(|m| m.addr.clone()).collect();
    let leader_addr = ms.get(leader).map(|m| m.addr.clone()).context("leader index")?;
    bench_at(
        &leader_addr,
        sr,
        "ensemble-setup",
        &args(&format!("--workload paper-read --setup --keys {} --ops 1 --warmup 0", z.keys)),
    )
    .await?;
    let pids: Vec<u32> = ms.iter().filter_map(|m| m.srv.as_ref().map(|s| s.pid)).collect();
    let cpu = |pids: &[u32]| pids.iter().map(|p| cpu_secs(*p, ctx.clk_tck)).sum::<Option<f64>>();
    let c0 = cpu(&pids);
    let r = bench_at(
        &all.join(","),
        sr,
        "ensemble-write",
        &args(&format!(
            "--workload paper-write --keys {} --conns {} --inflight {} --duration {} --warmup {}",
            z.keys, z.conns, z.inflight, z.duration, z.warmup
        )),
    )
    .await?;
    if let (Some(a), Some(b)) = (c0, cpu(&pids)) {
        if r.ops_total > 0 {
            sr.cpu_us_per_op.insert("ensemble-write".into(), (b - a) * 1e6 / r.ops_total as f64);
        }
    }
    // The node the failover writes set, created through the leader before anything dies.
    if !create_failover_node(&leader_addr).await {
        bail!("could not create {FAILOVER_NODE} through the leader {leader_addr}");
    }
    let mut times = Vec::new();
    let mut leader = leader;
    for round in 1..=z.failovers {
        let (id, survivors) = {
            let m = ms.get(leader).context("leader index")?;
            (m.id, ms.iter().filter(|x| x.id != m.id).map(|x| x.addr.clone()).collect::<Vec<_>>())
        };
        let Some(mut dead) = ms.get_mut(leader).and_then(|m| m.srv.take()) else { bail!("leader not running") };
        let t0 = Instant::now();
        let _ = dead.child.kill(); // SIGKILL
        let _ = dead.child.wait();
        let t = until_write(&survivors, t0, Duration::from_secs(120))
            .await
            .with_context(|| format!("failover round {round} (member {id} killed)"))?;
        eprintln!("   failover {round}: member {id} (leader) killed, a write succeeded after {t:.3} s");
        times.push(t);
        // The killed member comes back on its own data dir and must rejoin before the next round.
        let srv = ms.get(leader).map(|m| spawn(ctx, imp, &m.dir)).context("member index")??;
        if let Some(m) = ms.get_mut(leader) {
            m.srv = Some(srv);
        }
        leader =
            settled(ms, Duration::from_secs(180)).await.with_context(|| format!("after failover round {round}"))?;
    }
    sr.values.insert("failover_rounds".into(), times.len() as f64);
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    if let Some(mid) = sorted.get(sorted.len() / 2) {
        sr.values.insert("failover_median_s".into(), *mid);
    }
    if let Some(max) = sorted.last() {
        sr.values.insert("failover_max_s".into(), *max);
    }
    for (i, t) in times.iter().enumerate() {
        sr.values.insert(format!("failover_{}_s", i + 1), *t);
    }
    Ok(())
}

async fn create_failover_node(addr: &str) -> bool {
    let go = async {
        let mut c = Conn::connect(addr, 10_000).await?;
        let req = CreateRequest {
            path: FAILOVER_NODE.into(),
            data: Some(Bytes::new()),
            acl: Some(super::workload::open_acl()),
            flags: 0,
        };
        let (h, _) = c.call(op::CREATE, &req).await?;
        c.close().await;
        anyhow::Ok(h.err == 0 || h.err == NODE_EXISTS)
    };
    matches!(tokio::time::timeout(Duration::from_secs(10), go).await, Ok(Ok(true)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn members_share_one_member_list_on_ports_clear_of_the_standalone_one() {
        let c = ens_cfg(Path::new("/d/m2/data"), 21510, 2);
        assert!(c.contains("clientPort=21612\n"), "{c}");
        assert!(c.contains("forceSync=yes\n"));
        assert!(c.ends_with(
            "server.1=127.0.0.1:21711:21811\nserver.2=127.0.0.1:21712:21812\nserver.3=127.0.0.1:21713:21813\n"
        ));
    }
}
