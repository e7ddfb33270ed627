//! `ruzk bench compare`: Java ZooKeeper 3.8 and ruzk, one at a time on the same machine,
//! same zoo.cfg, same disk, same load generator (this crate's, called in-process), and a
//! results directory with a Markdown table, the raw JSON and a plot.
//!
//! Order per server: (A) fresh start, saturation runs (read, write, mixed 80/20) with server
//! CPU time per op from `/proc/<pid>/stat`; then, once both saturation figures are known,
//! (B) fresh start, a fixed-rate run at a fraction of the slower server's mixed saturation,
//! the ClickHouse-like mix and zk-latencies; (C) fresh start, RSS before and after loading N
//! znodes of 100 B, then a restart timed until the first successful getData.
//! A server that fails is reported as failed; nothing is filled in for it.

use super::client::probe;
use super::markdown::{markdown, markdown_table};
use super::results::{Results, Row, ServerResult, Sizes};
use super::run::execute;
use super::stats::Report;
use super::LoadArgs;
use anyhow::{bail, Context};
use clap::{Args, Parser};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Args, Clone, Debug)]
pub struct CompareArgs {
    /// Tiny sizes (a minute or two in all) to check the runner itself
    #[arg(long)]
    pub quick: bool,
    /// Where the dated results directory goes
    #[arg(long, default_value = "bench/results")]
    pub out: PathBuf,
    /// Scratch space for the servers' data directories (same disk for both)
    #[arg(long, default_value = "target/bench-data")]
    pub data_root: PathBuf,
    /// Servers to run, in order
    #[arg(long, value_delimiter = ',', default_value = "java,ruzk")]
    pub servers: Vec<String>,
    /// Java heap (-Xmx), the same for every run
    #[arg(long, default_value = "2g")]
    pub java_heap: String,
    #[arg(long, default_value = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar")]
    pub java_classpath: String,
    /// The ruzk binary to run as the server (default: this executable)
    #[arg(long)]
    pub ruzk_bin: Option<PathBuf>,
    /// Client port for the server under test (127.0.0.1)
    #[arg(long, default_value_t = 21510)]
    pub port: u16,
    /// Measured seconds per throughput run [full 20, quick 3]
    #[arg(long)]
    pub duration: Option<f64>,
    /// Warmup seconds per run [full 3, quick 1]
    #[arg(long)]
    pub warmup: Option<f64>,
    /// Sessions for the saturation runs
    #[arg(long, default_value_t = 8)]
    pub conns: usize,
    /// Requests outstanding per session in the saturation runs
    #[arg(long, default_value_t = 64)]
    pub inflight: usize,
    /// Keys read and written by the mixes [full 10000, quick 1000]
    #[arg(long)]
    pub keys: Option<usize>,
    /// Znodes for the memory and restart test [full 1000000, quick 20000]
    #[arg(long)]
    pub load: Option<u64>,
    /// Znodes per zk-latencies phase [full 10000, quick 1000]
    #[arg(long)]
    pub zkl_count: Option<u64>,
    /// Fixed-rate run at this fraction of the slower server's mixed saturation
    #[arg(long, default_value_t = 0.5)]
    pub rate_fraction: f64,
    /// Do not update bench/results/latest
    #[arg(long)]
    pub no_latest: bool,
    /// Phases to run: saturation, latency, memory, ensemble (latest is updated only when all run)
    #[arg(long, value_delimiter = ',', default_value = "saturation,latency,memory,ensemble")]
    pub phases: Vec<String>,
    /// Leader failovers timed in the ensemble phase [full 5, quick 2]
    #[arg(long)]
    pub failovers: Option<usize>,
}

/// Every phase, in the order they run.
const ALL_PHASES: [&str; 4] = ["saturation", "latency", "memory", "ensemble"];

impl Sizes {
    fn of(a: &CompareArgs) -> Sizes {
        let q = a.quick;
        Sizes {
            duration: a.duration.unwrap_or(if q { 3.0 } else { 20.0 }),
            warmup: a.warmup.unwrap_or(if q { 1.0 } else { 3.0 }),
            conns: a.conns,
            inflight: a.inflight,
            keys: a.keys.unwrap_or(if q { 1000 } else { 10_000 }),
            load: a.load.unwrap_or(if q { 20_000 } else { 1_000_000 }),
            zkl_count: a.zkl_count.unwrap_or(if q { 1000 } else { 10_000 }),
            rate_fraction: a.rate_fraction,
            java_heap: a.java_heap.clone(),
            failovers: a.failovers.unwrap_or(if q { 2 } else { 5 }),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Impl {
    Java,
    Ruzk,
}

impl Impl {
    fn parse(s: &str) -> anyhow::Result<Impl> {
        match s {
            "java" => Ok(Impl::Java),
            "ruzk" => Ok(Impl::Ruzk),
            _ => bail!("unknown server {s:?} (java, ruzk)"),
        }
    }
    pub(super) fn name(self) -> &'static str {
        match self {
            Impl::Java => "java",
            Impl::Ruzk => "ruzk",
        }
    }
}

/// A running server under test.
pub(super) struct Server {
    pub(super) child: Child,
    pub(super) pid: u32,
    pub(super) log: PathBuf,
}

pub(super) struct Ctx {
    pub(super) a: CompareArgs,
    pub(super) sizes: Sizes,
    pub(super) addr: String,
    pub(super) ruzk_bin: PathBuf,
    pub(super) clk_tck: f64,
}

pub fn run(a: CompareArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(compare(a))
}

async fn compare(a: CompareArgs) -> anyhow::Result<()> {
    let impls: Vec<Impl> = a.servers.iter().map(|s| Impl::parse(s)).collect::<anyhow::Result<_>>()?;
    if let Some(bad) = a.phases.iter().find(|p| !ALL_PHASES.contains(&p.as_str())) {
        bail!("unknown phase {bad:?} ({})", ALL_PHASES.join(", "));
    }
    let runs = |p: &str| a.phases.iter().any(|x| x == p);
    let all_phases = ALL_PHASES.iter().all(|p| runs(p));
    let ruzk_bin = match &a.ruzk_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()?,
    };
    let sizes = Sizes::of(&a);
    let stamp = sh("date -u +%Y-%m-%d-%H%M").unwrap_or_else(|| "undated".into());
    let dir = a.out.join(if a.quick { format!("{stamp}-quick") } else { stamp.clone() });
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let ctx = Ctx {
        addr: format!("127.0.0.1:{}", a.port),
        clk_tck: sh("getconf CLK_TCK").and_then(|s| s.parse().ok()).unwrap_or(100.0),
        ruzk_bin,
        sizes: sizes.clone(),
        a: a.clone(),
    };
    if probe(&ctx.addr, "/", Duration::from_millis(500)).await {
        bail!("something already serves on {}; pick another --port", ctx.addr);
    }
    let mut res = Results {
        date: sh("date -u '+%Y-%m-%d %H:%M UTC'").unwrap_or_default(),
        quick: a.quick,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        git_commit: sh("git rev-parse --short HEAD; git status --porcelain | grep -q . && echo '(dirty)'")
            .map(|s| s.replace('\n', " "))
            .unwrap_or_default(),
        machine: machine(&a.data_root),
        sizes: Some(sizes.clone()),
        zoo_cfg: zoo_cfg(Path::new("<data dir>"), a.port),
        ..Results::default()
    };
    let mut per: BTreeMap<&'static str, ServerResult> = BTreeMap::new();
    for imp in &impls {
        let mut sr =
            ServerResult { command: server_cmd(&ctx, *imp, Path::new("zoo.cfg")).join(" "), ..Default::default() };
        if runs("saturation") {
            eprintln!("== {}: saturation runs", imp.name());
            if let Err(e) = phase_saturation(&ctx, *imp, &mut sr).await {
                sr.errors.push(format!("saturation phase: {e:#}"));
            }
        }
        per.insert(imp.name(), sr);
    }
    let mixed: Vec<f64> = per.values().filter_map(|s| s.runs.get("mixed").map(|r| r.ops_per_sec)).collect();
    let rate = mixed.iter().cloned().fold(f64::INFINITY, f64::min);
    res.fixed_rate = (rate.is_finite() && rate > 0.0).then(|| (rate * sizes.rate_fraction).max(1.0).round());
    for imp in &impls {
        let Some(sr) = per.get_mut(imp.name()) else {
            continue;
        };
        if runs("latency") {
            eprintln!("== {}: fixed rate, clickhouse, zk-latencies", imp.name());
            if let Err(e) = phase_latency(&ctx, *imp, res.fixed_rate, sr).await {
                sr.errors.push(format!("latency phase: {e:#}"));
            }
        }
        if runs("memory") {
            eprintln!("== {}: memory and restart with {} znodes", imp.name(), sizes.load);
            if let Err(e) = phase_memory(&ctx, *imp, sr).await {
                sr.errors.push(format!("memory phase: {e:#}"));
            }
        }
        if runs("ensemble") {
            eprintln!(
                "== {}: 3-member ensemble, write throughput and {} leader failovers",
                imp.name(),
                sizes.failovers
            );
            if let Err(e) = super::ensemble::phase_ensemble(&ctx, *imp, sr).await {
                sr.errors.push(format!("ensemble phase: {e:#}"));
            }
        }
    }
    // Other processes on the machine skew everything; the load average says whether there were any.
    if let Some(l) = sh("cut -d' ' -f1-3 /proc/loadavg") {
        res.machine.insert("load average at end".into(), l);
    }
    res.servers = per.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    res.rows = rows(&res);
    if !all_phases {
        // Rows of phases that did not run would only say "n/a" twice.
        res.rows.retain(|r| r.java.is_some() || r.ruzk.is_some());
    }
    let json = serde_json::to_string_pretty(&res)?;
    std::fs::write(dir.join("results.json"), &json)?;
    std::fs::write(dir.join("results.md"), markdown(&res))?;
    super::plot::draw(&res, &dir.join("plot.svg"))?;
    if !a.quick && !a.no_latest && all_phases {
        let latest = a.out.join("latest");
        let _ = std::fs::remove_dir_all(&latest);
        std::fs::create_dir_all(&latest)?;
        for f in ["results.md", "results.json", "plot.svg"] {
            std::fs::copy(dir.join(f), latest.join(f))?;
        }
        std::fs::write(latest.join("SOURCE"), format!("{}\n", dir.display()))?;
    }
    println!("{}", markdown_table(&res));
    println!("results: {}", dir.display());
    Ok(())
}

fn sh(cmd: &str) -> Option<String> {
    let out = Command::new("sh").arg("-c").arg(cmd).stderr(Stdio::null()).output().ok()?;
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn machine(data_root: &Path) -> BTreeMap<String, String> {
    let _ = std::fs::create_dir_all(data_root);
    let d = data_root.display();
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        m.insert(k.to_string(), v.unwrap_or_else(|| "unavailable".into()));
    };
    put("nproc", sh("nproc"));
    put("cpu", sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-"));
    put("memory", sh("grep MemTotal /proc/meminfo | tr -s ' '"));
    put("kernel", sh("uname -sr"));
    put("os", sh(". /etc/os-release && echo $PRETTY_NAME"));
    put("disk (df of the data dir)", sh(&format!("df -hT {d} | tail -1 | tr -s ' '")));
    put("block devices", sh("lsblk -d -o NAME,ROTA,SIZE,MODEL 2>/dev/null | tail -n +2 | tr -s ' ' | paste -sd ';'"));
    put("java", sh("java -version 2>&1 | head -2 | paste -sd ' '"));
    put("zookeeper package", sh("dpkg-query -W -f '${Version}' zookeeper"));
    put("load average at start", sh("cut -d' ' -f1-3 /proc/loadavg"));
    m
}

/// The zoo.cfg both servers get.
fn zoo_cfg(data: &Path, port: u16) -> String {
    format!(
        "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
         maxClientCnxns=0\nforceSync=yes\nadmin.enableServer=false\n4lw.commands.whitelist=*\n",
        data.display()
    )
}

pub(super) fn server_cmd(ctx: &Ctx, imp: Impl, cfg: &Path) -> Vec<String> {
    match imp {
        Impl::Java => vec![
            "java".into(),
            format!("-Xmx{}", ctx.a.java_heap),
            "-Dzookeeper.admin.enableServer=false".into(),
            "-cp".into(),
            ctx.a.java_classpath.clone(),
            "org.apache.zookeeper.server.quorum.QuorumPeerMain".into(),
            cfg.display().to_string(),
        ],
        Impl::Ruzk => vec![ctx.ruzk_bin.display().to_string(), "server".into(), cfg.display().to_string()],
    }
}

fn workdir(ctx: &Ctx, imp: Impl) -> PathBuf {
    std::env::current_dir().unwrap_or_default().join(&ctx.a.data_root).join(imp.name())
}

/// Starts `imp` on `dir/zoo.cfg` in `dir`, output appended to `dir/server.log`.
pub(super) fn spawn(ctx: &Ctx, imp: Impl, dir: &Path) -> anyhow::Result<Server> {
    let log = dir.join("server.log");
    let logf = std::fs::OpenOptions::new().create(true).append(true).open(&log)?;
    let argv = server_cmd(ctx, imp, &dir.join("zoo.cfg"));
    let Some((prog, args)) = argv.split_first() else { bail!("empty server command") };
    let child = Command::new(prog)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(logf.try_clone()?)
        .stderr(logf)
        .spawn()
        .with_context(|| format!("starting {}", argv.join(" ")))?;
    let pid = child.id();
    Ok(Server { child, pid, log })
}

/// Starts `imp` on its data directory (wiped first when `fresh`) and waits until it serves.
async fn start(ctx: &Ctx, imp: Impl, fresh: bool, probe_path: &str) -> anyhow::Result<(Server, f64)> {
    let dir = workdir(ctx, imp);
    if fresh {
        let _ = std::fs::remove_dir_all(&dir);
    }
    std::fs::create_dir_all(dir.join("data"))?;
    let cfg = dir.join("zoo.cfg");
    std::fs::write(&cfg, zoo_cfg(&dir.join("data"), ctx.a.port))?;
    let started = Instant::now();
    let mut srv = spawn(ctx, imp, &dir)?;
    let limit = Duration::from_secs(300);
    let mut attempts = tokio::task::JoinSet::new();
    loop {
        if let Ok(Some(st)) = srv.child.try_wait() {
            bail!("{} exited with {st} before serving; log tail:\n{}", imp.name(), tail(&srv.log));
        }
        // A new probe every 100 ms, each allowed 5 s: Java accepts connections before its
        // data is loaded and may leave such a connection hanging, so one slow probe must not
        // delay noticing that the server has started serving.
        if attempts.len() < 64 {
            let (addr, path) = (ctx.addr.clone(), probe_path.to_string());
            attempts.spawn(async move { probe(&addr, &path, Duration::from_secs(5)).await });
        }
        let tick = tokio::time::sleep(Duration::from_millis(100));
        tokio::pin!(tick);
        loop {
            tokio::select! {
                Some(r) = attempts.join_next() => {
                    if matches!(r, Ok(true)) {
                        let t = started.elapsed().as_secs_f64();
                        attempts.abort_all();
                        return Ok((srv, t));
                    }
                }
                _ = &mut tick => break,
            }
        }
        if started.elapsed() > limit {
            attempts.abort_all();
            stop(&mut srv).await;
            bail!("{} did not serve {probe_path} within {limit:?}; log tail:\n{}", imp.name(), tail(&srv.log));
        }
    }
}

pub(super) fn tail(p: &Path) -> String {
    let s = std::fs::read_to_string(p).unwrap_or_default();
    let lines: Vec<&str> = s.lines().collect();
    lines.get(lines.len().saturating_sub(15)..).unwrap_or_default().join("\n")
}

impl Drop for Server {
    /// A run that fails half-way must not leave a server holding the port and the cores.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub(super) async fn stop(s: &mut Server) {
    let _ = Command::new("kill").arg("-TERM").arg(s.pid.to_string()).status();
    for _ in 0..150 {
        if let Ok(Some(_)) = s.child.try_wait() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = s.child.kill();
    let _ = s.child.wait();
}

/// VmRSS in bytes.
fn rss(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}

/// utime + stime of the process, in seconds.
pub(super) fn cpu_secs(pid: u32, clk_tck: f64) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_cpu_ticks(&s).map(|t| t as f64 / clk_tck)
}

/// Fields 14 and 15 of /proc/<pid>/stat; the command name (field 2) may contain spaces and
/// parentheses, so counting starts after the last ')'.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Builds the `ruzk bench` arguments for a run, parses them with the real CLI definition
/// (so the recorded command is exactly what ran), and runs it in-process.
async fn bench(ctx: &Ctx, sr: &mut ServerResult, name: &str, extra: &[String]) -> anyhow::Result<Report> {
    bench_at(&ctx.addr, sr, name, extra).await
}

/// [`bench`] against `servers` (one address, or several separated by commas).
pub(super) async fn bench_at(
    servers: &str,
    sr: &mut ServerResult,
    name: &str,
    extra: &[String],
) -> anyhow::Result<Report> {
    let mut argv: Vec<String> =
        vec!["ruzk-bench".into(), "--server".into(), servers.to_string(), "--no-progress".into()];
    argv.extend(extra.iter().cloned());
    #[derive(Parser)]
    struct W {
        #[command(flatten)]
        l: LoadArgs,
    }
    let w = W::try_parse_from(&argv).map_err(|e| anyhow::anyhow!("bench args {argv:?}: {e}"))?;
    let cmd = format!("ruzk bench {}", argv.get(1..).unwrap_or_default().join(" "));
    // Flush what earlier runs left dirty in the page cache, so no run pays for the previous
    // run's writes (the server that wrote more would pay more). Same for both servers.
    let _ = tokio::task::spawn_blocking(|| Command::new("sync").status()).await;
    eprintln!("   {cmd}");
    sr.run_commands.insert(name.to_string(), cmd);
    let r = execute(&w.l).await.with_context(|| format!("run {name}"))?;
    sr.runs.insert(name.to_string(), r.clone());
    Ok(r)
}

pub(super) fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

async fn phase_saturation(ctx: &Ctx, imp: Impl, sr: &mut ServerResult) -> anyhow::Result<()> {
    let z = &ctx.sizes;
    let (mut srv, t) = start(ctx, imp, true, "/").await?;
    sr.values.insert("startup_empty_s".into(), t);
    sr.values.insert("rss_idle_mb".into(), rss(srv.pid).unwrap_or(f64::NAN) / 1e6);
    sr.version = srvr(&ctx.addr).await;
    let result = async {
        bench(ctx, sr, "setup", &args(&format!("--workload paper-read --setup --keys {} --ops 1 --warmup 0", z.keys)))
            .await?;
        for (name, wl) in [("read", "paper-read"), ("write", "paper-write"), ("mixed", "paper-mixed-80")] {
            let c0 = cpu_secs(srv.pid, ctx.clk_tck);
            let r = bench(
                ctx,
                sr,
                name,
                &args(&format!(
                    "--workload {wl} --verify --keys {} --conns {} --inflight {} --duration {} --warmup {}",
                    z.keys, z.conns, z.inflight, z.duration, z.warmup
                )),
            )
            .await?;
            if let (Some(a), Some(b)) = (c0, cpu_secs(srv.pid, ctx.clk_tck)) {
                if r.ops_total > 0 {
                    sr.cpu_us_per_op.insert(name.into(), (b - a) * 1e6 / r.ops_total as f64);
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    stop(&mut srv).await;
    result
}

async fn phase_latency(ctx: &Ctx, imp: Impl, rate: Option<f64>, sr: &mut ServerResult) -> anyhow::Result<()> {
    let z = &ctx.sizes;
    let (mut srv, _) = start(ctx, imp, true, "/").await?;
    let result = async {
        bench(ctx, sr, "setup2", &args(&format!("--workload paper-read --setup --keys {} --ops 1 --warmup 0", z.keys)))
            .await?;
        if let Some(rate) = rate {
            // This is a fresh process: let the JIT (Java) and caches warm up at full load
            // first, so the fixed-rate figures describe a warmed server, as in the
            // saturation runs. Not reported.
            bench(
                ctx,
                sr,
                "warm",
                &args(&format!(
                    "--workload paper-mixed-80 --keys {} --conns {} --inflight {} --duration {} --warmup 0",
                    z.keys,
                    z.conns,
                    z.inflight,
                    z.warmup * 2.0
                )),
            )
            .await?;
            bench(
                ctx,
                sr,
                "fixed-rate",
                &args(&format!(
                    "--workload paper-mixed-80 --verify --keys {} --conns {} --inflight 1000 --rate {rate} --duration {} --warmup {}",
                    z.keys, z.conns, z.duration, z.warmup
                )),
            )
            .await?;
        }
        bench(
            ctx,
            sr,
            "clickhouse",
            &args(&format!(
                "--workload clickhouse --setup --verify --keys {} --conns {} --inflight {} --duration {} --warmup {}",
                z.keys, z.conns, z.inflight, z.duration, z.warmup
            )),
        )
        .await?;
        bench(ctx, sr, "zk-latencies", &args(&format!("--workload zk-latencies --conns 1 --inflight 1 --count {}", z.zkl_count)))
            .await?;
        anyhow::Ok(())
    }
    .await;
    stop(&mut srv).await;
    result
}

async fn phase_memory(ctx: &Ctx, imp: Impl, sr: &mut ServerResult) -> anyhow::Result<()> {
    let n = ctx.sizes.load;
    let (mut srv, _) = start(ctx, imp, true, "/").await?;
    let result = async {
        // Let the process settle (JIT, first allocations) before the baseline.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = rss(srv.pid).context("reading VmRSS")?;
        let r = bench(ctx, sr, "load", &args(&format!("--workload load:{n} --conns 4 --inflight 256"))).await?;
        if r.phases.iter().map(|p| p.errors).sum::<u64>() > 0 {
            bail!("load had errors: {:?}", r.errors_by_code);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = rss(srv.pid).context("reading VmRSS")?;
        sr.values.insert("rss_before_load_mb".into(), before / 1e6);
        sr.values.insert("rss_after_load_mb".into(), after / 1e6);
        sr.values.insert("bytes_per_znode".into(), (after - before) / n.max(1) as f64);
        // Java's RSS holds garbage until the collector runs; a full GC (G1 then returns
        // free heap to the OS) gives the fairer "live" figure. ruzk has nothing to collect,
        // so it is simply measured again.
        if imp == Impl::Java {
            let _ = Command::new("jcmd")
                .arg(srv.pid.to_string())
                .arg("GC.run")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let gc = rss(srv.pid).context("reading VmRSS")?;
        sr.values.insert("rss_after_load_gc_mb".into(), gc / 1e6);
        sr.values.insert("bytes_per_znode_gc".into(), (gc - before) / n.max(1) as f64);
        anyhow::Ok(())
    }
    .await;
    stop(&mut srv).await;
    result?;
    // The last loaded znode: serving it means the whole tree is back.
    let last = format!("/ruzk-bench/load/n{:010}", n.saturating_sub(1));
    let (mut srv, t) = start(ctx, imp, false, &last).await?;
    sr.values.insert("startup_loaded_s".into(), t);
    sr.values.insert("rss_after_restart_mb".into(), rss(srv.pid).unwrap_or(f64::NAN) / 1e6);
    stop(&mut srv).await;
    Ok(())
}

/// First line of `srvr`, or None when the server does not answer four-letter words.
async fn srvr(addr: &str) -> Option<String> {
    srvr_text(addr).await?.lines().next().map(str::to_string)
}

/// The whole `srvr` answer, or None when the server does not answer within 3 s.
pub(super) async fn srvr_text(addr: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let go = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        s.write_all(b"srvr").await.ok()?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.ok()?;
        Some(String::from_utf8_lossy(&out).to_string())
    };
    tokio::time::timeout(Duration::from_secs(3), go).await.ok().flatten()
}

fn rows(res: &Results) -> Vec<Row> {
    let get = |srv: &str, f: &dyn Fn(&ServerResult) -> Option<f64>| res.servers.get(srv).and_then(f);
    // The targets where it sets one (read ≥ 3×, write ≥ 2×, p99 ≤ ½, memory per znode
    // ≤ ¼, restart ≤ ⅕); parity with Java on every other row.
    let target = |metric: &str| -> f64 {
        if metric.starts_with("read throughput") {
            3.0
        } else if metric.starts_with("write throughput") {
            2.0
        } else if metric.starts_with("p99 latency") {
            0.5
        } else if metric.starts_with("memory per znode") {
            0.25
        } else if metric.starts_with("start until first getData,") && !metric.ends_with("empty") {
            0.2
        } else {
            1.0
        }
    };
    let row = |metric: &str, unit: &str, higher: bool, f: &dyn Fn(&ServerResult) -> Option<f64>| {
        Row::new(metric, unit, higher, target(metric), get("java", f), get("ruzk", f))
    };
    let run = |name: &'static str| move |s: &ServerResult| s.runs.get(name).map(|r| r.ops_per_sec);
    let z = res.sizes.clone().unwrap_or_else(|| Sizes::of(&CompareArgs::parse_from_defaults()));
    let sat = format!("{}×{}", z.conns, z.inflight);
    let mut v = vec![
        row(&format!("read throughput (getData 1 KB, {sat})"), "ops/s", true, &run("read")),
        row(&format!("write throughput (setData 1 KB, fsync, {sat})"), "ops/s", true, &run("write")),
        row(&format!("mixed 80/20 throughput (1 KB, {sat})"), "ops/s", true, &run("mixed")),
    ];
    let rate = res.fixed_rate.map(|r| format!("{r:.0}")).unwrap_or_else(|| "n/a".into());
    // Both should deliver the scheduled rate; 5% slack keeps scheduling jitter from
    // reading as a miss.
    let fr = run("fixed-rate");
    v.push(Row::new(
        &format!("throughput achieved in the fixed {rate} ops/s run"),
        "ops/s",
        true,
        0.95,
        get("java", &fr),
        get("ruzk", &fr),
    ));
    for label in ["p50", "p99", "p99.9"] {
        v.push(row(
            &format!("{label} latency at fixed {rate} ops/s (mixed 80/20)"),
            "ms",
            false,
            &move |s: &ServerResult| {
                s.runs.get("fixed-rate").map(|r| match label {
                    "p50" => r.latency_ms.p50,
                    "p99" => r.latency_ms.p99,
                    _ => r.latency_ms.p999,
                })
            },
        ));
    }
    v.push(row(&format!("ClickHouse-like mix throughput (1/3 writes, {sat})"), "ops/s", true, &run("clickhouse")));
    for name in ["create", "set", "get", "delete", "delete-ephemeral"] {
        v.push(row(&format!("zk-latencies {name}, sequential (ms/op)"), "ms", false, &move |s: &ServerResult| {
            s.runs.get("zk-latencies").and_then(|r| r.phases.iter().find(|p| p.name == name)).map(|p| p.ms_per_op)
        }));
    }
    for (name, label) in [("read", "read"), ("write", "write"), ("mixed", "mixed 80/20")] {
        v.push(row(&format!("server CPU time per op, {label}"), "µs", false, &move |s: &ServerResult| {
            s.cpu_us_per_op.get(name).copied()
        }));
    }
    let val = |k: &'static str| move |s: &ServerResult| s.values.get(k).copied().filter(|x| x.is_finite());
    let n = z.load;
    v.push(row("RSS idle, fresh server", "MB", false, &val("rss_idle_mb")));
    v.push(row(&format!("RSS after loading {n} znodes of 100 B"), "MB", false, &val("rss_after_load_mb")));
    v.push(row("memory per znode (RSS after − before) / N", "bytes", false, &val("bytes_per_znode")));
    v.push(row("RSS after the load and a full GC (Java: jcmd GC.run)", "MB", false, &val("rss_after_load_gc_mb")));
    v.push(row("memory per znode after a full GC", "bytes", false, &val("bytes_per_znode_gc")));
    v.push(row(&format!("load rate ({n} creates, 4×256)"), "ops/s", true, &|s: &ServerResult| {
        s.runs.get("load").and_then(|r| r.phases.first()).map(|p| p.ops_per_sec)
    }));
    v.push(row(&format!("start until first getData, {n} znodes on disk"), "s", false, &val("startup_loaded_s")));
    v.push(row(&format!("RSS after restart with {n} znodes"), "MB", false, &val("rss_after_restart_mb")));
    v.push(row("start until first getData, empty", "s", false, &val("startup_empty_s")));
    v.push(row(
        &format!("3-member ensemble write throughput (setData 1 KB, fsync, {sat} spread over the members)"),
        "ops/s",
        true,
        &run("ensemble-write"),
    ));
    v.push(row("3-member ensemble server CPU time per write (all members)", "µs", false, &|s: &ServerResult| {
        s.cpu_us_per_op.get("ensemble-write").copied()
    }));
    let f = z.failovers;
    v.push(row(
        &format!("leader failover: kill -9 of the leader until a write succeeds (median of {f})"),
        "s",
        false,
        &val("failover_median_s"),
    ));
    v.push(row(&format!("leader failover, worst of {f}"), "s", false, &val("failover_max_s")));
    v
}

impl CompareArgs {
    fn parse_from_defaults() -> CompareArgs {
        #[derive(Parser)]
        struct W {
            #[command(flatten)]
            c: CompareArgs,
        }
        match W::try_parse_from(["x"]) {
            Ok(w) => w.c,
            Err(_) => CompareArgs {
                quick: false,
                out: PathBuf::new(),
                data_root: PathBuf::new(),
                servers: vec![],
                java_heap: String::new(),
                java_classpath: String::new(),
                ruzk_bin: None,
                port: 0,
                duration: None,
                warmup: None,
                conns: 0,
                inflight: 0,
                keys: None,
                load: None,
                zkl_count: None,
                rate_fraction: 0.5,
                no_latest: true,
                phases: vec![],
                failovers: None,
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_skip_a_command_name_with_spaces() {
        let stat = "1234 (java (x) y) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
        assert_eq!(parse_cpu_ticks("garbage"), None);
    }

    #[test]
    fn rows_compare_in_the_right_direction() {
        let up = Row::new("t", "ops/s", true, 1.0, Some(100.0), Some(150.0));
        assert_eq!(up.met, Some(true));
        assert!((up.ratio.unwrap_or_default() - 1.5).abs() < 1e-9);
        let down = Row::new("l", "ms", false, 1.0, Some(2.0), Some(3.0));
        assert_eq!(down.met, Some(false));
        assert_eq!(Row::new("x", "ms", false, 1.0, None, Some(3.0)).met, None);
    }

    #[test]
    fn markdown_says_plainly_where_ruzk_falls_short() {
        let mut res = Results::default();
        let mut java = ServerResult::default();
        java.cpu_us_per_op.insert("read".into(), 10.0);
        let mut ruzk = ServerResult::default();
        ruzk.cpu_us_per_op.insert("read".into(), 20.0);
        ruzk.errors.push("boom".into());
        res.servers.insert("java".into(), java);
        res.servers.insert("ruzk".into(), ruzk);
        res.rows = rows(&res);
        let md = markdown(&res);
        assert!(md.contains("falls short"), "{md}");
        assert!(md.contains("server CPU time per op, read: ruzk 20.0"), "{md}");
        assert!(md.contains("**ruzk failed:** boom"));
        assert!(
            md.contains("| server CPU time per op, read | µs | 10.0 | 20.0 | 2.00× | ≤ 1.00× Java | **no** |"),
            "{md}"
        );
    }

    #[test]
    fn both_servers_get_the_same_durable_config() {
        let c = zoo_cfg(Path::new("/d"), 21510);
        assert!(c.contains("forceSync=yes\n"));
        assert!(c.contains("dataDir=/d\n"));
        assert!(c.contains("clientPort=21510\n"));
        assert!(!c.contains("snapCount"), "snapCount stays at its default");
    }
}
