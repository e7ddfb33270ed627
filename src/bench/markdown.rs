//! `results.md` of a compare run: the summary, the table of targets, and how it was run,
//! written from `results.json` alone.

use super::results::{Results, Row};
use std::fmt::Write as _;

fn num(x: Option<f64>) -> String {
    match x {
        None => "n/a".into(),
        Some(v) if v.abs() >= 1000.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.3}"),
    }
}

pub fn markdown_table(res: &Results) -> String {
    let mut t = String::from(
        "| metric | unit | Java 3.8.0 | ruzk | ruzk/Java | target | met? |\n|---|---|---:|---:|---:|---|---|\n",
    );
    for r in &res.rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "n/a",
        };
        let ratio = r.ratio.map(|x| format!("{x:.2}×")).unwrap_or_else(|| "n/a".into());
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.metric,
            r.unit,
            num(r.java),
            num(r.ruzk),
            ratio,
            r.target_text(),
            met
        );
    }
    t
}

pub fn markdown(res: &Results) -> String {
    let mut m = String::new();
    let _ = writeln!(
        m,
        "# ruzk vs Java ZooKeeper 3.8.0: side-by-side benchmark{}\n",
        if res.quick { " (quick mode: tiny sizes, not a measurement)" } else { "" }
    );
    let _ = writeln!(
        m,
        "Run {} · ruzk commit `{}` · produced by `ruzk bench compare`; do not edit by hand.\n",
        res.date, res.git_commit
    );
    let _ = writeln!(m, "Command: `{}`\n", res.command);
    let met = res.rows.iter().filter(|r| r.met == Some(true)).count();
    let missed: Vec<&Row> = res.rows.iter().filter(|r| r.met == Some(false)).collect();
    let unknown = res.rows.iter().filter(|r| r.met.is_none()).count();
    let _ = writeln!(
        m,
        "## Summary\n\n{met} of {} targets met, {} missed, {unknown} not measured.",
        res.rows.len(),
        missed.len()
    );
    if !missed.is_empty() {
        let _ = writeln!(m, "\nWhere ruzk falls short of its target:");
        for r in &missed {
            let _ = writeln!(
                m,
                "- {}: ruzk {} {} vs Java {} ({}; target {})",
                r.metric,
                num(r.ruzk),
                r.unit,
                num(r.java),
                r.ratio.map(|x| format!("{x:.2}×")).unwrap_or_default(),
                r.target_text()
            );
        }
    }
    for (name, s) in &res.servers {
        for e in &s.errors {
            let _ = writeln!(m, "\n**{name} failed:** {}", e.replace('\n', "\n    "));
        }
        for (run, r) in &s.runs {
            let mut codes = r.errors_by_code.clone();
            for p in &r.phases {
                codes.extend(p.errors_by_code.clone());
            }
            if !codes.is_empty() {
                let _ = writeln!(
                    m,
                    "\n**{name} answered with errors in run {run}** (its figures are not comparable): {codes:?}"
                );
            }
        }
    }
    let _ = writeln!(m, "\n## Results\n\n{}", markdown_table(res));
    let _ = writeln!(m, "Targets: the issue's (read ≥ 3×, write ≥ 2×, p99 ≤ ½, memory per znode ≤ ¼, restart ≤ ⅕ of Java), parity with Java on every other row. Ratio = ruzk / Java.\n\n![plot](plot.svg)\n");
    let _ = writeln!(m, "## How it was run\n");
    let _ = writeln!(m, "- Both servers ran one at a time on this machine, on the same disk, with the same zoo.cfg (below), each started fresh (empty data dir) for each phase; the client is `ruzk bench` in the same process as the runner, so it shares the cores with the server.");
    let _ = writeln!(m, "- Saturation: each connection keeps `--inflight` requests outstanding. Fixed rate: requests are scheduled at the given total rate (in-flight cap 1000 per connection); a request delayed by a full in-flight window is timed from its scheduled send time (coordinated omission), others from the actual send; the rate is {} of the slower server's mixed 80/20 saturation throughput.", res.sizes.as_ref().map(|s| format!("{:.0}%", s.rate_fraction * 100.0)).unwrap_or_default());
    let _ = writeln!(m, "- Every successful getData reply in the throughput and fixed-rate runs is checked to carry exactly the value written (`--verify`); a wrong reply counts as an error.");
    let _ = writeln!(m, "- Each figure comes from one run. Other processes on the machine skew them (see the load averages under Machine); on our shared 2-core development machines repeated quick runs moved individual latency rows by 2x or more either way, so compare runs made on a quiet machine.");
    let _ = writeln!(m, "- Before every run the runner calls `sync`, so dirty pages left by the previous run's writes do not land in the next run's measurements (same for both servers).");
    let _ = writeln!(m, "- CPU time per op: the server process's utime+stime (`/proc/<pid>/stat`) across the run (warmup included) divided by all replies in the run.");
    let _ = writeln!(m, "- Memory: VmRSS from `/proc/<pid>/status` 1 s after start and 2 s after the load finished. Java's RSS includes heap not yet collected and is bounded by -Xmx; it is what the operating system sees.");
    let _ = writeln!(m, "- Restart: the server is stopped with SIGTERM, restarted on the same data dir, and timed from spawn until a fresh session's getData of the last loaded znode succeeds.");
    if let Some(z) = &res.sizes {
        let _ = writeln!(m, "- Sizes: `{}`", serde_json::to_string(z).unwrap_or_default());
    }
    let _ = writeln!(m, "\n### Machine\n");
    for (k, v) in &res.machine {
        let _ = writeln!(m, "- {k}: {v}");
    }
    let _ = writeln!(m, "\n### zoo.cfg (both servers)\n\n```\n{}```\n", res.zoo_cfg);
    for (name, s) in &res.servers {
        let _ = writeln!(m, "### {name}\n\n- server command: `{}`", s.command);
        if let Some(v) = &s.version {
            let _ = writeln!(m, "- srvr: {v}");
        }
        for (k, v) in &s.values {
            let _ = writeln!(m, "- {k}: {v:.3}");
        }
        for (run, r) in &s.runs {
            if run.starts_with("setup") {
                continue;
            }
            let cmd = s.run_commands.get(run).cloned().unwrap_or_default();
            let _ = writeln!(m, "\n`{cmd}`\n\n```\n{}```", r.table());
        }
        let _ = writeln!(m);
    }
    m
}
