//! The `ruzk` binary: `ruzk server [zoo.cfg]` and the operator tools. Only parses the
//! command line and hands over to the library.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "ruzk", version, about = "Apache ZooKeeper, rewritten in Rust")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a server in the foreground from a Java-style zoo.cfg (like `zkServer.sh start-foreground`).
    Server(ruzk::runtime::ServerArgs),
    /// Inspect or repair a transaction log (like zkTxnLogToolkit.sh).
    #[command(subcommand)]
    Txnlog(ruzk::storage::cli::TxnlogCmd),
    /// Inspect a snapshot (like zkSnapShotToolkit.sh).
    #[command(subcommand)]
    Snapshot(ruzk::storage::cli::SnapshotCmd),
    /// Delete old snapshots and logs (like zkCleanup.sh).
    Purge(ruzk::storage::cli::PurgeArgs),
    /// Load generator speaking the client protocol.
    Bench(ruzk::bench::BenchArgs),
    /// Deterministic simulation of an ensemble under faults, with invariant checks.
    Sim(ruzk::sim::cli::SimArgs),
    /// TEST TOOL, not a server: run only leader election for one member of a zoo.cfg, print decisions as JSON lines.
    #[command(name = "election-probe", hide = true)]
    ElectionProbe(ruzk::runtime::election_probe::ElectionProbeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Server(a) => ruzk::runtime::run_server(a),
        Cmd::Txnlog(c) => ruzk::storage::cli::run_txnlog(c),
        Cmd::Snapshot(c) => ruzk::storage::cli::run_snapshot(c),
        Cmd::Purge(a) => ruzk::storage::cli::run_purge(a),
        Cmd::Bench(a) => ruzk::bench::run(a),
        Cmd::Sim(a) => ruzk::sim::cli::run(a),
        Cmd::ElectionProbe(a) => ruzk::runtime::election_probe::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ruzk: {e:#}");
            ExitCode::FAILURE
        }
    }
}
