//! `ruzk bench`: a pipelined load generator speaking the ZooKeeper client protocol, plus
//! `ruzk bench compare` (Java ZooKeeper vs ruzk, side by side on one machine) and
//! `ruzk bench plot` (an SVG from a compare run's results.json).
//!
//! The generator is the same code for both servers, so the comparison measures servers and
//! not clients. It runs on tokio with up to `--inflight` requests outstanding per session.
#![deny(clippy::unwrap_used, clippy::indexing_slicing)]

pub mod client;
pub mod compare;
mod ensemble;
pub mod markdown;
pub mod plot;
pub mod results;
pub mod run;
pub mod stats;
pub mod workload;

use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args, Clone, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub cmd: Option<BenchCmd>,
    #[command(flatten)]
    pub load: Box<LoadArgs>,
}

#[derive(Subcommand, Clone, Debug)]
pub enum BenchCmd {
    /// Run Java ZooKeeper and ruzk one after the other with the same workloads and write
    /// bench/results/<date>/{results.md,results.json,plot.svg}.
    Compare(Box<compare::CompareArgs>),
    /// Draw plot.svg from a compare run's results.json.
    Plot(plot::PlotArgs),
}

/// One load-generator run.
#[derive(Args, Clone, Debug)]
pub struct LoadArgs {
    /// host:port of the server; several separated by commas spread the sessions over them
    #[arg(long, default_value = "127.0.0.1:2181")]
    pub server: String,
    /// Sessions (TCP connections)
    #[arg(long, default_value_t = 8)]
    pub conns: usize,
    /// Requests outstanding per connection
    #[arg(long, default_value_t = 32)]
    pub inflight: usize,
    /// Op mix: weights over get, exists, children, set, create, delete, multi (e.g. get=80,set=20)
    #[arg(long)]
    pub mix: Option<String>,
    /// Named workload: paper-read, paper-write, paper-mixed-<pct>, clickhouse, zk-latencies, load:<N>
    #[arg(long)]
    pub workload: Option<String>,
    /// Value size in bytes (named workloads bring their own unless this is given)
    #[arg(long)]
    pub value_size: Option<usize>,
    /// Number of keys the mix reads and writes
    #[arg(long, default_value_t = 1000)]
    pub keys: usize,
    /// Znodes per phase for zk-latencies (split over the connections)
    #[arg(long, default_value_t = 10_000)]
    pub count: u64,
    /// Measured seconds (after warmup); ignored with --ops
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Stop after this many ops in total instead of after --duration
    #[arg(long)]
    pub ops: Option<u64>,
    /// Seconds of load before measuring starts
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Fixed total request rate (ops/s) instead of as fast as possible
    #[arg(long)]
    pub rate: Option<f64>,
    /// Create (and set) the keys before the run
    #[arg(long)]
    pub setup: bool,
    /// Parent znode of the bench keys
    #[arg(long, default_value = "/ruzk-bench")]
    pub root: String,
    /// Session timeout to ask for, in ms
    #[arg(long, default_value_t = 30_000)]
    pub session_timeout: i32,
    /// Print the report as JSON on stdout instead of a table
    #[arg(long)]
    pub json: bool,
    /// Also write the JSON report to this file
    #[arg(long)]
    pub json_out: Option<PathBuf>,
    /// Check every successful getData reply carries exactly --value-size bytes (only
    /// meaningful when every key holds a value of that size, e.g. after --setup)
    #[arg(long)]
    pub verify: bool,
    /// Exit with an error if any request got an error reply (CI smoke tests)
    #[arg(long)]
    pub fail_on_error: bool,
    /// No progress bar even on a terminal
    #[arg(long)]
    pub no_progress: bool,
    /// Seed for key choice (each connection derives its own)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    match a.cmd {
        Some(BenchCmd::Compare(c)) => compare::run(*c),
        Some(BenchCmd::Plot(p)) => plot::run(p),
        None => run::main(*a.load),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Top {
        #[command(flatten)]
        b: BenchArgs,
    }

    #[test]
    fn flags_and_subcommands_parse() {
        let t = Top::try_parse_from(["x", "--conns", "3", "--workload", "paper-read", "--rate", "500"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(t.b.cmd.is_none());
        assert_eq!(t.b.load.conns, 3);
        assert_eq!(t.b.load.rate, Some(500.0));
        let t = Top::try_parse_from(["x", "plot", "r.json"]).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(t.b.cmd, Some(BenchCmd::Plot(_))));
    }
}
